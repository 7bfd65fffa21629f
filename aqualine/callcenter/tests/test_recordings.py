"""Recordings (T12–T15, X11): search, play with Range requests, download, delete, retention,
the access log and path safety."""

from __future__ import annotations

import io
import math
import struct
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from aqualine.accounts.models import Department, User
from aqualine.callcenter import recordings
from aqualine.callcenter.models import CallRecord, Recording
from aqualine.callcenter.recordings import (
    Cursor,
    RangeNotSatisfiable,
    call_search,
    parse_range,
    recording_search,
)
from aqualine.conftest import client_for, make_user
from aqualine.core.models import AuditEvent, Parameter
from aqualine.core.parameters import invalidate_cache

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(480))


def tone_wav(seconds: float = 1.0, hz: float = 440.0) -> bytes:
    """A WAV as the switch writes it: 16-bit PCM, 8 kHz, mono."""
    frames = int(8000 * seconds)
    samples = (int(8000 * math.sin(2 * math.pi * hz * n / 8000)) for n in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


@pytest.fixture
def recordings_dir(settings: Any, tmp_path: Path) -> Path:
    directory = tmp_path / "recordings"
    directory.mkdir()
    settings.RECORDINGS_DIR = directory
    return directory


@pytest.fixture
def supervisor(hotline: Department) -> User:
    return make_user("2001", "supervisor", department=hotline, name="王班长")


@pytest.fixture
def other_agent(hotline: Department) -> User:
    return make_user("1002", "agent", department=hotline, name="李娜")


def make_call(
    call_id: str,
    *,
    started_at: datetime = T0,
    agent_id: str = "1001",
    caller: str = "13800138000",
    callee: str = "96000",
    direction: str = CallRecord.Direction.INBOUND,
    outcome: str = "answered",
    talk: float | None = 60.0,
) -> CallRecord:
    return CallRecord.objects.create(
        call_id=call_id,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=(talk or 0) + 20),
        agent_id=agent_id,
        caller=caller,
        callee=callee,
        direction=direction,
        outcome=outcome,
        talk_seconds=talk,
    )


def make_recording(
    directory: Path, call: CallRecord, *, data: bytes | None = None, path: str = ""
) -> Recording:
    path = path or f"{call.started_at:%Y/%m/%d}/{call.call_id}.wav"
    data = tone_wav() if data is None else data
    target = directory / path
    if target.resolve().is_relative_to(directory.resolve()):  # never write outside
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return Recording.objects.create(
        call=call,
        path=path,
        started_at=call.started_at,
        duration_seconds=len(data) / 16000,
        size_bytes=len(data),
        complete=True,
    )


def audio(client: Client, recording: Recording, range_header: str | None = None) -> Any:
    """The player's request; the body is read at once (which closes the file)."""
    headers = {"Range": range_header} if range_header is not None else {}
    response: Any = client.get(f"/callcenter/recordings/{recording.pk}/audio/", headers=headers)
    if response.streaming:
        response.body = b"".join(response.streaming_content)
    return response


def body(response: Any) -> bytes:
    if hasattr(response, "body"):
        return bytes(response.body)
    return b"".join(response.streaming_content)


