"""How a flow reads to an administrator: node types, ways out and parameters by their labels,
and each validator issue (`aqualine.telephony.ivr.flow.FlowIssue`) as a sentence that names the
node and the field."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aqualine.telephony.ivr.flow import ERROR, FlowIssue


@dataclass(frozen=True)
class ShownIssue:
    """A flow issue as the page shows it: which node, how bad, and a sentence to act on."""

    severity: str  # "error" or "warning"
    node: str
    text: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


# --- how a flow reads to an administrator -------------------------------------------------------

NODE_TYPE_LABELS: Final[dict[str, Promise]] = {
    "play": gettext_lazy("Play a prompt"),
    "menu": gettext_lazy("Key menu"),
    "collect": gettext_lazy("Collect digits"),
    "branch": gettext_lazy("Branch on a variable"),
    "time_condition": gettext_lazy("Working hours"),
    "queue": gettext_lazy("To the agents' queue"),
    "transfer": gettext_lazy("Transfer to a number"),
    "hangup": gettext_lazy("Hang up"),
    "set": gettext_lazy("Set variables"),
    "outage_announcement": gettext_lazy("Announce outages in the caller's area"),
    "outage_notices": gettext_lazy("Read the outage notices"),
    "balance": gettext_lazy("Water bill enquiry"),
    "repair": gettext_lazy("Repair message"),
}
OUTCOME_LABELS: Final[dict[str, Promise]] = {
    "next": gettext_lazy("then"),
    "exhausted": gettext_lazy("no valid key after the last retry"),
    "done": gettext_lazy("done"),
    "failed": gettext_lazy("failed"),
    "default": gettext_lazy("otherwise"),
    "open": gettext_lazy("in working hours"),
    "closed": gettext_lazy("outside working hours"),
    "holiday": gettext_lazy("on a holiday"),
}
PARAM_LABELS: Final[dict[str, Promise]] = {
    "prompt": gettext_lazy("prompt"),
    "invalid_prompt": gettext_lazy("after a wrong key"),
    "timeout_prompt": gettext_lazy("after silence"),
    "intro": gettext_lazy("before"),
    "outro": gettext_lazy("after"),
    "none_prompt": gettext_lazy("when there is no outage"),
    "error_prompt": gettext_lazy("when the notices cannot be read"),
    "not_found_prompt": gettext_lazy("when no account has the number"),
    "verify_prompt": gettext_lazy("asking for the phone's last digits"),
    "verify_failed_prompt": gettext_lazy("after wrong phone digits"),
    "no_phone_prompt": gettext_lazy("when the account has no phone"),
    "arrears_prompt": gettext_lazy("when in arrears"),
    "clear_prompt": gettext_lazy("when nothing is owed"),
    "failed_prompt": gettext_lazy("when it failed"),
    "too_short_prompt": gettext_lazy("when the message was too short"),
    "done_prompt": gettext_lazy("when the order is created"),
    "timeout": gettext_lazy("seconds to wait for a key"),
    "retries": gettext_lazy("retries"),
    "attempts": gettext_lazy("tries"),
    "phone_attempts": gettext_lazy("tries at the phone digits"),
    "repeat_key": gettext_lazy("repeat key"),
    "barge_in": gettext_lazy("a key interrupts"),
    "var": gettext_lazy("variable"),
    "min_digits": gettext_lazy("fewest digits"),
    "max_digits": gettext_lazy("most digits"),
    "terminator": gettext_lazy("end key"),
    "calendar": gettext_lazy("calendar"),
    "queue": gettext_lazy("queue"),
    "number": gettext_lazy("number"),
    "cause": gettext_lazy("end cause"),
    "values": gettext_lazy("values"),
    "max_seconds": gettext_lazy("longest message (seconds)"),
    "min_seconds": gettext_lazy("shortest message (seconds)"),
    "stop_key": gettext_lazy("stop key"),
    "beep": gettext_lazy("beep first"),
    "phone_suffix_digits": gettext_lazy("phone digits asked for"),
    "category": gettext_lazy("work-order category"),
}

# The validator's messages (flow.py, templates.py, calendar.py) → a sentence for the page. Named
# groups become the sentence's parameters; "type" and "outcome" are shown by their labels.
_R = re.compile
_MESSAGES: Final[list[tuple[re.Pattern[str], Promise]]] = [
    (_R(r"required"), gettext_lazy("required, but missing")),
    (
        _R(r"unknown parameter of a (?P<type>\w+) node \((?P<known>.*)\)"),
        gettext_lazy("not a parameter of a “%(type)s” node (it has: %(known)s)"),
    ),
    (_R(r"expected an object"), gettext_lazy("expected an object {…}")),
    (
        _R(r"expected an object: outcome → node id"),
        gettext_lazy("expected an object {way out: node id, …}"),
    ),
    (
        _R(r"a menu edge is one key: 0-9, \* or #, or 'exhausted'"),
        gettext_lazy("a menu's way out is one key (0-9, * or #) or “exhausted”"),
    ),
    (
        _R(r"a (?P<type>\w+) node has no such outcome \(it has: (?P<known>.*)\)"),
        gettext_lazy("a “%(type)s” node has no such way out (it has: %(known)s)"),
    ),
    (_R(r"the target must be a node id"), gettext_lazy("the way out must name a node")),
    (
        _R(r"no edge for the outcome (?P<outcome>.+)"),
        gettext_lazy("where to go “%(outcome)s” is not set"),
    ),
    (_R(r"required: a non-empty list of nodes"), gettext_lazy("the flow has no nodes")),
    (_R(r"at most (?P<n>\d+) nodes"), gettext_lazy("at most %(n)s nodes")),
    (_R(r"a node is an object"), gettext_lazy("a node is an object {…}")),
    (
        _R(r"(?P<value>.*) is not a node id \(letters, digits, _ \. -; at most 64\)"),
        gettext_lazy("%(value)s is not a node id (letters, digits, _ . -; at most 64)"),
    ),
    (_R(r"another node has the same id"), gettext_lazy("another node has the same id")),
    (_R(r"unknown field of a node"), gettext_lazy("not a field of a node")),
    (
        _R(r"unknown node type (?P<value>.*) \(known: (?P<known>.*)\)"),
        gettext_lazy("%(value)s is not a node type (known: %(known)s)"),
    ),
    (
        _R(r"a label is text of at most 100 characters without '>'"),
        gettext_lazy("a label is text of at most 100 characters, without “>”"),
    ),
    (_R(r"a flow is a JSON object"), gettext_lazy("a flow is a JSON object {…}")),
    (
        _R(r"unsupported version (?P<value>.*) \(this version of Aqualine reads (?P<n>\d+)\)"),
        gettext_lazy("version %(value)s is not supported (this Aqualine reads version %(n)s)"),
    ),
    (_R(r"unknown field of a flow"), gettext_lazy("not a field of a flow")),
    (_R(r"expected text"), gettext_lazy("expected text in quotes")),
    (
        _R(r'expected \{"name": "text", \.\.\.\} with variable names'),
        gettext_lazy('expected {"name": "text", …} with variable names (a-z, 0-9, _)'),
    ),
    (
        _R(r"expected an object: name → calendar"),
        gettext_lazy("expected an object {name: calendar, …}"),
    ),
    (
        _R(r"the start node (?P<value>.*) is not a node of this flow"),
        gettext_lazy("the start node %(value)s is not a node of this flow"),
    ),
    (
        _R(r"leads to (?P<value>.*), which is not a node of this flow"),
        gettext_lazy("leads to %(value)s, which is not a node of this flow"),
    ),
    (
        _R(r"a menu needs at least one key edge"),
        gettext_lazy("a menu needs a way out for at least one key"),
    ),
    (
        _R(r"key (?P<value>.*) is the repeat key \(params\.repeat_key\)"),
        gettext_lazy("key %(value)s is the menu's repeat key; it cannot also lead elsewhere"),
    ),
    (
        _R(r"min_digits is more than max_digits"),
        gettext_lazy("the fewest digits are more than the most digits"),
    ),
    (
        _R(r"no calendar (?P<value>.*) in the flow's calendars"),
        gettext_lazy("the flow has no calendar %(value)s"),
    ),
    (
        _R(r"a loop that no caller input leaves: (?P<known>.*)"),
        gettext_lazy("a loop that no key of the caller leaves: %(known)s"),
    ),
    (
        _R(r"unreachable from the start node"),
        gettext_lazy("no way from the start node leads here"),
    ),
    (
        _R(r"branches on \{(?P<name>.*)\}, which no node sets"),
        gettext_lazy("branches on {%(name)s}, which no node sets"),
    ),
    (
        _R(r"uses \{(?P<name>.*)\}, which no node sets"),
        gettext_lazy("uses {%(name)s}, which no node sets (it will be empty)"),
    ),
    (
        _R(r'a prompt is \{"file": name\} or \{"tts": text\}'),
        gettext_lazy('a prompt is {"file": "name"} or {"tts": "text to speak"}'),
    ),
    (
        _R(r"(?P<name>file|tts) must be non-empty text"),
        gettext_lazy("“%(name)s” must not be empty"),
    ),
    (
        _R(r"(?P<value>.*) is not a prompt name \(letters, digits, _ \. -\)"),
        gettext_lazy("%(value)s is not a prompt name (letters, digits, _ . -)"),
    ),
    (_R(r"at most (?P<n>\d+) characters"), gettext_lazy("at most %(n)s characters")),
    (_R(r"at least one prompt is needed"), gettext_lazy("at least one prompt is needed")),
    (_R(r"expected true or false"), gettext_lazy("expected true or false")),
    (_R(r"expected a number"), gettext_lazy("expected a number")),
    (_R(r"expected a whole number"), gettext_lazy("expected a whole number")),
    (_R(r"at least (?P<n>[\d.e+-]+)"), gettext_lazy("at least %(n)s")),
    (_R(r"at most (?P<n>[\d.e+-]+)"), gettext_lazy("at most %(n)s")),
    (
        _R(r'expected \{"variable": "value", \.\.\.\}'),
        gettext_lazy('expected {"variable": "value", …}'),
    ),
    (
        _R(r"(?P<value>.*) is not a variable name \(a-z, 0-9, _\)"),
        gettext_lazy("%(value)s is not a variable name (a-z, 0-9, _)"),
    ),
    (_R(r"the value must be text"), gettext_lazy("the value must be text in quotes")),
    (
        _R(r"(?P<value>.*) is not one of (?P<known>.*)"),
        gettext_lazy("%(value)s is not one of %(known)s"),
    ),
    (
        _R(r"expected a name \(1-100 characters\)"),
        gettext_lazy("expected a name (1 to 100 characters)"),
    ),
    (_R(r"must not be empty"), gettext_lazy("must not be empty")),
    (
        _R(r"a lone (?P<value>'.') \(write (?P<known>'..') for a literal brace\)"),
        gettext_lazy("a lone %(value)s (write %(known)s for a brace)"),
    ),
    (
        _R(r"\{(?P<name>.*)\}: unknown format (?P<value>.*) \(known: (?P<known>.*)\)"),
        gettext_lazy("{%(name)s}: %(value)s is not a format (known: %(known)s)"),
    ),
    (
        _R(r"(?P<value>.*) is not a range like \"08:00-20:00\""),
        gettext_lazy("%(value)s is not a range like “08:00-20:00”"),
    ),
    (
        _R(r"(?P<value>.*) is not a time of day"),
        gettext_lazy("%(value)s is not a time of day"),
    ),
    (
        _R(r"(?P<value>.*) ends before it starts \(split ranges at midnight\)"),
        gettext_lazy("%(value)s ends before it starts (split a range at midnight)"),
    ),
    (
        _R(r"expected a list of ranges like \[\"08:00-20:00\"\]"),
        gettext_lazy("expected a list of ranges like [“08:00-20:00”]"),
    ),
    (
        _R(r"(?P<value>.*) is not a date like 2026-10-01"),
        gettext_lazy("%(value)s is not a date like 2026-10-01"),
    ),
    (_R(r"unknown field"), gettext_lazy("not a known field")),
    (
        _R(r'required, e\.g\. "Asia/Shanghai"'),
        gettext_lazy("required, e.g. “Asia/Shanghai”"),
    ),
    (
        _R(r"unknown time zone (?P<value>.*)"),
        gettext_lazy("%(value)s is not a time zone"),
    ),
    (
        _R(r'expected \{"mon": \["08:00-20:00"\], \.\.\.\}'),
        gettext_lazy("expected {“mon”: [“08:00-20:00”], …}"),
    ),
    (
        _R(r"not a weekday \((?P<known>.*)\)"),
        gettext_lazy("not a weekday (%(known)s)"),
    ),
    (
        _R(r'expected \{"2026-10-01": ".*", \.\.\.\}'),
        gettext_lazy("expected {“2026-10-01”: “name of the holiday”, …}"),
    ),
    (_R(r"the name must be text"), gettext_lazy("the name must be text in quotes")),
    (
        _R(r'expected \{"2026-09-27": \["08:00-20:00"\]\}'),
        gettext_lazy("expected {“2026-09-27”: [“08:00-20:00”]}"),
    ),
]
_PREFIXED: Final = re.compile(r"(?P<where>[A-Za-z0-9_.\[\]]+): (?P<rest>.+)", re.DOTALL)


def _unquote(text: str) -> str:
    """'main_menu' (a Python repr in a message) → “main_menu”."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    return f"“{value}”" if isinstance(value, str) else text


