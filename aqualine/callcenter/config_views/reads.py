"""Reads of the configuration pages: what flows refer to, prompt files, a flow's outline."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aqualine.callcenter.config_views.audio import SHIPPED_PROMPTS_DIR
from aqualine.callcenter.config_views.flow_text import (
    NODE_TYPE_LABELS,
    PARAM_LABELS,
    ShownIssue,
    node_labels,
    outcome_label,
    present_issues,
)
from aqualine.callcenter.models import IvrFlow, Queue
from aqualine.telephony.ivr.flow import PROMPT_FILE, WARNING, validate_flow
from aqualine.telephony.ivr.schema import NODE_TYPES, param_specs

MAX_PREVIEW_CHARS: Final = 1000  # a GET URL of 1000 hanzi stays under the servers' limits


def flow_nodes(data: object) -> Iterator[dict[str, Any]]:
    nodes = data.get("nodes") if isinstance(data, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            yield node


def _params(node: dict[str, Any]) -> dict[str, Any]:
    params = node.get("params")
    return params if isinstance(params, dict) else {}


def queue_nodes(data: object) -> list[tuple[str, str]]:
    """(node id, queue name) of every queue node of a flow's data."""
    return [
        (node["id"], str(_params(node).get("queue", "")))
        for node in flow_nodes(data)
        if node.get("type") == "queue"
    ]


def _prompt_items(value: object) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def file_prompts(data: object) -> list[tuple[str, str, str]]:
    """(node id, parameter, prompt name) of every prompt file a flow plays."""
    found = []
    for node in flow_nodes(data):
        node_type = NODE_TYPES.get(str(node.get("type")))
        if node_type is None:
            continue
        for name, (spec, _default) in param_specs(node_type.params).items():
            if spec.kind != "prompts" or name not in _params(node):
                continue
            for item in _prompt_items(_params(node)[name]):
                if isinstance(item.get("file"), str):
                    found.append((node["id"], name, item["file"]))
    return found


def flows_using_queue(name: str) -> list[IvrFlow]:
    return [f for f in IvrFlow.objects.all() if any(q == name for _n, q in queue_nodes(f.data))]


def flow_names(flows: list[IvrFlow]) -> str:
    return "、".join(f"{f.number} {f.name}" for f in flows)


def uploaded_prompt_file(name: str) -> Path | None:
    """As the switch's PromptLibrary looks it up: the name as it is, or with .wav."""
    directory = Path(settings.PROMPTS_DIR)
    for candidate in (directory / name, directory / f"{name}.wav"):
        if candidate.is_file():
            return candidate
    return None


def shipped_prompt_file(name: str) -> Path | None:
    path = SHIPPED_PROMPTS_DIR / (name if name.endswith(".wav") else f"{name}.wav")
    return path if path.is_file() else None


def valid_prompt_ref(name: str) -> bool:
    return bool(PROMPT_FILE.fullmatch(name)) and ".." not in name


def prompt_exists(name: str) -> bool:
    return valid_prompt_ref(name) and (
        uploaded_prompt_file(name) is not None or shipped_prompt_file(name) is not None
    )


def flow_reference_warnings(data: object) -> list[ShownIssue]:
    """What the schema cannot know: queues and prompt files that do not exist (or are off)."""
    labels = node_labels(data)
    queues = {q.name: q.enabled for q in Queue.objects.all()}
    shown: list[ShownIssue] = []

    def node_place(node_id: str) -> str:
        label = labels.get(node_id, "")
        if label:
            return _("Node “%(node)s” (%(label)s)") % {"node": node_id, "label": label}
        return _("Node “%(node)s”") % {"node": node_id}

    for node_id, queue in queue_nodes(data):
        if queue not in queues:
            text = _(
                "%(place)s: there is no queue “%(queue)s”; callers who get here take the "
                "“failed” way out."
            )
        elif not queues[queue]:
            text = _(
                "%(place)s: the queue “%(queue)s” is disabled; callers who get here take the "
                "“failed” way out."
            )
        else:
            continue
        shown.append(
            ShownIssue(WARNING, node_id, text % {"place": node_place(node_id), "queue": queue})
        )
    for node_id, param, name in file_prompts(data):
        if not prompt_exists(name):
            text = _(
                "%(place)s · %(param)s: there is no voice prompt “%(name)s”; callers hear silence."
            )
            place = node_place(node_id)
            label = PARAM_LABELS.get(param, param)
            shown.append(
                ShownIssue(WARNING, node_id, text % {"place": place, "param": label, "name": name})
            )
    return shown


def flow_issues(data: object) -> list[ShownIssue]:
    return present_issues(validate_flow(data), data) + flow_reference_warnings(data)


@dataclass
class OutlinePrompt:
    kind: str  # "tts" or "file"
    text: str
    url: str
    path: str  # where it sits in the node, as JSON: ["params", "prompt", 0, "tts"]
    exists: bool = True