def in_chinese(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


# --- search -----------------------------------------------------------------------------------


def test_the_search_filters_by_each_field(supervisor: User) -> None:
    make_call("a", started_at=T0, caller="13800000001", talk=30, outcome="answered")
    make_call("b", started_at=T0 + timedelta(hours=1), agent_id="1002", talk=400)
    make_call("c", started_at=T0 + timedelta(days=1), callee="96001", talk=None, outcome="ivr_only")
    make_call(
        "d",
        started_at=T0 + timedelta(days=2),
        direction=CallRecord.Direction.OUTBOUND,
        caller="96000",
        callee="13900000009",
        talk=90,
    )

    def ids(**filters: Any) -> list[str]:
        return [c.call_id for c in recording_search(user=supervisor, filters=filters).calls]

    assert ids() == ["d", "c", "b", "a"]
    assert ids(caller="13800000001") == ["a"]
    assert ids(callee="96001") == ["c"]
    assert ids(callee="13900000009") == ["d"]
    assert ids(direction="outbound") == ["d"]
    assert ids(agent_id="1002") == ["b"]
    assert ids(outcome="ivr_only") == ["c"]
    assert ids(started_from=T0 + timedelta(minutes=30), started_to=T0 + timedelta(days=1)) == [
        "c",
        "b",
    ]
    assert ids(duration_min=60) == ["d", "b"]
    assert ids(duration_min=60, duration_max=120) == ["d"]
    assert ids(duration_max=30) == ["a"]


def test_the_page_applies_the_form_and_shows_form_errors(supervisor: User) -> None:
    make_call("a", caller="13800000001")
    make_call("b", caller="13800000002", started_at=T0 + timedelta(minutes=1))
    client = client_for(supervisor)
    page = client.get("/callcenter/recordings/", {"caller": "13800000002"}).content.decode()
    assert 'data-call="b"' in page and 'data-call="a"' not in page
    page = client.get(
        "/callcenter/recordings/",
        {"started_from": "2026-03-02T10:00", "started_to": "2026-03-02T09:00"},
    ).content.decode()
    assert 'data-call="' not in page and 'role="alert"' in page


def test_only_calls_with_a_kept_recording_when_asked(
    supervisor: User, recordings_dir: Path
) -> None:
    make_call("none")
    make_recording(recordings_dir, make_call("kept", started_at=T0 + timedelta(minutes=1)))
    gone = make_recording(recordings_dir, make_call("gone", started_at=T0 + timedelta(minutes=2)))
    Recording.objects.filter(pk=gone.pk).update(deleted_at=T0)
    found = call_search(user=supervisor, filters={"recorded_only": True})
    assert [c.call_id for c in found] == ["kept"]


def test_keyset_pages_walk_the_whole_list_both_ways(supervisor: User) -> None:
    for n in range(23):  # three calls share each start time: the id breaks the ties
        make_call(f"c{n:02d}", started_at=T0 + timedelta(minutes=n // 3))
    expected = [c.call_id for c in CallRecord.objects.order_by("-started_at", "-pk")]
    seen: list[str] = []
    pages = []
    after = None
    while True:
        page = recording_search(user=supervisor, filters={}, after=after, limit=5)
        pages.append(page)
        seen += [c.call_id for c in page.calls]
        if page.older is None:
            break
        after = Cursor.decode(page.older.encode())
    assert seen == expected and len(pages) == 5
    assert pages[0].newer is None and all(p.newer for p in pages[1:])
    # and back from the last page
    back = recording_search(user=supervisor, filters={}, before=pages[-1].newer, limit=5)
    assert [c.call_id for c in back.calls] == [c.call_id for c in pages[-2].calls]
    assert back.older is not None and back.newer is not None


def test_the_count_stops_at_the_cap(supervisor: User, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(4):
        make_call(f"c{n}", started_at=T0 + timedelta(minutes=n))
    assert recording_search(user=supervisor, filters={}).count == 4
    monkeypatch.setattr(recordings, "COUNT_CAP", 2)
    page = recording_search(user=supervisor, filters={})
    assert page.more_than_cap and page.count == 2
    html = client_for(supervisor).get("/callcenter/recordings/").content.decode()
    assert in_chinese("More than %(n)s calls match.") % {"n": 2} in html


def test_the_cursor_survives_a_round_trip_and_bad_values_are_ignored() -> None:
    cursor = Cursor(datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC), 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "x", "1.2.3", "9" * 40 + ".1", None):
        assert Cursor.decode(bad) is None


# --- who may listen ----------------------------------------------------------------------------


def test_the_seeded_roles_get_the_recording_permissions(
    admin_user: User, supervisor: User, agent: User, handler: User
) -> None:
    all_four = {p.value for p in recordings.RecordingPerm}
    assert admin_user.has_perms(all_four) and supervisor.has_perms(all_four)
    assert agent.has_perm(recordings.RecordingPerm.LISTEN)
    assert not any(agent.has_perm(p) for p in all_four - {recordings.RecordingPerm.LISTEN})
    assert not any(handler.has_perm(p) for p in all_four)
    viewer = make_user("5001", "viewer")
    assert not any(viewer.has_perm(p) for p in all_four)


def test_an_agent_hears_only_their_own_calls(
    agent: User, other_agent: User, recordings_dir: Path
) -> None:
    own = make_recording(recordings_dir, make_call("own", agent_id=agent.agent_id))
    theirs = make_recording(
        recordings_dir,
        make_call("theirs", agent_id=other_agent.agent_id, started_at=T0 + timedelta(minutes=1)),
    )
    client = client_for(agent)
    assert audio(client, own).status_code == 200
    assert audio(client, theirs).status_code == 404
    assert audio(client, theirs, "bytes=0-").status_code == 404
    page = client.get("/callcenter/recordings/").content.decode()
    assert 'data-call="own"' in page and 'data-call="theirs"' not in page
    assert 'name="agent_id"' not in page  # no agent filter: it is always their own
    # asking for the other agent's calls does not help
    page = client.get(
        "/callcenter/recordings/", {"agent_id": other_agent.agent_id}
    ).content.decode()
    assert 'data-call="theirs"' not in page


def test_supervisors_hear_every_call_and_department_handlers_none(
    supervisor: User, handler: User, agent: User, recordings_dir: Path
) -> None:
    recording = make_recording(recordings_dir, make_call("c", agent_id=agent.agent_id))
    assert audio(client_for(supervisor), recording).status_code == 200
    client = client_for(handler)
    assert audio(client, recording).status_code == 403
    assert client.get("/callcenter/recordings/").status_code == 403


def test_the_menu_offers_the_recordings_to_listeners_only(agent: User, handler: User) -> None:
    label = in_chinese("Call recordings")
    assert label in client_for(agent).get("/").content.decode()
    assert label not in client_for(handler).get("/").content.decode()


# --- playing with Range requests ----------------------------------------------------------------


@pytest.fixture
def wav(supervisor: User, recordings_dir: Path) -> tuple[Client, Recording, bytes]:
    data = tone_wav(0.5)
    recording = make_recording(recordings_dir, make_call("c"), data=data)
    return client_for(supervisor), recording, data


def test_the_whole_file_without_a_range(wav: tuple[Client, Recording, bytes]) -> None:
    client, recording, data = wav
    response = audio(client, recording)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/wav"
    assert response["Content-Length"] == str(len(data))
    assert "Content-Range" not in response
    assert response["Content-Disposition"].startswith("inline")
    assert body(response) == data


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=100-199", 100, 199),
        ("bytes=100-", 100, None),
        ("bytes=-500", -500, None),
        ("bytes=0-0", 0, 0),
        ("bytes=7000-99999999", 7000, None),  # the end is clamped to the file
        ("bytes=-99999999", 0, None),  # a suffix longer than the file: all of it
    ],
)
def test_a_byte_range_is_answered_with_206(
    wav: tuple[Client, Recording, bytes], header: str, first: int, last: int | None
) -> None:
    client, recording, data = wav
    size = len(data)
    expected = data[first : None if last is None else last + 1]
    response = audio(client, recording, header)
    assert response.status_code == 206
    assert body(response) == expected
    start = first % size if first < 0 else first
    assert response["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{size}"
    assert response["Content-Length"] == str(len(expected))
    assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    "header",
    ["bytes=8044-", "bytes=99999-100000", "bytes=200-100", "bytes=-0", "bytes=x-y", "bytes=-"],
)
def test_an_unsatisfiable_or_malformed_range_gets_416(
    wav: tuple[Client, Recording, bytes], header: str
) -> None:
    client, recording, data = wav
    assert len(data) == 8044
    response = audio(client, recording, header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"


def test_other_units_several_ranges_and_a_stale_if_range_get_the_whole_file(
    wav: tuple[Client, Recording, bytes],
) -> None:
    client, recording, data = wav
    for header in ("items=0-5", "bytes=0-5,10-20"):
        response = audio(client, recording, header)
        assert response.status_code == 200 and body(response) == data
    url = f"/callcenter/recordings/{recording.pk}/audio/"
    etag = audio(client, recording)["ETag"]
    fresh = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206 and body(fresh) == data[:10]
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and body(stale) == data


def test_head_answers_the_headers_only(wav: tuple[Client, Recording, bytes]) -> None:
    client, recording, _data = wav
    response = client.head(
        f"/callcenter/recordings/{recording.pk}/audio/", headers={"Range": "bytes=10-19"}
    )
    assert response.status_code == 206 and response["Content-Length"] == "10"
    assert response.content == b""
    assert not AuditEvent.objects.filter(action="recording.play").exists()


def test_under_asgi_the_range_is_streamed_by_an_async_iterator(
    wav: tuple[Client, Recording, bytes], supervisor: User
) -> None:
    import asyncio

    from django.test import AsyncRequestFactory

    _client, recording, data = wav
    request = AsyncRequestFactory().get("/", headers={"Range": "bytes=100-70000"})
    request.user = supervisor
    response = recordings.serve_recording(request, recording, download=False)
    assert response.status_code == 206 and response.is_async  # type: ignore[attr-defined]

    async def read() -> bytes:
        return b"".join([part async for part in response])  # type: ignore[attr-defined]

    assert asyncio.run(read()) == data[100:]


def test_parse_range() -> None:
    assert parse_range("", 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 4)
    assert parse_range("BYTES = 2-", 10) == (2, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    for bad in (
        "bytes=10-",
        "bytes=5-2",
        "bytes=-0",
        "bytes=a-",
        "bytes=1-2-3",
        "bytes=" + "9" * 30,
    ):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(bad, 10)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)  # nothing to send from an empty file


# --- download ---------------------------------------------------------------------------------


def test_downloading_needs_the_permission(
    agent: User, supervisor: User, recordings_dir: Path
) -> None:
    data = tone_wav(0.25)
    recording = make_recording(recordings_dir, make_call("c", agent_id=agent.agent_id), data=data)
    url = f"/callcenter/recordings/{recording.pk}/download/"
    assert client_for(agent).get(url).status_code == 403
    assert url not in client_for(agent).get("/callcenter/recordings/").content.decode()
    assert url in client_for(supervisor).get("/callcenter/recordings/").content.decode()
    response = client_for(supervisor).get(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200  # a download is always the whole file
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="20260302-090000_13800138000_96000.wav"' in response["Content-Disposition"]
    assert body(response) == data


# --- the access log (X11) ----------------------------------------------------------------------


def test_plays_and_downloads_are_logged(
    supervisor: User,
    admin_user: User,
    recordings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recording = make_recording(recordings_dir, make_call("c"))
    client = client_for(supervisor)
    assert audio(client, recording, "bytes=0-").status_code == 206
    assert audio(client, recording, "bytes=4000-").status_code == 206  # a seek: the same play
    plays = AuditEvent.objects.filter(action="recording.play")
    assert plays.count() == 1
    event = plays.get()
    assert event.actor == supervisor and event.target_id == str(recording.pk)
    assert event.target_type == "recording"
    assert event.data["call_id"] == "c" and event.data["agent_id"] == "1001"
    assert event.ip == "127.0.0.1"
    # another listener, and the same one again later, are new plays
    audio(client_for(admin_user), recording)
    later = timezone.now() + recordings.PLAY_LOG_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    audio(client, recording)
    assert [(e.actor_id, e.action) for e in plays.order_by("id")] == [
        (supervisor.pk, "recording.play"),
        (admin_user.pk, "recording.play"),
        (supervisor.pk, "recording.play"),
    ]
    for _ in range(2):
        body(client.get(f"/callcenter/recordings/{recording.pk}/download/"))
    assert AuditEvent.objects.filter(action="recording.download", actor=supervisor).count() == 2
    # refused requests are not plays
    audio(client, recording, "bytes=99999-")
    assert plays.count() == 3


# --- deletion ---------------------------------------------------------------------------------


def test_only_managers_delete_and_the_call_stays_marked(
    agent: User, supervisor: User, recordings_dir: Path
) -> None:
    recording = make_recording(recordings_dir, make_call("c", agent_id=agent.agent_id))
    kept = make_recording(
        recordings_dir,
        make_call("k", agent_id=agent.agent_id, started_at=T0 + timedelta(minutes=1)),
    )
    file = recordings_dir / recording.path
    form = {"recording": [str(recording.pk)], "next": "/callcenter/recordings/?caller=1"}

    assert client_for(agent).post("/callcenter/recordings/delete/", form).status_code == 403
    client = client_for(supervisor)
    confirm = client.post("/callcenter/recordings/delete/", form)
    assert confirm.status_code == 200 and 'name="confirmed"' in confirm.content.decode()
    assert file.exists()

    done = client.post("/callcenter/recordings/delete/", {**form, "confirmed": "1"})
    assert done.status_code == 302 and done["Location"] == "/callcenter/recordings/?caller=1"
    assert not file.exists()
    assert (recordings_dir / kept.path).exists()
    recording.refresh_from_db()
    assert recording.deleted_at is not None and recording.deleted_by == "2001 王班长"
    assert CallRecord.objects.filter(call_id="c").exists()
    assert Recording.objects.filter(pk=recording.pk).exists()
    event = AuditEvent.objects.get(action="recording.delete")
    assert event.actor == supervisor and event.target_id == str(recording.pk)

    page = client.get("/callcenter/recordings/").content.decode()
    assert in_chinese("Recording deleted") in page and 'data-call="c"' in page
    gone = audio(client, recording)
    assert gone.status_code == 404 and "2001 王班长" in gone.content.decode()
    # deleting it again does nothing
    client.post("/callcenter/recordings/delete/", {**form, "confirmed": "1"})
    assert AuditEvent.objects.filter(action="recording.delete").count() == 1


def test_a_recording_in_progress_is_not_deleted(supervisor: User, recordings_dir: Path) -> None:
    recording = make_recording(recordings_dir, make_call("c"))
    Recording.objects.filter(pk=recording.pk).update(complete=False)
    result = recordings.recording_delete(actor=supervisor, recording_ids=[recording.pk])
    assert (result.deleted, result.in_progress) == (0, 1)
    assert (recordings_dir / recording.path).exists()


def test_a_manager_cannot_delete_through_another_next_url(
    supervisor: User, recordings_dir: Path
) -> None:
    recording = make_recording(recordings_dir, make_call("c"))
    response = client_for(supervisor).post(
        "/callcenter/recordings/delete/",
        {"recording": [str(recording.pk)], "confirmed": "1", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/callcenter/recordings/"


# --- retention --------------------------------------------------------------------------------


def test_the_retention_policy_deletes_old_recordings(
    recordings_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = datetime(2028, 3, 2, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    old = make_recording(
        recordings_dir, make_call("old", started_at=frozen - timedelta(days=730, seconds=1))
    )
    young = make_recording(
        recordings_dir, make_call("young", started_at=frozen - timedelta(days=729, hours=23))
    )
    out = io.StringIO()
    call_command("prune_recordings", "--dry-run", stdout=out)
    assert "would delete 1 recording" in out.getvalue()
    assert (recordings_dir / old.path).exists()

    call_command("prune_recordings", stdout=io.StringIO())
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.deleted_at == frozen and old.deleted_by == recordings.PRUNED_BY
    assert not (recordings_dir / old.path).exists()
    assert young.deleted_at is None and (recordings_dir / young.path).exists()
    assert CallRecord.objects.filter(call_id="old").exists()
    event = AuditEvent.objects.get(action="recording.prune")
    assert event.actor is None and event.data["count"] == 1 and event.data["days"] == 730

    # 0 days keeps every recording
    Parameter.objects.create(key="communication.recording_retention_days", value=0)
    invalidate_cache()
    monkeypatch.setattr(timezone, "now", lambda: frozen + timedelta(days=3650))
    out = io.StringIO()
    call_command("prune_recordings", stdout=out)
    young.refresh_from_db()
    assert young.deleted_at is None and "kept for ever" in out.getvalue()


def test_the_worker_runs_the_retention_policy_daily() -> None:
    from aqualine.jobs import JOBS

    assert any(j.command == ("prune_recordings",) and j.every_seconds == 86400 for j in JOBS)


# --- path safety ------------------------------------------------------------------------------


def test_a_path_outside_the_recordings_directory_is_never_served(
    supervisor: User, recordings_dir: Path
) -> None:
    secret = recordings_dir.parent / "secret.wav"
    secret.write_bytes(b"RIFF secret")
    (recordings_dir / "link.wav").symlink_to(secret)
    client = client_for(supervisor)
    for n, path in enumerate(["../secret.wav", str(secret), "a/../../secret.wav", "link.wav"]):
        recording = make_recording(
            recordings_dir,
            make_call(f"c{n}", started_at=T0 + timedelta(minutes=n)),
            path=path,
            data=b"",
        )
        for url in ("audio", "download"):
            response = client.get(f"/callcenter/recordings/{recording.pk}/{url}/")
            assert response.status_code == 404, (path, url)
            assert b"secret" not in response.content
        recordings.recording_delete(actor=supervisor, recording_ids=[recording.pk])
    assert secret.read_bytes() == b"RIFF secret"
    assert not AuditEvent.objects.filter(action="recording.play").exists()


def test_a_missing_file_is_a_clear_404(supervisor: User, recordings_dir: Path) -> None:
    recording = make_recording(recordings_dir, make_call("c"))
    (recordings_dir / recording.path).unlink()
    response = audio(client_for(supervisor), recording)
    assert response.status_code == 404
    message = in_chinese("The file of this recording is missing from the recordings directory.")
    assert message in response.content.decode()
    assert audio(client_for(supervisor), Recording(pk=999)).status_code == 404


# --- a real browser (last in the module: the browser's event loop stays until the module ends) --


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_finds_an_agents_call_and_plays_it_with_range_requests(
    asgi_live_server: Any, new_page: Any, recordings_dir: Path, hotline: Department
) -> None:
    from aqualine.conftest import PASSWORD, wait_until

    supervisor = make_user("2001", "supervisor", department=hotline, name="王班长")
    make_recording(recordings_dir, make_call("mine", agent_id="1001"), data=tone_wav(1.0, 1000))
    wanted = make_recording(
        recordings_dir,
        make_call("wanted", agent_id="1002", started_at=T0 - timedelta(hours=1)),
        data=tone_wav(3.0, 440),
    )
    base = asgi_live_server.url
    page = new_page()
    audio_responses: list[Any] = []
    page.on(
        "response",
        lambda response: audio_responses.append(response) if "/audio/" in response.url else None,
    )
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(supervisor.agent_id)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    page.locator("nav.sidebar a[href='/callcenter/recordings/']").click()
    page.wait_for_url(f"{base}/callcenter/recordings/")
    page.locator("#id_agent_id").fill("1002")
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url("**/callcenter/recordings/?*agent_id=1002*")
    rows = page.locator("#recordings tbody tr[data-call]")
    assert rows.count() == 1 and rows.first.get_attribute("data-call") == "wanted"
    player = rows.first.locator("audio")
    assert player.get_attribute("preload") == "none"
    assert not audio_responses  # nothing fetched before the user plays

    player.click()  # a user gesture, so that the page may play sound
    page.evaluate("document.querySelector('#recordings audio').play()")
    page.wait_for_function("document.querySelector('#recordings audio').currentTime > 0.3")
    page.evaluate("document.querySelector('#recordings audio').currentTime = 2.5")  # seek
    page.wait_for_function("document.querySelector('#recordings audio').currentTime > 2.6")

    assert all(f"/callcenter/recordings/{wanted.pk}/audio/" in r.url for r in audio_responses)
    partial = [r for r in audio_responses if r.status == 206]
    assert partial, [(r.status, r.url) for r in audio_responses]
    first = partial[0]
    assert first.request.all_headers().get("range", "").startswith("bytes=")
    size = (recordings_dir / wanted.path).stat().st_size
    assert first.all_headers()["content-range"].endswith(f"/{size}")
    wait_until(
        lambda: AuditEvent.objects.filter(action="recording.play", actor=supervisor).exists(),
        what="the play to be logged",
    )
