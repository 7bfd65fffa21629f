"""The agent desktop (/desk/) and the supervisor's monitor (/desk/monitor/).

The pages are rendered once; their scripts (`static/aqualine/desk/`) read the state as JSON,
send commands with POST and follow the switch's events over the WebSocket `/ws/desk/<view>/`
(`consumers.py`). Every endpoint declares its permission; an agent's commands always act on
the signed-in user's own 工号, a supervisor's forced changes on the agent in the address.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aqualine.accounts.models import User
from aqualine.callcenter.models import CallRecord
from aqualine.callcenter.ports import BUSY_REASONS
from aqualine.core.auth import require_perm
from aqualine.desk import selectors, services
from aqualine.desk.permissions import DeskPerm
from aqualine.knowledge.permissions import KnowledgePerm
from aqualine.telephony.acd.states import MISSED, SIGNED_OFF, UNREACHABLE, Who


def state_texts() -> dict[str, Any]:
    """What the scripts show, translated here (no strings in the JavaScript)."""
    return {
        "states": {
            "logged_out": _("Not logged in"),
            "not_ready": _("Busy"),
            "idle": _("Idle"),
            "ringing": _("Ringing"),
            "talking": _("Talking"),
            "after_call_work": _("After-call work"),
        },
        "reasons": {
            SIGNED_OFF: _("signed off"),
            MISSED: _("missed a call"),
            UNREACHABLE: _("phone unreachable"),
        },
        "wrap_up_left": _("{seconds} s left"),
        "waited": _("waited {seconds} s"),
        "switch_down": _("The switch is not connected: calls cannot reach this page."),
        "call_offered": _("Incoming call"),
        "call_talking": _("On the call"),
        "call_missed": _("The call was not answered"),
        "call_ended": _("The call has ended"),
        "no_results": _("Nothing found in the knowledge base."),
        "search_failed": _("The search failed; try again."),
        "command_failed": _("The command failed; try again."),
        "next_call": _(
            "A new call from {number}: the form below has unsaved input, so the new call's "
            "form opens in a new tab from here."
        ),
        "force_sign_off": _("Force sign-off"),
        "force_ready": _("Force ready"),
        "call_dialing": _("Outbound call"),
        "control": {
            "held": _("Call on hold"),
            "consult_ringing": _("Consulting {target}: ringing"),
            "consulting": _("Consulting {target}"),
            "conference": _("In a three-party call"),
            "transferring": _("Transferring to {target}"),
            "transferred": _("Transferred to {target}"),
            "transfer_failed": _("Transfer failed: {detail}"),
            "consult_failed": _("Consultation failed: {detail}"),
            "consult_ended": _("The consultation has ended: you are back with the caller"),
            "dialing": _("Calling {target}"),
            "dial_answered": _("Outbound call connected"),
            "dial_failed": _("Outbound call failed: {detail}"),
        },
        "no_detail": _("no reason given"),
        "transfer": _("Transfer"),
        "consult": _("Consult"),
        "no_agents": _("No other agent is logged in."),
        "choose_target": _("Choose an agent, or enter an extension or a number."),
        "supervise": {
            "listen": _("Listen in"),
            "whisper": _("Whisper"),
            "barge": _("Barge in"),
            "stop": _("Stop monitoring"),
        },
        "supervising": _("Monitoring the call of {agent} ({mode})"),
    }


def refusal_text(code: str, reason: str = "", *, extension: str = "") -> str:
    """Why a command was not carried out, for the agent (the switch answers in English)."""
    texts = {
        "extension_not_registered": _(
            "Extension %(extension)s is not registered: start its phone (or softphone) first."
        )
        % {"extension": extension},
        "unknown_agent": _("The switch does not know your agent ID."),
        "agent_logged_in": _("You are already logged in on an extension."),
        "extension_in_use": _("Another agent is logged in on this extension."),
        "transition_not_allowed": _("This is not possible in the current state."),
        "unknown_reason": _("Choose one of the busy reasons."),
        "no_extension": _("Enter your extension number."),
        "bad_extension": _("An extension number has only digits."),
        "switch_unavailable": _("The switch is not answering; try again in a moment."),
        "not_running": _("The switch is not answering; try again in a moment."),
        "no_call": _("There is no call to hang up."),
        "forbidden": _("You may not do this."),
        "not_missed": _("This call was answered."),
    }
    if code in texts:
        return texts[code]
    return _("The switch refused: %(reason)s") % {"reason": reason or code}


def call_refusal_text(
    code: str, reason: str = "", *, command: str = "", target: str = "", extension: str = ""
) -> str:
    """Why a call-control command (hold, transfer, dial, listen in, ...) was not carried out."""
    if code == "consult_pending" and command not in ("complete_transfer", "conference"):
        return _("A consultation is in progress: complete or cancel it first.")
    texts = {
        "no_call": _("You have no call in progress."),
        "not_talking": _("You are not talking on a call."),
        "already_held": _("The call is already on hold."),
        "not_held": _("The call is not on hold."),
        "target_busy": _("The other agent is busy."),
        "target_not_ready": _("The other agent is not ready."),
        "target_logged_out": _("The other agent is not logged in."),
        "unknown_target": _("%(target)s is no agent, extension or number that can be called.")
        % {"target": target or "—"},
        "unknown_agent": _("Log in to the queue with your extension first."),
        "transfer_pending": _("The call is being transferred."),
        "already_conference": _("The three-party call is on already."),
        "not_supported": _("An outbound call can be held, but not transferred yet."),
        "supervised": _("Another supervisor is monitoring this call."),
        "not_supervised": _("Nobody is monitoring this call."),
        "no_trunk": _("No trunk is set up for outbound calls."),
        "no_consult": _("There is no consultation in progress."),
        "consult_pending": _("The consulted party has not answered yet."),
        "not_registered": _(
            "The extension is not registered: start its phone (or softphone) first."
        ),
        "agent_busy": _("You are busy with another call."),
        "unknown_call": _("The call has ended."),
        "no_target": _("Choose an agent, or enter an extension or a number."),
        "bad_target": _("Enter an agent ID, an extension or a phone number."),
        "no_number": _("Enter the number to dial."),
        "bad_number": _("A phone number has only digits (up to 20)."),
    }
    if code in texts:
        return texts[code]
    return refusal_text(code, reason, extension=extension)


BAD_REQUEST_CODES = frozenset(
    {
        "no_extension",
        "bad_extension",
        "unknown_reason",
        "unknown_command",
        "no_target",
        "bad_target",
        "no_number",
        "bad_number",
    }
)


def _refused(
    refused: services.DeskRefused, *, extension: str = "", text: str | None = None
) -> JsonResponse:
    status = 503 if refused.code in ("switch_unavailable", "not_running") else 409
    if refused.code in BAD_REQUEST_CODES:
        status = 400
    if refused.code == "forbidden":
        status = 403
    if text is None:
        text = refusal_text(refused.code, refused.reason, extension=extension)
    return JsonResponse({"ok": False, "code": refused.code, "error": text}, status=status)


def _call_refused(
    refused: services.DeskRefused, *, command: str = "", target: str = "", extension: str = ""
) -> JsonResponse:
    text = call_refusal_text(
        refused.code, refused.reason, command=command, target=target, extension=extension
    )
    return _refused(refused, text=text)


# --- the agent desktop ------------------------------------------------------------------------


@require_GET
@require_perm(DeskPerm.USE_DESKTOP)
def desk(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "desk/desk.html",
        {
            "agent_id": user.agent_id,
            "busy_reasons": BUSY_REASONS,
            "commands": selectors.command_table(Who.AGENT),
            "texts": {**state_texts(), "queues": selectors.queue_names()},
            "can_search": user.has_perm(KnowledgePerm.VIEW_ARTICLES),
            "can_control": user.has_perm(DeskPerm.CONTROL_CALLS),
        },
    )


@require_GET
@require_perm(DeskPerm.USE_DESKTOP)
def desk_state(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.agent_desk_state(agent_id=request.user.agent_id))  # type: ignore[union-attr]


@require_POST
@require_perm(DeskPerm.USE_DESKTOP)
def command(request: HttpRequest) -> JsonResponse:
    extension = (request.POST.get("extension") or "").strip()[:20]
    try:
        view = services.agent_command(
            user=request.user,  # type: ignore[arg-type]
            command=(request.POST.get("command") or "")[:30],
            extension=extension,
            reason=(request.POST.get("reason") or "")[:20],
        )
    except services.DeskRefused as refused:
        return _refused(refused, extension=extension)
    return JsonResponse({"ok": True, "agent": view})


@require_POST
@require_perm(DeskPerm.USE_DESKTOP)
def hang_up(request: HttpRequest) -> JsonResponse:
    try:
        call_id = services.agent_hang_up(user=request.user)  # type: ignore[arg-type]
    except services.DeskRefused as refused:
        return _refused(refused)
    return JsonResponse({"ok": True, "call_id": call_id})


# --- call control: the agent's own call ----------------------------------------------------------


@require_POST
@require_perm(DeskPerm.CONTROL_CALLS)
def call_command(request: HttpRequest, command: str) -> JsonResponse:
    """Hold, unhold, transfer, consult, complete_transfer, conference, cancel_consult on the
    signed-in agent's own call (an agent ID in the request is never read)."""
    if command not in selectors.CALL_COMMANDS:
        raise Http404
    target = (request.POST.get("target") or "").strip()[:40]
    try:
        answer = services.call_control(
            user=request.user,  # type: ignore[arg-type]
            command=command,
            target=target,
            kind=(request.POST.get("kind") or "")[:20],
        )
    except services.DeskRefused as refused:
        return _call_refused(refused, command=command, target=target)
    return JsonResponse({"ok": True, **_answer(answer)})


