"""The configuration pages: reading needs view_switch, changing needs manage_telephony."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aqualine.accounts.models import User
from aqualine.callcenter.config_forms import (
    PROMPT_NAME,
    FlowCreateForm,
    FlowEditForm,
    PromptUploadForm,
    QueueForm,
)
from aqualine.callcenter.config_views.audio import RATE, TtsFailed, TtsUnavailable, render_tts
from aqualine.callcenter.config_views.flow_text import NODE_TYPE_LABELS, ShownIssue
from aqualine.callcenter.config_views.reads import (
    MAX_PREVIEW_CHARS,
    SHIPPED_PROMPTS_DIR,
    flow_issues,
    flow_nodes,
    flow_outline,
    flow_reference_warnings,
    flows_using_queue,
    pretty_json,
    prompt_rows,
    prompt_users,
    queue_nodes,
    shipped_prompt_file,
    uploaded_prompt_file,
    valid_prompt_ref,
)
from aqualine.callcenter.config_views.writes import (
    QUEUE_FIELDS,
    flow_create,
    flow_update,
    prompt_delete,
    prompt_store,
    queue_delete,
    queue_save,
)
from aqualine.callcenter.models import IvrFlow, Queue, Trunk
from aqualine.callcenter.permissions import CallcenterPerm
from aqualine.core.auth import require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error
from aqualine.telephony.ivr.default_flow import default_flow_data
from aqualine.telephony.ivr.templates import TemplateError, placeholders
from aqualine.telephony.ivr.templates import render as render_template

MANAGE: Final = CallcenterPerm.MANAGE_TELEPHONY
VIEW: Final = CallcenterPerm.VIEW_SWITCH
TTS_CACHE_FILES: Final = 500
# What a preview reads for the placeholders of a prompt ({arrears:money} → 45元6角).
SAMPLE_VARIABLES: Final = {
    "caller": "13800138000",
    "callee": "96000",
    "call_id": "demo",
    "account_number": "1001234",
    "arrears": "45.60",
    "arrears_months": "2",
    "current_due": "30.00",
    "order_number": "202601010001",
    "on_duty_number": "8004",
}


# --- queues -------------------------------------------------------------------------------------


@require_perm(VIEW)
def queue_list(request: HttpRequest) -> HttpResponse:
    queues = Queue.objects.prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("agent_id"))
    )
    used: dict[str, list[IvrFlow]] = {}
    for flow in IvrFlow.objects.all():
        for _node, name in queue_nodes(flow.data):
            if flow not in used.setdefault(name, []):
                used[name].append(flow)
    rows = [(q, used.get(q.name, [])) for q in queues]
    return render(
        request,
        "callcenter/queue_list.html",
        {"rows": rows, "can_manage": request.user.has_perm(MANAGE)},
    )


def _queue_form_page(request: HttpRequest, queue: Queue | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if queue is not None:
        initial = {name: getattr(queue, name) for name in QUEUE_FIELDS}
        initial["version"] = queue.version
        initial["members"] = list(queue.members.all())
    form = QueueForm(request.POST or None, initial=initial, queue=queue)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = queue_save(
                actor=request.user,  # type: ignore[arg-type]
                queue=queue,
                version=data["version"],
                values={name: data[name] for name in QUEUE_FIELDS},
                members=list(data["members"]),
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
            if queue is not None:
                queue.refresh_from_db()  # the failed save rolled back
        else:
            messages.success(request, _("Queue %(n)s saved.") % {"n": saved.name})
            return redirect("callcenter:queue_list")
    return render(
        request,
        "callcenter/queue_form.html",
        {
            "form": form,
            "creating": queue is None,
            "subject": queue,
            "flows": flows_using_queue(queue.name) if queue is not None else [],
        },
    )


@require_perm(MANAGE)
def queue_create(request: HttpRequest) -> HttpResponse:
    return _queue_form_page(request, None)


@require_perm(MANAGE)
def queue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _queue_form_page(request, get_object_or_404(Queue, pk=pk))


@require_perm(MANAGE)
@require_POST
def queue_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    queue = get_object_or_404(Queue, pk=pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return HttpResponseBadRequest()
    try:
        queue_delete(actor=request.user, queue=queue, version=version, request=request)  # type: ignore[arg-type]
    except ConflictError as error:
        messages.error(request, str(error))
        return redirect("callcenter:queue_edit", pk=queue.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("callcenter:queue_edit", pk=queue.pk)
    messages.success(request, _("Queue %(n)s deleted.") % {"n": queue.name})
    return redirect("callcenter:queue_list")


# --- IVR flows ----------------------------------------------------------------------------------


@require_perm(VIEW)
def flow_list(request: HttpRequest) -> HttpResponse:
    trunks = list(Trunk.objects.filter(enabled=True))
    rows = []
    for flow in IvrFlow.objects.all():
        issues = flow_issues(flow.data)
        rows.append(
            {
                "flow": flow,
                "nodes": sum(1 for _n in flow_nodes(flow.data)),
                "errors": sum(1 for i in issues if i.is_error),
                "warnings": sum(1 for i in issues if not i.is_error),
                "trunks": [t.name for t in trunks if flow.number in t.number_list],
            }
        )
    return render(
        request,
        "callcenter/flow_list.html",
        {"rows": rows, "can_manage": request.user.has_perm(MANAGE)},
    )


@require_perm(MANAGE)
def flow_create_view(request: HttpRequest) -> HttpResponse:
    form = FlowCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flow = flow_create(
                actor=request.user,  # type: ignore[arg-type]
                number=form.cleaned_data["number"],
                name=form.cleaned_data["name"],
                request=request,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("IVR flow for %(n)s created from the demo flow; adapt it and save.")
                % {"n": flow.number},
            )
            return redirect("callcenter:flow_edit", pk=flow.pk)
    return render(request, "callcenter/flow_create.html", {"form": form})


@require_perm(VIEW)
def flow_detail(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(IvrFlow, pk=pk)
    issues = flow_issues(flow.data)
    return render(
        request,
        "callcenter/flow_detail.html",
        {
            "flow": flow,
            "issues": issues,
            "outline": flow_outline(flow.data, issues),
            "can_manage": request.user.has_perm(MANAGE),
        },
    )


@require_perm(MANAGE)
def flow_edit(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(IvrFlow, pk=pk)
    saved_issues = flow_issues(flow.data)
    initial = {
        "version": flow.version,
        "number": flow.number,
        "name": flow.name,
        "enabled": flow.enabled,
        "flow_json": pretty_json(flow.data),
    }
    action = request.POST.get("action", "save")
    if request.method == "POST" and action == "reset":
        # The demo flow goes into the editor; nothing is saved until the user saves it.
        post = request.POST.copy()
        post["flow_json"] = pretty_json(default_flow_data())
        form = FlowEditForm(post, flow=flow)
        form.is_valid()  # for the demo flow's own warnings
        messages.info(
            request, _("The demo flow is in the editor below; check it and save to use it.")
        )
        demo_warnings = flow_reference_warnings(form.cleaned_data.get("flow_json"))
        return _flow_edit_page(
            request, flow, form, saved_issues, editing=form.issues + demo_warnings
        )
    form = FlowEditForm(request.POST or None, initial=initial, flow=flow)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            flow_update(
                actor=request.user,  # type: ignore[arg-type]
                flow=flow,
                version=data["version"],
                number=data["number"],
                name=data["name"],
                enabled=data["enabled"],
                data=data["flow_json"],
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
            flow.refresh_from_db()  # the failed save rolled back
        else:
            warnings = [i for i in flow_issues(flow.data) if not i.is_error]
            if warnings:
                messages.warning(
                    request,
                    _("IVR flow %(n)s saved, with %(w)s warnings (listed below).")
                    % {"n": flow.number, "w": len(warnings)},
                )
            else:
                messages.success(request, _("IVR flow %(n)s saved.") % {"n": flow.number})
            return redirect("callcenter:flow_edit", pk=flow.pk)
    editing = saved_issues
    if form.is_bound:
        editing = form.issues
        if "flow_json" in form.cleaned_data:
            editing = form.issues + flow_reference_warnings(form.cleaned_data["flow_json"])
    return _flow_edit_page(request, flow, form, saved_issues, editing=editing)


def _flow_edit_page(
    request: HttpRequest,
    flow: IvrFlow,
    form: FlowEditForm,
    saved_issues: list[ShownIssue],
    *,
    editing: list[ShownIssue],
) -> HttpResponse:
    return render(
        request,
        "callcenter/flow_edit.html",
        {
            "flow": flow,
            "form": form,
            "issues": editing,
            "outline": flow_outline(flow.data, saved_issues),
            "json_error": form.json_error,
            "node_types": sorted((name, str(label)) for name, label in NODE_TYPE_LABELS.items()),
        },
    )


# --- voice prompts ------------------------------------------------------------------------------


def _prompt_page(request: HttpRequest, form: PromptUploadForm | None = None) -> HttpResponse:
    uploaded = prompt_rows(Path(settings.PROMPTS_DIR))
    shipped = prompt_rows(SHIPPED_PROMPTS_DIR)
    shipped_names = {row.name for row in shipped}
    uploaded_names = {row.name for row in uploaded}
    for row in uploaded:
        row.overrides = row.name in shipped_names
        row.used_by = prompt_users(row.name)
    for row in shipped:
        row.overridden = row.name in uploaded_names
        row.used_by = prompt_users(row.name)
    can_manage = request.user.has_perm(MANAGE)
    if form is None and can_manage:
        form = PromptUploadForm(prompts_dir=Path(settings.PROMPTS_DIR))
    return render(
        request,
        "callcenter/prompt_list.html",
        {"uploaded": uploaded, "shipped": shipped, "form": form, "can_manage": can_manage},
    )


@require_perm(VIEW)
def prompt_list(request: HttpRequest) -> HttpResponse:
    return _prompt_page(request)


@require_perm(MANAGE)
@require_POST
def prompt_upload(request: HttpRequest) -> HttpResponse:
    form = PromptUploadForm(request.POST, request.FILES, prompts_dir=Path(settings.PROMPTS_DIR))
    if form.is_valid() and form.samples is not None:
        name = form.cleaned_data["name"]
        prompt_store(actor=request.user, name=name, samples=form.samples, request=request)  # type: ignore[arg-type]
        text = _("Prompt %(name)s uploaded (%(s).1f s).") % {
            "name": name,
            "s": form.samples.size / RATE,
        }
        if shipped_prompt_file(name) is not None:
            text += " " + _("It is played instead of the shipped prompt of that name.")
        messages.success(request, text)
        return redirect("callcenter:prompt_list")
    return _prompt_page(request, form)


@require_perm(MANAGE)
@require_POST
def prompt_delete_view(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "")
    if not PROMPT_NAME.fullmatch(name):
        raise Http404
    try:
        prompt_delete(actor=request.user, name=name, request=request)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Prompt %(name)s deleted.") % {"name": name})
    return redirect("callcenter:prompt_list")


def _wav_response(path: Path) -> HttpResponse:
    """The whole file (a prompt is at most 5 minutes of 8 kHz audio, under 5 MB)."""
    response = HttpResponse(path.read_bytes(), content_type="audio/wav")
    response["Cache-Control"] = "private, max-age=60"
    return response


@require_perm(VIEW)
@require_GET
def prompt_audio(request: HttpRequest) -> HttpResponse:
    """A prompt file as the switch finds it (uploaded first), or ?source=shipped."""
    name = request.GET.get("name", "")
    if not valid_prompt_ref(name):
        raise Http404
    if request.GET.get("source") == "shipped":
        path = shipped_prompt_file(name)
    else:
        path = uploaded_prompt_file(name) or shipped_prompt_file(name)
    if path is None:
        raise Http404
    return _wav_response(path)


def _sample_text(text: str) -> str:
    """The text with its placeholders filled with sample values, as a caller would hear it."""
    try:
        placeholders(text)
    except TemplateError:
        return text
    return render_template(text, SAMPLE_VARIABLES)


def _tts_cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "tts-preview"


def _prune_tts_cache(directory: Path) -> None:
    files = sorted(directory.glob("tts-*.wav"), key=lambda p: p.stat().st_mtime)
    for stale in files[:-TTS_CACHE_FILES]:
        with contextlib.suppress(OSError):
            stale.unlink()


@require_perm(VIEW)
@require_GET
def prompt_tts(request: HttpRequest) -> HttpResponse:
    """Text-to-speech of a prompt text (the voice the switch uses), as a WAV for the browser."""
    text = request.GET.get("text", "").replace("\x00", "").strip()
    if not text or len(text) > MAX_PREVIEW_CHARS:
        return HttpResponseBadRequest(
            _("Enter a text of 1 to %(n)s characters.") % {"n": MAX_PREVIEW_CHARS},
            content_type="text/plain; charset=utf-8",
        )
    spoken = _sample_text(text)
    if not spoken.strip():
        return HttpResponseBadRequest(
            _("There is nothing to say."), content_type="text/plain; charset=utf-8"
        )
    directory = _tts_cache_dir()
    try:
        path = render_tts(spoken, directory)
    except TtsUnavailable:
        return HttpResponse(
            _("Text-to-speech (espeak-ng) is not installed on this server."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    except TtsFailed:
        return HttpResponse(
            _("Text-to-speech failed for this text."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    _prune_tts_cache(directory)
    return _wav_response(path)
