"""Writes of the announcements app. Each runs in one transaction, writes its history row and
its row of the central audit log, and schedules its push with `transaction.on_commit`, so no
browser hears of a change that rolled back. Views validate input and turn
ValidationError/ConflictError into form errors.

Audit rows name what changed, never the announcement text: a changed body is recorded as its
length in characters (see `_audit_changes`); the announcement's own history keeps the text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from aqualine.accounts.models import Department, User
from aqualine.core.audit import audit_record, changes
from aqualine.core.concurrency import ConflictError, claim_version, unique_or
from aqualine.customers.models import OutageNotice
from aqualine.notices import events
from aqualine.notices.models import Announcement, AnnouncementEvent, AnnouncementRead, NoticeType
from aqualine.notices.permissions import NoticesPerm
from aqualine.notices.selectors import may_manage

# The formatting a body may keep; everything else (scripts, styles, event handlers) is removed.
ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "em",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}}
_HTML_TAG = re.compile(r"</?(" + "|".join(sorted(ALLOWED_TAGS)) + r")\b[^>]*>", re.IGNORECASE)


def body_to_html(body: str) -> str:
    """What the page shows for `body`: plain text keeps its paragraphs and line breaks; a body
    that uses any of the allowed tags is taken as HTML and cleaned by nh3."""
    if _HTML_TAG.search(body):
        return nh3.clean(
            body,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto", "tel"},
            link_rel="noopener noreferrer",
        )
    return linebreaks(escape(body))


# --- announcement types ------------------------------------------------------------------------


def _type_name_taken() -> ValidationError:
    return ValidationError({"name": _("An announcement type with this name already exists.")})


def _require_type_manager(actor: User | None) -> None:
    if actor is None or not actor.has_perm(NoticesPerm.MANAGE_NOTICE_TYPES):
        raise PermissionDenied


def _type_snapshot(notice_type: NoticeType) -> dict[str, Any]:
    return {
        "type_name": notice_type.name,
        "sort_order": notice_type.sort_order,
        "in_use": notice_type.is_active,
    }


def notice_type_create(
    *,
    actor: User,
    name: str,
    sort_order: int = 0,
    is_active: bool = True,
    request: HttpRequest | None = None,
) -> NoticeType:
    _require_type_manager(actor)
    name = name.strip()
    if NoticeType.objects.filter(name=name).exists():
        raise _type_name_taken()
    notice_type = NoticeType(name=name, sort_order=sort_order, is_active=is_active)
    with transaction.atomic():
        with unique_or(_type_name_taken()):
            notice_type.save()
        audit_record(
            actor=actor,
            action="notice_type.create",
            target=notice_type,
            data={"values": _type_snapshot(notice_type)},
            request=request,
        )
    return notice_type


def notice_type_update(
    *,
    actor: User,
    notice_type: NoticeType,
    version: int,
    name: str,
    sort_order: int,
    is_active: bool,
    request: HttpRequest | None = None,
) -> NoticeType:
    """Rename, reorder, retire or bring back a type (a save that changes nothing is not
    audited)."""
    _require_type_manager(actor)
    name = name.strip()
    if NoticeType.objects.filter(name=name).exclude(pk=notice_type.pk).exists():
        raise _type_name_taken()
    with transaction.atomic():
        claim_version(notice_type, version)
        notice_type.refresh_from_db(fields=["name", "sort_order", "is_active"])
        before = _type_snapshot(notice_type)
        notice_type.name = name
        notice_type.sort_order = sort_order
        notice_type.is_active = is_active
        with unique_or(_type_name_taken()):
            notice_type.save()
        diff = changes(before, _type_snapshot(notice_type))
        if diff:
            audit_record(
                actor=actor,
                action="notice_type.update",
                target=notice_type,
                data={"changes": diff},
                request=request,
            )
    return notice_type


# --- announcements ------------------------------------------------------------------------------


def _check(
    *,
    valid_from: datetime,
    valid_until: datetime | None,
    to_everyone: bool,
    departments: list[Department],
    people: list[User],
) -> None:
    errors: dict[str, str] = {}
    if valid_until is not None and valid_until <= valid_from:
        errors["valid_until"] = _("The end of the validity period must be after its start.")
    if not to_everyone and not departments and not people:
        errors["to_everyone"] = _(
            "Choose who the announcement is for: everyone, or departments or people."
        )
    if to_everyone and (departments or people):
        errors["to_everyone"] = _(
            "An announcement for everyone needs no departments or people; "
            "clear them or untick “everyone”."
        )
    if errors:
        raise ValidationError(errors)


def _snapshot(announcement: Announcement) -> dict[str, Any]:
    until = announcement.valid_until
    return {
        "type": announcement.type.name,
        "title": announcement.title,
        "body": announcement.body,
        "valid_from": timezone.localtime(announcement.valid_from).isoformat(timespec="minutes"),
        "valid_until": timezone.localtime(until).isoformat(timespec="minutes") if until else None,
        "to_everyone": announcement.to_everyone,
        "departments": sorted(d.name for d in announcement.departments.all()),
        "people": sorted(u.agent_id for u in announcement.people.all()),
        "outage": announcement.outage_id,
    }


def _audit_snapshot(announcement: Announcement) -> dict[str, Any]:
    """The audited fields of an announcement. `body` is there to be compared, never recorded:
    audit rows give its length instead (`_audit_values`, `_audit_changes`)."""
    snapshot = _snapshot(announcement)
    outage = announcement.outage if announcement.outage_id else None
    return {
        "announcement_type": snapshot["type"],
        "title": snapshot["title"],
        "body_length": len(announcement.body),
        "valid_from": snapshot["valid_from"],
        "valid_until": snapshot["valid_until"],
        "to_everyone": snapshot["to_everyone"],
        "scope_departments": snapshot["departments"],
        "scope_people": snapshot["people"],
        "outage": str(outage) if outage is not None else None,
        "body": announcement.body,
    }


def _audit_values(announcement: Announcement) -> dict[str, Any]:
    values = _audit_snapshot(announcement)
    del values["body"]
    return values


def _audit_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} of the changed fields. A changed body shows as its length before and
    after, even when the edit kept the length."""
    diff = changes(before, after)
    if diff.pop("body", None) is not None:
        diff["body_length"] = [before["body_length"], after["body_length"]]
    return dict(sorted(diff.items()))