@require_POST
@require_perm(DeskPerm.CONTROL_CALLS)
def dial(request: HttpRequest) -> JsonResponse:
    """Click-to-dial (and call back) as the signed-in agent."""
    number = (request.POST.get("number") or "")[:40]
    try:
        answer = services.call_dial(user=request.user, number=number)  # type: ignore[arg-type]
    except services.DeskRefused as refused:
        return _call_refused(refused, command="dial", target=services.normalize_number(number))
    return JsonResponse({"ok": True, **_answer(answer)})


def _answer(answer: dict[str, Any]) -> dict[str, Any]:
    """What the page needs of the switch's answer: the agent's view and the call."""
    agent = {k: v for k, v in answer.items() if k != "call"}
    call = answer.get("call")
    result: dict[str, Any] = {"agent": agent if "state" in agent else None}
    result["call_id"] = str(answer.get("call_id") or (call or {}).get("call_id") or "")
    result["call"] = call if isinstance(call, dict) else None
    return result


@require_GET
@require_perm(DeskPerm.CONTROL_CALLS)
def transfer_targets(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.transfer_targets(agent_id=request.user.agent_id))  # type: ignore[union-attr]


# --- the supervisor's monitor -----------------------------------------------------------------


@require_GET
@require_perm(DeskPerm.SUPERVISE)
def monitor(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "desk/monitor.html",
        {
            "commands": selectors.command_table(Who.SUPERVISOR),
            "texts": state_texts(),
            "missed": selectors.missed_calls_today(),
            "me": user.agent_id,
            "can_supervise_calls": user.has_perm(DeskPerm.SUPERVISE_CALLS),
            "can_dial": user.has_perm(DeskPerm.CONTROL_CALLS),
        },
    )


