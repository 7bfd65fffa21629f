"""Loading and validating IVR flows (the schema is described in schema.py).

:func:`validate_flow` returns every problem as a :class:`FlowIssue` naming the node and the field,
so that the flow editor can show each next to its node; :func:`load_flow` returns a
:class:`Flow` ready for the interpreter or raises :class:`FlowInvalid` listing the errors.
Warnings (an unreachable node, a variable no node sets) do not stop a flow from loading.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aqualine.telephony.ivr.calendar import Calendar, parse_calendar
from aqualine.telephony.ivr.schema import (
    KEYS,
    NODE_TYPES,
    SCHEMA_VERSION,
    CollectParams,
    MenuParams,
    NodeType,
    ParamSpec,
    Prompt,
    Prompts,
    param_specs,
)
from aqualine.telephony.ivr.templates import NAME, TemplateError, placeholders

ERROR: Final = "error"
WARNING: Final = "warning"
MAX_NODES: Final = 1000
NODE_ID: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
PROMPT_FILE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
BUILTIN_VARIABLES: Final = frozenset({"caller", "callee", "call_id"})
# Variables that nodes of a type set (besides collect's `var` and set's `values`).
NODE_OUTPUTS: Final[Mapping[str, frozenset[str]]] = {
    "time_condition": frozenset({"time_state"}),
    "outage_announcement": frozenset({"outage_announced"}),
    "balance": frozenset(
        {"account_number", "account_verified_by", "arrears", "arrears_months", "current_due"}
    ),
    "repair": frozenset({"order_number", "recording_path"}),
    "queue": frozenset({"handoff_error"}),
    "transfer": frozenset({"handoff_error"}),
}
_TOP_LEVEL: Final = {"version", "name", "description", "start", "variables", "calendars", "nodes"}
_NODE_FIELDS: Final = {"id", "type", "label", "params", "edges", "ui"}


@dataclass(frozen=True)
class FlowIssue:
    severity: str  # ERROR or WARNING
    message: str
    node: str = ""  # the node's id; "" for the flow itself
    where: str = ""  # the field, e.g. "params.timeout", "edges.5", "calendars.hotline.weekly.mon"

    def __str__(self) -> str:
        place = f"node {self.node!r}" if self.node else "flow"
        if self.where:
            place += f", {self.where}"
        return f"{place}: {self.message}"


class FlowInvalid(ValueError):
    def __init__(self, issues: list[FlowIssue]) -> None:
        self.issues = issues
        self.errors = [i for i in issues if i.severity == ERROR]
        lines = "\n".join(f"  - {issue}" for issue in self.errors)
        super().__init__(f"invalid IVR flow ({len(self.errors)} errors):\n{lines}")


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    label: str
    params: Any  # the type's parameters class (schema.py), e.g. MenuParams
    edges: Mapping[str, str]

    @property
    def node_type(self) -> NodeType:
        return NODE_TYPES[self.type]


@dataclass(frozen=True)
class Flow:
    version: int
    name: str
    start: str
    nodes: Mapping[str, Node]  # in the data's order
    calendars: Mapping[str, Calendar]
    variables: Mapping[str, str]
    warnings: tuple[FlowIssue, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the source, deep-copied

    def static_tts_texts(self) -> list[str]:
        """Every TTS text without placeholders, to render ahead of the first call."""
        texts: list[str] = []
        for node in self.nodes.values():
            for prompt in _node_prompts(node):
                if prompt.tts and not placeholders(prompt.tts) and prompt.tts not in texts:
                    texts.append(prompt.tts)
        return texts


def _node_prompts(node: Node) -> Iterator[Prompt]:
    for name, (spec, _) in param_specs(type(node.params)).items():
        if spec.kind == "prompts":
            yield from getattr(node.params, name)


class _Bad(Exception):
    pass


class _Checker:
    def __init__(self) -> None:
        self.issues: list[FlowIssue] = []
        self.templates: list[tuple[str, str, str]] = []  # (node, where, text)

    def error(self, message: str, node: str = "", where: str = "") -> None:
        self.issues.append(FlowIssue(ERROR, message, node, where))

    def warn(self, message: str, node: str = "", where: str = "") -> None:
        self.issues.append(FlowIssue(WARNING, message, node, where))

    # --- parameters ---

    def template(self, text: str, node: str, where: str) -> str:
        try:
            placeholders(text)
        except TemplateError as exc:
            raise _Bad(str(exc)) from None
        self.templates.append((node, where, text))
        return text

    def prompts(self, value: object, node: str, where: str, required: bool) -> Prompts:
        items = value if isinstance(value, list) else [value]
        result: list[Prompt] = []
        for i, item in enumerate(items):
            here = f"{where}[{i}]" if isinstance(value, list) else where
            if not isinstance(item, dict) or len(item) != 1 or not {"file", "tts"} & set(item):
                raise _Bad(f'{here}: a prompt is {{"file": name}} or {{"tts": text}}')
            ((kind, text),) = item.items()
            if not isinstance(text, str) or not text.strip():
                raise _Bad(f"{here}: {kind} must be non-empty text")
            if kind == "file":
                if not PROMPT_FILE.fullmatch(text) or ".." in text:
                    raise _Bad(f"{here}: {text!r} is not a prompt name (letters, digits, _ . -)")
                result.append(Prompt(file=text))
            else:
                if len(text) > 2000:
                    raise _Bad(f"{here}: at most 2000 characters")
                try:
                    self.template(text, node, here)
                except _Bad as exc:
                    raise _Bad(f"{here}: {exc}") from None
                result.append(Prompt(tts=text))
        if required and not result:
            raise _Bad("at least one prompt is needed")
        return tuple(result)

    def value(self, spec: ParamSpec, value: object, node: str, where: str) -> Any:
        kind = spec.kind
        if kind == "prompts":
            return self.prompts(value, node, where, spec.required)
        if kind == "bool":
            if not isinstance(value, bool):
                raise _Bad("expected true or false")
            return value
        if kind in ("int", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _Bad("expected a number")
            if kind == "int" and not isinstance(value, int):
                raise _Bad("expected a whole number")
            if spec.minimum is not None and value < spec.minimum:
                raise _Bad(f"at least {spec.minimum:g}")
            if spec.maximum is not None and value > spec.maximum:
                raise _Bad(f"at most {spec.maximum:g}")
            return value if kind == "int" else float(value)
        if kind == "assignments":
            if not isinstance(value, dict) or not value:
                raise _Bad('expected {"variable": "value", ...}')
            for name, text in value.items():
                if not NAME.fullmatch(name):
                    raise _Bad(f"{name!r} is not a variable name (a-z, 0-9, _)")
                if not isinstance(text, str):
                    raise _Bad(f"{name}: the value must be text")
                try:
                    self.template(text, node, f"{where}.{name}")
                except _Bad as exc:
                    raise _Bad(f"{name}: {exc}") from None
            return dict(value)
        if not isinstance(value, str):
            raise _Bad("expected text")
        if kind == "var" and not NAME.fullmatch(value):
            raise _Bad(f"{value!r} is not a variable name (a-z, 0-9, _)")
        if kind == "key" and value not in spec.choices:
            raise _Bad(f"{value!r} is not one of {', '.join(repr(c) for c in spec.choices)}")
        if kind == "name" and not (value.strip() and len(value) <= 100):
            raise _Bad("expected a name (1-100 characters)")
        if kind == "template":
            if not value.strip():
                raise _Bad("must not be empty")
            return self.template(value, node, where)
        if len(value) > 500:
            raise _Bad("at most 500 characters")
        return value

    def params(self, node_type: NodeType, raw: object, node: str) -> Any | None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.error("expected an object", node, "params")
            return None
        specs = param_specs(node_type.params)
        values: dict[str, Any] = {}
        ok = True
        for name in raw:
            if name not in specs:
                known = ", ".join(specs)
                self.error(
                    f"unknown parameter of a {node_type.name} node ({known})",
                    node,
                    f"params.{name}",
                )
                ok = False
        for name, (spec, _default) in specs.items():
            if name not in raw:
                if spec.required:
                    self.error("required", node, f"params.{name}")
                    ok = False
                continue
            try:
                values[name] = self.value(spec, raw[name], node, f"params.{name}")
            except _Bad as exc:
                self.error(str(exc), node, f"params.{name}")
                ok = False
        return node_type.params(**values) if ok else None

    # --- edges ---

    def edges(self, node_type: NodeType, raw: object, node: str) -> dict[str, str]:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.error("expected an object: outcome → node id", node, "edges")
            return {}
        edges: dict[str, str] = {}
        for outcome, target in raw.items():
            where = f"edges.{outcome}"
            if node_type.key_edges and outcome not in node_type.outcomes():
                if len(outcome) != 1 or outcome not in KEYS:
                    self.error("a menu edge is one key: 0-9, * or #, or 'exhausted'", node, where)
                    continue
            elif not node_type.value_edges and outcome not in node_type.outcomes():
                has = ", ".join(node_type.outcomes()) or "none"
                self.error(
                    f"a {node_type.name} node has no such outcome (it has: {has})", node, where
                )
                continue
            if not isinstance(target, str) or not target:
                self.error("the target must be a node id", node, where)
                continue
            edges[outcome] = target
        for outcome in node_type.edges:
            if outcome not in edges and outcome in node_type.outcomes():
                self.error(f"no edge for the outcome {outcome!r}", node, f"edges.{outcome}")
        return edges


def _check_nodes(
    checker: _Checker, raw_nodes: object
) -> list[tuple[str, str, str, Any, dict[str, str]]]:
    if not isinstance(raw_nodes, list) or not raw_nodes:
        checker.error("required: a non-empty list of nodes", where="nodes")
        return []
    if len(raw_nodes) > MAX_NODES:
        checker.error(f"at most {MAX_NODES} nodes", where="nodes")
        return []
    parsed: list[tuple[str, str, str, Any, dict[str, str]]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict):
            checker.error("a node is an object", where=f"nodes[{index}]")
            continue
        node_id = raw.get("id")
        if not isinstance(node_id, str) or not NODE_ID.fullmatch(node_id):
            checker.error(
                f"{node_id!r} is not a node id (letters, digits, _ . -; at most 64)",
                where=f"nodes[{index}].id",
            )
            continue
        if node_id in seen:
            checker.error("another node has the same id", node_id, "id")
            continue
        seen.add(node_id)
        for name in sorted(set(raw) - _NODE_FIELDS):
            checker.error("unknown field of a node", node_id, name)
        type_name = raw.get("type")
        node_type = NODE_TYPES.get(type_name) if isinstance(type_name, str) else None
        if node_type is None:
            known = ", ".join(NODE_TYPES)
            checker.error(f"unknown node type {type_name!r} (known: {known})", node_id, "type")
            continue
        label = raw.get("label", "")
        if not isinstance(label, str) or len(label) > 100 or ">" in label:
            checker.error("a label is text of at most 100 characters without '>'", node_id, "label")
            label = ""
        params = checker.params(node_type, raw.get("params"), node_id)
        edges = checker.edges(node_type, raw.get("edges"), node_id)
        parsed.append((node_id, node_type.name, label.strip(), params, edges))
    return parsed


def _input_free_loops(nodes: Mapping[str, Node]) -> list[list[str]]:
    """Cycles through edges that no caller input decides (Tarjan's strongly connected
    components, iteratively): a flow stuck in one would never end or wait for the caller."""
    graph: dict[str, list[str]] = {}
    for node in nodes.values():
        node_type = node.node_type
        graph[node.id] = [
            target
            for outcome, target in node.edges.items()
            if target in nodes
            and outcome not in node_type.input_edges
            and not (node_type.key_edges and outcome not in node_type.outcomes())
        ]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            name, child = work.pop()
            if child == 0:
                index[name] = low[name] = counter
                counter += 1
                stack.append(name)
                on_stack.add(name)
            successors = graph[name]
            if child < len(successors):
                work.append((name, child + 1))
                target = successors[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[name] = min(low[name], index[target])
                continue
            if low[name] == index[name]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == name:
                        break
                if len(component) > 1 or name in graph[name]:
                    order = list(nodes)
                    loops.append(sorted(component, key=order.index))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[name])
    return loops


def _reachable(nodes: Mapping[str, Node], start: str) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in nodes[todo.pop()].edges.values():
            if target in nodes and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _check(data: object) -> tuple[Flow | None, list[FlowIssue]]:
    checker = _Checker()
    if not isinstance(data, dict):
        checker.error("a flow is a JSON object")
        return None, checker.issues
    version = data.get("version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        checker.error(
            f"unsupported version {version!r} (this version of Aqualine reads {SCHEMA_VERSION})",
            where="version",
        )
        return None, checker.issues
    for name in sorted(set(data) - _TOP_LEVEL - {"ui"}):
        checker.error("unknown field of a flow", where=name)
    for name in ("name", "description"):
        if not isinstance(data.get(name, ""), str):
            checker.error("expected text", where=name)
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and NAME.fullmatch(k) and isinstance(v, str)
        for k, v in variables.items()
    ):
        checker.error('expected {"name": "text", ...} with variable names', where="variables")
        variables = {}
    calendars: dict[str, Calendar] = {}
    raw_calendars = data.get("calendars", {})
    if not isinstance(raw_calendars, dict):
        checker.error("expected an object: name → calendar", where="calendars")
        raw_calendars = {}
    for cal_name, raw_calendar in raw_calendars.items():
        calendar, problems = parse_calendar(cal_name, raw_calendar)
        for problem in problems:
            where = f"calendars.{cal_name}" + (f".{problem.where}" if problem.where else "")
            checker.error(problem.message, where=where)
        if calendar is not None:
            calendars[cal_name] = calendar

    parsed = _check_nodes(checker, data.get("nodes"))
    ids = {p[0] for p in parsed} | {
        n.get("id") for n in data.get("nodes") or [] if isinstance(n, dict)
    }
    start = data.get("start")
    if not isinstance(start, str) or start not in ids:
        checker.error(f"the start node {start!r} is not a node of this flow", where="start")
    for node_id, type_name, _label, params, edges in parsed:
        for outcome, target in edges.items():
            if target not in ids:
                checker.error(
                    f"leads to {target!r}, which is not a node of this flow",
                    node_id,
                    f"edges.{outcome}",
                )
        if type_name == "menu" and not any(k in KEYS for k in edges):
            checker.error("a menu needs at least one key edge", node_id, "edges")
        if params is None:
            continue
        if isinstance(params, MenuParams) and params.repeat_key and params.repeat_key in edges:
            checker.error(
                f"key {params.repeat_key!r} is the repeat key (params.repeat_key)",
                node_id,
                f"edges.{params.repeat_key}",
            )
        if type_name in ("collect", "balance") and params.min_digits > params.max_digits:
            checker.error("min_digits is more than max_digits", node_id, "params.min_digits")
        if type_name == "time_condition" and params.calendar not in raw_calendars:
            checker.error(
                f"no calendar {params.calendar!r} in the flow's calendars",
                node_id,
                "params.calendar",
            )

    if any(i.severity == ERROR for i in checker.issues):
        return None, checker.issues

    nodes = {
        node_id: Node(node_id, type_name, label, params, edges)
        for node_id, type_name, label, params, edges in parsed
    }
    assert isinstance(start, str)
    for loop in _input_free_loops(nodes):
        checker.error(
            "a loop that no caller input leaves: " + " → ".join([*loop, loop[0]]),
            loop[0],
            "edges",
        )
    reachable = _reachable(nodes, start)
    for node_id in nodes:
        if node_id not in reachable:
            checker.warn("unreachable from the start node", node_id)
    known = set(BUILTIN_VARIABLES) | set(variables) | _all_set_variables(nodes)
    for node in nodes.values():
        if node.type == "branch" and node.params.var not in known:
            checker.warn(
                f"branches on {{{node.params.var}}}, which no node sets", node.id, "params.var"
            )
    for node_id, where, text in checker.templates:
        for name, _fmt in placeholders(text):
            if name not in known:
                checker.warn(f"uses {{{name}}}, which no node sets", node_id, where)
    if any(i.severity == ERROR for i in checker.issues):
        return None, checker.issues
    flow = Flow(
        version=SCHEMA_VERSION,
        name=str(data.get("name", "")),
        start=start,
        nodes=nodes,
        calendars=calendars,
        variables=dict(variables),
        warnings=tuple(checker.issues),
        data=copy.deepcopy(data),
    )
    return flow, checker.issues


def _all_set_variables(nodes: Mapping[str, Node]) -> set[str]:
    names: set[str] = set()
    for node in nodes.values():
        names |= NODE_OUTPUTS.get(node.type, frozenset())
        if isinstance(node.params, CollectParams):
            names.add(node.params.var)
        if node.type == "set":
            names |= set(node.params.values)
    return names


def validate_flow(data: object) -> list[FlowIssue]:
    """Every error and warning of a flow's data (empty: a clean flow)."""
    return _check(data)[1]


def load_flow(data: object) -> Flow:
    """A flow ready to run; raises :class:`FlowInvalid` when it has errors."""
    flow, issues = _check(data)
    if flow is None:
        raise FlowInvalid(issues)
    return flow


def load_flow_json(text: str | bytes) -> Flow:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FlowInvalid([FlowIssue(ERROR, f"not JSON: {exc}")]) from None
    return load_flow(data)
