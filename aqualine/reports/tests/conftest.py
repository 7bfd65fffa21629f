"""Personas and hand-built data for the report tests.

Every row is written directly with the ORM at known local times (Asia/Shanghai), so that each
figure the reports give can be worked out by hand; the expected numbers in the tests are those
hand computations, written next to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.callcenter.models import AgentStateChange, CallRecord
from aqualine.conftest import make_user
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder

TS = DepartmentTask.Status
OS = WorkOrder.Status


def local(day: int, hour: int, minute: int = 0, second: float = 0, month: int = 3) -> datetime:
    """A time on a day of March 2026, local time."""
    naive = datetime(2026, month, day, hour, minute) + timedelta(seconds=second)
    return timezone.make_aware(naive, timezone.get_current_timezone())


# The period of the fixtures: March 2026 (the reports' custom range 2026-03-01 to 2026-03-31).
MARCH = {"period": "custom", "date_from": "2026-03-01", "date_to": "2026-03-31"}
# "Now" for the selectors: 20 March 2026, noon.
NOW = local(20, 12)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def billing(db: None) -> Department:
    return Department.objects.create(name="营业收费部", code="billing", sort_order=3)


@pytest.fixture
def supervisor(hotline: Department) -> User:
    return make_user("1900", "supervisor", department=hotline, name="王班长")


@pytest.fixture
def viewer(hotline: Department) -> User:
    return make_user("9001", "viewer", department=hotline, name="领导")


@pytest.fixture
def dispatcher(hotline: Department) -> User:
    return make_user("2001", "dispatcher", department=hotline, name="李娜")


@pytest.fixture
def billing_handler(billing: Department) -> User:
    return make_user("3002", "handler", department=billing, name="钱丽")


@pytest.fixture
def billing_clerk(billing: Department) -> User:
    """A billing staff member who takes orders at the counter (their orders' accepting unit is
    营业收费部)."""
    return make_user("3009", "agent", department=billing, name="周敏")


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def order(
    number: str,
    code: str,
    created: datetime,
    *,
    by: User | None,
    status: str,
    satisfaction: int | None = None,
    urges: int = 0,
    description: str = "管道漏水",
    **extra: Any,
) -> WorkOrder:
    return WorkOrder.objects.create(
        number=number,
        source=WorkOrder.Source.PHONE if by else WorkOrder.Source.IVR,
        category=category(code),
        description=description,
        status=status,
        satisfaction=satisfaction,
        urge_count=urges,
        created_by=by,
        created_at=created,
        closed_at=created + timedelta(days=1) if status == OS.CLOSED else None,
        **extra,
    )


def task(
    order: WorkOrder,
    department: Department,
    *,
    status: str,
    dispatched: datetime,
    hours: int = 24,
    submitted_after: float | None = None,
    returned_after: float | None = None,
    urges: int = 0,
    round: int = 1,
) -> DepartmentTask:
    """A task dispatched at `dispatched` with a deadline `hours` later; submitted (or returned)
    that many hours after dispatch."""
    return DepartmentTask.objects.create(
        order=order,
        department=department,
        status=status,
        round=round,
        dispatched_at=dispatched,
        deadline=dispatched + timedelta(hours=hours),
        submitted_at=(
            dispatched + timedelta(hours=submitted_after) if submitted_after is not None else None
        ),
        returned_at=(
            dispatched + timedelta(hours=returned_after) if returned_after is not None else None
        ),
        urge_count=urges,
    )


@dataclass
class Orders:
    o1: WorkOrder
    o2: WorkOrder
    o3: WorkOrder
    o4: WorkOrder
    o5: WorkOrder
    o6: WorkOrder


@pytest.fixture
def orders(
    agent: User, billing_clerk: User, repair: Department, billing: Department, hotline: Department
) -> Orders:
    """Five orders taken in March 2026 and one in February (unit: the accepting unit):

    | order | taken       | by, unit          | category / content | status          | score | urg |
    |-------|-------------|-------------------|--------------------|-----------------|-------|-----|
    | O1    | 2 Mar 09:00 | agent, 热线中心   | 漏水 / 管道漏水    | closed          | 5     | 0   |
    | O2    | 3 Mar 10:00 | agent, 热线中心   | 漏水 / 爆管        | processing      | —     | 2   |
    | O3    | 4 Mar 11:00 | IVR, —            | 停水 / 突发停水    | follow-up       | —     | 0   |
    | O4    | 5 Mar 14:00 | clerk, 营业收费部 | 缴费 / 水费异议    | closed          | 2     | 0   |
    | O5    | 6 Mar 15:00 | agent, 热线中心   | 咨询               | closed (intake) | —     | 0   |
    | O6    | 27 Feb      | agent             | 漏水 / 管道漏水    | closed          | 1     | 0   |

    Tasks (deadline 24 h after dispatch unless said; NOW = 20 Mar 12:00):

    | task | order | department | status    | what happened                                    |
    |------|-------|------------|-----------|--------------------------------------------------|
    | T1   | O1    | repair     | submitted | after 10 h: on time                              |
    | T2   | O2    | repair     | accepted  | deadline 4 Mar 10:00 passed: open overdue, 2 urges|
    | T3   | O3    | repair     | returned  | returned after 2 h                               |
    | T4   | O3    | repair     | submitted | re-dispatch; after 30 h: late                    |
    | T5   | O4    | billing    | submitted | after 5 h: on time                               |
    | T6   | O4    | repair     | submitted | after 48 h: late                                 |
    | T7   | O6    | repair     | submitted | (February: outside the period)                   |
    """
    o1 = order("GD1", "leak-pipe", local(2, 9), by=agent, status=OS.CLOSED, satisfaction=5)
    o2 = order("GD2", "leak-burst", local(3, 10), by=agent, status=OS.PROCESSING, urges=2)
    o3 = order("GD3", "no-water-sudden", local(4, 11), by=None, status=OS.PENDING_FOLLOW_UP)
    o4 = order(
        "GD4", "billing-dispute", local(5, 14), by=billing_clerk, status=OS.CLOSED, satisfaction=2
    )
    o5 = order("GD5", "consultation", local(6, 15), by=agent, status=OS.CLOSED)
    o6 = order(
        "GD6", "leak-pipe", local(27, 9, month=2), by=agent, status=OS.CLOSED, satisfaction=1
    )
    task(o1, repair, status=TS.SUBMITTED, dispatched=local(2, 9, 5), submitted_after=10)
    task(o2, repair, status=TS.ACCEPTED, dispatched=local(3, 10, 5), urges=2)
    task(o3, repair, status=TS.RETURNED, dispatched=local(4, 11, 5), returned_after=2)
    task(o3, repair, status=TS.SUBMITTED, dispatched=local(4, 14), submitted_after=30)
    task(o4, billing, status=TS.SUBMITTED, dispatched=local(5, 14, 5), submitted_after=5)
    task(o4, repair, status=TS.SUBMITTED, dispatched=local(5, 14, 6), submitted_after=48)
    task(o6, repair, status=TS.SUBMITTED, dispatched=local(27, 9, 5, month=2), submitted_after=1)
    return Orders(o1, o2, o3, o4, o5, o6)


# --- calls -----------------------------------------------------------------------------------


def call(
    call_id: str,
    started: datetime,
    *,
    direction: str = CallRecord.Direction.INBOUND,
    outcome: str,
    wait: float | None = None,
    talk: float | None = None,
    agent: str = "",
    connected: bool = True,
    queue: str = "hotline",
) -> CallRecord:
    answered = started + timedelta(seconds=15 + (wait or 0)) if agent else None
    return CallRecord.objects.create(
        call_id=call_id,
        direction=direction,
        caller="13800138000",
        callee="96000",
        started_at=started,
        answered_at=started if connected else None,
        ended_at=started + timedelta(seconds=15 + (wait or 0) + (talk or 0)),
        outcome=outcome,
        queue=queue if direction == CallRecord.Direction.INBOUND else "",
        agent_id=agent,
        agent_answered_at=answered if direction == CallRecord.Direction.INBOUND else None,
        wait_seconds=wait,
        talk_seconds=talk,
    )


def state(agent: str, at: datetime, old: str, seconds: float, call_id: str = "") -> None:
    """A row of the agent-state history: `agent` left `old` at `at` after `seconds`."""
    AgentStateChange.objects.create(
        agent_id=agent,
        old_state=old,
        old_duration_seconds=seconds,
        new_state="idle",
        at=at,
        call_id=call_id,
    )


@pytest.fixture
def calls(db: None, agent: User) -> None:
    """Calls on Monday 2 March 2026 (agent 1001 is the `agent` persona 张敏; 1002 has no staff
    record):

    | call | local start | direction | outcome   | wait | talk | agent | ACW  |
    |------|-------------|-----------|-----------|------|------|-------|------|
    | C1   | 09:05       | inbound   | answered  | 10   | 100  | 1001  | 20   |
    | C2   | 09:20       | inbound   | answered  | 30   | 200  | 1001  | 10   |
    | C3   | 09:30       | inbound   | abandoned | 5    |      |       |      |
    | C4   | 09:40       | inbound   | abandoned | 40   |      |       |      |
    | C5   | 10:10       | inbound   | answered  | 20   | 60   | 1002  | none |
    | C6   | 10:20       | inbound   | missed    | 300  |      |       |      |
    | C7   | 10:30       | inbound   | ivr_only  |      |      |       |      |
    | C8   | 10:40       | outbound  | answered  |      | 50   | 1001  |      |
    | C9   | 10:50       | outbound  | cancelled |      |      | 1002  |      |
    | C10  | 10:55       | internal  | answered  |      | 30   | 1001  |      |
    | C11  | 3 Mar 09:00 | inbound   | answered  | 5    | 100  | 1001  | 50   |  (next day)

    Agent-state history on 2 March besides the ACW rows: 1001 idle 70 + 70, ringing 15 + 15,
    talking 100 + 200, not ready 1000 (not signed on); 1002 idle 60, talking 60.
    """
    call("C1", local(2, 9, 5), outcome="answered", wait=10, talk=100, agent="1001")
    call("C2", local(2, 9, 20), outcome="answered", wait=30, talk=200, agent="1001")
    call("C3", local(2, 9, 30), outcome="abandoned", wait=5)
    call("C4", local(2, 9, 40), outcome="abandoned", wait=40)
    call("C5", local(2, 10, 10), outcome="answered", wait=20, talk=60, agent="1002")
    call("C6", local(2, 10, 20), outcome="missed", wait=300)
    call("C7", local(2, 10, 30), outcome="ivr_only")
    out = CallRecord.Direction.OUTBOUND
    call("C8", local(2, 10, 40), direction=out, outcome="answered", talk=50, agent="1001")
    call("C9", local(2, 10, 50), direction=out, outcome="cancelled", agent="1002", connected=False)
    call(
        "C10",
        local(2, 10, 55),
        direction=CallRecord.Direction.INTERNAL,
        outcome="answered",
        talk=30,
        agent="1001",
    )
    call("C11", local(3, 9), outcome="answered", wait=5, talk=100, agent="1001")
    # after-call work of C1, C2 (2 March) and C11 (3 March)
    state("1001", local(2, 9, 7, 25), "after_call_work", 20, "C1")
    state("1001", local(2, 9, 24, 15), "after_call_work", 10, "C2")
    state("1001", local(3, 9, 2, 10), "after_call_work", 50, "C11")
    for seconds in (70, 70):
        state("1001", local(2, 9, 1), "idle", seconds)
    for seconds in (15, 15):
        state("1001", local(2, 9, 2), "ringing", seconds)
    state("1001", local(2, 9, 7, 5), "talking", 100, "C1")
    state("1001", local(2, 9, 24, 5), "talking", 200, "C2")
    state("1001", local(2, 12), "not_ready", 1000)
    state("1002", local(2, 10, 5), "idle", 60)
    state("1002", local(2, 10, 12), "talking", 60, "C5")
