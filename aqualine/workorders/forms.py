"""Forms of the work-order pages: they validate input; the services do the writes."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aqualine.accounts.models import Department
from aqualine.core.forms import SafeModelChoiceField, SafeModelMultipleChoiceField, clean_query
from aqualine.customers.models import Account
from aqualine.customers.selectors import SearchBy, customer_search
from aqualine.workorders.models import Category, WorkOrder
from aqualine.workorders.selectors import category_tree


def leaf_category_choices() -> list[tuple[Any, Any]]:
    """Active leaf categories: grouped under their parent; a parent without active children is a
    leaf itself (咨询, 建议, ...)."""
    choices: list[tuple[Any, Any]] = [("", "---------")]
    for parent, children in category_tree():
        if children:
            choices.append((parent.name, [(c.pk, c.name) for c in children]))
        else:
            choices.append((parent.pk, parent.name))
    return choices


def leaf_category_ids() -> set[int]:
    ids: set[int] = set()
    for parent, children in category_tree():
        if children:
            ids.update(c.pk for c in children)
        else:
            ids.add(parent.pk)
    return ids


class IntakeForm(forms.Form):
    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)
    # The call being taken (the agent desktop's screen pop opens intake with ?call_id=).
    call_id = forms.RegexField(
        regex=r"^[A-Za-z0-9._@:-]{1,64}$", widget=forms.HiddenInput, required=False
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=WorkOrder.Source.choices, initial=WorkOrder.Source.PHONE
    )
    caller_number = forms.CharField(label=_("Caller number"), max_length=32, required=False)
    reporter_name = forms.CharField(label=_("Reporter"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("Reporter phone"), max_length=32, required=False)
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=30,
        required=False,
        help_text=_("Optional; the service address is taken from the account when left empty."),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    category = forms.TypedChoiceField(
        label=_("Category"),
        coerce=int,
        choices=(),
        error_messages={"invalid_choice": _("Choose a specific, active category.")},
    )
    description = forms.CharField(
        label=_("Problem description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=WorkOrder.Urgency.choices, initial=WorkOrder.Urgency.NORMAL
    )
    answer = forms.CharField(
        label=_("Answer given to the caller"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For a question answered during the call: save and close at intake."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = leaf_category_choices()  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())

    def clean_account_number(self) -> Account | None:
        number = clean_query(self.cleaned_data.get("account_number", ""), 30)
        if not number:
            return None
        accounts = customer_search(query=number, by=SearchBy.NUMBER).accounts
        if not accounts:
            raise forms.ValidationError(_("No account has this number."))
        return accounts[0]

    def clean_category(self) -> Category:
        pk = self.cleaned_data["category"]
        if pk not in leaf_category_ids():
            raise forms.ValidationError(_("Choose a specific, active category."))
        return Category.objects.get(pk=pk)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("form_token"):
            self.add_error(None, _("The form is incomplete; reload the page and try again."))
        if self.data.get("close") and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Write the answer given to the caller to close at intake."))
        return data


class DispatchForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    departments = SafeModelMultipleChoiceField(
        label=_("Dispatch to"),
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one department.")},
    )
    note = forms.CharField(
        label=_("Dispatch note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *WorkOrder.Status.choices],
        required=False,
    )
    department = SafeModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.order_by("sort_order", "name"),
        required=False,
        empty_label=_("All departments"),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class LookupForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=30)

    def clean_number(self) -> str:
        number = clean_query(self.cleaned_data["number"], 30)
        if not number:
            raise forms.ValidationError(_("Enter an order number."))
        return number


# --- the order page's action forms -----------------------------------------------------------


class VersionedForm(forms.Form):
    """An action on a record the user saw at `version`: a stale one gets a conflict message."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TaskTextForm(VersionedForm):
    """One text of a department's section: site survey, result, or a reason (return, cancel)."""

    text = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, label: str, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].label = label
        self.fields["text"].required = required


class RedispatchForm(VersionedForm):
    department = SafeModelChoiceField(
        label=_("Re-dispatch to"),
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "name"),
    )
    note = forms.CharField(label=_("Dispatch note"), max_length=1000, required=False)


class FollowUpForm(VersionedForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=WorkOrder.FollowUpOutcome.choices,
        widget=forms.RadioSelect,
    )
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction"),
        coerce=int,
        choices=[
            (5, _("5 · Very satisfied")),
            (4, _("4 · Satisfied")),
            (3, _("3 · Neutral")),
            (2, _("2 · Dissatisfied")),
            (1, _("1 · Very dissatisfied")),
        ],
    )
    note = forms.CharField(
        label=_("Follow-up note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RedoForm(VersionedForm):
    departments = SafeModelMultipleChoiceField(
        label=_("Redo by"),
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one department.")},
    )
    note = forms.CharField(
        label=_("Reason for redo"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CloseForm(VersionedForm):
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseAtIntakeForm(VersionedForm):
    answer = forms.CharField(
        label=_("Answer given to the caller"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A photo (JPEG, PNG, GIF, WebP) or a PDF, at most 10 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,application/pdf"}
        ),
    )
    task = forms.IntegerField(widget=forms.HiddenInput, required=False)