def _record(
    announcement: Announcement, type: str, actor: User | None, data: dict[str, Any]
) -> AnnouncementEvent:
    return AnnouncementEvent.objects.create(
        announcement=announcement,
        type=type,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=str(actor) if actor is not None and actor.pk else "",
        data=data,
        at=timezone.now(),
    )


def announcement_publish(
    *,
    actor: User,
    notice_type: NoticeType,
    title: str,
    body: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    to_everyone: bool = False,
    departments: Iterable[Department] = (),
    people: Iterable[User] = (),
    outage: OutageNotice | None = None,
    form_token: uuid.UUID | None = None,
    request: HttpRequest | None = None,
) -> Announcement:
    """Publish an announcement; those in scope hear of it once the transaction commits (if its
    validity has begun). The same form submitted twice (`form_token`) raises ConflictError."""
    department_list, people_list = list(departments), list(people)
    _check(
        valid_from=valid_from,
        valid_until=valid_until,
        to_everyone=to_everyone,
        departments=department_list,
        people=people_list,
    )
    announcement = Announcement(
        type=notice_type,
        title=title.strip(),
        body=body,
        body_html=body_to_html(body),
        valid_from=valid_from,
        valid_until=valid_until,
        to_everyone=to_everyone,
        outage=outage,
        publisher=actor,
        form_token=form_token or uuid.uuid4(),
    )
    try:
        with transaction.atomic():
            announcement.save()
            announcement.departments.set(department_list)
            announcement.people.set(people_list)
            _record(
                announcement,
                AnnouncementEvent.Type.PUBLISHED,
                actor,
                {"values": _snapshot(announcement)},
            )
            audit_record(
                actor=actor,
                action="announcement.publish",
                target=announcement,
                data={"values": _audit_values(announcement)},
                request=request,
            )
            events.publish_on_commit(announcement, events.PUBLISHED)
    except IntegrityError:
        if Announcement.objects.filter(form_token=announcement.form_token).exists():
            raise ConflictError(str(ConflictError.message)) from None
        raise
    return announcement


