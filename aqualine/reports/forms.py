"""Forms of the report pages: they read the filters from the query string; the selectors do the
counting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aqualine.accounts.models import Department
from aqualine.core.forms import SafeModelChoiceField
from aqualine.reports.periods import PERIOD_CHOICES, Period, PeriodKind, resolve_period
from aqualine.reports.selectors.calls import queue_choices, service_level_threshold
from aqualine.reports.selectors.query import DEFAULT_COLUMNS, QueryConditions, column_choices
from aqualine.workorders.models import Category, WorkOrder
from aqualine.workorders.selectors import category_tree

ANY = ("", _("All"))
# A custom range longer than this is refused (the reports stay quick).
MAX_RANGE_DAYS = 3 * 366


def _departments() -> Any:
    return Department.objects.order_by("sort_order", "name")


def category_choices() -> list[tuple[Any, Any]]:
    """Every active category: a top-level one (反映类别) followed by its children (反映内容)."""
    choices: list[tuple[Any, Any]] = [ANY]
    for parent, children in category_tree():
        choices.append((parent.pk, parent.name))
        choices.extend((child.pk, f"{parent.name} / {child.name}") for child in children)
    return choices


def top_category_choices() -> list[tuple[Any, Any]]:
    return [ANY, *((parent.pk, parent.name) for parent, _children in category_tree())]


def content_choices() -> list[tuple[Any, Any]]:
    """Leaf categories (反映内容), grouped under their top-level category."""
    choices: list[tuple[Any, Any]] = [ANY]
    for parent, children in category_tree():
        if children:
            choices.append((parent.name, [(c.pk, c.name) for c in children]))
        else:
            choices.append((parent.pk, parent.name))
    return choices


def _category(pk: Any) -> Category | None:
    if pk in (None, ""):
        return None
    return Category.objects.filter(pk=pk).first()


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, initial=PeriodKind.MONTH, required=False
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("The end date is before the start date."))
        elif first and (last or timezone.localdate()) - first > timedelta(days=MAX_RANGE_DAYS):
            self.add_error("date_from", _("Choose a range of at most three years."))
        if (first or last) and not data.get("period"):
            data["period"] = PeriodKind.CUSTOM
        return data

    def get_period(self) -> Period:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return resolve_period(
            data.get("period") or PeriodKind.MONTH,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class OrderReportForm(PeriodForm):
    department = SafeModelChoiceField(
        label=_("Department"), queryset=_departments(), required=False, empty_label=_("All")
    )
    category = forms.TypedChoiceField(
        label=_("Category"), coerce=int, choices=(), required=False, empty_value=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "period": self.get_period(),
            "department": data.get("department"),
            "category": _category(data.get("category")),
        }


class CallReportForm(PeriodForm):
    queue = forms.ChoiceField(label=_("Queue"), choices=(), required=False)
    agent_id = forms.CharField(label=_("Agent ID"), max_length=20, required=False)
    # Empty: the system parameter (whose figures the summaries hold; another value is counted
    # from the call records, slower over long periods).
    threshold = forms.IntegerField(
        label=_("Service-level threshold (seconds)"),
        min_value=1,
        max_value=600,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].choices = [ANY, *queue_choices()]  # type: ignore[attr-defined]
        self.fields["threshold"].initial = service_level_threshold()

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "period": self.get_period(),
            "queue": data.get("queue") or "",
            "agent_id": (data.get("agent_id") or "").strip(),
            "threshold": data.get("threshold") or service_level_threshold(),
        }


YES_NO_ANY = [("", _("All")), ("yes", _("Yes")), ("no", _("No"))]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class QueryForm(forms.Form):
    """The conditions and columns of a custom query (see `selectors.query`)."""

    date_from = forms.DateField(
        label=_("Taken from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Taken until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    accepting_unit = SafeModelChoiceField(
        label=_("Accepting unit"), queryset=_departments(), required=False, empty_label=_("All")
    )
    category = forms.TypedChoiceField(
        label=_("Category"), coerce=int, choices=(), required=False, empty_value=None
    )
    content = forms.TypedChoiceField(
        label=_("Content"), coerce=int, choices=(), required=False, empty_value=None
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[ANY, *WorkOrder.Status.choices], required=False
    )
    department = SafeModelChoiceField(
        label=_("Handling department"),
        queryset=_departments(),
        required=False,
        empty_label=_("All"),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=[ANY, *WorkOrder.Urgency.choices], required=False
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[ANY, *WorkOrder.Source.choices], required=False
    )
    overdue = forms.ChoiceField(label=_("Past the deadline"), choices=YES_NO_ANY, required=False)
    returned = forms.ChoiceField(
        label=_("Returned by a department"), choices=YES_NO_ANY, required=False
    )
    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    CONDITIONS = (
        "date_from",
        "date_to",
        "accepting_unit",
        "category",
        "content",
        "status",
        "department",
        "urgency",
        "source",
        "overdue",
        "returned",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = top_category_choices()  # type: ignore[attr-defined]
        self.fields["content"].choices = content_choices()  # type: ignore[attr-defined]
        self.fields["columns"].choices = column_choices()  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("columns", list(DEFAULT_COLUMNS))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def conditions(self) -> QueryConditions:
        data = self.cleaned_data
        return QueryConditions(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            accepting_unit=data.get("accepting_unit"),
            category=_category(data.get("category")),
            content=_category(data.get("content")),
            status=data.get("status") or "",
            department=data.get("department"),
            urgency=data.get("urgency") or "",
            source=data.get("source") or "",
            overdue=_yes_no(data.get("overdue") or ""),
            returned=_yes_no(data.get("returned") or ""),
        )

    def chosen_columns(self) -> list[str]:
        return list(self.cleaned_data.get("columns") or DEFAULT_COLUMNS)

    def raw_conditions(self) -> dict[str, str]:
        """The conditions as typed (query-string values), for saving: only those given."""
        return {
            name: str(self.data.get(name)).strip()
            for name in self.CONDITIONS
            if str(self.data.get(name) or "").strip()
        }


class SaveQueryForm(forms.Form):
    name = forms.CharField(label=_("Query name"), max_length=100, strip=True)
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
