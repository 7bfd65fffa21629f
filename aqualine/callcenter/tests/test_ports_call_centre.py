"""The ORM side of the call centre: queues, flows and settings for the switch; agent-state
history and recordings it writes; the IVR's outage, balance and repair-order ports."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.callcenter.models import AgentStateChange, CallRecord, IvrFlow, Queue, Recording
from aqualine.callcenter.ports import OrmDirectory, OrmIvrPorts, OrmRecords
from aqualine.customers.models import Account, AccountPhone, Area, Bill, OutageNotice
from aqualine.telephony.acd.model import AgentStateChange as CoreChange
from aqualine.telephony.acd.states import AgentState
from aqualine.telephony.ivr.default_flow import default_flow_data
from aqualine.telephony.ivr.ports import RepairOrder
from aqualine.telephony.ports import RecordingInfo
from aqualine.workorders.models import WorkOrder
from aqualine.workorders.tests.conftest import ensure_seeded_categories

pytestmark = pytest.mark.django_db

CALLER = "13800138000"


def test_the_directory_gives_queues_flows_agents_and_settings(agent: User) -> None:
    queue = Queue.objects.create(
        name="hotline",
        display_name="热线",
        wrap_up_seconds=45,
        max_wait_seconds=120,
        overflow="transfer",
        overflow_target="8004",
    )
    queue.members.set([agent])
    Queue.objects.create(name="off", display_name="停用", enabled=False)
    IvrFlow.objects.create(number="96000", name="主流程", data=default_flow_data())
    directory = OrmDirectory()
    (config,) = directory.queues()
    assert config.name == "hotline" and config.members == ("1001",)
    assert config.wrap_up_seconds == 45 and config.max_wait_seconds == 120
    assert config.overflow is not None and config.overflow.target == "8004"
    assert directory.ivr_flow("96000") == default_flow_data()
    assert directory.ivr_flow("12345") is None
    info = directory.agent("1001")
    assert info is not None and info.name == "张敏" and info.enabled
    assert directory.agent("nobody") is None
    settings = directory.call_centre_settings()
    assert settings.wrap_up_seconds == 30 and "休息" in settings.busy_reasons


def _change(old: AgentState, new: AgentState, at: datetime, reason: str = "") -> CoreChange:
    return CoreChange(
        agent_id="1001",
        extension="8001",
        old_state=old,
        new_state=new,
        old_reason="",
        reason=reason,
        transition="t",
        at=at,
        duration=12.5,
    )


def test_agent_state_history_and_the_restart_logout() -> None:
    records = OrmRecords()
    now = timezone.now()
    records.agent_state_changed(_change(AgentState.LOGGED_OUT, AgentState.NOT_READY, now))
    records.agent_state_changed(_change(AgentState.NOT_READY, AgentState.IDLE, now))
    assert AgentStateChange.objects.count() == 2
    row = AgentStateChange.objects.last()
    assert row is not None and row.old_state == "not_ready" and row.new_state == "idle"
    assert row.old_duration_seconds == 12.5
    later = now + timedelta(minutes=5)
    assert records.close_dangling_agent_states(at=later) == 1
    closing = AgentStateChange.objects.last()
    assert closing is not None and closing.new_state == "logged_out"
    assert closing.old_state == "idle" and closing.old_duration_seconds == pytest.approx(300)
    assert records.close_dangling_agent_states(at=later) == 0  # nothing left logged in


def test_a_recording_row_is_written_at_start_and_completed_at_the_end() -> None:
    records = OrmRecords()
    now = timezone.now()
    CallRecord.objects.create(
        call_id="c1", direction="inbound", caller=CALLER, callee="96000", started_at=now
    )
    records.recording_saved(RecordingInfo("c1", "2026/11/26/c1.wav", now))
    recording = Recording.objects.get()
    assert not recording.complete and recording.call.caller == CALLER
    records.recording_saved(
        RecordingInfo(
            "c1", "2026/11/26/c1.wav", now, duration_seconds=61.2, size_bytes=979244, complete=True
        )
    )
    recording.refresh_from_db()
    assert recording.complete and recording.duration_seconds == 61.2
    assert Recording.objects.count() == 1


@pytest.fixture
def account(db: None) -> Account:
    area = Area.objects.create(code="dongcheng", name="东城片区")
    account = Account.objects.create(
        number="1000000001", name="张建国", address="东城区幸福路8号", area=area
    )
    AccountPhone.objects.create(account=account, number=CALLER)
    Bill.objects.create(
        account=account,
        period="2025-01",
        usage_m3=Decimal("10"),
        amount=Decimal("86.50"),
        paid=Decimal("0"),
        due_date=date(2025, 2, 15),
    )
    return account


def test_the_ivr_ports_read_outages_and_balances_with_the_caller_check(account: Account) -> None:
    ports = OrmIvrPorts()
    now = timezone.now()
    assert ports.outage_text_for_caller(caller="13900000000", at=now) is None
    assert ports.outage_text_for_caller(caller=CALLER, at=now) == ""
    notice = OutageNotice.objects.create(
        reason="管道抢修",
        starts_at=now - timedelta(hours=1),
        expected_end_at=now + timedelta(hours=3),
        kind=OutageNotice.Kind.EMERGENCY,
        status=OutageNotice.Status.ACTIVE,
    )
    notice.areas.set([account.area])  # type: ignore[list-item]
    assert "东城片区" in (ports.outage_text_for_caller(caller=CALLER, at=now) or "")
    assert "东城片区" in ports.outage_text_for_area(area=None, at=now)
    assert ports.outage_text_for_area(area="xicheng", at=now) == ""
    check = ports.account_check(account_number="1000000001", caller="+86 138-0013-8000")
    assert check is not None and check.caller_is_account_phone and check.has_registered_phone
    other = ports.account_check(account_number="1000000001", caller="13900000000")
    assert other is not None and not other.caller_is_account_phone
    assert ports.account_check(account_number="404", caller=CALLER) is None
    assert ports.account_phone_suffix_matches(account_number="1000000001", digits="8000")
    assert not ports.account_phone_suffix_matches(account_number="1000000001", digits="1234")
    balance = ports.account_balance(account_number="1000000001", at=now)
    assert balance is not None and balance.arrears == Decimal("86.50")
    assert balance.arrears_months == 1


def test_a_repair_message_becomes_an_order_pending_dispatch(account: Account) -> None:
    ensure_seeded_categories()
    number = OrmIvrPorts().create_repair_order(
        RepairOrder(
            caller=CALLER,
            callee="96000",
            call_id="c9",
            recording_path="2026/11/26/c9-message.wav",
            recording_seconds=23.0,
            at=timezone.now(),
            ivr_path="主菜单>报修",
        )
    )
    order = WorkOrder.objects.get(number=number)
    assert order.status == WorkOrder.Status.PENDING_DISPATCH
    assert order.source == WorkOrder.Source.IVR and order.created_by is None
    assert order.call_id == "c9" and order.account == account
    assert order.caller_number == CALLER and order.address == account.address
