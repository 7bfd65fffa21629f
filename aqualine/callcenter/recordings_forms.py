"""The recording search form (T13)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aqualine.callcenter.models import CallRecord

# What the switch writes in CallRecord.outcome (see aqualine.telephony.ports.CallRecord).
OUTCOME_CHOICES = [
    ("answered", _("Answered by an agent")),
    ("abandoned", _("Abandoned by the caller")),
    ("ivr_only", _("Ended in the IVR")),
    ("missed", _("Left the queue unanswered")),
    ("cancelled", _("Cancelled")),
    ("rejected", _("Rejected")),
    ("failed", _("Failed")),
]
OUTCOME_LABELS = dict(OUTCOME_CHOICES)

_NUMBER_ATTRS = {"inputmode": "tel", "autocomplete": "off"}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class RecordingSearchForm(forms.Form):
    started_from = forms.DateTimeField(
        label=_("Call time from"), required=False, widget=DateTimeLocalInput()
    )
    started_to = forms.DateTimeField(
        label=_("Call time to"), required=False, widget=DateTimeLocalInput()
    )
    duration_min = forms.IntegerField(
        label=_("Talk time from (seconds)"), required=False, min_value=0, max_value=86400
    )
    duration_max = forms.IntegerField(
        label=_("Talk time to (seconds)"), required=False, min_value=0, max_value=86400
    )
    caller = forms.CharField(
        label=_("Calling number"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs=_NUMBER_ATTRS),
    )
    callee = forms.CharField(
        label=_("Called number"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs=_NUMBER_ATTRS),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("All directions")), *CallRecord.Direction.choices],
    )
    agent_id = forms.CharField(
        label=_("Agent ID"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    outcome = forms.ChoiceField(
        label=_("Call outcome"), required=False, choices=[("", _("All outcomes")), *OUTCOME_CHOICES]
    )
    recorded_only = forms.BooleanField(label=_("Only calls with a recording"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("started_from"), data.get("started_to")
        if since and until and since > until:
            self.add_error("started_to", _("The end of the period is before its start."))
        low, high = data.get("duration_min"), data.get("duration_max")
        if low is not None and high is not None and low > high:
            self.add_error("duration_max", _("The longest talk time is below the shortest."))
        return data

    def filters(self) -> dict[str, Any]:
        """The filters the search applies: the valid, non-empty fields."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value not in ("", None)}
