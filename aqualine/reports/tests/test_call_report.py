"""Call-centre KPIs (X1) against the hand-computed fixture `calls` (see conftest.py)."""

from __future__ import annotations

import pytest

from aqualine.accounts.models import User
from aqualine.callcenter.models import AgentStateChange
from aqualine.conftest import client_for
from aqualine.reports.periods import days_period
from aqualine.reports.selectors.calls import call_report
from aqualine.reports.tests.conftest import call, local

pytestmark = pytest.mark.django_db

MONDAY = days_period(local(2, 0).date(), local(2, 0).date())


def test_overall_figures_match_the_hand_computation(calls: None) -> None:
    total = call_report(period=MONDAY).total
    # inbound: C1–C7 (the internal C10 and the next day's C11 are not counted)
    assert total.inbound == 7
    # offered: answered C1 C2 C5 + abandoned C3 C4 + missed C6; the IVR-only C7 is apart
    assert (total.offered, total.answered, total.abandoned, total.missed) == (6, 3, 2, 1)
    assert total.ivr_only == 1
    # in time (wait <= 20): C1 (10) and C5 (exactly 20); C2 waited 30
    assert total.answered_in_time == 2
    # short abandons (<= 20 s): C3 (5); C4 (40) abandoned late
    assert (total.short_abandoned, total.late_abandoned) == (1, 1)
    # service level = 2 / (3 answered + 1 late abandon + 1 missed) = 0.4
    assert total.service_level == pytest.approx(0.4)
    # ASA = (10 + 30 + 20) / 3 = 20 s
    assert total.asa == pytest.approx(20.0)
    # AHT = (talk 100 + 200 + 60 + ACW 20 + 10 + 0) / 3 = 390 / 3 = 130 s
    assert total.aht == pytest.approx(130.0)
    assert total.average_acw == pytest.approx(10.0)
    # abandon rate = 2 abandoned / 6 offered
    assert total.abandon_rate == pytest.approx(2 / 6)
    assert total.longest_wait == pytest.approx(300.0)
    # outbound: C8 connected, C9 not
    assert (total.outbound, total.outbound_connected) == (2, 1)


def test_the_threshold_is_a_parameter(calls: None) -> None:
    total = call_report(period=MONDAY, threshold=30).total
    # in time (<= 30): C1, C2, C5; short abandons (<= 30): C3; late: C4
    # service level = 3 / (3 + 1 + 1) = 0.6
    assert total.answered_in_time == 3
    assert total.service_level == pytest.approx(0.6)
    strict = call_report(period=MONDAY, threshold=5).total
    # in time (<= 5): none; abandons within 5 s: C3 (exactly 5); late C4 → 0 / (3 + 1 + 1)
    assert strict.answered_in_time == 0
    assert strict.short_abandoned == 1
    assert strict.service_level == 0.0


def test_per_agent_figures(calls: None) -> None:
    agents = {a.agent_id: a for a in call_report(period=MONDAY).by_agent}
    first, second = agents["1001"], agents["1002"]
    assert first.name == "张敏" and second.name == ""
    # 1001 answered C1, C2: ASA (10 + 30) / 2 = 20, AHT (100 + 200 + 20 + 10) / 2 = 165
    assert (first.answered, first.answered_in_time) == (2, 1)
    assert first.asa == pytest.approx(20.0)
    assert (first.talk_seconds, first.acw_seconds) == (300.0, 30.0)
    assert first.aht == pytest.approx(165.0)
    assert (first.outbound, first.outbound_connected) == (1, 1)
    # occupancy: (talking 300 + ACW 30) / (idle 140 + ringing 30 + talking 300 + ACW 30) = 0.66;
    # the 1000 s not ready are not signed-on time
    assert first.occupancy == pytest.approx(330 / 500)
    # 1002 answered C5 (wait 20, talk 60, no ACW); C9 did not connect
    assert (second.answered, second.answered_in_time) == (1, 1)
    assert second.aht == pytest.approx(60.0)
    assert (second.outbound, second.outbound_connected) == (1, 0)
    assert second.occupancy == pytest.approx(0.5)


def test_per_hour_figures_use_local_hours(calls: None) -> None:
    hours = {h.hour: h for h in call_report(period=MONDAY).by_hour}
    assert len(hours) == 24
    nine, ten = hours[9], hours[10]
    # 09:00–10:00 local: C1 C2 answered, C3 C4 abandoned
    assert (nine.inbound, nine.offered, nine.answered, nine.abandoned) == (4, 4, 2, 2)
    assert nine.service_level == pytest.approx(1 / 3)  # C1 / (2 + late abandon C4 + 0)
    assert nine.asa == pytest.approx(20.0)
    assert nine.aht == pytest.approx(165.0)  # (100 + 200 + 20 + 10) / 2
    assert nine.abandon_rate == pytest.approx(0.5)
    # 10:00–11:00: C5 answered, C6 missed, C7 IVR only; outbound C8 C9
    assert (ten.inbound, ten.offered, ten.answered, ten.missed, ten.outbound) == (3, 2, 1, 1, 2)
    assert ten.service_level == pytest.approx(0.5)  # C5 / (1 + 0 + 1)
    assert ten.abandon_rate == 0.0
    assert ten.aht == pytest.approx(60.0)
    # 01:00 would be 09:00 in UTC: nothing there
    assert hours[1].inbound == 0 and hours[1].service_level is None
    assert sum(h.inbound for h in hours.values()) == 7


def test_filters_by_agent_and_queue(calls: None) -> None:
    only_1001 = call_report(period=MONDAY, agent_id="1001").total
    assert (only_1001.answered, only_1001.abandoned, only_1001.outbound) == (2, 0, 1)
    assert only_1001.aht == pytest.approx(165.0)
    assert call_report(period=MONDAY, queue="other").total.inbound == 0


def test_after_call_work_that_ends_after_the_period_counts_for_its_call(db: None) -> None:
    # answered at 23:58 local, talked 60 s, wrapped up for 90 s: past midnight
    call("L1", local(2, 23, 58), outcome="answered", wait=0, talk=60, agent="1003")
    AgentStateChange.objects.create(
        agent_id="1003",
        old_state="after_call_work",
        old_duration_seconds=90,
        new_state="idle",
        at=local(3, 0, 0, 45),
        call_id="L1",
    )
    report = call_report(period=MONDAY)
    assert report.total.aht == pytest.approx(150.0)
    assert report.by_hour[23].aht == pytest.approx(150.0)


def test_an_empty_period_has_no_rates(db: None) -> None:
    total = call_report(period=MONDAY).total
    assert total.inbound == 0
    assert total.service_level is None and total.asa is None and total.aht is None


def test_the_page_shows_the_kpis(calls: None, viewer: User) -> None:
    query = "?period=custom&date_from=2026-03-02&date_to=2026-03-02"
    page = client_for(viewer).get(f"/reports/calls/{query}").content.decode()
    assert 'data-kpi="service_level">40.0%<' in page
    assert 'data-kpi="asa">20.0<' in page
    assert 'data-kpi="aht">130.0<' in page
    assert 'data-kpi="abandon_rate">33.3%<' in page
    assert "<svg" in page and "张敏" in page