def _group_value(name: str, value: str) -> str:
    if name == "type":
        return str(NODE_TYPE_LABELS.get(value, value))
    if name == "outcome":
        plain = _unquote(value).strip("“”")
        return outcome_label(plain)
    if name == "value":
        return _unquote(value)
    return value


def translate_message(message: str) -> str:
    """The validator's English message as a sentence in the user's language (unknown ones are
    shown as they are: still better than nothing)."""
    prefixed = _PREFIXED.fullmatch(message)
    if prefixed:  # "params.prompt[1]: <message>" or "mode: <message>" (no message has such a start)
        return _("%(place)s: %(message)s") % {
            "place": field_label(prefixed["where"]),
            "message": translate_message(prefixed["rest"]),
        }
    for pattern, text in _MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            params = {k: _group_value(k, v) for k, v in match.groupdict().items()}
            return str(text) % params if params else str(text)
    return message


def outcome_label(outcome: str, node_type: str = "", var: str = "") -> str:
    if outcome in OUTCOME_LABELS and not (node_type == "branch" and outcome != "default"):
        return str(OUTCOME_LABELS[outcome])
    if node_type == "branch":
        return _("{%(var)s} is “%(value)s”") % {"var": var, "value": outcome}
    if len(outcome) == 1:
        return _("key %(key)s") % {"key": outcome}
    return outcome


