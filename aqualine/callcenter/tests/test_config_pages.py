"""The call-centre configuration pages: queues, IVR flows and voice prompts."""

from __future__ import annotations

import copy
import io
import json
import math
import wave
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aqualine.accounts.models import Department, User
from aqualine.callcenter.models import IvrFlow, Queue
from aqualine.callcenter.ports import OrmDirectory
from aqualine.conftest import PASSWORD, client_for, make_user
from aqualine.telephony.ivr.default_flow import default_flow_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_directories(settings: Any, tmp_path: Path) -> None:
    settings.PROMPTS_DIR = tmp_path / "prompts"
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def supervisor(hotline: Department) -> User:
    return make_user("1009", "supervisor", department=hotline, name="班长")


@pytest.fixture
def agents(hotline: Department, repair: Department) -> list[User]:
    return [
        make_user("1001", "agent", department=hotline, name="张敏"),
        make_user("1002", "agent", department=hotline, name="李娜"),
        make_user("2001", "agent", department=repair, name="王工"),
    ]


@pytest.fixture
def demo_flow(db: None) -> IvrFlow:
    Queue.objects.create(name="hotline", display_name="热线队列")
    return IvrFlow.objects.create(number="96000", name="热线主流程", data=default_flow_data())


def _queue_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "billing",
        "display_name": "收费咨询",
        "wrap_up_seconds": "",
        "ring_seconds": "20",
        "max_wait_seconds": "",
        "overflow": "",
        "overflow_target": "",
        "announce_seconds": "30",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def _wav(seconds: float, rate: int = 44100, channels: int = 2) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = (8000 * np.sin(2 * math.pi * 440 * t)).astype("<i2")
    frames = np.repeat(tone[:, None], channels, axis=1) if channels > 1 else tone
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames.tobytes())
    return buffer.getvalue()


def _upload(client: Client, name: str, content: bytes, filename: str = "p.wav", **extra: str):
    return client.post(
        "/callcenter/prompts/upload/",
        {"name": name, "file": SimpleUploadedFile(filename, content), **extra},
    )


# --- queues -------------------------------------------------------------------------------------


def test_an_administrator_creates_a_queue_with_members_chosen_by_department(
    admin_client: Client, agents: list[User]
) -> None:
    page = admin_client.get("/callcenter/queues/new/").content.decode()
    assert "热线中心" in page and "管网维修部" in page
    assert "1001 张敏" in page and "2001 王工" in page

    response = admin_client.post(
        "/callcenter/queues/new/",
        _queue_post(members=[agents[0].pk, agents[2].pk], wrap_up_seconds="45"),
    )
    assert response.status_code == 302
    queue = Queue.objects.get(name="billing")
    assert sorted(queue.members.values_list("agent_id", flat=True)) == ["1001", "2001"]
    assert (queue.wrap_up_seconds, queue.ring_seconds, queue.announce_seconds) == (45, 20, 30)

    listing = admin_client.get("/callcenter/queues/").content.decode()
    assert "收费咨询" in listing and "1001 张敏" in listing
    # the switch reads it as configured
    (config,) = OrmDirectory().queues()
    assert config.name == "billing" and sorted(config.members) == ["1001", "2001"]
    assert config.wrap_up_seconds == 45 and config.overflow is None


def test_queue_settings_are_checked_with_chinese_messages(admin_client: Client) -> None:
    Queue.objects.create(name="billing", display_name="收费")
    cases = [
        (_queue_post(name="Billing!"), "队列名由小写字母、数字、- 或 _ 组成，并以字母开头。"),
        (_queue_post(), "已有同名的队列。"),
        (
            _queue_post(name="night", max_wait_seconds="120", overflow="transfer"),
            "请输入转接的号码。",
        ),
        (
            _queue_post(
                name="night", max_wait_seconds="120", overflow="transfer", overflow_target="80a4"
            ),
            "80a4 不是电话号码。",
        ),
        (_queue_post(name="night", overflow="message"), "请填写最长等待时间"),
        (_queue_post(name="night", max_wait_seconds="120"), "请选择等待超过最长时间后的处理方式。"),
        (_queue_post(name="night", announce_seconds="5"), "播报间隔至少 10 秒"),
    ]
    for data, message in cases:
        page = admin_client.post("/callcenter/queues/new/", data).content.decode()
        assert message in page, message
    assert list(Queue.objects.values_list("name", flat=True)) == ["billing"]

    response = admin_client.post(
        "/callcenter/queues/new/",
        _queue_post(
            name="night", max_wait_seconds="120", overflow="transfer", overflow_target="8004"
        ),
    )
    assert response.status_code == 302
    (night,) = [q for q in OrmDirectory().queues() if q.name == "night"]
    assert night.max_wait_seconds == 120
    assert night.overflow is not None and night.overflow.target == "8004"


