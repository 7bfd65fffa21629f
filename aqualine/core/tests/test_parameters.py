from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from aqualine.accounts.models import User
from aqualine.core.concurrency import ConflictError
from aqualine.core.models import AuditEvent, Parameter
from aqualine.core.parameters import BY_KEY, param, parameters_update, parse_duration

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("90", 90),
        ("30s", 30),
        ("15m", 900),
        ("4h", 14400),
        ("5d", 432000),
        ("1h30m", 5400),
        (" 2H ", 7200),
    ],
)
def test_durations_parse(raw: str, seconds: int) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["", "abc", "4x", "h", "1h-2m", "--"])
def test_bad_durations_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_duration(raw)


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("communication.wrapup_seconds", "-1"),
        ("communication.wrapup_seconds", "601"),
        ("communication.wrapup_seconds", "abc"),
        ("communication.working_hours", "20:00-08:00"),
        ("communication.working_hours", "8-20"),
        ("communication.recording_channels", "quad"),
        ("basic.hotline_number", "96 000"),
        ("basic.site_name", ""),
        ("business.default_time_limit", "1m"),
    ],
)
def test_invalid_values_are_refused(key: str, raw: str) -> None:
    with pytest.raises(ValidationError):
        BY_KEY[key].clean(raw)


def test_a_change_takes_effect_without_restart_and_is_audited(
    admin_user: User, django_capture_on_commit_callbacks
) -> None:
    assert param("communication.wrapup_seconds") == 30  # default, and now cached
    with pytest.raises(KeyError):
        param("no.such.parameter")
    with django_capture_on_commit_callbacks(execute=True):
        changed = parameters_update(
            actor=admin_user,
            changes={"communication.wrapup_seconds": 45},
            versions={"communication.wrapup_seconds": 0},
        )
    assert changed == ["communication.wrapup_seconds"]
    assert param("communication.wrapup_seconds") == 45
    event = AuditEvent.objects.get(action="parameter.change")
    assert event.data["changes"] == {"communication.wrapup_seconds": ["30", "45"]}


def test_a_stale_editor_gets_a_conflict(admin_user: User) -> None:
    key = "business.default_time_limit"
    parameters_update(actor=admin_user, changes={key: 7200}, versions={key: 0})
    with pytest.raises(ConflictError):
        parameters_update(actor=admin_user, changes={key: 3600 * 5}, versions={key: 0})
    assert param(key) == 7200


def test_the_page_shows_chinese_field_errors_and_saves_nothing(admin_client: Client) -> None:
    response = admin_client.post(
        "/system/parameters/",
        {
            "group": "communication",
            "communication-communication__wrapup_seconds": "15",  # valid
            "communication-communication__ring_timeout_seconds": "999",  # too large
            "communication-communication__queue_max_wait": "5m",
            "communication-communication__working_hours": "08:00-20:00",
            "communication-communication__recording_channels": "mono",
            "communication-communication__recording_retention_days": "730",
        },
    )
    assert response.status_code == 200
    assert "取值不能大于 120" in response.content.decode()
    assert not Parameter.objects.exists()
    assert param("communication.wrapup_seconds") == 30


def test_the_page_saves_a_group(admin_client: Client, django_capture_on_commit_callbacks) -> None:
    assert param("business.default_time_limit") == 86400
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/system/parameters/",
            {
                "group": "business",
                "business-business__default_time_limit": "2d",
                "business-business__overdue_warning": "1h",
                "business-business__follow_up_required": "on",
                "business-business__follow_up_within": "72h",
                # voice reminders unticked: a checkbox that is absent means "no"
            },
            follow=True,
        )
    assert "已保存 2 个参数" in response.content.decode()
    assert param("business.default_time_limit") == 2 * 86400
    assert param("business.voice_reminders") is False
    assert AuditEvent.objects.filter(action="parameter.change").count() == 2


def test_an_unknown_group_is_404(admin_client: Client) -> None:
    assert admin_client.post("/system/parameters/", {"group": "nope"}).status_code == 404