def field_label(where: str) -> str:
    """ "params.timeout" → the parameter's label; "edges.1" → the way out of key 1; ..."""
    head, _sep, rest = where.partition(".")
    base = re.sub(r"\[\d+\]$", "", rest)
    if head == "params" and rest:
        name = base.split(".")[0]
        return _("parameter “%(name)s”") % {"name": PARAM_LABELS.get(name, name)}
    if head == "edges" and rest:
        return _("way out “%(outcome)s”") % {"outcome": outcome_label(rest)}
    if head == "calendars" and rest:
        calendar, _sep, part = rest.partition(".")
        if part:
            return _("calendar “%(name)s”, %(part)s") % {"name": calendar, "part": part}
        return _("calendar “%(name)s”") % {"name": calendar}
    known: dict[str, Promise] = {
        "start": gettext_lazy("start node"),
        "version": gettext_lazy("version"),
        "nodes": gettext_lazy("node list"),
        "variables": gettext_lazy("variables"),
        "label": gettext_lazy("label"),
        "type": gettext_lazy("node type"),
        "id": gettext_lazy("node id"),
    }
    key = re.sub(r"\[\d+\]$", "", where)
    if key in known:
        return str(known[key])
    return _("field “%(name)s”") % {"name": where}


def node_labels(data: object) -> dict[str, str]:
    """node id → label, read from possibly invalid flow data."""
    labels: dict[str, str] = {}
    nodes = data.get("nodes") if isinstance(data, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            label = node.get("label")
            labels[node["id"]] = label if isinstance(label, str) else ""
    return labels


def present_issues(issues: list[FlowIssue], data: object) -> list[ShownIssue]:
    """Each issue as one sentence naming the node (and its label) and the field; errors first."""
    labels = node_labels(data)
    shown: list[ShownIssue] = []
    for issue in sorted(issues, key=lambda i: i.severity != ERROR):
        if issue.node:
            label = labels.get(issue.node, "")
            place = (
                _("Node “%(node)s” (%(label)s)") % {"node": issue.node, "label": label}
                if label
                else _("Node “%(node)s”") % {"node": issue.node}
            )
            if issue.where:
                place = f"{place} · {field_label(issue.where)}"
        elif issue.where:
            place = field_label(issue.where)
        else:
            place = _("The flow")
        text = _("%(place)s: %(message)s") % {
            "place": place,
            "message": translate_message(issue.message),
        }
        shown.append(ShownIssue(issue.severity, issue.node, text))
    return shown
