"""Issue 6 on the web side of the call centre: the call records keep what happened to a call
(hold time, transfer, three-party call, outbound direction) and show it; trunks carry the
settings for outbound calls to the switch."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext, override

from aqualine.accounts.models import User
from aqualine.callcenter.models import CallRecord, Trunk
from aqualine.callcenter.ports import OrmDirectory, OrmRecords
from aqualine.callcenter.templatetags.callcenter_format import minutes_seconds
from aqualine.conftest import client_for, make_user
from aqualine.core.models import AuditEvent
from aqualine.telephony.ports import CallRecord as CoreRecord

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(480))


def _zh(text: str) -> str:
    with override("zh-hans"):
        return gettext(text)


@pytest.fixture(autouse=True)
def _no_switch(settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SWITCH_API_URL = f"http://127.0.0.1:{port}"


# --- call records -----------------------------------------------------------------------------


def test_the_records_keep_hold_time_transfer_and_conference() -> None:
    record = CoreRecord(
        call_id="c-6",
        sip_call_id="abc@host",
        direction="inbound",
        caller="13800138000",
        callee="96000",
        source="10.0.0.1:5060",
        started_at=T0,
        agent_id="1001",
    )
    records = OrmRecords()
    records.call_started(record)
    row = CallRecord.objects.get(call_id="c-6")
    assert (row.hold_seconds, row.transfer_target, row.transferred_at, row.conference) == (
        0,
        "",
        None,
        False,
    )
    record.hold_seconds = 80.4
    record.transfer_agent_id = "1002"
    record.transfer_target = "1002"
    record.transferred_at = T0 + timedelta(minutes=2)
    record.conference = True
    record.ended_at = T0 + timedelta(minutes=5)
    records.call_ended(record)
    row.refresh_from_db()
    assert row.hold_seconds == 80.4 and row.conference
    assert (row.transfer_agent_id, row.transfer_target) == ("1002", "1002")
    assert row.transferred_at == T0 + timedelta(minutes=2)


def test_an_outbound_call_is_recorded_with_its_number_and_failure() -> None:
    OrmRecords().call_ended(
        CoreRecord(
            call_id="o-1",
            sip_call_id="x@y",
            direction="outbound",
            caller="96000",
            callee="13900139000",
            source="",
            started_at=T0,
            ended_at=T0 + timedelta(seconds=9),
            agent_id="1001",
            outcome="failed",
            end_cause="486 Busy Here",
        )
    )
    row = CallRecord.objects.get(call_id="o-1")
    assert (row.direction, row.callee, row.agent_id, row.outcome, row.end_cause) == (
        "outbound",
        "13900139000",
        "1001",
        "failed",
        "486 Busy Here",
    )


def test_durations_read_as_people_say_them() -> None:
    with override("zh-hans"):
        assert minutes_seconds(80.4) == _zh("%(minutes)d min %(seconds)d s") % {
            "minutes": 1,
            "seconds": 20,
        }
        assert minutes_seconds(7) == _zh("%(seconds)d s") % {"seconds": 7}
        assert minutes_seconds(3725) == _zh("%(hours)d h %(minutes)d min %(seconds)d s") % {
            "hours": 1,
            "minutes": 2,
            "seconds": 5,
        }
    assert minutes_seconds(None) == ""


def test_the_recordings_page_shows_what_happened_to_each_call(hotline: object) -> None:
    supervisor = make_user("2001", "supervisor", name="王班长")
    CallRecord.objects.create(
        call_id="held",
        direction="inbound",
        caller="13800000001",
        callee="96000",
        started_at=T0,
        agent_id="1001",
        outcome="answered",
        hold_seconds=80,
        transfer_agent_id="1002",
        transfer_target="1002",
        transferred_at=T0 + timedelta(minutes=3, seconds=5),
        conference=True,
    )
    CallRecord.objects.create(
        call_id="out",
        direction="outbound",
        caller="96000",
        callee="13900139000",
        started_at=T0 + timedelta(hours=1),
        agent_id="1001",
        outcome="failed",
        end_cause="486 Busy Here",
    )
    CallRecord.objects.create(
        call_id="plain",
        direction="inbound",
        caller="13800000003",
        callee="96000",
        started_at=T0 + timedelta(hours=2),
        agent_id="1001",
        outcome="answered",
    )
    page = client_for(supervisor).get("/callcenter/recordings/").content.decode()
    held = page.split('data-call="held"')[1].split("</tr>")[0]
    hold_time = _zh("%(minutes)d min %(seconds)d s") % {"minutes": 1, "seconds": 20}
    assert _zh("On hold %(time)s") % {"time": hold_time} in held
    transferred = _zh("Transferred to %(target)s (%(when)s)") % {
        "target": "1002",
        "when": "09:03:05",
    }
    assert transferred in held
    assert _zh("Three-party call") in held
    outbound = page.split('data-call="out"')[1].split("</tr>")[0]
    assert f'<td class="nowrap">{_zh("Outbound")}</td>' in outbound
    assert "13900139000" in outbound
    plain = page.split('data-call="plain"')[1].split("</tr>")[0]
    assert "data-hold" not in plain and "data-transfer" not in plain
    assert "data-conference" not in plain


# --- trunks for outbound calls ----------------------------------------------------------------


def _trunk_form(**fields: str) -> dict[str, str]:
    return {
        "name": "carrier",
        "hosts": "10.0.0.1",
        "numbers": "96000",
        "enabled": "on",
        **fields,
    }


def test_an_administrator_sets_up_outbound_calls_on_a_trunk(admin_client: Client) -> None:
    response = admin_client.post(
        "/callcenter/trunks/new/",
        _trunk_form(
            outbound_address="sip.carrier.example:5080",
            caller_id="96000",
            outbound_username="hotline",
            outbound_password="s3cret-out",
        ),
    )
    assert response.status_code == 302
    trunk = Trunk.objects.get()
    assert (trunk.outbound_address, trunk.caller_id) == ("sip.carrier.example:5080", "96000")
    assert (trunk.outbound_username, trunk.outbound_password) == ("hotline", "s3cret-out")
    page = admin_client.get(f"/callcenter/trunks/{trunk.pk}/").content.decode()
    assert "s3cret-out" not in page  # a password is never shown again
    assert 'value="sip.carrier.example:5080"' in page
    # Saved again without a password: the old one stays; the change is audited without it.
    response = admin_client.post(
        f"/callcenter/trunks/{trunk.pk}/",
        _trunk_form(version=str(trunk.version), outbound_address="10.0.0.9", caller_id=""),
    )
    assert response.status_code == 302
    trunk.refresh_from_db()
    assert trunk.outbound_password == "s3cret-out" and trunk.outbound_address == "10.0.0.9"
    assert trunk.outbound_username == ""
    admin_client.post(
        f"/callcenter/trunks/{trunk.pk}/",
        _trunk_form(
            version=str(trunk.version), outbound_address="10.0.0.9", outbound_password="new-pw"
        ),
    )
    trunk.refresh_from_db()
    assert trunk.outbound_password == "new-pw"
    events = AuditEvent.objects.filter(action__startswith="trunk.").order_by("pk")
    assert "s3cret-out" not in str([e.data for e in events])
    assert "new-pw" not in str([e.data for e in events])
    assert events.last().data["changes"]["outbound_password"] == ["***", "***"]  # type: ignore[union-attr]
    listing = admin_client.get("/callcenter/extensions/").content.decode()
    assert "10.0.0.9" in listing


def test_a_bad_outbound_address_or_caller_id_is_refused(admin_client: Client) -> None:
    address_error = _zh("Enter a host or host:port, e.g. 10.0.0.1 or sip.carrier.example:5060.")
    for address in ("10.0.0.300", "carrier:0", "carrier:65536", "a b", "2001:db8::1", "x:y"):
        page = admin_client.post(
            "/callcenter/trunks/new/", _trunk_form(outbound_address=address)
        ).content.decode()
        assert address_error in page, address
    page = admin_client.post(
        "/callcenter/trunks/new/", _trunk_form(caller_id="96000a")
    ).content.decode()
    assert _zh("A caller ID is a phone number: up to 20 digits.") in page
    assert not Trunk.objects.exists()
    for address in ("10.0.0.1", "10.0.0.1:5060", "carrier.example", "[2001:db8::1]:5060"):
        Trunk.objects.all().delete()
        response = admin_client.post(
            "/callcenter/trunks/new/", _trunk_form(outbound_address=address)
        )
        assert response.status_code == 302, address


def test_the_directory_hands_the_outbound_settings_to_the_switch() -> None:
    Trunk.objects.create(
        name="carrier",
        hosts="10.0.0.1",
        numbers="96000",
        username="in",
        password="in-pw",
        outbound_address="10.0.0.2:5080",
        caller_id="96001",
        outbound_username="out",
        outbound_password="out-pw",
    )
    Trunk.objects.create(name="inbound-only", hosts="10.0.0.3", numbers="96002")
    carrier, inbound_only = OrmDirectory().trunks()
    assert (carrier.outbound_address, carrier.caller_id) == ("10.0.0.2:5080", "96001")
    assert (carrier.outbound_username, carrier.outbound_password) == ("out", "out-pw")
    assert (carrier.username, carrier.password) == ("in", "in-pw")
    assert (inbound_only.outbound_address, inbound_only.caller_id) == ("", "")


def test_agents_cannot_change_trunks(agent: User) -> None:
    response = client_for(agent).post(
        "/callcenter/trunks/new/", _trunk_form(outbound_address="10.0.0.2")
    )
    assert response.status_code == 403
    assert not Trunk.objects.exists()
