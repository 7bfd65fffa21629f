"""Call recordings (T12–T15, X11): search the call records with their recordings, play them in
the browser (HTTP Range requests, so that the player can seek), download, delete, and the
retention policy. Every play, download and deletion is written to the audit log.

Who may do what (permissions of the Recording model; migration 0004 grants them to the seeded
roles):

* ``listen_recordings`` — search and play the recordings of one's own calls (the call's agent
  ID is the user's 工号);
* ``listen_all_recordings`` — search and play every recording;
* ``download_recordings`` — also download a recording one may play;
* ``delete_recordings`` — delete recordings one may play.

A recording one may not play is answered with 404, as if it did not exist.

The module holds the recordings' selectors, services and views in three sections.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, http_date, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from aqualine.callcenter.models import CallRecord, Recording
from aqualine.callcenter.recordings_forms import OUTCOME_LABELS, RecordingSearchForm
from aqualine.core.audit import audit_record
from aqualine.core.parameters import param

log = logging.getLogger(__name__)


class RecordingPerm(StrEnum):
    LISTEN = "callcenter.listen_recordings"
    LISTEN_ALL = "callcenter.listen_all_recordings"
    DOWNLOAD = "callcenter.download_recordings"
    DELETE = "callcenter.delete_recordings"


# A play is logged once per user and recording in this window: the player fetches a recording
# in several range requests (one more at every seek), which are one listening.
PLAY_LOG_WINDOW = timedelta(minutes=10)
# The search counts at most this many matches ("more than 1,000"), never the whole table.
COUNT_CAP = 1000
# `deleted_by` of the recordings the retention policy deleted.
PRUNED_BY = "retention"
CHUNK_BYTES = 64 * 1024


# --- selectors --------------------------------------------------------------------------------


def calls_visible_to(user: Any) -> QuerySet[CallRecord]:
    """The call records whose recordings `user` may search and play."""
    calls = CallRecord.objects.all()
    if user.has_perm(RecordingPerm.LISTEN_ALL):
        return calls
    if user.has_perm(RecordingPerm.LISTEN) and user.agent_id:
        return calls.filter(agent_id=user.agent_id)
    return calls.none()


def recordings_visible_to(user: Any) -> QuerySet[Recording]:
    recordings = Recording.objects.all()
    if user.has_perm(RecordingPerm.LISTEN_ALL):
        return recordings
    if user.has_perm(RecordingPerm.LISTEN) and user.agent_id:
        return recordings.filter(call__agent_id=user.agent_id)
    return recordings.none()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """A position in the list, which is ordered by (started_at, id), newest first."""

    started_at: datetime
    pk: int

    def encode(self) -> str:
        return f"{(self.started_at - _EPOCH) // timedelta(microseconds=1)}.{self.pk}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        match = re.fullmatch(r"(-?\d{1,18})\.(\d{1,18})", value or "")
        if match is None:
            return None
        try:
            started_at = _EPOCH + timedelta(microseconds=int(match[1]))
        except OverflowError:
            return None
        return cls(started_at, int(match[2]))

    @classmethod
    def of(cls, call: CallRecord) -> Cursor:
        return cls(call.started_at, call.pk)


def _older_than(cursor: Cursor) -> Q:
    # The redundant `started_at <= t` bounds the index scan; the OR alone would not.
    return Q(started_at__lte=cursor.started_at) & (
        Q(started_at__lt=cursor.started_at) | Q(started_at=cursor.started_at, pk__lt=cursor.pk)
    )


def _newer_than(cursor: Cursor) -> Q:
    return Q(started_at__gte=cursor.started_at) & (
        Q(started_at__gt=cursor.started_at) | Q(started_at=cursor.started_at, pk__gt=cursor.pk)
    )


@dataclass(frozen=True)
class SearchPage:
    calls: list[CallRecord]
    newer: Cursor | None  # ask for `before=newer` to see the previous (newer) page
    older: Cursor | None  # ask for `after=older` to see the next (older) page
    count: int  # the matches, counted up to COUNT_CAP + 1
    more_than_cap: bool


def call_search(*, user: Any, filters: dict[str, Any]) -> QuerySet[CallRecord]:
    """The call records `user` may see that match `filters` (RecordingSearchForm's fields)."""
    calls = calls_visible_to(user)
    exact = {
        "caller": "caller",
        "callee": "callee",
        "direction": "direction",
        "agent_id": "agent_id",
        "outcome": "outcome",
        "started_from": "started_at__gte",
        "started_to": "started_at__lte",
        "duration_min": "talk_seconds__gte",
        "duration_max": "talk_seconds__lte",
    }
    for key, lookup in exact.items():
        value = filters.get(key)
        if value not in (None, ""):
            calls = calls.filter(**{lookup: value})
    if filters.get("recorded_only"):
        kept = Recording.objects.filter(call_id=OuterRef("call_id"), deleted_at__isnull=True)
        calls = calls.filter(Exists(kept))
    return calls


def recording_search(
    *,
    user: Any,
    filters: dict[str, Any],
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> SearchPage:
    """One page of matching call records with their recordings, newest first, by keyset: a
    page far down the list costs as little as the first (no OFFSET, no COUNT over the table)."""
    matches = call_search(user=user, filters=filters)
    with_recordings = matches.prefetch_related(
        Prefetch("recordings", queryset=Recording.objects.order_by("started_at", "pk"))
    )
    if before is not None and after is None:
        rows = list(
            with_recordings.filter(_newer_than(before)).order_by("started_at", "pk")[: limit + 1]
        )
        has_newer = len(rows) > limit
        calls = list(reversed(rows[:limit]))
        has_older = bool(calls) and matches.filter(_older_than(Cursor.of(calls[-1]))).exists()
    else:
        page = with_recordings.order_by("-started_at", "-pk")
        if after is not None:
            page = page.filter(_older_than(after))
        rows = list(page[: limit + 1])
        has_older = len(rows) > limit
        calls = rows[:limit]
        has_newer = (
            after is not None
            and bool(calls)
            and matches.filter(_newer_than(Cursor.of(calls[0]))).exists()
        )
    count = matches.order_by().values("pk")[: COUNT_CAP + 1].count()
    return SearchPage(
        calls=calls,
        newer=Cursor.of(calls[0]) if has_newer else None,
        older=Cursor.of(calls[-1]) if has_older else None,
        count=min(count, COUNT_CAP),
        more_than_cap=count > COUNT_CAP,
    )


def recording_file(recording: Recording) -> Path | None:
    """The recording's file, or None when its path leads outside RECORDINGS_DIR (never serve
    or delete such a file: `..`, an absolute path or a symbolic link pointing out)."""
    root = Path(settings.RECORDINGS_DIR).resolve()
    try:
        path = (root / recording.path).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if path == root or not path.is_relative_to(root):
        log.warning("recording %s: path %r is outside %s", recording.pk, recording.path, root)
        return None
    return path


# --- services ---------------------------------------------------------------------------------


def _label(recording: Recording) -> str:
    call = recording.call
    started = timezone.localtime(recording.started_at)
    return f"{started:%Y-%m-%d %H:%M:%S} {call.caller} → {call.callee}"[:200]


def _audit_data(recording: Recording) -> dict[str, Any]:
    return {
        "call_id": recording.call_id,
        "path": recording.path,
        "agent_id": recording.call.agent_id,
    }


def recording_access_log(
    *, actor: Any, recording: Recording, action: str, request: HttpRequest | None = None
) -> bool:
    """Log a play ("recording.play": once per PLAY_LOG_WINDOW for a user and recording) or a
    download ("recording.download": each one). Whether a row was written."""
    from aqualine.core.models import AuditEvent

    if action == "recording.play":
        recent = AuditEvent.objects.filter(
            target_type="recording",
            target_id=str(recording.pk),
            action=action,
            actor=actor,
            at__gte=timezone.now() - PLAY_LOG_WINDOW,
        )
        if recent.exists():
            return False
    audit_record(
        actor=actor,
        action=action,
        target=recording,
        target_label=_label(recording),
        data=_audit_data(recording),
        request=request,
    )
    return True


def _unlink(recording: Recording) -> bool:
    """Remove the recording's file; False when it could not be removed."""
    path = recording_file(recording)
    if path is None:
        return True  # nothing of ours to remove: the row is marked deleted all the same
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("could not delete recording file %s", path)
        return False
    return True


@dataclass(frozen=True)
class DeleteResult:
    deleted: int
    in_progress: int  # still being recorded: not deleted
    failed: int  # the file could not be removed: not deleted


def recording_delete(
    *, actor: Any, recording_ids: Iterable[int], request: HttpRequest | None = None
) -> DeleteResult:
    """Delete recordings `actor` may play: remove the files, mark the rows (the call record and
    the recording row stay, with deleted_at and deleted_by) and audit each one."""
    if not actor.has_perm(RecordingPerm.DELETE):
        raise PermissionDenied
    now = timezone.now()
    deleted = in_progress = failed = 0
    with transaction.atomic():
        chosen = (
            recordings_visible_to(actor)
            .filter(pk__in=list(recording_ids), deleted_at__isnull=True)
            .select_related("call")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        for recording in chosen:
            if not recording.complete:
                in_progress += 1
                continue
            if not _unlink(recording):
                failed += 1
                continue
            recording.deleted_at = now
            recording.deleted_by = f"{actor.agent_id} {actor.name}".strip()[:100]
            recording.save(update_fields=["deleted_at", "deleted_by"])
            audit_record(
                actor=actor,
                action="recording.delete",
                target=recording,
                target_label=_label(recording),
                data=_audit_data(recording),
                request=request,
            )
            deleted += 1
    return DeleteResult(deleted, in_progress, failed)


def recording_prune(*, now: datetime, batch_size: int = 500, dry_run: bool = False) -> int:
    """The retention policy: delete the recordings that started more than
    `communication.recording_retention_days` before `now` (0 keeps them for ever). The number
    deleted (or, with dry_run, that would be)."""
    days = int(param("communication.recording_retention_days"))
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    due = Recording.objects.filter(deleted_at__isnull=True, started_at__lt=cutoff)
    if dry_run:
        return due.count()
    deleted = 0
    failed: list[int] = []
    while True:
        with transaction.atomic():
            chunk = list(
                due.exclude(pk__in=failed)
                .select_for_update()
                .order_by("started_at", "pk")[:batch_size]
            )
            if not chunk:
                break
            done = []
            for recording in chunk:
                if _unlink(recording):
                    done.append(recording.pk)
                else:
                    failed.append(recording.pk)
            Recording.objects.filter(pk__in=done).update(deleted_at=now, deleted_by=PRUNED_BY)
            deleted += len(done)
    if deleted or failed:
        audit_record(
            actor=None,
            action="recording.prune",
            target_type="recording",
            target_label=f"< {timezone.localtime(cutoff):%Y-%m-%d %H:%M}",
            data={"days": days, "cutoff": cutoff.isoformat(), "count": deleted, "failed": failed},
        )
    return deleted


# --- serving a file with HTTP Range requests (RFC 9110 §14) ------------------------------------


class RangeNotSatisfiable(Exception):
    pass


_BYTE_RANGE = re.compile(r"(\d{0,18})-(\d{0,18})")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte, inclusive, that a Range header asks for, or None for the whole
    file (no header, another unit, or several ranges, which a server may answer whole). A
    malformed or unsatisfiable byte range raises RangeNotSatisfiable (416)."""
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    match = _BYTE_RANGE.fullmatch(spec.strip())
    if match is None or not (match[1] or match[2]):
        raise RangeNotSatisfiable
    if not match[1]:  # a suffix: the last N bytes
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(match[1])
    last = int(match[2]) if match[2] else size - 1
    if last < first or first >= size:
        raise RangeNotSatisfiable
    return first, min(last, size - 1)


class _FilePart:
    """Bytes first..last of an open file, streamed in chunks; closes the file when done."""

    def __init__(self, handle: IO[bytes], first: int, length: int) -> None:
        self.handle, self.first, self.length = handle, first, length

    def _read(self, left: int) -> bytes:
        return self.handle.read(min(CHUNK_BYTES, left))

    def close(self) -> None:
        self.handle.close()


class _SyncFilePart(_FilePart):
    def __iter__(self) -> Iterator[bytes]:
        try:
            self.handle.seek(self.first)
            left = self.length
            while left > 0:
                chunk = self._read(left)
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            self.close()


class _AsyncFilePart(_FilePart):
    """Under ASGI a sync iterator would be read whole into memory first: read in a thread."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            await asyncio.to_thread(self.handle.seek, self.first)
            left = self.length
            while left > 0:
                chunk = await asyncio.to_thread(self._read, left)
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            self.close()


def _missing(request: HttpRequest, recording: Recording | None, reason: str) -> HttpResponse:
    return render(
        request,
        "callcenter/recording_missing.html",
        {"recording": recording, "reason": reason, "pruned_by": PRUNED_BY},
        status=404,
    )


def serve_recording(
    request: HttpRequest, recording: Recording, *, download: bool
) -> HttpResponseBase:
    """The recording's WAV file: whole (200), or the byte range asked for (206, 416)."""
    if recording.deleted_at is not None:
        return _missing(request, recording, "deleted")
    path = recording_file(recording)
    if path is None:
        return _missing(request, recording, "refused")
    try:
        handle = path.open("rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return _missing(request, recording, "missing")
    try:
        stat = os.fstat(handle.fileno())
        size = stat.st_size
        etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
        last_modified = http_date(stat.st_mtime)
        byte_range = None
        header = request.headers.get("Range", "")
        if_range = request.headers.get("If-Range")
        if header and not download and (if_range is None or if_range in (etag, last_modified)):
            byte_range = parse_range(header, size)
    except RangeNotSatisfiable:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    except BaseException:
        handle.close()
        raise
    first, last = byte_range if byte_range is not None else (0, size - 1)
    length = max(0, last - first + 1)
    response: HttpResponseBase
    if request.method == "HEAD":
        handle.close()
        response = HttpResponse(status=206 if byte_range else 200)
    else:
        part_class = _AsyncFilePart if isinstance(request, ASGIRequest) else _SyncFilePart
        response = StreamingHttpResponse(
            part_class(handle, first, length), status=206 if byte_range else 200
        )
        recording_access_log(
            actor=request.user,
            recording=recording,
            action="recording.download" if download else "recording.play",
            request=request,
        )
    response["Content-Type"] = "audio/wav"
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if byte_range is not None:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["ETag"] = etag
    response["Last-Modified"] = last_modified
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    disposition = content_disposition_header(download, download_name(recording))
    if disposition:
        response["Content-Disposition"] = disposition
    return response


def download_name(recording: Recording) -> str:
    call = recording.call
    started = timezone.localtime(recording.started_at)
    parts = [f"{started:%Y%m%d-%H%M%S}", call.caller, call.callee]
    if recording.kind == Recording.Kind.MESSAGE:
        parts.append("message")
    name = "_".join(re.sub(r"[^0-9A-Za-z+-]", "", part) for part in parts if part)
    return f"{name or 'recording'}.wav"


# --- views ------------------------------------------------------------------------------------

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def require_any_perm(*perms: str) -> Callable[[View], View]:
    """Like `aqualine.core.auth.require_perm`, but one of `perms` is enough."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm(perm) for perm in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_perms = perms  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


LISTEN_PERMS = (RecordingPerm.LISTEN, RecordingPerm.LISTEN_ALL)


def _visible_recording(request: HttpRequest, pk: int) -> Recording | None:
    return recordings_visible_to(request.user).select_related("call").filter(pk=pk).first()


def _page_link(request: HttpRequest, key: str, cursor: Cursor) -> str:
    query = request.GET.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    query[key] = cursor.encode()
    return f"?{query.urlencode()}"


@require_any_perm(*LISTEN_PERMS)
@require_http_methods(["GET", "HEAD"])
def recording_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_listen_all = user.has_perm(RecordingPerm.LISTEN_ALL)
    form = RecordingSearchForm(request.GET or None)
    if not can_listen_all:
        form.fields.pop("agent_id")
    page: SearchPage | None = None
    if not form.is_bound or form.is_valid():
        page = recording_search(
            user=user,
            filters=form.filters(),
            after=Cursor.decode(request.GET.get("after")),
            before=Cursor.decode(request.GET.get("before")),
            limit=int(param("basic.page_size")),
        )
    return render(
        request,
        "callcenter/recording_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(call, OUTCOME_LABELS.get(call.outcome, call.outcome)) for call in page.calls]
            if page
            else [],
            "count_cap": COUNT_CAP,
            "newer_url": _page_link(request, "before", page.newer) if page and page.newer else "",
            "older_url": _page_link(request, "after", page.older) if page and page.older else "",
            "can_listen_all": can_listen_all,
            "can_download": user.has_perm(RecordingPerm.DOWNLOAD),
            "can_delete": user.has_perm(RecordingPerm.DELETE),
            "pruned_by": PRUNED_BY,
        },
    )


@require_any_perm(*LISTEN_PERMS)
@require_http_methods(["GET", "HEAD"])
def recording_audio(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The recording for the page's player: inline, with Range requests (seeking)."""
    recording = _visible_recording(request, pk)
    if recording is None:
        return _missing(request, None, "unknown")
    return serve_recording(request, recording, download=False)


@require_any_perm(*LISTEN_PERMS)
@require_http_methods(["GET", "HEAD"])
def recording_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    if not request.user.has_perm(RecordingPerm.DOWNLOAD):
        raise PermissionDenied
    recording = _visible_recording(request, pk)
    if recording is None:
        return _missing(request, None, "unknown")
    return serve_recording(request, recording, download=True)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    list_url = reverse("callcenter:recording_list")
    if target.startswith(list_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return list_url


@require_any_perm(RecordingPerm.DELETE)
@require_POST
def recording_delete_view(request: HttpRequest) -> HttpResponse:
    """Delete the recordings ticked in the list, after a confirmation page."""
    back = _safe_next(request)
    ids = [int(value) for value in request.POST.getlist("recording") if value.isdigit()]
    chosen = list(
        recordings_visible_to(request.user)
        .filter(pk__in=ids, deleted_at__isnull=True)
        .select_related("call")
        .order_by("-started_at", "-pk")
    )
    if not chosen:
        messages.error(request, _("Select the recordings to delete."))
        return redirect(back)
    if request.POST.get("confirmed") != "1":
        return render(
            request,
            "callcenter/recording_confirm_delete.html",
            {"recordings": chosen, "next": back},
        )
    result = recording_delete(
        actor=request.user, recording_ids=[r.pk for r in chosen], request=request
    )
    if result.deleted:
        messages.success(
            request,
            ngettext("%(n)d recording deleted.", "%(n)d recordings deleted.", result.deleted)
            % {"n": result.deleted},
        )
    if result.in_progress:
        messages.error(
            request,
            ngettext(
                "%(n)d recording is still being recorded and was not deleted.",
                "%(n)d recordings are still being recorded and were not deleted.",
                result.in_progress,
            )
            % {"n": result.in_progress},
        )
    if result.failed:
        messages.error(
            request,
            ngettext(
                "The file of %(n)d recording could not be removed; it was not deleted.",
                "The files of %(n)d recordings could not be removed; they were not deleted.",
                result.failed,
            )
            % {"n": result.failed},
        )
    return redirect(back)
