from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aqualine.customers.importing import KIND_LABELS, ImportKind
from aqualine.customers.models import Area, OutageNotice, normalize_phone
from aqualine.customers.selectors import SearchBy

SEARCH_BY_LABELS = {
    SearchBy.AUTO: _("Anything"),
    SearchBy.NUMBER: _("Account number"),
    SearchBy.ADDRESS: _("Address"),
    SearchBy.NAME: _("Name"),
    SearchBy.PHONE: _("Phone"),
}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class LookupForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        widget=forms.TextInput(attrs={"autofocus": True, "type": "search"}),
    )
    by = forms.ChoiceField(
        label=_("Search by"),
        choices=list(SEARCH_BY_LABELS.items()),
        required=False,
        initial=SearchBy.AUTO,
    )

    def clean_by(self) -> SearchBy:
        return SearchBy(self.cleaned_data.get("by") or SearchBy.AUTO)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        query, by = data.get("q", ""), data.get("by", SearchBy.AUTO)
        if not query:
            return data
        if by == SearchBy.PHONE and len(normalize_phone(query)) < 5:
            self.add_error("q", _("Enter a phone number of at least 5 digits."))
        elif by in (SearchBy.ADDRESS, SearchBy.NAME, SearchBy.AUTO) and len(query) < 2:
            self.add_error("q", _("Enter at least 2 characters."))
        return data


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[(k.value, label) for k, label in KIND_LABELS.items()],
        initial=ImportKind.ACCOUNTS.value,
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK) or Excel .xlsx, first row the column names; up to 20 MB."),
    )
    check_only = forms.BooleanField(label=_("Only check the file, import nothing"), required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB; split it."))
        return upload


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class OutageForm(forms.Form):
    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    areas = forms.ModelMultipleChoiceField(
        label=_("Areas affected"),
        queryset=Area.objects.order_by("sort_order", "name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one area.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=OutageNotice.Kind.choices, initial=OutageNotice.Kind.PLANNED
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Read to callers and shown at intake; keep it short, e.g. “pipe repair”."),
    )
    starts_at = forms.DateTimeField(label=_("Start"), widget=DateTimeLocalInput())
    expected_end_at = forms.DateTimeField(
        label=_("Expected end of the outage"), widget=DateTimeLocalInput()
    )
    note = forms.CharField(
        label=_("Internal note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating and not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_at"), data.get("expected_end_at")
        if start and end and end <= start:
            self.add_error("expected_end_at", _("The expected end must be after the start."))
        if self.creating and not data.get("form_token"):
            self.add_error(None, _("The form is incomplete; reload the page and try again."))
        if not self.creating and not data.get("version"):
            self.add_error(None, _("The form is incomplete; reload the page and try again."))
        return data
