"""One order's life, simulated from its intake time and cut at `now`: dispatch to one to three
departments, their work (signed for, site survey, result, submitted; sometimes returned and
re-dispatched, late or stuck), urges, the follow-up call, redo rounds, closing. It yields the
rows of the order, its tasks and its timeline, every event after the one before, each as the
services would have written it (event data, versions, counters)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from django.db.models import Q

from aqualine.accounts.models import Department, User
from aqualine.customers.models import AccountPhone
from aqualine.customers.synthetic import ESTATES, ensure_areas, mobile, person_name
from aqualine.customers.synthetic import address as flat_address
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.permissions import WorkordersPerm
from aqualine.workorders.services import category_default_department, category_time_limit
from aqualine.workorders.synthetic.data import (
    ANSWERED_AT_INTAKE,
    ANSWERED_AT_INTAKE_DEFAULT,
    CATEGORY_WEIGHTS,
    DESCRIPTION_FALLBACK,
    DESCRIPTIONS,
    FOLLOW_UP_NOTES,
    HOUR_WEIGHTS,
    INTAKE_ANSWERS,
    LANDLINE_PREFIX,
    LOCATED,
    PARTNERS,
    REDO_NOTES,
    RESULT_FALLBACK,
    RESULTS,
    RETURN_REASONS,
    SEASONS,
    SOURCES,
    SPOTS,
    SURVEYS,
    UNSATISFIED_NOTES,
    URGE_NOTES,
    URGENCY,
    URGENCY_DEFAULT,
)
from aqualine.workorders.synthetic.rows import Ids

Status = WorkOrder.Status
TaskStatus = DepartmentTask.Status
EventType = OrderEvent.Type
Source = WorkOrder.Source
Urgency = WorkOrder.Urgency

HOUR = 3600.0


@dataclass(frozen=True)
class _Category:
    pk: int
    code: str
    label: str  # str(category), as the created event records it
    family: str  # the top-level code (leak, billing, ...)
    limit: timedelta
    department_id: int | None
    answered_at_intake: float


@dataclass(frozen=True)
class _Actor:
    pk: int
    label: str


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def cumulative(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))


# --- the people and things an order refers to -------------------------------------------------


def _users_with(perm: WorkordersPerm) -> list[User]:
    app_label, codename = perm.value.split(".")
    has = Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    ) | Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label=app_label,
    )
    return list(User.objects.filter(has, is_active=True).distinct().order_by("pk"))


def _actors(perm: WorkordersPerm, everything: set[int]) -> list[_Actor]:
    """Active users with `perm`; those holding every work-order permission (administrators,
    supervisors) only when no one else has it."""
    users = _users_with(perm)
    narrow = [u for u in users if u.pk not in everything] or users
    return [_Actor(u.pk, str(u)) for u in narrow]


class Context:
    """Everything read once before generating: categories, departments, staff, callers."""

    def __init__(self, rng: random.Random) -> None:
        full = None
        for perm in WorkordersPerm:
            ids = {u.pk for u in _users_with(perm)}
            full = ids if full is None else full & ids
        everything = full or set()
        self.agents = _actors(WorkordersPerm.CREATE_ORDERS, everything)
        self.dispatchers = _actors(WorkordersPerm.DISPATCH_ORDERS, everything) or self.agents
        self.followers = _actors(WorkordersPerm.FOLLOW_UP_ORDERS, everything) or self.dispatchers
        self.recorders = _actors(WorkordersPerm.RECORD_FOR_DEPARTMENT, everything)
        self.handlers: dict[int, list[_Actor]] = {}
        for user in _users_with(WorkordersPerm.HANDLE_TASKS):
            if user.department_id is not None and user.pk not in everything:
                self.handlers.setdefault(user.department_id, []).append(_Actor(user.pk, str(user)))

        active = {d.code: d for d in Department.objects.filter(is_active=True)}
        self.codes = {d.pk: code for code, d in active.items()}
        self.categories = self._categories()
        self.working = sorted(
            {c.department_id for c in self.categories if c.department_id is not None}
        )
        if not self.working:
            raise ValueError(
                "No active department takes the seeded categories' orders; "
                "create the departments first (aqualine demo)."
            )
        self.partners = {
            pk: [active[p].pk for p in PARTNERS.get(code, ()) if p in active]
            for pk, code in self.codes.items()
        }
        self.month_weights = {
            month: cumulative(
                [
                    CATEGORY_WEIGHTS.get(c.code, 1.0) * SEASONS.get(c.code, lambda m: 1.0)(month)
                    for c in self.categories
                ]
            )
            for month in range(1, 13)
        }
        self.areas = {code: area.pk for code, area in ensure_areas().items()}
        phones = list(
            AccountPhone.objects.order_by("pk").values_list(
                "number", "account_id", "account__name", "account__address", "account__area_id"
            )
        )
        rng.shuffle(phones)
        # A few callers call very often, some now and then, most once or twice in two years.
        self.phones = phones
        self.regulars = phones[: max(1, len(phones) // 50)]
        self.frequent = phones[: max(1, len(phones) // 1000)]
        self.sources = [s for s, _w in SOURCES]
        self.source_weights = cumulative([w for _s, w in SOURCES])
        self.hour_weights = cumulative(HOUR_WEIGHTS)

    def _categories(self) -> list[_Category]:
        leaves = []
        categories = list(Category.objects.filter(is_active=True).select_related("parent"))
        parents = {c.parent_id for c in categories if c.parent_id is not None}
        for category in categories:
            if category.pk in parents:
                continue
            if category.parent is not None and not category.parent.is_active:
                continue
            department = category_default_department(category)
            family = category.parent.code if category.parent is not None else category.code
            leaves.append(
                _Category(
                    pk=category.pk,
                    code=category.code,
                    label=str(category),
                    family=family,
                    limit=category_time_limit(category),
                    department_id=department.pk if department is not None else None,
                    answered_at_intake=ANSWERED_AT_INTAKE.get(
                        category.code, ANSWERED_AT_INTAKE_DEFAULT
                    ),
                )
            )
        if not leaves:
            raise ValueError("There are no active categories (migrate seeds them).")
        return sorted(leaves, key=lambda c: c.pk)


# --- one order's life --------------------------------------------------------------------------


ORDER_COLUMNS = (
    "id",
    "number",
    "source",
    "caller_number",
    "reporter_name",
    "reporter_phone",
    "account",
    "address",
    "area",
    "category",
    "description",
    "urgency",
    "status",
    "redo_count",
    "urge_count",
    "satisfaction",
    "call_id",
    "created_by",
    "created_at",
    "closed_at",
    "version",
)
TASK_COLUMNS = (
    "id",
    "order",
    "department",
    "status",
    "round",
    "dispatched_at",
    "dispatched_by",
    "deadline",
    "accepted_at",
    "accepted_by",
    "survey",
    "surveyed_at",
    "surveyed_by",
    "result",
    "result_at",
    "result_by",
    "submitted_at",
    "submitted_by",
    "returned_at",
    "returned_by",
    "return_reason",
    "cancel_reason",
    "recorded_on_behalf_by",
    "replaced_by",
    "urge_count",
    "version",
)
EVENT_COLUMNS = ("order", "task", "type", "actor", "actor_label", "department", "data", "at")


@dataclass
class _Task:
    """A department task while its order's life is simulated."""

    pk: int
    department_id: int
    round: int
    dispatched_at: datetime
    dispatched_by: _Actor | None
    deadline: datetime
    handler: _Actor | None
    on_behalf: bool
    status: str = TaskStatus.WAITING
    accepted_at: datetime | None = None
    survey: str = ""
    surveyed_at: datetime | None = None
    result: str = ""
    submitted_at: datetime | None = None
    returned_at: datetime | None = None
    return_reason: str = ""
    replaced_by: _Task | None = None
    urge_count: int = 0
    version: int = 1
    # When the department stops working on it (submitted or returned); None: still open.
    ended_at: datetime | None = None


