"""The telephony core's ports implemented with the Django ORM (used by `aqualine switch`).

The core calls these from worker threads (`asyncio.to_thread`); each call starts by dropping
connections that the database closed, as Django's request cycle would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import close_old_connections, connection
from django.utils import timezone

from aqualine.callcenter.models import CallRecord, Extension, Trunk
from aqualine.telephony.ports import CallRecord as CoreCallRecord
from aqualine.telephony.ports import ExtensionInfo, TrunkInfo


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
            )
            for t in Trunk.objects.all()
        ]


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
        return unanswered + answered