@require_GET
@require_perm(DeskPerm.SUPERVISE)
def monitor_state(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.monitor_state())


@require_POST
@require_perm(DeskPerm.SUPERVISE)
def force(request: HttpRequest, agent_id: str, command: str) -> JsonResponse:
    if command not in selectors.SUPERVISOR_COMMANDS:
        raise Http404
    try:
        view = services.agent_force(
            actor=request.user,  # type: ignore[arg-type]
            agent_id=agent_id[:20],
            command=command,
            request=request,
        )
    except services.DeskRefused as refused:
        return _refused(refused)
    return JsonResponse({"ok": True, "agent": view})


def _missed_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "desk/_missed.html",
        {
            "missed": selectors.missed_calls_today(),
            "can_dial": request.user.has_perm(DeskPerm.CONTROL_CALLS),
        },
    )


@require_GET
@require_perm(DeskPerm.SUPERVISE)
def missed(request: HttpRequest) -> HttpResponse:
    """The missed-calls list alone (the monitor refreshes it when a call ends unanswered)."""
    return _missed_list(request)


@require_POST
@require_perm(DeskPerm.SUPERVISE)
def missed_handled(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(CallRecord, pk=pk)
    try:
        services.missed_call_mark_handled(actor=request.user, record=record)  # type: ignore[arg-type]
    except services.DeskRefused as refused:
        messages.error(request, refusal_text(refused.code, refused.reason))
    if request.headers.get("X-Requested-With") == "fetch":
        return _missed_list(request)
    return redirect("desk:monitor")


@require_POST
@require_perm(DeskPerm.SUPERVISE_CALLS)
def supervise(request: HttpRequest, call_id: str, mode: str) -> JsonResponse:
    """Listen in on, whisper to or barge into a call from the supervisor's own extension (the
    one posted, else the one they are logged in on)."""
    if mode not in selectors.SUPERVISE_MODES:
        raise Http404
    extension = (request.POST.get("extension") or "").strip()[:20]
    try:
        answer = services.call_supervise(
            actor=request.user,  # type: ignore[arg-type]
            call_id=call_id[:64],
            mode=mode,
            extension=extension,
            request=request,
        )
    except services.DeskRefused as refused:
        return _call_refused(refused, extension=extension)
    return JsonResponse({"ok": True, "call_id": call_id, "mode": mode, "answer": answer})


@require_POST
@require_perm(DeskPerm.SUPERVISE_CALLS)
def stop_supervising(request: HttpRequest, call_id: str) -> JsonResponse:
    try:
        services.call_stop_supervising(actor=request.user, call_id=call_id[:64])  # type: ignore[arg-type]
    except services.DeskRefused as refused:
        return _call_refused(refused)
    return JsonResponse({"ok": True, "call_id": call_id})