def announcement_update(
    *,
    actor: User,
    announcement: Announcement,
    version: int,
    notice_type: NoticeType,
    title: str,
    body: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    to_everyone: bool = False,
    departments: Iterable[Department] = (),
    people: Iterable[User] = (),
    outage: OutageNotice | None = None,
    request: HttpRequest | None = None,
) -> Announcement:
    """Change an announcement (its publisher or a manager). Someone else's save since the
    editor opened it (`version`) raises ConflictError; read receipts are kept."""
    if not may_manage(actor, announcement):
        raise PermissionDenied
    department_list, people_list = list(departments), list(people)
    _check(
        valid_from=valid_from,
        valid_until=valid_until,
        to_everyone=to_everyone,
        departments=department_list,
        people=people_list,
    )
    with transaction.atomic():
        before, audit_before = _snapshot(announcement), _audit_snapshot(announcement)
        claim_version(announcement, version)
        announcement.refresh_from_db(fields=["status"])
        if announcement.status == Announcement.Status.WITHDRAWN:
            raise ValidationError(_("This announcement was withdrawn; it can no longer change."))
        announcement.type = notice_type
        announcement.title = title.strip()
        announcement.body = body
        announcement.body_html = body_to_html(body)
        announcement.valid_from = valid_from
        announcement.valid_until = valid_until
        announcement.to_everyone = to_everyone
        announcement.outage = outage
        announcement.save()
        announcement.departments.set(department_list)
        announcement.people.set(people_list)
        diff = changes(before, _snapshot(announcement))
        if diff:
            _record(announcement, AnnouncementEvent.Type.EDITED, actor, {"changes": diff})
            audit_record(
                actor=actor,
                action="announcement.update",
                target=announcement,
                data={"changes": _audit_changes(audit_before, _audit_snapshot(announcement))},
                request=request,
            )
        events.publish_on_commit(announcement, events.UPDATED)
    return announcement


def announcement_withdraw(
    *, actor: User, announcement: Announcement, version: int, request: HttpRequest | None = None
) -> None:
    """Withdraw an announcement: it leaves every list and badge at once."""
    if not may_manage(actor, announcement):
        raise PermissionDenied
    with transaction.atomic():
        claim_version(announcement, version)
        announcement.refresh_from_db(fields=["status"])
        if announcement.status == Announcement.Status.WITHDRAWN:
            raise ValidationError(_("This announcement was already withdrawn."))
        announcement.status = Announcement.Status.WITHDRAWN
        announcement.withdrawn_at = timezone.now()
        announcement.save(update_fields=["status", "withdrawn_at", "updated_at"])
        _record(announcement, AnnouncementEvent.Type.WITHDRAWN, actor, {})
        audit_record(
            actor=actor, action="announcement.withdraw", target=announcement, request=request
        )
        events.publish_on_commit(announcement, events.WITHDRAWN)


def announcement_mark_read(*, user: User, announcement: Announcement) -> bool:
    """Record that `user` read `announcement` (the first time only); True when newly read.
    The user's other open pages update their badge."""
    if AnnouncementRead.objects.filter(announcement=announcement, user=user).exists():
        return False
    try:
        with transaction.atomic():
            AnnouncementRead.objects.create(
                announcement=announcement, user=user, read_at=timezone.now()
            )
            events.publish_read_on_commit(announcement, user)
    except IntegrityError:  # read at the same moment in another tab
        return False
    return True
