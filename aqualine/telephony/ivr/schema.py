"""The IVR flow schema, version 1: what administrators edit and the interpreter runs.

A flow is JSON data (a ``dict`` in Python)::

    {
      "version": 1,                       # required; this module describes version 1
      "name": "demo",                     # optional, free text
      "description": "...",               # optional, free text
      "start": "welcome",                 # required: the id of the first node
      "variables": {"on_duty_number": "8004"},   # optional defaults of call variables
      "calendars": {"hotline": {...}},    # optional, for time_condition nodes (see calendar.py)
      "nodes": [                          # required, a list (its order is the editor's order)
        {
          "id": "main_menu",              # required, unique: letters, digits, _ . - (≤ 64)
          "type": "menu",                 # required: one of NODE_TYPES below
          "label": "主菜单",               # optional: named in the call's IVR path log
          "params": {...},                # the type's parameters (unknown ones are errors)
          "edges": {"1": "notices", "exhausted": "agent"},   # outcome → next node id
          "ui": {...}                     # optional, free-form (editor layout), ignored
        }
      ],
      "ui": {...}                         # optional, free-form, ignored
    }

**Edges** map an outcome of the node to the id of the next node. The outcomes each type has are
listed in :data:`NODE_TYPES` (``describe_node_types()`` gives the same as JSON for the editor):
``menu`` has one edge per key (``0``-``9``, ``*``, ``#``) plus ``exhausted``; ``branch`` has one
edge per value of its variable plus ``default``; hand-off nodes (``queue``, ``transfer``) have an
optional ``failed`` edge and ``hangup`` has none.

**Prompts** (parameters of kind ``prompts``) are one object or a list of objects, each either
``{"file": "welcome"}`` (a prompt file by name: letters, digits, ``_ . -``; the switch looks it up
in its prompt directories) or ``{"tts": "您好，欢迎致电……"}`` (text spoken by espeak-ng in
Mandarin). TTS text and a few other parameters are **templates**: ``{caller}``,
``{account_number:digits}``, ``{arrears:money}`` (see templates.py).

**Variables** are strings. Built in: ``caller``, ``callee``, ``call_id``. Set by nodes:
``collect`` (its ``var``), ``set``, ``time_condition`` (``time_state``), ``outage_announcement``
(``outage_announced``), ``balance`` (``account_number``, ``account_verified_by``, ``arrears``,
``arrears_months``, ``current_due``), ``repair`` (``order_number``, ``recording_path``), and a
failed hand-off (``handoff_error``). The switch may pass more (e.g. the on-duty number from a
system parameter); ``variables`` in the flow are their defaults.

Compatibility: a change that an old flow would not survive (a renamed parameter, a changed
meaning) needs ``version`` 2 and a converter; adding an optional parameter, a node type or an
optional edge does not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

SCHEMA_VERSION: Final = 1
KEYS: Final = "0123456789*#"


@dataclass(frozen=True)
class Prompt:
    """One thing to play: a prompt file, text to speak, or a tone (only the interpreter makes
    tones, for the beep before a recording). Exactly one of the three is set."""

    file: str = ""
    tts: str = ""
    tone_hz: int = 0
    tone_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        if self.file:
            return {"file": self.file}
        if self.tts:
            return {"tts": self.tts}
        return {"tone_hz": self.tone_hz, "tone_ms": self.tone_ms}


Prompts = tuple[Prompt, ...]
BEEP: Final = Prompt(tone_hz=1000, tone_ms=400)


@dataclass(frozen=True)
class ParamSpec:
    """How one parameter is read from JSON.

    kinds: ``prompts``, ``text`` (any string), ``name`` (non-empty text ≤ 100), ``template`` (text
    with ``{placeholders}``), ``var`` (a variable name), ``key`` (one of ``choices``), ``int``,
    ``number`` (int or float), ``bool``, ``assignments`` (variable name → template).
    """

    kind: str
    doc: str
    required: bool = False  # set by param_specs(): the field has no default
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


def spec(
    kind: str,
    *,
    doc: str,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
) -> dict[str, ParamSpec]:
    """Field metadata: ``x: int = field(default=3, metadata=spec("int", doc=...))``; a field
    without a default is a required parameter."""
    return {"spec": ParamSpec(kind, doc, False, minimum, maximum, choices)}


def param_specs(cls: type) -> dict[str, tuple[ParamSpec, Any]]:
    """name → (spec, default or MISSING) for a parameters class."""
    result: dict[str, tuple[ParamSpec, Any]] = {}
    for f in dataclasses.fields(cls):
        default: Any = f.default
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        required = default is dataclasses.MISSING
        result[f.name] = (dataclasses.replace(f.metadata["spec"], required=required), default)
    return result


# --- parameters of each node type ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlayParams:
    prompt: Prompts = field(metadata=spec("prompts", doc="What to play."))
    barge_in: bool = field(
        default=False,
        metadata=spec(
            "bool", doc="A key stops the prompt and goes on; the key is kept for the next menu."
        ),
    )


@dataclass(frozen=True, kw_only=True)
class MenuParams:
    prompt: Prompts = field(
        metadata=spec("prompts", doc="The menu, e.g. 停水信息请按1…; a key interrupts it.")
    )
    timeout: float = field(
        default=5.0,
        metadata=spec(
            "number", doc="Seconds to wait for a key after the prompt.", minimum=1, maximum=60
        ),
    )
    retries: int = field(
        default=3,
        metadata=spec(
            "int",
            doc="Replays after a wrong key or a timeout; the failure after the last replay takes "
            "'exhausted' (retries 3: the menu is heard at most 4 times).",
            minimum=0,
            maximum=10,
        ),
    )
    invalid_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before the replay after a wrong key.")
    )
    timeout_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before the replay after a timeout.")
    )
    repeat_key: str = field(
        default="*",
        metadata=spec(
            "key", doc="Replays the menu (not a failure); '' for none.", choices=("", *KEYS)
        ),
    )


@dataclass(frozen=True, kw_only=True)
class CollectParams:
    var: str = field(metadata=spec("var", doc="The variable that receives the digits."))
    prompt: Prompts = field(
        metadata=spec("prompts", doc="Asks for the digits; a key interrupts it.")
    )
    min_digits: int = field(
        default=1, metadata=spec("int", doc="Fewest digits accepted.", minimum=1, maximum=32)
    )
    max_digits: int = field(
        metadata=spec(
            "int", doc="Entry ends by itself after this many digits.", minimum=1, maximum=32
        )
    )
    terminator: str = field(
        default="#",
        metadata=spec("key", doc="Ends the entry early; '' for none.", choices=("", "#", "*")),
    )
    timeout: float = field(
        default=5.0,
        metadata=spec(
            "number",
            doc="Seconds to wait for each key; a timeout after enough digits accepts them.",
            minimum=1,
            maximum=60,
        ),
    )
    retries: int = field(
        default=2,
        metadata=spec(
            "int", doc="New tries after a wrong or missing entry.", minimum=0, maximum=10
        ),
    )
    invalid_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before a new try after bad input.")
    )
    timeout_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before a new try after a timeout.")
    )


@dataclass(frozen=True, kw_only=True)
class BranchParams:
    var: str = field(
        metadata=spec("var", doc="Its value picks the edge of the same name, else 'default'.")
    )


@dataclass(frozen=True, kw_only=True)
class TimeConditionParams:
    calendar: str = field(metadata=spec("name", doc="A calendar of the flow's 'calendars'."))


@dataclass(frozen=True, kw_only=True)
class QueueParams:
    queue: str = field(
        metadata=spec("name", doc="The ACD queue that takes the call (longest-idle agent).")
    )


@dataclass(frozen=True, kw_only=True)
class TransferParams:
    number: str = field(
        metadata=spec(
            "template", doc="The number to call, e.g. '{on_duty_number}' (digits, + * #)."
        )
    )


@dataclass(frozen=True, kw_only=True)
class HangupParams:
    cause: str = field(
        default="ivr hangup", metadata=spec("text", doc="Written as the call's end cause.")
    )


@dataclass(frozen=True, kw_only=True)
class SetParams:
    values: Mapping[str, str] = field(
        metadata=spec(
            "assignments", doc='Variables to set, e.g. {"mode": "night"}; values are templates.'
        )
    )


@dataclass(frozen=True, kw_only=True)
class OutageAnnouncementParams:
    intro: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before the notices, e.g. 停水通知：.")
    )
    outro: Prompts = field(default=(), metadata=spec("prompts", doc="Played after the notices."))
    barge_in: bool = field(
        default=False,
        metadata=spec("bool", doc="A key skips the announcement (kept for the menu)."),
    )


@dataclass(frozen=True, kw_only=True)
class OutageNoticesParams:
    intro: Prompts = field(default=(), metadata=spec("prompts", doc="Played before the notices."))
    none_prompt: Prompts = field(
        metadata=spec("prompts", doc="Played when no outage is in effect or planned.")
    )
    error_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played when the notices cannot be read.")
    )
    barge_in: bool = field(
        default=True, metadata=spec("bool", doc="A key stops the notices (kept for the menu).")
    )


@dataclass(frozen=True, kw_only=True)
class BalanceParams:
    prompt: Prompts = field(
        metadata=spec("prompts", doc="Asks for the account number followed by #.")
    )
    min_digits: int = field(
        default=4, metadata=spec("int", doc="Shortest account number.", minimum=1, maximum=32)
    )
    max_digits: int = field(
        default=20, metadata=spec("int", doc="Longest account number.", minimum=1, maximum=32)
    )
    timeout: float = field(
        default=8.0,
        metadata=spec("number", doc="Seconds to wait for each key.", minimum=1, maximum=60),
    )
    attempts: int = field(
        default=3,
        metadata=spec(
            "int", doc="Tries at keying an existing account number.", minimum=1, maximum=5
        ),
    )
    not_found_prompt: Prompts = field(
        metadata=spec("prompts", doc="Played before the next try when no account has that number.")
    )
    timeout_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before the next try after silence.")
    )
    verify_prompt: Prompts = field(
        metadata=spec(
            "prompts",
            doc="Asks for the last digits of the account's registered phone, when the caller's "
            "number is not one of the account's phones.",
        )
    )
    phone_suffix_digits: int = field(
        default=4,
        metadata=spec(
            "int", doc="How many last digits of the phone are asked for.", minimum=4, maximum=8
        ),
    )
    phone_attempts: int = field(
        default=3, metadata=spec("int", doc="Tries at the phone digits.", minimum=1, maximum=5)
    )
    verify_failed_prompt: Prompts = field(
        metadata=spec("prompts", doc="Played after wrong phone digits.")
    )
    no_phone_prompt: Prompts = field(
        default=(),
        metadata=spec(
            "prompts", doc="Played when the account has no registered phone to check against."
        ),
    )
    arrears_prompt: Prompts = field(
        metadata=spec(
            "prompts", doc="Read when the account is in arrears: {arrears:money}, {arrears_months}."
        )
    )
    clear_prompt: Prompts = field(
        metadata=spec("prompts", doc="Read when the account owes nothing overdue.")
    )
    failed_prompt: Prompts = field(
        default=(),
        metadata=spec(
            "prompts", doc="Played before 'failed' (tries used up, or the lookup failed)."
        ),
    )


@dataclass(frozen=True, kw_only=True)
class RepairParams:
    prompt: Prompts = field(
        metadata=spec("prompts", doc="Asks for the message, played before the beep.")
    )
    beep: bool = field(default=True, metadata=spec("bool", doc="A beep before recording starts."))
    max_seconds: int = field(
        default=60,
        metadata=spec("int", doc="The recording stops after this long.", minimum=5, maximum=300),
    )
    min_seconds: float = field(
        default=2.0,
        metadata=spec("number", doc="A shorter recording is not a message.", minimum=0, maximum=30),
    )
    stop_key: str = field(
        default="#",
        metadata=spec("key", doc="Ends the recording early; '' for none.", choices=("", "#", "*")),
    )
    retries: int = field(
        default=1,
        metadata=spec(
            "int", doc="New tries after a recording that was too short.", minimum=0, maximum=3
        ),
    )
    too_short_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before a new try.")
    )
    done_prompt: Prompts = field(
        default=(),
        metadata=spec("prompts", doc="Played after the order is created: {order_number:digits}."),
    )
    failed_prompt: Prompts = field(
        default=(), metadata=spec("prompts", doc="Played before 'failed'.")
    )
    category: str = field(
        default="",
        metadata=spec(
            "text", doc="The order's category (反映类别) by name; '' lets the system choose."
        ),
    )


# --- node types ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeType:
    name: str
    params: type
    doc: str
    edges: tuple[str, ...] = ()  # outcomes that need an edge
    optional_edges: tuple[str, ...] = ()
    key_edges: bool = False  # menu: one edge per key
    value_edges: bool = False  # branch: one edge per value of the variable
    input_edges: tuple[str, ...] = ()  # outcomes taken only after the caller keyed something
    terminal: bool = False  # hands the call on or ends it

    def outcomes(self) -> tuple[str, ...]:
        return self.edges + self.optional_edges


NODE_TYPES: Final[Mapping[str, NodeType]] = {
    t.name: t
    for t in (
        NodeType("play", PlayParams, "Play prompts.", edges=("next",)),
        NodeType(
            "menu",
            MenuParams,
            "Play a menu and branch on one key; the repeat key replays it.",
            edges=("exhausted",),
            key_edges=True,
        ),
        NodeType(
            "collect",
            CollectParams,
            "Collect digits into a variable.",
            edges=("done", "exhausted"),
            input_edges=("done",),
        ),
        NodeType(
            "branch",
            BranchParams,
            "Branch on a variable's value.",
            edges=("default",),
            value_edges=True,
        ),
        NodeType(
            "time_condition",
            TimeConditionParams,
            "Branch on business hours: open, closed, holiday (default: the closed edge).",
            edges=("open", "closed"),
            optional_edges=("holiday",),
        ),
        NodeType(
            "queue",
            QueueParams,
            "Hand the call to an ACD queue.",
            optional_edges=("failed",),
            terminal=True,
        ),
        NodeType(
            "transfer",
            TransferParams,
            "Transfer the call to a number.",
            optional_edges=("failed",),
            terminal=True,
        ),
        NodeType("hangup", HangupParams, "End the call.", terminal=True),
        NodeType("set", SetParams, "Set variables.", edges=("next",)),
        NodeType(
            "outage_announcement",
            OutageAnnouncementParams,
            "Announce the outages of the caller's area (skipped when none, or when the number "
            "belongs to no account). Logged in the IVR path only when it announced something.",
            edges=("next",),
        ),
        NodeType(
            "outage_notices",
            OutageNoticesParams,
            "Read the current outage notices: the caller's area's when the number belongs to an "
            "account, else all.",
            edges=("next",),
        ),
        NodeType(
            "balance",
            BalanceParams,
            "Account number + #, caller check (the calling number is one of the account's "
            "phones, or the caller keys the last digits of its registered phone), then read the "
            "arrears.",
            edges=("done", "failed"),
            input_edges=("done",),
        ),
        NodeType(
            "repair",
            RepairParams,
            "Record a repair message after a beep and create a work order (pending dispatch, "
            "source IVR, the recording attached). 'failed' defaults to the 'next' edge.",
            edges=("next",),
            optional_edges=("failed",),
        ),
    )
}

# When a node ends with an outcome that has no edge, the interpreter follows this one instead.
FALLBACK_OUTCOMES: Final[Mapping[tuple[str, str], str]] = {
    ("time_condition", "holiday"): "closed",
    ("repair", "failed"): "next",
}


def describe_node_types() -> dict[str, Any]:
    """The node types as JSON, for the flow editor and the documentation."""
    described: dict[str, Any] = {}
    for node_type in NODE_TYPES.values():
        params = {}
        for name, (spec, default) in param_specs(node_type.params).items():
            entry: dict[str, Any] = {"kind": spec.kind, "doc": spec.doc, "required": spec.required}
            if not spec.required:
                entry["default"] = (
                    [p.to_dict() for p in default] if spec.kind == "prompts" else default
                )
            if spec.minimum is not None:
                entry["minimum"] = spec.minimum
            if spec.maximum is not None:
                entry["maximum"] = spec.maximum
            if spec.choices:
                entry["choices"] = list(spec.choices)
            params[name] = entry
        described[node_type.name] = {
            "doc": node_type.doc,
            "params": params,
            "edges": list(node_type.edges),
            "optional_edges": list(node_type.optional_edges),
            "key_edges": node_type.key_edges,
            "value_edges": node_type.value_edges,
            "terminal": node_type.terminal,
        }
    return described
