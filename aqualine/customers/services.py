"""Writes of the customers app: water-outage notices. Each runs in one transaction and writes its
audit row; views validate input and turn ValidationError/ConflictError into messages.

Imports of accounts, meters and bills are in `aqualine.customers.importing`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aqualine.accounts.models import User
from aqualine.core.audit import audit_record, changes
from aqualine.core.concurrency import ConflictError, claim_version
from aqualine.customers.models import Area, OutageNotice


def _outage_snapshot(notice: OutageNotice) -> dict[str, Any]:
    return {
        "areas": sorted(a.name for a in notice.areas.all()),
        "kind": notice.kind,
        "status": notice.status,
        "reason": notice.reason,
        "starts_at": timezone.localtime(notice.starts_at).isoformat(timespec="minutes"),
        "expected_end_at": timezone.localtime(notice.expected_end_at).isoformat(timespec="minutes"),
        "note": notice.note,
    }


def _check_outage(areas: list[Area], starts_at: datetime, expected_end_at: datetime) -> None:
    errors: dict[str, str] = {}
    if not areas:
        errors["areas"] = _("Choose at least one area.")
    if expected_end_at <= starts_at:
        errors["expected_end_at"] = _("The expected end must be after the start.")
    if errors:
        raise ValidationError(errors)


def _status_for(starts_at: datetime) -> OutageNotice.Status:
    if starts_at <= timezone.now():
        return OutageNotice.Status.ACTIVE
    return OutageNotice.Status.PLANNED


def outage_create(
    *,
    actor: User | None,
    areas: Iterable[Area],
    kind: str,
    reason: str,
    starts_at: datetime,
    expected_end_at: datetime,
    note: str = "",
    form_token: uuid.UUID | None = None,
    request: HttpRequest | None = None,
) -> OutageNotice:
    """Create a notice. A form submitted twice (same `form_token`) is refused with ConflictError."""
    area_list = list(areas)
    _check_outage(area_list, starts_at, expected_end_at)
    notice = OutageNotice(
        kind=kind,
        status=_status_for(starts_at),
        reason=reason,
        starts_at=starts_at,
        expected_end_at=expected_end_at,
        note=note,
        created_by=actor if actor is not None and actor.pk else None,
        form_token=form_token or uuid.uuid4(),
    )
    try:
        with transaction.atomic():
            notice.save()
            notice.areas.set(area_list)
            audit_record(
                actor=actor,
                action="outage.create",
                target=notice,
                data={"values": _outage_snapshot(notice)},
                request=request,
            )
    except IntegrityError:
        if OutageNotice.objects.filter(form_token=notice.form_token).exists():
            raise ConflictError(str(ConflictError.message)) from None
        raise
    return notice


def outage_update(
    *,
    actor: User | None,
    notice: OutageNotice,
    version: int,
    areas: Iterable[Area],
    kind: str,
    reason: str,
    starts_at: datetime,
    expected_end_at: datetime,
    note: str = "",
    request: HttpRequest | None = None,
) -> OutageNotice:
    area_list = list(areas)
    _check_outage(area_list, starts_at, expected_end_at)
    with transaction.atomic():
        before = _outage_snapshot(notice)
        claim_version(notice, version)
        if notice.status == OutageNotice.Status.RESTORED:
            raise ValidationError(_("Water supply was restored; this notice can no longer change."))
        notice.kind = kind
        notice.reason = reason
        notice.starts_at = starts_at
        notice.expected_end_at = expected_end_at
        notice.note = note
        notice.status = _status_for(starts_at)
        notice.save()
        notice.areas.set(area_list)
        diff = changes(before, _outage_snapshot(notice))
        if diff:
            audit_record(
                actor=actor,
                action="outage.update",
                target=notice,
                data={"changes": diff},
                request=request,
            )
    return notice


def outage_restore(
    *,
    actor: User | None,
    notice: OutageNotice,
    version: int,
    restored_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> OutageNotice:
    """Mark water supply restored: the notice leaves the banner and the IVR at once."""
    with transaction.atomic():
        claim_version(notice, version)
        if notice.status == OutageNotice.Status.RESTORED:
            raise ValidationError(_("Water supply was already marked restored."))
        notice.status = OutageNotice.Status.RESTORED
        notice.restored_at = restored_at or timezone.now()
        notice.save(update_fields=["status", "restored_at", "updated_at"])
        audit_record(
            actor=actor,
            action="outage.restore",
            target=notice,
            data={"restored_at": timezone.localtime(notice.restored_at).isoformat()},
            request=request,
        )
    return notice