def test_a_queue_that_a_flow_uses_cannot_be_disabled_renamed_or_deleted(
    admin_client: Client, demo_flow: IvrFlow
) -> None:
    queue = Queue.objects.get(name="hotline")
    url = f"/callcenter/queues/{queue.pk}/"
    page = admin_client.get(url).content.decode()
    assert "96000 热线主流程" in page

    disabled = _queue_post(name="hotline", display_name="热线", version=queue.version)
    del disabled["enabled"]
    page = admin_client.post(url, disabled).content.decode()
    assert "该队列不能停用" in page and "96000 热线主流程" in page
    renamed = admin_client.post(url, _queue_post(name="hotline2", version=queue.version))
    assert "请先修改这些流程中的队列节点" in renamed.content.decode()
    response = admin_client.post(f"{url}delete/", {"version": queue.version}, follow=True)
    assert "该队列不能删除" in response.content.decode()
    queue.refresh_from_db()
    assert (queue.name, queue.enabled, queue.version) == ("hotline", True, 1)

    # once no flow names it, it can go
    data = copy.deepcopy(demo_flow.data)
    for node in data["nodes"]:
        if node["type"] == "queue":
            node["params"]["queue"] = "other"
    IvrFlow.objects.filter(pk=demo_flow.pk).update(data=data)
    response = admin_client.post(f"{url}delete/", {"version": queue.version})
    assert response.status_code == 302
    assert not Queue.objects.filter(pk=queue.pk).exists()


def test_a_concurrent_queue_edit_gets_the_conflict_message_and_keeps_the_input(
    admin_client: Client, agents: list[User]
) -> None:
    queue = Queue.objects.create(name="billing", display_name="收费")
    url = f"/callcenter/queues/{queue.pk}/"
    other = client_for(make_user("admin2", "admin", name="另一位管理员"))
    assert other.post(url, _queue_post(display_name="收费（白班）", version=1)).status_code == 302

    page = admin_client.post(
        url, _queue_post(display_name="收费咨询组", members=[agents[1].pk], version=1)
    ).content.decode()
    assert "其他人已修改了这条记录" in page
    assert 'value="收费咨询组"' in page  # what this editor typed is still in the form
    assert f'value="{agents[1].pk}" checked' in page
    queue.refresh_from_db()
    assert queue.display_name == "收费（白班）" and queue.version == 2
    assert not queue.members.exists()


# --- IVR flows ----------------------------------------------------------------------------------


def _flow_post(flow: IvrFlow, data: object, **overrides: Any) -> dict[str, Any]:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=2)
    post = {
        "version": flow.version,
        "number": flow.number,
        "name": flow.name,
        "enabled": "on",
        "flow_json": text,
        "action": "save",
    }
    post.update(overrides)
    return post