@dataclass
class OutlineEdge:
    how: str  # the way out as a sentence: "key 1", "otherwise"
    outcome: str
    target: str
    target_label: str
    exists: bool

    @property
    def path(self) -> str:
        return json.dumps(["edges", self.outcome], ensure_ascii=False)


@dataclass
class OutlineNode:
    id: str
    type: str
    type_label: str
    label: str
    is_start: bool
    prompts: list[tuple[str, list[OutlinePrompt]]] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)
    edges: list[OutlineEdge] = field(default_factory=list)
    issues: list[ShownIssue] = field(default_factory=list)


def _tts_url(text: str) -> str:
    if len(text) > MAX_PREVIEW_CHARS:
        return ""
    return reverse("callcenter:prompt_tts") + "?" + urlencode({"text": text})


def _prompt_url(name: str) -> str:
    return reverse("callcenter:prompt_audio") + "?" + urlencode({"name": name})


def _setting_text(value: object) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        return ", ".join(f"{k} = {v}" for k, v in value.items())
    if value == "":
        return _("none")
    return str(value)


def _outline_prompts(param: str, value: object) -> list[OutlinePrompt]:
    items: list[tuple[int | None, object]] = (
        list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    )
    played = []
    for index, prompt in items:
        if not isinstance(prompt, dict):
            continue
        base: list[object] = ["params", param] if index is None else ["params", param, index]
        if isinstance(prompt.get("tts"), str):
            text = prompt["tts"]
            path = json.dumps([*base, "tts"], ensure_ascii=False)
            played.append(OutlinePrompt("tts", text, _tts_url(text), path))
        elif isinstance(prompt.get("file"), str):
            name = prompt["file"]
            exists = prompt_exists(name)
            path = json.dumps([*base, "file"], ensure_ascii=False)
            played.append(
                OutlinePrompt("file", name, _prompt_url(name) if exists else "", path, exists)
            )
    return played


def flow_outline(data: object, issues: list[ShownIssue]) -> list[OutlineNode]:
    """The flow's nodes in order, as a non-programmer reads them: what plays, what is set,
    where each way out leads."""
    start = data.get("start") if isinstance(data, dict) else None
    labels = node_labels(data)
    outline = []
    for node in flow_nodes(data):
        type_name = str(node.get("type", ""))
        node_type = NODE_TYPES.get(type_name)
        params = _params(node)
        item = OutlineNode(
            id=node["id"],
            type=type_name,
            type_label=str(NODE_TYPE_LABELS.get(type_name, type_name)),
            label=labels.get(node["id"], ""),
            is_start=node["id"] == start,
            issues=[i for i in issues if i.node == node["id"]],
        )
        specs = param_specs(node_type.params) if node_type is not None else {}
        for name, value in params.items():
            label = str(PARAM_LABELS.get(name, name))
            spec = specs.get(name)
            if spec is not None and spec[0].kind == "prompts":
                item.prompts.append((label, _outline_prompts(name, value)))
            else:
                item.settings.append((label, _setting_text(value)))
        edges = node.get("edges")
        var = str(params.get("var", ""))
        for outcome, target in (edges if isinstance(edges, dict) else {}).items():
            how = outcome_label(str(outcome), type_name, var)
            target = str(target)
            item.edges.append(
                OutlineEdge(how, str(outcome), target, labels.get(target, ""), target in labels)
            )
        outline.append(item)
    return outline


def pretty_json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


@dataclass
class PromptRow:
    name: str
    path: Path
    size: int
    seconds: float | None
    modified: datetime
    overrides: bool = False  # an uploaded prompt named like a shipped one
    overridden: bool = False  # a shipped prompt an upload replaces
    used_by: list[str] = field(default_factory=list)


def _seconds(path: Path) -> float | None:
    try:
        with wave.open(str(path), "rb") as reader:
            return reader.getnframes() / float(reader.getframerate() or 1)
    except (wave.Error, EOFError, OSError):
        return None


def prompt_rows(directory: Path) -> list[PromptRow]:
    if not directory.is_dir():
        return []
    rows = []
    for path in sorted(p for p in directory.glob("*.wav") if not p.name.startswith(".")):
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        rows.append(PromptRow(path.stem, path, stat.st_size, _seconds(path), modified))
    return rows


def prompt_users(name: str) -> list[str]:
    """Where a prompt name is used: "96000 热线主流程 · welcome", "queue hotline"."""
    users = []
    for flow in IvrFlow.objects.all():
        nodes = sorted(
            {n for n, _p, file in file_prompts(flow.data) if file in (name, f"{name}.wav")}
        )
        if nodes:
            users.append(f"{flow.number} {flow.name} · {', '.join(nodes)}")
    for queue in Queue.objects.filter(overflow=Queue.Overflow.MESSAGE, overflow_target=name):
        users.append(_("queue %(name)s") % {"name": queue.name})
    return users
