"""The audit log: who changed which staff/role/department/parameter, and security events."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from aqualine.core.models import AuditEvent

ACTION_LABELS: dict[str, Any] = {
    "auth.login": _("Logged in"),
    "auth.logout": _("Logged out"),
    "auth.login_failed": _("Login failed"),
    "auth.locked_out": _("Login locked after repeated failures"),
    "auth.password_changed": _("Changed own password"),
    "staff.create": _("Created staff member"),
    "staff.update": _("Edited staff member"),
    "staff.password_reset": _("Reset password"),
    "staff.deactivate": _("Deactivated staff member"),
    "staff.activate": _("Reactivated staff member"),
    "department.create": _("Created department"),
    "department.update": _("Edited department"),
    "department.deactivate": _("Deactivated department"),
    "department.activate": _("Reactivated department"),
    "role.create": _("Created role"),
    "role.update": _("Edited role"),
    "role.delete": _("Deleted role"),
    "parameter.change": _("Changed system parameter"),
    "extension.create": _("Created extension"),
    "extension.update": _("Edited extension"),
    "trunk.create": _("Created trunk"),
    "trunk.update": _("Edited trunk"),
    "queue.create": _("Created queue"),
    "queue.update": _("Edited queue"),
    "queue.delete": _("Deleted queue"),
    "ivrflow.create": _("Created IVR flow"),
    "ivrflow.update": _("Edited IVR flow"),
    "prompt.upload": _("Uploaded voice prompt"),
    "prompt.delete": _("Deleted voice prompt"),
    "customers.import": _("Imported customer data"),
    "outage.create": _("Created water-outage notice"),
    "outage.update": _("Edited water-outage notice"),
    "outage.restore": _("Marked water supply restored"),
    "agent.force_sign_off": _("Signed an agent off (supervisor)"),
    "agent.force_ready": _("Set an agent ready (supervisor)"),
    "recording.play": _("Played recording"),
    "recording.download": _("Downloaded recording"),
    "recording.delete": _("Deleted recording"),
    "recording.prune": _("Deleted recordings past the retention period"),
}


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_label: str = "",
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Write one audit row. Call it inside the transaction of the change it describes."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_label=str(actor_obj) if actor_obj else "",
        action=action,
        target_type=target_type or (target._meta.model_name or "" if target is not None else ""),
        target_id=str(target.pk) if target is not None else "",
        target_label=target_label or (str(target) if target is not None else ""),
        data=data or {},
        ip=client_ip(request),
    )


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields whose values differ, as {field: [old, new]}."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
