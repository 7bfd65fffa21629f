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


def _refused(refused: services.DeskRefused, *, extension: str = "") -> JsonResponse:
    status = 503 if refused.code in ("switch_unavailable", "not_running") else 409
    if refused.code in ("no_extension", "bad_extension", "unknown_reason", "unknown_command"):
        status = 400
    if refused.code == "forbidden":
        status = 403
    text = refusal_text(refused.code, refused.reason, extension=extension)
    return JsonResponse({"ok": False, "code": refused.code, "error": text}, status=status)


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


# --- the supervisor's monitor -----------------------------------------------------------------


@require_GET
@require_perm(DeskPerm.SUPERVISE)
def monitor(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "desk/monitor.html",
        {
            "commands": selectors.command_table(Who.SUPERVISOR),
            "texts": state_texts(),
            "missed": selectors.missed_calls_today(),
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


@require_GET
@require_perm(DeskPerm.SUPERVISE)
def missed(request: HttpRequest) -> HttpResponse:
    """The missed-calls list alone (the monitor refreshes it when a call ends unanswered)."""
    return render(request, "desk/_missed.html", {"missed": selectors.missed_calls_today()})


@require_POST
@require_perm(DeskPerm.SUPERVISE)
def missed_handled(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(CallRecord, pk=pk)
    try:
        services.missed_call_mark_handled(actor=request.user, record=record)  # type: ignore[arg-type]
    except services.DeskRefused as refused:
        messages.error(request, refusal_text(refused.code, refused.reason))
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "desk/_missed.html", {"missed": selectors.missed_calls_today()})
    return redirect("desk:monitor")
