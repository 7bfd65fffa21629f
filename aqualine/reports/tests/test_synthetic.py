"""The synthetic call generator (for the benchmark) writes what the switch would."""

from __future__ import annotations

import pytest

from aqualine.callcenter.models import AgentStateChange, CallRecord
from aqualine.reports.periods import days_period
from aqualine.reports.selectors.calls import call_report
from aqualine.reports.synthetic import generate_calls
from aqualine.reports.tests.conftest import local

pytestmark = pytest.mark.django_db


def test_generated_calls_are_in_time_order_with_their_wrap_up() -> None:
    now = local(10, 18)
    written, states = generate_calls(calls=400, days=3, seed=5, now=now, batch=150)
    assert written == CallRecord.objects.count() == 400
    starts = list(CallRecord.objects.order_by("id").values_list("started_at", flat=True))
    assert starts == sorted(starts)
    assert local(8, 0) <= starts[0] and starts[-1] <= now
    answered = CallRecord.objects.filter(direction="inbound", outcome="answered")
    assert answered.exists()
    # one wrap-up row per answered call, for that call and by its agent
    wrap_ups = AgentStateChange.objects.filter(old_state="after_call_work")
    assert wrap_ups.count() == answered.count()
    assert states == AgentStateChange.objects.count() == 4 * answered.count()
    sample = answered.first()
    assert sample is not None
    assert wrap_ups.get(call_id=sample.call_id).agent_id == sample.agent_id
    report = call_report(period=days_period(local(8, 0).date(), local(10, 0).date()))
    assert report.total.inbound + report.total.outbound == 400
    assert 0 < report.total.service_level < 1  # type: ignore[operator]
    assert report.total.aht is not None and report.total.aht > report.total.average_talk  # type: ignore[operator]