class Batch:
    """Builds the rows of a batch of orders."""

    def __init__(self, ctx: Context, rng: random.Random, now: datetime, recent: datetime) -> None:
        self.ctx = ctx
        self.rng = rng
        self.now = now
        self.recent = recent  # orders after this are more often stuck (still open, overdue)
        self.order_ids = Ids(WorkOrder)
        self.task_ids = Ids(DepartmentTask)
        self.orders: list[tuple[Any, ...]] = []
        self.tasks: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.statuses: Counter[str] = Counter()
        # The current order's events: (at, sequence, type, task, department, actor, data).
        self._timeline: list[tuple[datetime, int, str, int | None, int | None, Any, str]] = []

    # -- helpers

    def _event(
        self,
        at: datetime,
        type: str,
        actor: _Actor | None,
        data: str = "{}",
        task: _Task | None = None,
    ) -> None:
        department = task.department_id if task is not None else None
        self._timeline.append(
            (at, len(self._timeline), type, task.pk if task else None, department, actor, data)
        )

    def _pick(self, actors: Sequence[_Actor]) -> _Actor | None:
        return self.rng.choice(actors) if actors else None

    def _caller(self, category: _Category) -> tuple[str, int | None, str, str, int | None]:
        """(phone, account id, reporter name, address, area id) of the person calling."""
        rng, ctx = self.rng, self.ctx
        draw = rng.random()
        if ctx.phones and draw < 0.65:
            tier = rng.random()
            pool = ctx.frequent if tier < 0.05 else ctx.regulars if tier < 0.25 else ctx.phones
            phone, account_id, holder, address, area_id = rng.choice(pool)
            name = holder if rng.random() < 0.5 else holder[:1] + rng.choice(("先生", "女士"))
            if rng.random() < 0.8:
                return phone, account_id, name, address, area_id
            return phone, None, name, address, area_id
        if draw < 0.9:
            phone = mobile(rng)
        elif draw < 0.97:
            phone = f"{LANDLINE_PREFIX}{rng.randint(81000000, 89999999)}"
        else:
            phone = ""
        if rng.random() < 0.8:
            name = person_name(rng)[:1] + rng.choice(("先生", "女士"))
        else:
            name = person_name(rng)
        located = category.family in LOCATED
        if located or rng.random() < 0.3:
            estate = rng.choice(ESTATES)
            # A passer-by names a spot (小区东门); a resident gives their flat.
            place = (
                estate.prefix + rng.choice(SPOTS)
                if located and rng.random() < 0.5
                else flat_address(rng, estate)
            )
            return phone, None, name, place, ctx.areas[estate.area_code]
        return phone, None, name, "", None

    def _description(self, category: _Category, address: str) -> str:
        text = self.rng.choice(DESCRIPTIONS.get(category.code, DESCRIPTION_FALLBACK))
        if "{place}" in text:
            place = address.split("号", 1)[-1] if "号" in address else ""
            place = place.split("栋", 1)[0].rstrip("0123456789")
            for spot in SPOTS:
                place = place.removesuffix(spot)
            text = text.format(place=place or "我家附近")
        return text

    def _urgency(self, category: _Category) -> str:
        shares = URGENCY.get(category.code) or URGENCY.get(category.family) or URGENCY_DEFAULT
        critical, urgent = shares
        draw = self.rng.random()
        if draw < critical:
            return Urgency.CRITICAL
        return Urgency.URGENT if draw < critical + urgent else Urgency.NORMAL

    def _departments(self, category: _Category) -> list[int]:
        rng = self.rng
        first = category.department_id or rng.choice(self.ctx.working)
        chosen = [first]
        if rng.random() < 0.12:  # a joint order: one or two more departments
            partners = [p for p in self.ctx.partners.get(first, []) if p != first]
            extra = 1 if rng.random() < 0.85 else 2
            rng.shuffle(partners)
            chosen += partners[:extra]
        return chosen

    # -- the order

    def add_order(self, number: str, created: datetime, month: int, second_of_day: float) -> None:
        """One order taken at `created` (UTC; `month` and `second_of_day` local) and its life."""
        rng, ctx, now = self.rng, self.ctx, self.now
        self._timeline = []
        pk = self.order_ids.take()
        category = rng.choices(ctx.categories, cum_weights=ctx.month_weights[month])[0]
        phone, account_id, reporter, address, area_id = self._caller(category)
        source = rng.choices(ctx.sources, cum_weights=ctx.source_weights)[0]
        if source in (Source.PHONE, Source.IVR):
            caller_number = phone
            draw = rng.random()
            reporter_phone = phone if draw < 0.85 else mobile(rng) if draw < 0.93 else ""
        else:
            caller_number, reporter_phone = "", phone
        urgency = self._urgency(category)
        # A message left with the IVR is taken down by the system itself (no agent).
        agent = None if source == Source.IVR else self._pick(ctx.agents)
        state: dict[str, Any] = {
            "status": Status.PENDING_DISPATCH,
            "closed_at": None,
            "satisfaction": None,
            "redo_count": 0,
            "urge_count": 0,
            "version": 1,
        }
        self._event(
            created,
            EventType.CREATED,
            agent,
            _dumps({"source": source, "category": category.label, "urgency": urgency}),
        )
        tasks: list[_Task] = []
        if agent is not None and rng.random() < category.answered_at_intake:
            closed = created + timedelta(seconds=rng.uniform(60, 600))
            if closed <= now:
                state.update(status=Status.CLOSED, closed_at=closed, version=2)
                answer = rng.choice(INTAKE_ANSWERS)
                self._event(
                    closed, EventType.CLOSED, agent, _dumps({"at_intake": True, "note": answer})
                )
        else:
            self._process(category, urgency, created, second_of_day, state, tasks)
        self.orders.append(
            (
                pk,
                number,
                source,
                caller_number,
                reporter,
                reporter_phone,
                account_id,
                address,
                area_id,
                category.pk,
                self._description(category, address),
                urgency,
                state["status"],
                state["redo_count"],
                state["urge_count"],
                state["satisfaction"],
                "",
                agent.pk if agent else None,
                created,
                state["closed_at"],
                state["version"],
            )
        )
        self.statuses[state["status"]] += 1
        for task in tasks:
            self.tasks.append(self._task_row(pk, task))
        self._timeline.sort(key=lambda e: (e[0], e[1]))
        for at, _seq, type, task_pk, department, actor, data in self._timeline:
            self.events.append(
                (
                    pk,
                    task_pk,
                    type,
                    actor.pk if actor else None,
                    actor.label if actor else "",
                    department,
                    data,
                    at,
                )
            )

    def _dispatch_delay(self, urgency: str, second_of_day: float) -> float:
        rng = self.rng
        if urgency != Urgency.NORMAL:
            return rng.uniform(120, 1200)
        if 8 * HOUR <= second_of_day < 20 * HOUR:
            return 180 + min(rng.expovariate(1 / 1500), 4 * HOUR)
        # At night a normal order waits for the morning shift.
        morning = (
            8 * HOUR - second_of_day if second_of_day < 8 * HOUR else 32 * HOUR - second_of_day
        )
        return morning + rng.uniform(0, HOUR)

    def _process(
        self,
        category: _Category,
        urgency: str,
        created: datetime,
        second_of_day: float,
        state: dict[str, Any],
        tasks: list[_Task],
    ) -> None:
        """Dispatch, the departments' work, follow-up and redo rounds, up to `now`."""
        rng, ctx, now = self.rng, self.ctx, self.now
        at = created + timedelta(seconds=self._dispatch_delay(urgency, second_of_day))
        if at > now:
            return
        departments = self._departments(category)
        stuck_rate = 0.01 if created > self.recent else 0.0003
        for round in (1, 2, 3):
            dispatcher = self._pick(ctx.dispatchers)
            if round > 1:
                redo = {"round": round, "departments": departments, "note": rng.choice(REDO_NOTES)}
                self._event(at, EventType.REDO, dispatcher, _dumps(redo))
                state["redo_count"] = round - 1
                state["closed_at"] = None
            state["status"] = Status.PROCESSING
            state["version"] += 1
            round_tasks = []
            for department in departments:
                task = self._new_task(category, department, round, at, dispatcher)
                data: dict[str, Any] = {"deadline": _iso(task.deadline)}
                if round > 1:
                    data["round"] = round
                else:
                    data["note"] = ""
                self._event(at, EventType.DISPATCHED, dispatcher, _dumps(data), task)
                round_tasks.append(task)
            stuck = rng.random() < stuck_rate
            for task in list(round_tasks):
                round_tasks += self._work(category, task, stuck)
            tasks += round_tasks
            counting = [t for t in round_tasks if t.replaced_by is None]
            done = all(t.status == TaskStatus.SUBMITTED for t in counting)
            ends = [t.submitted_at for t in counting if t.submitted_at is not None]
            finished = max(ends) if done and ends else None
            self._urges(category, at, finished, round_tasks, state, stuck)
            if finished is None:
                return
            state["status"] = Status.PENDING_FOLLOW_UP
            state["version"] += 1
            follow_up = finished + timedelta(seconds=rng.uniform(0.5 * HOUR, 30 * HOUR))
            if follow_up > now:
                return
            satisfied = round == 3 or rng.random() > (0.04 if round == 1 else 0.02)
            score = (
                rng.choices((5, 4, 3), (70, 25, 5))[0]
                if satisfied
                else rng.choices((1, 2), (60, 40))[0]
            )
            outcome = "satisfied" if satisfied else "unsatisfied"
            note = rng.choice(FOLLOW_UP_NOTES if satisfied else UNSATISFIED_NOTES)
            follower = self._pick(ctx.followers)
            self._event(
                follow_up,
                EventType.FOLLOW_UP,
                follower,
                _dumps({"outcome": outcome, "satisfaction": score, "note": note}),
            )
            state["satisfaction"] = score
            state["version"] += 1
            if satisfied:
                self._event(follow_up, EventType.CLOSED, follower)
                state.update(status=Status.CLOSED, closed_at=follow_up)
                return
            state["status"] = Status.REDO
            at = follow_up + timedelta(seconds=rng.uniform(0.5 * HOUR, 8 * HOUR))
            if at > now:
                return

    def _new_task(
        self,
        category: _Category,
        department: int,
        round: int,
        at: datetime,
        dispatcher: _Actor | None,
    ) -> _Task:
        handlers = self.ctx.handlers.get(department, [])
        handler = self._pick(handlers) if handlers else self._pick(self.ctx.recorders)
        return _Task(
            pk=self.task_ids.take(),
            department_id=department,
            round=round,
            dispatched_at=at,
            dispatched_by=dispatcher,
            deadline=at + category.limit,
            handler=handler,
            on_behalf=not handlers,
        )

    def _work(
        self, category: _Category, task: _Task, stuck: bool, may_return: bool = True
    ) -> list[_Task]:
        """The department's work on `task` up to `now`; returns the task that replaces it when
        the department returns it and the hotline re-dispatches it (and that one's own)."""
        rng, now = self.rng, self.now
        limit = category.limit.total_seconds()
        handler = task.handler
        flags = {"on_behalf": True} if task.on_behalf else {}
        data = _dumps(flags) if flags else "{}"
        accept_share = rng.uniform(0.01, 0.1)
        accepted = task.dispatched_at + timedelta(seconds=limit * accept_share)
        # Only the department itself may return a task (not the hotline on its behalf).
        returning = may_return and not task.on_behalf and not stuck and rng.random() < 0.03
        if returning and rng.random() < 0.5:  # returned without signing for it
            return self._return(category, task, accepted)
        if stuck and rng.random() < 0.3:
            return []  # never signed for
        if accepted > now:
            return []
        task.status, task.accepted_at = TaskStatus.ACCEPTED, accepted
        task.version += 1
        self._event(accepted, EventType.ACCEPTED, handler, data, task)
        if returning:
            return self._return(
                category, task, accepted + timedelta(seconds=rng.uniform(300, 3600))
            )
        if rng.random() < 0.07:  # late
            share = rng.uniform(1.05, 2.5)
        else:
            share = min(0.95, accept_share + 0.02 + rng.betavariate(1.6, 4))
        submitted = task.dispatched_at + timedelta(seconds=limit * share)
        code = self.ctx.codes.get(task.department_id, "")
        if code in SURVEYS and rng.random() < 0.5:
            surveyed = accepted + (submitted - accepted) * rng.uniform(0.1, 0.5)
            if surveyed <= now:
                task.survey, task.surveyed_at = rng.choice(SURVEYS[code]), surveyed
                task.version += 1
                survey = _dumps({**flags, "survey": task.survey})
                self._event(surveyed, EventType.SURVEYED, handler, survey, task)
        if stuck or submitted > now:
            return []
        task.result = rng.choice(RESULTS.get(code, RESULT_FALLBACK))
        task.status, task.submitted_at, task.ended_at = TaskStatus.SUBMITTED, submitted, submitted
        task.version += 1
        result = _dumps({**flags, "result": task.result})
        self._event(submitted, EventType.RESULT_RECORDED, handler, result, task)
        late = _dumps({**flags, "late": submitted > task.deadline})
        self._event(submitted, EventType.SUBMITTED, handler, late, task)
        return []

    def _return(self, category: _Category, task: _Task, returned: datetime) -> list[_Task]:
        rng, now = self.rng, self.now
        if returned > now:
            return []
        task.status, task.returned_at, task.ended_at = TaskStatus.RETURNED, returned, returned
        task.return_reason = rng.choice(RETURN_REASONS)
        task.version += 1
        reason = _dumps({"reason": task.return_reason})
        self._event(returned, EventType.RETURNED, task.handler, reason, task)
        redispatched = returned + timedelta(seconds=rng.uniform(600, 3 * HOUR))
        if redispatched > now:
            return []  # back with the hotline, waiting to be re-dispatched
        others = [d for d in self.ctx.working if d != task.department_id] or [task.department_id]
        dispatcher = self._pick(self.ctx.dispatchers)
        new = self._new_task(category, rng.choice(others), task.round, redispatched, dispatcher)
        task.replaced_by = new
        task.version += 1
        data = {"from_task": task.pk, "deadline": _iso(new.deadline), "note": ""}
        self._event(redispatched, EventType.REDISPATCHED, dispatcher, _dumps(data), new)
        return [new, *self._work(category, new, stuck=False, may_return=False)]

    def _urges(
        self,
        category: _Category,
        dispatched: datetime,
        finished: datetime | None,
        tasks: list[_Task],
        state: dict[str, Any],
        stuck: bool,
    ) -> None:
        """The caller chasing a slow round (催办): counted on the order and its open tasks."""
        rng = self.rng
        end = min(finished or self.now, self.now)
        slow = (end - dispatched) > category.limit * 0.7 or stuck
        if rng.random() >= (0.35 if slow else 0.03) or end <= dispatched:
            return
        count = rng.choices((1, 2, 3), (70, 20, 10))[0]
        span = (end - dispatched).total_seconds()
        moments = sorted(
            dispatched + timedelta(seconds=span * rng.uniform(0.2, 1.0)) for _i in range(count)
        )
        agent = self._pick(self.ctx.agents)
        for moment in moments:
            open_tasks = [
                t
                for t in tasks
                if t.dispatched_at <= moment and (t.ended_at is None or t.ended_at > moment)
            ]
            for task in open_tasks:
                task.urge_count += 1
            state["urge_count"] += 1
            state["version"] += 1
            data = {
                "count": state["urge_count"],
                "note": rng.choice(URGE_NOTES),
                "tasks": [t.pk for t in open_tasks],
            }
            self._event(moment, EventType.URGED, agent, _dumps(data))

    def _task_row(self, order_pk: int, task: _Task) -> tuple[Any, ...]:
        handler = task.handler.pk if task.handler else None
        dispatcher = task.dispatched_by.pk if task.dispatched_by else None
        submitted = task.submitted_at is not None
        returned = task.returned_at is not None
        return (
            task.pk,
            order_pk,
            task.department_id,
            task.status,
            task.round,
            task.dispatched_at,
            dispatcher,
            task.deadline,
            task.accepted_at,
            handler if task.accepted_at else None,
            task.survey,
            task.surveyed_at,
            handler if task.surveyed_at else None,
            task.result,
            task.submitted_at,
            handler if submitted else None,
            task.submitted_at,
            handler if submitted else None,
            task.returned_at,
            handler if returned else None,
            task.return_reason,
            "",
            handler if task.on_behalf and (task.accepted_at or returned) else None,
            task.replaced_by.pk if task.replaced_by else None,
            task.urge_count,
            task.version,
        )
