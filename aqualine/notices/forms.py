from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aqualine.accounts.models import Department, User
from aqualine.accounts.selectors import department_tree
from aqualine.core.forms import SafeModelChoiceField, SafeModelMultipleChoiceField
from aqualine.customers import selectors as customer_selectors
from aqualine.customers.models import OutageNotice
from aqualine.notices.models import NoticeType
from aqualine.notices.selectors import When, notice_types


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class PersonChoiceField(SafeModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        department = f" · {obj.department.name}" if obj.department_id else ""
        return f"{obj.agent_id} {obj.name}{department}"


class OutageChoiceField(SafeModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        areas = "、".join(a.name for a in obj.areas.all())
        return f"{timezone.localtime(obj.starts_at):%Y-%m-%d %H:%M} {areas}：{obj.reason}"


class AnnouncementForm(forms.Form):
    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    notice_type = SafeModelChoiceField(
        label=_("Announcement type"), queryset=NoticeType.objects.none()
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Plain text: line breaks are kept. Simple formatting may be written in HTML "
            "(<b>, <i>, <p>, <ul>/<li>, <a href>, tables); anything else is removed."
        ),
    )
    valid_from = forms.DateTimeField(label=_("Valid from"), widget=DateTimeLocalInput())
    valid_until = forms.DateTimeField(
        label=_("Valid until"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_(
            "Empty: until it is withdrawn. Once expired it leaves the current announcements "
            "and the unread count, but stays readable under “expired”."
        ),
    )
    to_everyone = forms.BooleanField(label=_("For everyone"), required=False)
    departments = forms.TypedMultipleChoiceField(
        label=_("For departments (each with all its sub-departments)"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    people = PersonChoiceField(
        label=_("For these people (in any department)"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    outage = OutageChoiceField(
        label=_("Related water-outage notice"),
        queryset=OutageNotice.objects.none(),
        required=False,
    )

    def __init__(
        self, *args: Any, creating: bool = False, keep_type: NoticeType | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating and not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())
            self.initial.setdefault(
                "valid_from", timezone.localtime().replace(second=0, microsecond=0)
            )
        types = notice_types(active_only=True)
        if keep_type is not None:  # an edited announcement keeps a type no longer in use
            types = notice_types().filter(Q(is_active=True) | Q(pk=keep_type.pk))
        self.fields["notice_type"].queryset = types  # type: ignore[attr-defined]
        chosen = {int(pk) for pk in self.initial.get("departments") or []}
        rows = department_tree()
        by_pk = {row.department.pk: row.department for row in rows}

        def path(department: Department) -> str:  # "管网维修部 / 东区维修班"
            names = [department.name]
            parent = by_pk.get(department.parent_id) if department.parent_id else None
            while parent is not None and len(names) < 10:
                names.insert(0, parent.name)
                parent = by_pk.get(parent.parent_id) if parent.parent_id else None
            return " / ".join(names)

        self.fields["departments"].choices = [  # type: ignore[attr-defined]
            (row.department.pk, path(row.department))
            for row in rows
            if row.department.is_active or row.department.pk in chosen
        ]
        self.fields["people"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True)
            .select_related("department")
            .order_by("department__sort_order", "department__name", "agent_id")
        )
        # Notices of the last 90 days (and the one already linked).
        recent = Q(starts_at__gte=timezone.now() - timedelta(days=90))
        if self.initial.get("outage"):
            recent |= Q(pk=self.initial["outage"])
        self.fields["outage"].queryset = (  # type: ignore[attr-defined]
            customer_selectors.outage_list(status="all").filter(recent)
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error(
                "valid_until", _("The end of the validity period must be after its start.")
            )
        if self.creating and not data.get("form_token"):
            self.add_error(None, _("The form is incomplete; reload the page and try again."))
        if not self.creating and not data.get("version"):
            self.add_error(None, _("The form is incomplete; reload the page and try again."))
        return data

    def chosen_departments(self) -> list[Department]:
        return list(Department.objects.filter(pk__in=self.cleaned_data.get("departments") or []))


class MyAnnouncementsFilter(forms.Form):
    notice_type = SafeModelChoiceField(
        label=_("Announcement type"),
        queryset=NoticeType.objects.none(),
        required=False,
        empty_label=_("All types"),
    )
    when = forms.ChoiceField(
        label=_("Validity"),
        required=False,
        choices=[
            (When.CURRENT, _("Current")),
            (When.EXPIRED, _("Expired")),
            (When.ALL, _("Current and expired")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["notice_type"].queryset = notice_types()  # type: ignore[attr-defined]


class NoticeTypeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Type name"), max_length=50)
    sort_order = forms.IntegerField(label=_("Sort order"), min_value=0, initial=0)
    is_active = forms.BooleanField(
        label=_("In use"),
        required=False,
        initial=True,
        help_text=_("Types not in use are not offered to publishers."),
    )
