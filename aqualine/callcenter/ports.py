"""The telephony core's ports implemented with the Django ORM (used by `aqualine switch`).

The core calls these from worker threads (`asyncio.to_thread`); each call starts by dropping
connections that the database closed, as Django's request cycle would.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.callcenter.models import (
    AgentStateChange,
    CallRecord,
    Extension,
    IvrFlow,
    Queue,
    Recording,
    Trunk,
)
from aqualine.core.parameters import param
from aqualine.customers.models import Account, AccountPhone, normalize_phone
from aqualine.customers.selectors import (
    account_arrears,
    active_outages,
    customer_for_phone,
    outage_sentence,
    outage_text_for_area,
    upcoming_outages_for_area,
)
from aqualine.telephony.acd.model import AgentStateChange as CoreAgentStateChange
from aqualine.telephony.acd.model import OverflowAction, OverflowKind, QueueConfig
from aqualine.telephony.ivr.ports import AccountBalance, AccountCheck, RepairOrder
from aqualine.telephony.ports import (
    AgentInfo,
    CallCentreSettings,
    ExtensionInfo,
    RecordingInfo,
    TrunkInfo,
)
from aqualine.telephony.ports import CallRecord as CoreCallRecord

log = logging.getLogger("aqualine.callcenter.ports")

# Busy reasons of domain.md (T6); a later page may make them editable.
BUSY_REASONS = ("休息", "开会", "就餐", "如厕", "接待客户", "培训")
# The category of an order made from an IVR repair message until an agent listens to it.
IVR_REPAIR_CATEGORY = "leak-pipe"


def _fresh_connection() -> None:
    """Drop a connection the database closed (as Django's request cycle does); never inside
    a transaction (tests, or a caller that holds one)."""
    if not connection.in_atomic_block:
        close_old_connections()


class OrmDirectory:
    def extension(self, number: str) -> ExtensionInfo | None:
        _fresh_connection()
        row = Extension.objects.filter(number=number).first()
        if row is None:
            return None
        return ExtensionInfo(
            number=row.number,
            password=row.password,
            enabled=row.enabled,
            display_name=row.display_name,
        )

    def trunks(self) -> Sequence[TrunkInfo]:
        _fresh_connection()
        return [
            TrunkInfo(
                name=t.name,
                hosts=tuple(t.host_list),
                numbers=tuple(t.number_list),
                username=t.username,
                password=t.password,
                enabled=t.enabled,
                outbound_address=t.outbound_address.strip(),
                caller_id=t.caller_id,
                outbound_username=t.outbound_username,
                outbound_password=t.outbound_password,
            )
            for t in Trunk.objects.all()
        ]

    def agent(self, agent_id: str) -> AgentInfo | None:
        _fresh_connection()
        user = User.objects.filter(agent_id__iexact=agent_id).first()
        if user is None:
            return None
        return AgentInfo(agent_id=user.agent_id, name=user.name, enabled=user.is_active)

    def queues(self) -> Sequence[QueueConfig]:
        _fresh_connection()
        configs = []
        for queue in Queue.objects.filter(enabled=True).prefetch_related("members"):
            overflow = None
            if queue.max_wait_seconds is not None and queue.overflow:
                overflow = OverflowAction(OverflowKind(queue.overflow), queue.overflow_target)
            configs.append(
                QueueConfig(
                    name=queue.name,
                    members=tuple(m.agent_id for m in queue.members.all() if m.is_active),
                    wrap_up_seconds=queue.wrap_up_seconds,
                    ring_seconds=queue.ring_seconds,
                    max_wait_seconds=queue.max_wait_seconds if overflow else None,
                    overflow=overflow,
                    announce_seconds=float(queue.announce_seconds),
                )
            )
        return configs

    def ivr_flow(self, number: str) -> Mapping[str, Any] | None:
        _fresh_connection()
        flow = IvrFlow.objects.filter(number=number, enabled=True).first()
        return flow.data if flow is not None else None

    def call_centre_settings(self) -> CallCentreSettings:
        _fresh_connection()
        return CallCentreSettings(
            busy_reasons=BUSY_REASONS,
            wrap_up_seconds=float(param("communication.wrapup_seconds")),
            ring_seconds=float(param("communication.ring_timeout_seconds")),
            timezone=settings.TIME_ZONE,
            on_duty_number=str(param("communication.on_duty_number") or ""),
            recording_channels=str(param("communication.recording_channels")),
        )


def _fields(record: CoreCallRecord) -> dict[str, object]:
    return {
        "sip_call_id": record.sip_call_id[:255],
        "direction": record.direction,
        "caller": record.caller[:64],
        "callee": record.callee[:64],
        "source": record.source[:64],
        "trunk": record.trunk[:100],
        "started_at": record.started_at or timezone.now(),
        "answered_at": record.answered_at,
        "ended_at": record.ended_at,
        "outcome": record.outcome[:20],
        "end_cause": record.end_cause[:200],
        "ivr_path": record.ivr_path[:200],
        "queue": record.queue[:40],
        "agent_id": record.agent_id[:20],
        "agent_extension": record.agent_extension[:20],
        "queued_at": record.queued_at,
        "agent_answered_at": record.agent_answered_at,
        "wait_seconds": record.wait_seconds,
        "talk_seconds": record.talk_seconds,
        "hold_seconds": record.hold_seconds or 0.0,
        "transfer_agent_id": record.transfer_agent_id[:20],
        "transfer_target": record.transfer_target[:64],
        "transferred_at": record.transferred_at,
        "conference": record.conference,
        "extra": record.extra,
    }


class OrmRecords:
    def call_started(self, record: CoreCallRecord) -> None:
        _fresh_connection()
        CallRecord.objects.update_or_create(call_id=record.call_id, defaults=_fields(record))

    def call_ended(self, record: CoreCallRecord) -> None:
        _fresh_connection()
        CallRecord.objects.update_or_create(call_id=record.call_id, defaults=_fields(record))

    def close_dangling_calls(self, *, ended_at: datetime, cause: str) -> int:
        _fresh_connection()
        dangling = CallRecord.objects.filter(ended_at__isnull=True)
        unanswered = dangling.filter(answered_at__isnull=True).update(
            ended_at=ended_at, outcome="failed", end_cause=cause[:200]
        )
        answered = dangling.update(ended_at=ended_at, end_cause=cause[:200])
        Recording.objects.filter(complete=False, call__ended_at=ended_at).update(complete=True)
        return unanswered + answered

    def agent_state_changed(self, change: CoreAgentStateChange) -> None:
        _fresh_connection()
        AgentStateChange.objects.create(
            agent_id=change.agent_id[:20],
            extension=change.extension[:20],
            old_state=change.old_state.value,
            old_reason=change.old_reason[:20],
            old_duration_seconds=change.duration,
            new_state=change.new_state.value,
            new_reason=change.reason[:20],
            transition=change.transition[:30],
            at=change.at,
            call_id=change.call_id[:64],
            queue=change.queue[:40],
            by=change.by[:20],
        )

    def recording_saved(self, recording: RecordingInfo) -> None:
        _fresh_connection()
        with transaction.atomic():
            CallRecord.objects.get_or_create(
                call_id=recording.call_id,
                defaults={
                    "direction": CallRecord.Direction.INBOUND,
                    "caller": "",
                    "callee": "",
                    "started_at": recording.started_at,
                },
            )
            Recording.objects.update_or_create(
                path=recording.path,
                defaults={
                    "call_id": recording.call_id,
                    "kind": recording.kind,
                    "started_at": recording.started_at,
                    "duration_seconds": recording.duration_seconds,
                    "size_bytes": recording.size_bytes,
                    "complete": recording.complete,
                },
            )

    def close_dangling_agent_states(self, *, at: datetime) -> int:
        """Every agent whose last change left them logged in is logged out at `at`."""
        _fresh_connection()
        closed = 0
        latest: dict[str, AgentStateChange] = {}
        for change in AgentStateChange.objects.order_by("agent_id", "at", "id").iterator():
            latest[change.agent_id] = change
        for change in latest.values():
            if change.new_state == "logged_out":
                continue
            AgentStateChange.objects.create(
                agent_id=change.agent_id,
                extension=change.extension,
                old_state=change.new_state,
                old_reason=change.new_reason,
                old_duration_seconds=max(0.0, (at - change.at).total_seconds()),
                new_state="logged_out",
                transition="switch_restart",
                at=at,
                by="system",
            )
            closed += 1
        return closed


class OrmIvrPorts:
    """What the IVR reads and writes: outage notices, balances with the caller check, repair
    orders (`aqualine.telephony.ivr.ports`)."""

    def outage_text_for_caller(self, *, caller: str, at: datetime) -> str | None:
        _fresh_connection()
        accounts = customer_for_phone(caller)
        if not accounts:
            return None
        areas = {a.area_id: a.area for a in accounts if a.area is not None}
        return "".join(outage_text_for_area(area, at) for area in areas.values())

    def outage_text_for_area(self, *, area: str | None, at: datetime) -> str:
        _fresh_connection()
        if area is not None:
            from aqualine.customers.models import Area

            found = Area.objects.filter(code=area).first()
            return outage_text_for_area(found, at) if found is not None else ""
        sentences = []
        seen: set[int] = set()
        notices = list(active_outages(at))
        from aqualine.customers.models import Area

        for one_area in Area.objects.all():
            notices += upcoming_outages_for_area(one_area, at)
        from django.utils import translation

        with translation.override(settings.LANGUAGE_CODE):
            for notice in notices:
                if notice.pk in seen:
                    continue
                seen.add(notice.pk)
                names = "、".join(a.name for a in notice.areas.all())
                sentences.append(outage_sentence(notice, names, at))
        return "".join(sentences)

    def account_check(self, *, account_number: str, caller: str) -> AccountCheck | None:
        _fresh_connection()
        account = Account.objects.filter(number=account_number.strip()).first()
        if account is None:
            return None
        phones = set(AccountPhone.objects.filter(account=account).values_list("number", flat=True))
        return AccountCheck(
            caller_is_account_phone=normalize_phone(caller) in phones,
            has_registered_phone=bool(phones),
        )

    def account_phone_suffix_matches(self, *, account_number: str, digits: str) -> bool:
        _fresh_connection()
        if not digits.isdigit() or len(digits) < 4:
            return False
        return AccountPhone.objects.filter(
            account__number=account_number.strip(), number__endswith=digits
        ).exists()

    def account_balance(self, *, account_number: str, at: datetime) -> AccountBalance | None:
        _fresh_connection()
        account = Account.objects.filter(number=account_number.strip()).first()
        if account is None:
            return None
        arrears = account_arrears(account=account, today=timezone.localdate(at))
        return AccountBalance(
            arrears=Decimal(arrears.total),
            arrears_months=arrears.months,
            current_due=Decimal(arrears.not_yet_due),
        )

    def create_repair_order(self, order: RepairOrder) -> str:
        _fresh_connection()
        from aqualine.workorders.models import Category, WorkOrder
        from aqualine.workorders.services import workorder_create

        category = (
            Category.objects.filter(name=order.category, is_active=True, children=None).first()
            if order.category
            else None
        ) or Category.objects.get(code=IVR_REPAIR_CATEGORY)
        account = (
            Account.objects.filter(number=order.account_number).first()
            if order.account_number
            else None
        )
        if account is None:
            accounts = customer_for_phone(order.caller)
            account = accounts[0] if len(accounts) == 1 else None
        created = workorder_create(
            actor=None,
            source=WorkOrder.Source.IVR,
            category=category,
            description=(
                f"IVR 语音留言报修（{order.recording_seconds:.0f} 秒），请收听录音核实问题与类别。"
            ),
            caller_number=order.caller,
            reporter_phone=order.caller,
            account=account,
            call_id=order.call_id,
        )
        return created.number
