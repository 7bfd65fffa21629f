"""Writes of the agent desktop and the monitor: agents' commands to the switch (each agent only
as themselves), the supervisor's forced changes (audited), hanging up one's own call, call
control of one's own call (hold, transfer, consult, conference, click-to-dial), supervising
another agent's call (listen, whisper, barge: audited), and marking a missed call handled.
The switch is called through the callcenter client, in the calling thread (Django runs the
synchronous views off the event loop)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.callcenter.client import SwitchClient, SwitchRefused, SwitchUnavailable
from aqualine.callcenter.models import CallRecord
from aqualine.callcenter.ports import BUSY_REASONS
from aqualine.core.audit import audit_record
from aqualine.desk.models import MissedCallHandled
from aqualine.desk.permissions import DeskPerm
from aqualine.desk.selectors import (
    AGENT_COMMANDS,
    CALL_COMMANDS,
    MISSED_OUTCOMES,
    SUPERVISE_MODES,
    SUPERVISOR_COMMANDS,
    TARGET_COMMANDS,
    TARGET_KINDS,
    own_extension,
)

# A transfer or consultation target: an agent ID, an extension or a phone number.
_TARGET = re.compile(r"^\+?[0-9A-Za-z_.-]{2,20}$")
_NUMBER = re.compile(r"^\+?[0-9]{2,20}$")
_NUMBER_SEPARATORS = re.compile(r"[\s()-]")
# Call control may wait for the switch to set up media or a SIP leg.
CONTROL_TIMEOUT = 5.0


class DeskRefused(Exception):
    """A command that was not carried out: `code` (the switch's, or our own) and its text."""

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(reason or code)
        self.code = code
        self.reason = reason


def _send(client: SwitchClient, command: str, agent_id: str, **params: Any) -> dict[str, Any]:
    try:
        return client.agent_command(command, agent_id, **params)
    except SwitchRefused as refused:
        raise DeskRefused(refused.code, refused.reason) from None
    except SwitchUnavailable as error:
        raise DeskRefused("switch_unavailable", str(error)) from None


def agent_command(
    *,
    user: User,
    command: str,
    extension: str = "",
    reason: str = "",
    client: SwitchClient | None = None,
) -> dict[str, Any]:
    """The user's own command (log in with an extension, sign on, busy with a reason, ...): the
    agent ID is always the user's 工号. The agent's view afterwards."""
    if not user.has_perm(DeskPerm.USE_DESKTOP):
        raise DeskRefused("forbidden")
    if command not in AGENT_COMMANDS:
        raise DeskRefused("unknown_command", command)
    params: dict[str, Any] = {}
    if command == "login":
        extension = extension.strip()
        if not extension:
            raise DeskRefused("no_extension")
        if not (extension.isdigit() and len(extension) <= 10):
            raise DeskRefused("bad_extension", extension)
        params["extension"] = extension
    elif command == "not_ready":
        if reason not in BUSY_REASONS:
            raise DeskRefused("unknown_reason", reason)
        params["reason"] = reason
    return _send(client or SwitchClient(), command, user.agent_id, **params)


def agent_hang_up(*, user: User, client: SwitchClient | None = None) -> str:
    """Hang up the call the user is talking on (never another agent's): its call ID."""
    if not user.has_perm(DeskPerm.USE_DESKTOP):
        raise DeskRefused("forbidden")
    client = client or SwitchClient()
    try:
        view = next((a for a in client.agents() if a.get("agent_id") == user.agent_id), None)
        if view is None or view.get("state") != "talking" or not view.get("call_id"):
            raise DeskRefused("no_call")
        client.hang_up(str(view["call_id"]))
    except SwitchRefused as refused:  # the call ended meanwhile
        raise DeskRefused("no_call", refused.reason) from None
    except SwitchUnavailable as error:
        raise DeskRefused("switch_unavailable", str(error)) from None
    return str(view["call_id"])


def _switch(client: SwitchClient | None) -> SwitchClient:
    return client or SwitchClient(timeout=CONTROL_TIMEOUT)


def _control(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        result = call()
    except SwitchRefused as refused:
        raise DeskRefused(refused.code, refused.reason) from None
    except SwitchUnavailable as error:
        raise DeskRefused("switch_unavailable", str(error)) from None
    return result


def normalize_number(number: str) -> str:
    """A number as typed or pasted ("138-0013 8000") without its separators."""
    return _NUMBER_SEPARATORS.sub("", number or "")


def call_control(
    *,
    user: User,
    command: str,
    target: str = "",
    kind: str = "",
    client: SwitchClient | None = None,
) -> dict[str, Any]:
    """Hold, retrieve, transfer, consult, ... the user's own current call (never another
    agent's: the agent ID is always the user's 工号). The switch's answer."""
    if not user.has_perm(DeskPerm.CONTROL_CALLS):
        raise DeskRefused("forbidden")
    if command not in CALL_COMMANDS:
        raise DeskRefused("unknown_command", command)
    params: dict[str, Any] = {}
    if command in TARGET_COMMANDS:
        target = "".join(target.split())
        if kind == "number":
            target = normalize_number(target)
        if not target:
            raise DeskRefused("no_target")
        if not _TARGET.match(target):
            raise DeskRefused("bad_target", target)
        if kind and kind not in TARGET_KINDS:
            raise DeskRefused("unknown_command", kind)
        params = {"target": target, "kind": kind}
    method = getattr(_switch(client), command)
    return _control(lambda: method(user.agent_id, **params))


def call_dial(*, user: User, number: str, client: SwitchClient | None = None) -> dict[str, Any]:
    """Click-to-dial as the user: their extension rings, then `number` through the trunk."""
    if not user.has_perm(DeskPerm.CONTROL_CALLS):
        raise DeskRefused("forbidden")
    number = normalize_number(number)
    if not number:
        raise DeskRefused("no_number")
    if not _NUMBER.match(number):
        raise DeskRefused("bad_number", number)
    switch = _switch(client)
    return _control(lambda: switch.dial(user.agent_id, number))


def call_supervise(
    *,
    actor: User,
    call_id: str,
    mode: str,
    extension: str = "",
    request: HttpRequest | None = None,
    client: SwitchClient | None = None,
) -> dict[str, Any]:
    """A supervisor listens in on (whispers to, barges into) a call from their extension: the
    one given, else the one they are logged in on. Audited once the switch accepted it."""
    if not actor.has_perm(DeskPerm.SUPERVISE_CALLS):
        raise DeskRefused("forbidden")
    if mode not in SUPERVISE_MODES:
        raise DeskRefused("unknown_command", mode)
    switch = _switch(client)
    extension = extension.strip()
    if not extension:
        try:
            extension = own_extension(agent_id=actor.agent_id, client=switch)
        except SwitchUnavailable as error:
            raise DeskRefused("switch_unavailable", str(error)) from None
    if not extension:
        raise DeskRefused("no_extension")
    if not (extension.isdigit() and len(extension) <= 10):
        raise DeskRefused("bad_extension", extension)
    result = _control(lambda: switch.supervise(call_id, extension, mode, actor.agent_id))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="call.supervise",
            target_type="call",
            target_label=call_id,
            data={"call_id": call_id, "mode": mode, "extension": extension},
            request=request,
        )
    return result


def call_stop_supervising(
    *,
    actor: User,
    call_id: str,
    client: SwitchClient | None = None,
) -> dict[str, Any]:
    if not actor.has_perm(DeskPerm.SUPERVISE_CALLS):
        raise DeskRefused("forbidden")
    switch = _switch(client)
    return _control(lambda: switch.stop_supervising(call_id))


def agent_force(
    *,
    actor: User,
    agent_id: str,
    command: str,
    request: HttpRequest | None = None,
    client: SwitchClient | None = None,
) -> dict[str, Any]:
    """A supervisor forces another agent's state (sign off, ready): audited once it is done."""
    if not actor.has_perm(DeskPerm.SUPERVISE):
        raise DeskRefused("forbidden")
    if command not in SUPERVISOR_COMMANDS:
        raise DeskRefused("unknown_command", command)
    view = _send(client or SwitchClient(), command, agent_id, by=actor.agent_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=f"agent.{command}",
            target_type="agent",
            target_label=agent_id,
            data={"agent_id": agent_id, "state": view.get("state"), "reason": view.get("reason")},
            request=request,
        )
    return view


def missed_call_mark_handled(*, actor: User, record: CallRecord) -> MissedCallHandled:
    """Mark a missed or abandoned call handled (once: the first supervisor's mark stays)."""
    if not actor.has_perm(DeskPerm.SUPERVISE):
        raise DeskRefused("forbidden")
    if record.outcome not in MISSED_OUTCOMES:
        raise DeskRefused("not_missed")
    with transaction.atomic():
        handled, _created = MissedCallHandled.objects.get_or_create(
            call_id=record.call_id,
            defaults={"handled_by": actor, "handled_at": timezone.now()},
        )
    return handled
