"""Writes of the configuration pages: one transaction each; the views validate first."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from aqualine.accounts.models import User
from aqualine.callcenter.config_views.audio import RATE, Samples, wav_bytes
from aqualine.callcenter.config_views.reads import (
    flow_names,
    flows_using_queue,
    prompt_users,
    shipped_prompt_file,
)
from aqualine.callcenter.models import IvrFlow, Queue
from aqualine.core.audit import audit_record, changes
from aqualine.core.concurrency import claim_version, unique_or
from aqualine.telephony.ivr.default_flow import default_flow_data


def _audit(**kwargs: Any) -> None:
    """Record the change in the audit log (in the change's transaction)."""
    audit_record(**kwargs)


def _queue_snapshot(queue: Queue) -> dict[str, Any]:
    return {
        "name": queue.name,
        "display_name": queue.display_name,
        "members": sorted(queue.members.values_list("agent_id", flat=True)),
        "wrap_up_seconds": queue.wrap_up_seconds,
        "ring_seconds": queue.ring_seconds,
        "max_wait_seconds": queue.max_wait_seconds,
        "overflow": queue.overflow,
        "overflow_target": queue.overflow_target,
        "announce_seconds": queue.announce_seconds,
        "enabled": queue.enabled,
    }


QUEUE_FIELDS: Final = (
    "name",
    "display_name",
    "wrap_up_seconds",
    "ring_seconds",
    "max_wait_seconds",
    "overflow",
    "overflow_target",
    "announce_seconds",
    "enabled",
)


def queue_save(
    *,
    actor: User,
    queue: Queue | None,
    version: int | None,
    values: dict[str, Any],
    members: list[User],
    request: HttpRequest | None = None,
) -> Queue:
    """Create a queue (queue=None) or update one. A queue that IVR flows name can be neither
    renamed nor disabled: callers would be sent to nothing."""
    with transaction.atomic():
        name = values["name"]
        name_taken = ValidationError({"name": _("A queue with this name already exists.")})
        clash = Queue.objects.filter(name=name)
        if queue is not None:
            clash = clash.exclude(pk=queue.pk)
        if clash.exists():
            raise name_taken
        before: dict[str, Any] = {}
        if queue is None:
            queue = Queue()
        else:
            before = _queue_snapshot(queue)
            claim_version(queue, version or 0)
            users = flows_using_queue(queue.name)
            if users and name != queue.name:
                raise ValidationError(
                    {
                        "name": _(
                            "IVR flows send callers to this queue by its name (%(flows)s); "
                            "change their queue nodes before renaming it."
                        )
                        % {"flows": flow_names(users)}
                    }
                )
            if users and not values["enabled"]:
                raise ValidationError(
                    {
                        "enabled": _(
                            "This queue cannot be disabled: IVR flows send callers to it "
                            "(%(flows)s). Change their queue nodes first."
                        )
                        % {"flows": flow_names(users)}
                    }
                )
        for name_ in QUEUE_FIELDS:
            setattr(queue, name_, values[name_])
        with unique_or(name_taken):
            queue.save()
        queue.members.set(members)
        after = _queue_snapshot(queue)
        if not before:
            _audit(
                actor=actor,
                action="queue.create",
                target=queue,
                data={"values": after},
                request=request,
            )
        elif diff := changes(before, after):
            _audit(
                actor=actor,
                action="queue.update",
                target=queue,
                data={"changes": diff},
                request=request,
            )
    return queue


def queue_delete(
    *, actor: User, queue: Queue, version: int, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        claim_version(queue, version)
        users = flows_using_queue(queue.name)
        if users:
            raise ValidationError(
                _(
                    "This queue cannot be deleted: IVR flows send callers to it (%(flows)s). "
                    "Change their queue nodes first."
                )
                % {"flows": flow_names(users)}
            )
        snapshot = _queue_snapshot(queue)
        _audit(
            actor=actor,
            action="queue.delete",
            target=queue,
            data={"values": snapshot},
            request=request,
        )
        queue.delete()


def flow_create(
    *, actor: User, number: str, name: str, request: HttpRequest | None = None
) -> IvrFlow:
    """A new flow for a called number, starting as a copy of the demo flow."""
    taken = ValidationError(
        {"number": _("Another IVR flow already answers %(n)s.") % {"n": number}}
    )
    with transaction.atomic():
        if IvrFlow.objects.filter(number=number).exists():
            raise taken
        with unique_or(taken):
            flow = IvrFlow.objects.create(number=number, name=name, data=default_flow_data())
        _audit(
            actor=actor,
            action="ivrflow.create",
            target=flow,
            data={"values": {"number": number, "name": name}},
            request=request,
        )
    return flow


def flow_update(
    *,
    actor: User,
    flow: IvrFlow,
    version: int,
    number: str,
    name: str,
    enabled: bool,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> IvrFlow:
    """Save a flow the caller validated (validate_flow has no errors for `data`)."""
    taken = ValidationError(
        {"number": _("Another IVR flow already answers %(n)s.") % {"n": number}}
    )
    with transaction.atomic():
        before = {"number": flow.number, "name": flow.name, "enabled": flow.enabled}
        data_changed = flow.data != data
        claim_version(flow, version)
        if IvrFlow.objects.filter(number=number).exclude(pk=flow.pk).exists():
            raise taken
        flow.number, flow.name, flow.enabled, flow.data = number, name, enabled, data
        with unique_or(taken):
            flow.save()
        diff: dict[str, Any] = changes(before, {"number": number, "name": name, "enabled": enabled})
        if data_changed:
            diff["data"] = ["…", "…"]
        if diff:
            _audit(
                actor=actor,
                action="ivrflow.update",
                target=flow,
                data={"changes": diff},
                request=request,
            )
    return flow


def prompt_store(
    *, actor: User, name: str, samples: Samples, request: HttpRequest | None = None
) -> Path:
    """Write the prompt as ``PROMPTS_DIR/NAME.wav`` (8 kHz mono 16-bit), replacing it atomically:
    the switch never reads a half-written file."""
    directory = Path(settings.PROMPTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.wav"
    with tempfile.NamedTemporaryFile(
        dir=directory, prefix=".upload-", suffix=".wav", delete=False
    ) as out:
        try:
            out.write(wav_bytes(samples, RATE))
        except BaseException:
            Path(out.name).unlink(missing_ok=True)
            raise
    os.replace(out.name, target)
    _audit(
        actor=actor,
        action="prompt.upload",
        target_type="prompt",
        target_label=name,
        data={"seconds": round(samples.size / RATE, 1)},
        request=request,
    )
    return target


def prompt_delete(*, actor: User, name: str, request: HttpRequest | None = None) -> None:
    """Delete an uploaded prompt; refused while flows or queues play it and no shipped prompt of
    that name would take its place."""
    path = Path(settings.PROMPTS_DIR) / f"{name}.wav"
    if not path.is_file():
        raise ValidationError(_("There is no uploaded prompt %(name)s.") % {"name": name})
    users = prompt_users(name)
    if users and shipped_prompt_file(name) is None:
        raise ValidationError(
            _("The prompt %(name)s is in use (%(users)s); change those first.")
            % {"name": name, "users": "；".join(users)}
        )
    path.unlink()
    _audit(
        actor=actor,
        action="prompt.delete",
        target_type="prompt",
        target_label=name,
        request=request,
    )
