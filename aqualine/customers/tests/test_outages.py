"""Water-outage notices (停水通知, X2): which are in effect for an area, what the IVR reads,
the intake banner, and the management page."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.core.concurrency import ConflictError
from aqualine.core.models import AuditEvent
from aqualine.customers import services
from aqualine.customers.models import Account, Area, OutageNotice
from aqualine.customers.selectors import (
    active_outages_for_area,
    outage_text_for_area,
    outages_for_account,
    upcoming_outages_for_area,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 7, 1, 10, 0, tzinfo=SHANGHAI)  # the frozen "now" of these tests
CONFLICT = "其他人已修改了这条记录"


def notice(
    areas: list[Area],
    start: datetime,
    end: datetime,
    reason: str = "管道抢修",
    kind: str = OutageNotice.Kind.EMERGENCY,
    status: str = OutageNotice.Status.ACTIVE,
) -> OutageNotice:
    created = OutageNotice.objects.create(
        kind=kind, status=status, reason=reason, starts_at=start, expected_end_at=end
    )
    created.areas.set(areas)
    return created


@pytest.fixture
def burst(areas: dict[str, Area]) -> OutageNotice:
    """An emergency in 东城片区 from 09:00, water expected back at 18:00 the same day."""
    return notice([areas["east"]], NOW - timedelta(hours=1), NOW + timedelta(hours=8))


def test_a_notice_is_in_effect_for_its_areas_from_its_start_until_restored(
    areas: dict[str, Area], burst: OutageNotice
) -> None:
    both = notice(
        [areas["east"], areas["west"]],
        NOW + timedelta(hours=22),
        NOW + timedelta(hours=31),
        reason="计划检修",
        kind=OutageNotice.Kind.PLANNED,
        status=OutageNotice.Status.PLANNED,
    )
    assert active_outages_for_area(areas["east"], NOW) == [burst]
    assert active_outages_for_area(areas["west"], NOW) == []
    assert active_outages_for_area(areas["dev"], NOW) == []
    assert upcoming_outages_for_area(areas["west"], NOW) == [both]
    # Once its start has come, a planned notice is in effect without anyone touching it.
    later = NOW + timedelta(hours=23)
    assert active_outages_for_area(areas["east"], later) == [burst, both]
    assert both.status_at(later) == OutageNotice.Status.ACTIVE
    assert active_outages_for_area(areas["east"], NOW - timedelta(hours=2)) == []
    assert active_outages_for_area(None, NOW) == []
    burst.status = OutageNotice.Status.RESTORED
    burst.save()
    assert active_outages_for_area(areas["east"], NOW) == []


def test_the_ivr_text_names_the_area_the_reason_and_when_water_comes_back(
    areas: dict[str, Area], burst: OutageNotice
) -> None:
    assert (
        outage_text_for_area(areas["east"], NOW)
        == "东城片区因管道抢修停水，预计今天18:00恢复供水。"
    )
    assert outage_text_for_area(areas["west"], NOW) == ""
    assert outage_text_for_area(None, NOW) == ""


def test_the_ivr_text_covers_tomorrows_planned_work_and_late_repairs(
    areas: dict[str, Area], burst: OutageNotice
) -> None:
    notice(
        [areas["east"], areas["west"]],
        datetime(2025, 7, 2, 8, 0, tzinfo=SHANGHAI),
        datetime(2025, 7, 2, 17, 0, tzinfo=SHANGHAI),
        reason="计划检修",
        kind=OutageNotice.Kind.PLANNED,
        status=OutageNotice.Status.PLANNED,
    )
    assert (
        outage_text_for_area(areas["west"], NOW) == "西城片区将于明天08:00至17:00因计划检修停水。"
    )
    assert outage_text_for_area(areas["east"], NOW) == (
        "东城片区因管道抢修停水，预计今天18:00恢复供水。东城片区将于明天08:00至17:00因计划检修停水。"
    )
    late = NOW + timedelta(hours=9)  # 19:00, water not back yet
    assert outage_text_for_area(areas["east"], late).startswith(
        "东城片区因管道抢修停水，正在抓紧恢复供水。"
    )
    far = notice(
        [areas["dev"]],
        NOW - timedelta(hours=1),
        datetime(2025, 7, 5, 12, 0, tzinfo=SHANGHAI),
    )
    assert far.pk and outage_text_for_area(areas["dev"], NOW) == (
        "开发区因管道抢修停水，预计7月5日12:00恢复供水。"
    )


def test_the_ivr_text_is_chinese_whatever_the_current_language(
    areas: dict[str, Area], burst: OutageNotice
) -> None:
    from django.utils import translation

    with translation.override("en"):
        assert outage_text_for_area(areas["east"], NOW).startswith("东城片区因管道抢修停水")


def test_an_accounts_outages_are_those_of_its_area(
    customers: dict[str, Account], burst: OutageNotice
) -> None:
    assert outages_for_account(customers["zhang"], NOW) == [burst]
    assert outages_for_account(customers["wang"], NOW) == []
    customers["zhao"].area = None
    assert outages_for_account(customers["zhao"], NOW) == []


def test_the_intake_banner_shows_on_an_affected_account(
    customers: dict[str, Account], areas: dict[str, Area], agent: User
) -> None:
    now = timezone.now()
    notice([areas["east"]], now - timedelta(hours=1), now + timedelta(hours=3))
    client = client_for(agent)
    page = client.get(f"/customers/{customers['zhang'].pk}/").content.decode()
    assert 'class="outage-banner"' in page and "东城片区因管道抢修停水" in page
    other = client.get(f"/customers/{customers['wang'].pk}/").content.decode()
    assert 'class="outage-banner"' not in other
    body = client.get("/customers/lookup.json", {"q": "1000000001"}).json()
    assert body["results"][0]["outage_text"].startswith("东城片区因管道抢修停水，预计")


def _form(areas: list[Area], **extra: object) -> dict[str, object]:
    start = timezone.localtime() - timedelta(minutes=30)
    return {
        "areas": [a.pk for a in areas],
        "kind": "emergency",
        "reason": "管道抢修",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "expected_end_at": (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
        "note": "",
        **extra,
    }


def test_a_supervisor_publishes_a_notice_once_even_if_the_form_is_sent_twice(
    supervisor: User, areas: dict[str, Area]
) -> None:
    client = client_for(supervisor)
    token = str(uuid.uuid4())
    data = _form([areas["east"], areas["dev"]], form_token=token)
    assert client.post("/outages/new/", data).status_code == 302
    created = OutageNotice.objects.get()
    assert created.status == OutageNotice.Status.ACTIVE and created.created_by == supervisor
    assert {a.code for a in created.areas.all()} == {"dongcheng", "kaifaqu"}
    again = client.post("/outages/new/", data)
    assert again.status_code == 200 and CONFLICT in again.content.decode()
    assert OutageNotice.objects.count() == 1
    assert AuditEvent.objects.filter(action="outage.create").count() == 1


def test_the_new_notice_form_carries_a_fresh_token(supervisor: User, db: None) -> None:
    client = client_for(supervisor)
    first = client.get("/outages/new/").context["form"].initial["form_token"]
    second = client.get("/outages/new/").context["form"].initial["form_token"]
    assert first != second


def test_bad_notices_get_chinese_errors_and_nothing_is_saved(
    supervisor: User, areas: dict[str, Area]
) -> None:
    client = client_for(supervisor)
    start = timezone.localtime()
    page = client.post(
        "/outages/new/",
        _form(
            [],
            form_token=str(uuid.uuid4()),
            expected_end_at=(start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            reason="",
        ),
    ).content.decode()
    assert "请至少选择一个片区。" in page
    assert "预计结束时间必须晚于开始时间。" in page
    assert "这个字段是必填项。" in page
    assert not OutageNotice.objects.exists()


def test_two_supervisors_editing_one_notice_do_not_overwrite_each_other(
    supervisor: User, areas: dict[str, Area], burst: OutageNotice
) -> None:
    first, second = client_for(supervisor), client_for(supervisor)
    version = burst.version
    data = _form([areas["east"]], version=version, reason="主管爆管抢修")
    assert first.post(f"/outages/{burst.pk}/", data).status_code == 302
    stale = second.post(f"/outages/{burst.pk}/", {**data, "reason": "别的原因"})
    assert stale.status_code == 200 and CONFLICT in stale.content.decode()
    burst.refresh_from_db()
    assert burst.reason == "主管爆管抢修" and burst.version == version + 1
    assert AuditEvent.objects.filter(action="outage.update").count() == 1


def test_restoring_supply_ends_the_notice_once(
    supervisor: User, customers: dict[str, Account], areas: dict[str, Area]
) -> None:
    now = timezone.now()
    current = notice([areas["east"]], now - timedelta(hours=1), now + timedelta(hours=3))
    client = client_for(supervisor)
    version = current.version
    client.post(f"/outages/{current.pk}/restore/", {"version": version})
    current.refresh_from_db()
    assert current.status == OutageNotice.Status.RESTORED and current.restored_at is not None
    assert active_outages_for_area(areas["east"]) == []
    page = client.post(f"/outages/{current.pk}/restore/", {"version": version}, follow=True)
    assert CONFLICT in page.content.decode()
    assert AuditEvent.objects.filter(action="outage.restore").count() == 1
    banner = client.get(f"/customers/{customers['zhang'].pk}/").content.decode()
    assert 'class="outage-banner"' not in banner
    with pytest.raises(ValidationError, match="已恢复供水"):
        services.outage_update(
            actor=supervisor,
            notice=current,
            version=current.version,
            areas=[areas["east"]],
            kind="planned",
            reason="x",
            starts_at=now,
            expected_end_at=now + timedelta(hours=1),
        )


def test_a_stale_service_call_raises_a_conflict(
    supervisor: User, areas: dict[str, Area], burst: OutageNotice
) -> None:
    services.outage_restore(actor=supervisor, notice=burst, version=burst.version)
    with pytest.raises(ConflictError):
        services.outage_restore(actor=supervisor, notice=burst, version=1)


def test_agents_see_notices_but_only_supervisors_manage_them(
    agent: User, supervisor: User, burst: OutageNotice, outsider: User
) -> None:
    agent_client = client_for(agent)
    page = agent_client.get("/outages/").content.decode()
    assert "管道抢修" in page and "新建停水通知" not in page
    assert agent_client.get("/outages/new/").status_code == 403
    assert agent_client.get(f"/outages/{burst.pk}/").status_code == 403
    assert agent_client.post(f"/outages/{burst.pk}/restore/", {"version": 1}).status_code == 403
    assert "新建停水通知" in client_for(supervisor).get("/outages/").content.decode()
    assert client_for(outsider).get("/outages/").status_code == 403
    assert Client().get("/outages/").status_code == 302
