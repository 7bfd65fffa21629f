"""An immutable, ordered, case-insensitive set of ``;name=value`` parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.grammar import Cursor, unquote_string

_ADDRESS_RE = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


class Params(Mapping[str, str | None]):
    """Parameters of a header field value or URI, in their original order.

    Names compare case-insensitively and keep their original spelling.  A parameter
    without a value (``;lr``) maps to ``None``.  Header parameter values are kept as written
    (a quoted value keeps its quotes: use :meth:`unquoted`); URI parameter values are
    %-decoded.  Instances are immutable: :meth:`with_` and :meth:`without` return new ones.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str | None]] = ()) -> None:
        pairs: list[tuple[str, str | None]] = []
        index: dict[str, int] = {}
        for name, value in items:
            key = name.lower()
            if key in index:
                pairs[index[key]] = (name, value)
            else:
                index[key] = len(pairs)
                pairs.append((name, value))
        self._items = tuple(pairs)
        self._index = index

    def __getitem__(self, name: str) -> str | None:
        return self._items[self._index[name.lower()]][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Params):
            return NotImplemented
        return self._normalised() == other._normalised()

    def __hash__(self) -> int:
        return hash(frozenset(self._normalised().items()))

    def __repr__(self) -> str:
        return f"Params({list(self._items)!r})"

    def _normalised(self) -> dict[str, str | None]:
        return {name.lower(): value for name, value in self._items}

    def pairs(self) -> tuple[tuple[str, str | None], ...]:
        """The (name, value) pairs in order."""
        return self._items

    def unquoted(self, name: str) -> str | None:
        """The value of ``name`` with the quotes of a quoted-string removed."""
        value = self.get(name)
        if value is not None and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            return unquote_string(value[1:-1])
        return value

    def with_(self, name: str, value: str | None = None) -> Params:
        """A copy with ``name`` set to ``value`` (replacing it in place if present)."""
        return Params([*self._items, (name, value)])

    def without(self, name: str) -> Params:
        """A copy without ``name``."""
        key = name.lower()
        return Params(pair for pair in self._items if pair[0].lower() != key)

    def header_text(self) -> str:
        """Serialise as header field parameters: ``;name=value`` with values as stored."""
        return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in self._items)


def parse_header_params(cursor: Cursor) -> Params:
    """Parse ``*( SEMI generic-param )`` where ``generic-param = token [ EQUAL gen-value ]``.

    ``gen-value`` is a token, a host (including a bracketed IPv6 reference) or a
    quoted-string, which is stored with its quotes.  A repeated name is an error.
    """
    pairs: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    while cursor.accept(";"):
        name = cursor.token("parameter name")
        key = name.lower()
        if key in seen:
            raise cursor.error(f"parameter {name!r} repeated")
        seen.add(key)
        value: str | None = None
        if cursor.accept("="):
            # Via's received holds an IPv6 address without brackets (RFC 3261 §20.42).
            received = key == "received" and cursor.match(_ADDRESS_RE)
            value = received or _gen_value(cursor)
        pairs.append((name, value))
    return Params(pairs)


def _gen_value(cursor: Cursor) -> str:
    ch = cursor.peek()
    if ch == '"':
        return cursor.quoted_raw()
    if ch == "[":
        end = cursor.text.find("]", cursor.pos)
        inside = cursor.text[cursor.pos + 1 : end] if end > 0 else ""
        if not inside or any(c not in "0123456789abcdefABCDEF:." for c in inside):
            raise cursor.error("bad IPv6 reference")
        value = cursor.text[cursor.pos : end + 1]
        cursor.pos = end + 1
        return value
    return cursor.token("parameter value")


def check_no_duplicates(pairs: Iterable[tuple[str, Any]], what: str) -> None:
    """Raise if a parameter name appears twice (names compare case-insensitively)."""
    seen: set[str] = set()
    for name, _ in pairs:
        key = name.lower()
        if key in seen:
            raise SipParseError("Malformed value", detail=f"{what} parameter {name!r} repeated")
        seen.add(key)