def test_a_flow_with_an_error_is_refused_naming_the_node_and_keeping_the_text(
    admin_client: Client, demo_flow: IvrFlow
) -> None:
    data = copy.deepcopy(demo_flow.data)
    menu = next(n for n in data["nodes"] if n["id"] == "main_menu")
    menu["edges"]["4"] = "nowhere"
    text = json.dumps(data, ensure_ascii=False, indent=2)

    response = admin_client.post(
        f"/callcenter/flows/{demo_flow.pk}/edit/", _flow_post(demo_flow, text)
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "流程有 1 处错误（见下方列表），未保存。" in page
    assert "节点“main_menu”（主菜单） · 出口“按键 4”：指向 “nowhere”，但流程中没有这个节点" in page
    assert escape(text) in page  # the editor keeps the user's text
    demo_flow.refresh_from_db()
    assert demo_flow.data == default_flow_data() and demo_flow.version == 1


def test_text_that_is_not_json_is_refused_with_the_line_and_column(
    admin_client: Client, demo_flow: IvrFlow
) -> None:
    text = '{\n  "version": 1,\n  "start": "a"\n  "nodes": []\n}'
    page = admin_client.post(
        f"/callcenter/flows/{demo_flow.pk}/edit/", _flow_post(demo_flow, text)
    ).content.decode()
    assert "不是有效的 JSON：第 4 行第 3 列：缺少逗号。" in page
    assert 'data-error-line="4"' in page
    assert escape(text) in page


def test_a_valid_edit_is_saved_and_the_switch_reads_it(
    admin_client: Client, demo_flow: IvrFlow
) -> None:
    data = copy.deepcopy(demo_flow.data)
    info = next(n for n in data["nodes"] if n["id"] == "info")
    info["params"]["prompt"] = {"tts": "营业厅周六也办公。"}

    response = admin_client.post(
        f"/callcenter/flows/{demo_flow.pk}/edit/", _flow_post(demo_flow, data, name="新流程")
    )
    assert response.status_code == 302
    assert OrmDirectory().ivr_flow("96000") == data
    demo_flow.refresh_from_db()
    assert demo_flow.version == 2 and demo_flow.name == "新流程"
    page = admin_client.get(f"/callcenter/flows/{demo_flow.pk}/").content.decode()
    assert "营业厅周六也办公。" in page


def test_warnings_are_shown_but_do_not_stop_the_save(
    admin_client: Client, demo_flow: IvrFlow
) -> None:
    data = copy.deepcopy(demo_flow.data)
    data["nodes"].append(
        {
            "id": "orphan",
            "type": "play",
            "label": "孤立节点",
            "params": {"prompt": {"file": "no_such_prompt"}},
            "edges": {"next": "end"},
        }
    )
    agent_queue = next(n for n in data["nodes"] if n["id"] == "agent_queue")
    agent_queue["params"]["queue"] = "missing"
    response = admin_client.post(
        f"/callcenter/flows/{demo_flow.pk}/edit/", _flow_post(demo_flow, data), follow=True
    )
    page = response.content.decode()
    assert "已保存，有 3 条提醒" in page
    assert "节点“orphan”（孤立节点）：从起点无法到达此节点" in page
    assert "没有队列“missing”" in page
    assert "没有语音提示“no_such_prompt”" in page
    demo_flow.refresh_from_db()
    assert demo_flow.data == data


def test_a_concurrent_flow_edit_is_refused_and_the_text_kept(
    admin_client: Client, demo_flow: IvrFlow
) -> None:
    first = copy.deepcopy(demo_flow.data)
    first["name"] = "第一位"
    second = copy.deepcopy(demo_flow.data)
    second["name"] = "第二位"
    url = f"/callcenter/flows/{demo_flow.pk}/edit/"
    assert admin_client.post(url, _flow_post(demo_flow, first)).status_code == 302
    text = json.dumps(second, ensure_ascii=False, indent=2)
    page = admin_client.post(url, _flow_post(demo_flow, text)).content.decode()
    assert "其他人已修改了这条记录" in page
    assert escape(text) in page
    demo_flow.refresh_from_db()
    assert demo_flow.data["name"] == "第一位"


def test_reset_puts_the_demo_flow_in_the_editor_without_saving(
    admin_client: Client, demo_flow: IvrFlow
) -> None:
    small = {
        "version": 1,
        "start": "bye",
        "nodes": [{"id": "bye", "type": "hangup"}],
    }
    IvrFlow.objects.filter(pk=demo_flow.pk).update(data=small)
    demo_flow.refresh_from_db()
    url = f"/callcenter/flows/{demo_flow.pk}/edit/"
    page = admin_client.post(url, _flow_post(demo_flow, small, action="reset")).content.decode()
    assert "演示流程已放入下方编辑框" in page
    assert escape(json.dumps(default_flow_data(), ensure_ascii=False, indent=2)) in page
    demo_flow.refresh_from_db()
    assert demo_flow.data == small


def test_the_flow_page_reads_as_steps_with_prompts_and_ways_out(
    supervisor: User, demo_flow: IvrFlow
) -> None:
    client = client_for(supervisor)
    listing = client.get("/callcenter/flows/").content.decode()
    assert "96000" in listing and "热线主流程" in listing
    page = client.get(f"/callcenter/flows/{demo_flow.pk}/").content.decode()
    assert "停水信息查询请按1" in page  # the menu's text
    assert "按键菜单" in page and "主菜单" in page
    assert 'href="#node-outage_notices"' in page  # key 1 leads there
    assert "/callcenter/prompts/speak/?text=" in page  # each text can be heard
    assert "/callcenter/prompts/play/?name=welcome" in page
    assert f"/callcenter/flows/{demo_flow.pk}/edit/" not in page
    assert client.get(f"/callcenter/flows/{demo_flow.pk}/edit/").status_code == 403


def test_an_administrator_adds_a_flow_for_another_number(admin_client: Client) -> None:
    response = admin_client.post("/callcenter/flows/new/", {"number": "96001", "name": "备用"})
    assert response.status_code == 302
    assert OrmDirectory().ivr_flow("96001") == default_flow_data()
    page = admin_client.post("/callcenter/flows/new/", {"number": "96001", "name": "x"}).content
    assert "已有 IVR 流程接听 96001" in page.decode()


def test_a_prompt_text_is_spoken_for_the_browser(supervisor: User, settings: Any) -> None:
    client = client_for(supervisor)
    response = client.get("/callcenter/prompts/speak/", {"text": "用户号{account_number:digits}"})
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    body = response.content
    assert body[:4] == b"RIFF"
    with wave.open(io.BytesIO(body)) as reader:
        assert (reader.getframerate(), reader.getnchannels()) == (8000, 1)
        assert reader.getnframes() > 8000 * 0.5
    assert list((Path(settings.VAR_DIR) / "tts-preview").glob("tts-*.wav"))
    assert client.get("/callcenter/prompts/speak/", {"text": "x" * 1001}).status_code == 400


# --- voice prompts ------------------------------------------------------------------------------


def test_an_uploaded_wav_is_stored_as_8khz_mono_and_listed(
    admin_client: Client, settings: Any
) -> None:
    response = _upload(admin_client, "night_notice", _wav(1.5))
    assert response.status_code == 302
    stored = Path(settings.PROMPTS_DIR) / "night_notice.wav"
    with wave.open(str(stored)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert abs(reader.getnframes() - 12000) <= 10
    page = admin_client.get("/callcenter/prompts/").content.decode()
    assert "night_notice" in page and "1.5 s" in page
    audio = admin_client.get("/callcenter/prompts/play/", {"name": "night_notice"})
    assert audio.content == stored.read_bytes()


def test_an_upload_named_like_a_shipped_prompt_takes_its_place(
    admin_client: Client, settings: Any
) -> None:
    response = _upload(admin_client, "welcome", _wav(0.5, rate=8000, channels=1))
    assert response.status_code == 302
    page = admin_client.get("/callcenter/prompts/").content.decode()
    assert "替代同名的内置提示音" in page or "替代内置提示音" in page
    play = "/callcenter/prompts/play/"
    uploaded = admin_client.get(play, {"name": "welcome"}).content
    shipped = admin_client.get(play, {"name": "welcome", "source": "shipped"}).content
    assert uploaded == (Path(settings.PROMPTS_DIR) / "welcome.wav").read_bytes()
    assert uploaded != shipped
    # a second upload of the same name must say that it replaces the first
    page = _upload(admin_client, "welcome", _wav(0.3)).content.decode()
    assert "勾选此项以替换" in page
    assert _upload(admin_client, "welcome", _wav(0.3), replace="on").status_code == 302


def test_files_that_are_not_prompts_are_refused(admin_client: Client, settings: Any) -> None:
    cases = [
        ("notes", b"%PDF-1.4 not audio at all", "notes.pdf", "这不是 WAV 或 MP3 音频文件。"),
        ("big", b"RIFF" + b"\0" * (5 * 1024 * 1024), "big.wav", "文件超过 5 MB。"),
        ("long", _wav(301, rate=8000, channels=1), "long.wav", "提示音超过 5 分钟。"),
        ("broken", b"RIFF\x24\0\0\0WAVEfmt garbage", "broken.wav", "无法解码"),
        ("../evil", _wav(0.2), "evil.wav", "语音提示名称由字母、数字"),
    ]
    for name, content, filename, message in cases:
        response = _upload(admin_client, name, content, filename)
        assert response.status_code == 200, name
        assert message in response.content.decode(), name
    prompts = Path(settings.PROMPTS_DIR)
    assert not prompts.exists() or not list(prompts.iterdir())


def test_a_prompt_in_use_without_a_shipped_fallback_cannot_be_deleted(
    admin_client: Client, demo_flow: IvrFlow, settings: Any
) -> None:
    assert _upload(admin_client, "holiday", _wav(0.2)).status_code == 302
    assert _upload(admin_client, "welcome", _wav(0.2)).status_code == 302
    data = copy.deepcopy(demo_flow.data)
    next(n for n in data["nodes"] if n["id"] == "night_message")["params"]["prompt"] = {
        "file": "holiday"
    }
    IvrFlow.objects.filter(pk=demo_flow.pk).update(data=data)

    response = admin_client.post("/callcenter/prompts/delete/", {"name": "holiday"}, follow=True)
    assert "正在使用" in response.content.decode() and "night_message" in response.content.decode()
    assert (Path(settings.PROMPTS_DIR) / "holiday.wav").exists()
    # "welcome" is used too, but the shipped welcome takes over again
    response = admin_client.post("/callcenter/prompts/delete/", {"name": "welcome"})
    assert response.status_code == 302
    assert not (Path(settings.PROMPTS_DIR) / "welcome.wav").exists()


def test_prompt_names_cannot_leave_the_prompt_directories(admin_client: Client) -> None:
    for name in ("../settings", "..", "/etc/passwd", "a/b", ""):
        response = admin_client.get("/callcenter/prompts/play/", {"name": name})
        assert response.status_code == 404, name
    assert admin_client.post("/callcenter/prompts/delete/", {"name": "../x"}).status_code == 404


# --- permissions --------------------------------------------------------------------------------


def test_agents_get_403_and_supervisors_may_only_read(
    agents: list[User], supervisor: User, demo_flow: IvrFlow
) -> None:
    queue = Queue.objects.get(name="hotline")
    reads = [
        "/callcenter/queues/",
        "/callcenter/flows/",
        f"/callcenter/flows/{demo_flow.pk}/",
        "/callcenter/prompts/",
        "/callcenter/prompts/play/?name=welcome",
    ]
    writes = [
        "/callcenter/queues/new/",
        f"/callcenter/queues/{queue.pk}/",
        f"/callcenter/queues/{queue.pk}/delete/",
        "/callcenter/flows/new/",
        f"/callcenter/flows/{demo_flow.pk}/edit/",
        "/callcenter/prompts/upload/",
        "/callcenter/prompts/delete/",
    ]
    agent = client_for(agents[0])
    for url in [*reads, *writes, "/callcenter/prompts/speak/?text=hi"]:
        assert agent.get(url).status_code in (403, 405), url
        assert agent.post(url, {"name": "x"}).status_code == 403, url
    boss = client_for(supervisor)
    for url in reads:
        assert boss.get(url).status_code == 200, url
    for url in writes:
        assert boss.post(url, {"name": "welcome", "version": 1}).status_code == 403, url
    assert Queue.objects.filter(pk=queue.pk).exists()
    prompts_page = boss.get("/callcenter/prompts/").content.decode()
    assert 'id="prompt-upload"' not in prompts_page


def test_the_menu_lists_the_configuration_pages(supervisor: User, agents: list[User]) -> None:
    page = client_for(supervisor).get("/").content.decode()
    for url in ("/callcenter/queues/", "/callcenter/flows/", "/callcenter/prompts/"):
        assert f'href="{url}"' in page
    assert 'href="/callcenter/flows/"' not in client_for(agents[0]).get("/").content.decode()


# --- a real browser -----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_administrator_fixes_a_flow_error_in_the_browser(
    live_server: Any, new_page: Any, admin_user: User
) -> None:
    Queue.objects.create(name="hotline", display_name="热线队列")
    flow = IvrFlow.objects.create(number="96000", name="热线主流程", data=default_flow_data())
    page = new_page()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")

    page.locator("nav.sidebar").get_by_role("link", name="IVR 流程").click()
    page.get_by_role("link", name="编辑").click()
    editor = page.locator("textarea.flow-json")
    data = json.loads(editor.input_value())
    assert data == default_flow_data()

    broken = copy.deepcopy(data)
    next(n for n in broken["nodes"] if n["id"] == "main_menu")["edges"]["4"] = "nowhere"
    editor.fill(json.dumps(broken, ensure_ascii=False, indent=2))
    page.get_by_role("button", name="保存", exact=True).click()
    issue = page.locator("#flow-issues li.error")
    issue.first.wait_for()
    assert "main_menu" in issue.first.inner_text() and "nowhere" in issue.first.inner_text()
    assert json.loads(editor.input_value()) == broken  # the text was kept
    flow.refresh_from_db()
    assert flow.version == 1

    fixed = copy.deepcopy(broken)
    next(n for n in fixed["nodes"] if n["id"] == "main_menu")["edges"]["4"] = "info"
    editor.fill(json.dumps(fixed, ensure_ascii=False, indent=2))
    # the node editor beside the text writes into it: a prompt's text and a way out
    page.locator("#node-info textarea").fill("营业厅周六也办公。")
    page.locator("#node-main_menu select[aria-label$='重试次数用完仍无有效按键']").select_option(
        "goodbye"
    )
    next(n for n in fixed["nodes"] if n["id"] == "info")["params"]["prompt"] = {
        "tts": "营业厅周六也办公。"
    }
    next(n for n in fixed["nodes"] if n["id"] == "main_menu")["edges"]["exhausted"] = "goodbye"
    assert json.loads(editor.input_value()) == fixed
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_text("IVR 流程 96000 已保存").wait_for()
    assert page.locator("#flow-issues li.error").count() == 0
    assert page.locator("#node-info textarea").input_value() == "营业厅周六也办公。"
    flow.refresh_from_db()
    assert flow.version == 2 and flow.data == fixed
