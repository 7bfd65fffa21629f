from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aqualine.callcenter.models import CallRecord, Extension, Trunk
from aqualine.callcenter.ports import OrmDirectory, OrmRecords
from aqualine.telephony.ports import CallRecord as CoreRecord

pytestmark = pytest.mark.django_db


def test_the_directory_reads_extensions_and_trunks() -> None:
    Extension.objects.create(number="8001", password="s3cret", display_name="坐席 1")
    Extension.objects.create(number="8002", enabled=False)
    Trunk.objects.create(name="carrier", hosts="127.0.0.1, ::1", numbers="96000,96001")
    directory = OrmDirectory()
    info = directory.extension("8001")
    assert info is not None and info.password == "s3cret" and info.enabled
    disabled = directory.extension("8002")
    assert disabled is not None and not disabled.enabled
    assert directory.extension("9999") is None
    (trunk,) = directory.trunks()
    assert trunk.hosts == ("127.0.0.1", "::1")
    assert trunk.numbers == ("96000", "96001")


def test_records_are_written_at_start_and_completed_at_the_end() -> None:
    records = OrmRecords()
    start = timezone.now()
    record = CoreRecord(
        call_id="c-1",
        sip_call_id="abc@host",
        direction="inbound",
        caller="13800138000",
        callee="96000",
        source="127.0.0.1:5070",
        trunk="carrier",
        started_at=start,
    )
    records.call_started(record)
    assert CallRecord.objects.get(call_id="c-1").ended_at is None
    record.answered_at = start + timedelta(seconds=1)
    record.ended_at = start + timedelta(seconds=9)
    record.outcome = "answered"
    record.end_cause = "caller hung up"
    records.call_ended(record)
    row = CallRecord.objects.get(call_id="c-1")
    assert row.outcome == "answered" and row.duration == 9.0


def test_a_restarted_switch_closes_the_records_of_dead_calls() -> None:
    now = timezone.now()
    CallRecord.objects.create(
        call_id="ringing", direction="inbound", caller="1", callee="96000", started_at=now
    )
    CallRecord.objects.create(
        call_id="talking",
        direction="inbound",
        caller="2",
        callee="96000",
        started_at=now,
        answered_at=now,
        outcome="answered",
    )
    CallRecord.objects.create(
        call_id="done",
        direction="inbound",
        caller="3",
        callee="96000",
        started_at=now,
        ended_at=now,
        outcome="answered",
    )
    closed = OrmRecords().close_dangling_calls(ended_at=now, cause="switch restarted")
    assert closed == 2
    assert CallRecord.objects.get(call_id="ringing").outcome == "failed"
    talking = CallRecord.objects.get(call_id="talking")
    assert talking.outcome == "answered" and talking.end_cause == "switch restarted"
    assert CallRecord.objects.get(call_id="done").end_cause == ""
