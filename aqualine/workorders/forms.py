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
