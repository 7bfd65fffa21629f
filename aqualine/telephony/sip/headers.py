"""The header fields of a SIP message: ordered, case-insensitive, compact forms resolved."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from aqualine.telephony.sip.grammar import is_token, split_commas

# RFC 3261 §7.3.3 and later RFCs: compact form -> long name.
COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

_KNOWN_NAMES = (
    "Accept",
    "Accept-Contact",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Resource-Priority",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "History-Info",
    "Identity",
    "In-Reply-To",
    "Join",
    "Max-Forwards",
    "MIME-Version",
    "Min-Expires",
    "Min-SE",
    "Organization",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "RAck",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Reject-Contact",
    "Replaces",
    "Reply-To",
    "Request-Disposition",
    "Require",
    "Resource-Priority",
    "Retry-After",
    "Route",
    "RSeq",
    "Security-Client",
    "Security-Server",
    "Security-Verify",
    "Server",
    "Service-Route",
    "Session-Expires",
    "Subject",
    "Subscription-State",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
)
_CANONICAL: dict[str, str] = {name.lower(): name for name in _KNOWN_NAMES}
_CANONICAL.update(COMPACT_FORMS)

# Header fields whose grammar is a comma-separated list (RFC 3261 §7.3.1): a field line
# may carry several values, and several field lines equal one line joined by commas.
# Fields such as WWW-Authenticate, Authorization or Date contain commas of their own and
# are never split.
LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        "Accept",
        "Accept-Contact",
        "Accept-Encoding",
        "Accept-Language",
        "Accept-Resource-Priority",
        "Alert-Info",
        "Allow",
        "Allow-Events",
        "Call-Info",
        "Contact",
        "Content-Encoding",
        "Content-Language",
        "Error-Info",
        "History-Info",
        "In-Reply-To",
        "P-Asserted-Identity",
        "P-Preferred-Identity",
        "Path",
        "Proxy-Require",
        "Reason",
        "Record-Route",
        "Reject-Contact",
        "Request-Disposition",
        "Require",
        "Resource-Priority",
        "Route",
        "Security-Client",
        "Security-Server",
        "Security-Verify",
        "Service-Route",
        "Supported",
        "Unsupported",
        "Via",
        "Warning",
    )
)


def canonical_name(name: str) -> str:
    """The spelling a header name is stored and sent with.

    Compact forms become long names, known names get their usual capitalisation
    (``cseq`` -> ``CSeq``), unknown names are kept as written.
    """
    return _CANONICAL.get(name.lower(), name)


class Headers:
    """The header fields of a message, in order, one entry per field line.

    Names are looked up case-insensitively, and compact forms are resolved when a field is
    added, so ``headers.get("i")`` and ``headers.get("call-id")`` find ``Call-ID``.  Values
    are stored as received (line folding already replaced by a single space, surrounding
    whitespace removed).  :meth:`values` splits comma-separated lists for the fields whose
    grammar allows it.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: list[tuple[str, str, str]] = []
        for name, value in fields:
            self.add(name, value)

    @staticmethod
    def _entry(name: str, value: str) -> tuple[str, str, str]:
        if not is_token(name):
            raise ValueError(f"invalid header name {name!r}")
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} value contains CR or LF")
        canonical = canonical_name(name)
        return (canonical.lower(), canonical, value)

    def add(self, name: str, value: str) -> None:
        """Append a field line."""
        self._fields.append(self._entry(name, value))

    def prepend(self, name: str, value: str) -> None:
        """Insert a field line before all others (as a new top Via)."""
        self._fields.insert(0, self._entry(name, value))

    def set(self, name: str, value: str) -> None:
        """Replace every field line of ``name`` by one, where the first one was (or at the end)."""
        entry = self._entry(name, value)
        key = entry[0]
        position = next((i for i, f in enumerate(self._fields) if f[0] == key), None)
        self._fields = [f for f in self._fields if f[0] != key]
        if position is None:
            self._fields.append(entry)
        else:
            self._fields.insert(position, entry)

    def remove(self, name: str) -> int:
        """Remove every field line of ``name``; return how many there were."""
        key = canonical_name(name).lower()
        before = len(self._fields)
        self._fields = [f for f in self._fields if f[0] != key]
        return before - len(self._fields)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the first field line of ``name``."""
        key = canonical_name(name).lower()
        for f in self._fields:
            if f[0] == key:
                return f[2]
        return default

    def get_all(self, name: str) -> list[str]:
        """The values of every field line of ``name``, unsplit."""
        key = canonical_name(name).lower()
        return [f[2] for f in self._fields if f[0] == key]

    def values(self, name: str) -> list[str]:
        """The values of ``name`` with comma-separated lists split (for list headers).

        A field line that is entirely empty contributes nothing; empty elements between
        commas are kept (as ``""``) so that a parser can reject them.
        """
        key = canonical_name(name).lower()
        raw = [f[2] for f in self._fields if f[0] == key]
        if key not in LIST_HEADERS:
            return raw
        out: list[str] = []
        for value in raw:
            if value.strip(" \t"):
                out.extend(split_commas(value))
        return out

    def count(self, name: str) -> int:
        """How many field lines ``name`` has."""
        key = canonical_name(name).lower()
        return sum(1 for f in self._fields if f[0] == key)

    def copy(self) -> Headers:
        clone = Headers()
        clone._fields = list(self._fields)
        return clone

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = canonical_name(name).lower()
        return any(f[0] == key for f in self._fields)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Yield (name, value) for each field line, in order."""
        return ((f[1], f[2]) for f in self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(f[0], f[2]) for f in self._fields] == [(f[0], f[2]) for f in other._fields]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"
