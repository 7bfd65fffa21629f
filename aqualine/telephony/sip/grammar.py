"""Character classes and small scanners for the RFC 3261 §25.1 grammar.

Everything here runs in time linear in its input: the regular expressions are single
character classes or alternations whose branches start with different characters, so
they cannot backtrack catastrophically.
"""

from __future__ import annotations

import re
import string
from urllib.parse import unquote

from aqualine.telephony.sip.errors import SipParseError

ALPHANUM = frozenset(string.ascii_letters + string.digits)
MARK = frozenset("-_.!~*'()")
UNRESERVED = ALPHANUM | MARK
# Characters allowed unescaped in each part of a SIP URI (besides "%" escapes).
USER_CHARS = UNRESERVED | frozenset("&=+$,;?/")
PASSWORD_CHARS = UNRESERVED | frozenset("&=+$,")
PARAM_CHARS = UNRESERVED | frozenset("[]/:&+$")
HEADER_CHARS = UNRESERVED | frozenset("[]/?:+$")

TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
WORD_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+")
WS_RE = re.compile(r"[ \t]+")
# quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE; group 1 is the raw inside.
QUOTED_RE = re.compile(r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\x00-\x09\x0b\x0c\x0e-\x7f])*)"')
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SPLIT_RE = re.compile(r'[",<>\\]')
DIGITS_RE = re.compile(r"[0-9]+")

MAX_UINT32 = 2**32 - 1


def is_token(text: str) -> bool:
    """Whether ``text`` is a non-empty RFC 3261 token."""
    return TOKEN_RE.fullmatch(text) is not None


def is_word(text: str) -> bool:
    """Whether ``text`` is a non-empty RFC 3261 word (the pieces of a Call-ID)."""
    return WORD_RE.fullmatch(text) is not None


def parse_uint(text: str, *, maximum: int = MAX_UINT32, what: str = "number") -> int:
    """Parse 1*DIGIT (leading zeros allowed) no larger than ``maximum``."""
    if DIGITS_RE.fullmatch(text) is None:
        raise SipParseError("Malformed value", detail=f"{what} is not a number: {text[:40]!r}")
    stripped = text.lstrip("0") or "0"
    if len(stripped) > len(str(maximum)) or int(stripped) > maximum:
        raise SipParseError("Malformed value", detail=f"{what} is too large: {text[:40]!r}")
    return int(stripped)


def unquote_string(inner: str) -> str:
    """Resolve the quoted-pairs of the inside of a quoted-string."""
    if "\\" not in inner:
        return inner
    return _QUOTED_PAIR_RE.sub(lambda m: m.group(1), inner)


def quote_string(text: str) -> str:
    """Make a quoted-string holding ``text`` (CR and LF cannot be carried; they become SP)."""
    out = ['"']
    for ch in text:
        if ch in "\r\n":
            out.append(" ")
        elif ch in '"\\' or (ord(ch) < 0x20 and ch != "\t") or ch == "\x7f":
            out.append("\\" + ch)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def unescape(text: str) -> str:
    """Decode %HH escapes (bytes that are not UTF-8 survive as surrogate escapes)."""
    if "%" not in text:
        return text
    if _BAD_ESCAPE_RE.search(text):
        raise SipParseError("Malformed URI", detail=f"bad %-escape in {text[:40]!r}")
    return unquote(text, encoding="utf-8", errors="surrogateescape")


def escape(text: str, allowed: frozenset[str]) -> str:
    """%-escape every character of ``text`` that is not in ``allowed``."""
    if all(ch in allowed for ch in text):
        return text
    out: list[str] = []
    for byte in text.encode("utf-8", "surrogateescape"):
        ch = chr(byte)
        out.append(ch if byte < 0x80 and ch in allowed else f"%{byte:02X}")
    return "".join(out)


def check_chars(text: str, allowed: frozenset[str], what: str) -> None:
    """Raise unless every character of ``text`` is allowed or part of a %-escape."""
    for ch in text:
        if ch not in allowed and ch != "%":
            raise SipParseError("Malformed URI", detail=f"character {ch!r} not allowed in {what}")


def split_commas(value: str) -> list[str]:
    """Split a header field value at the commas that separate list elements.

    Commas inside quoted strings (with their backslash escapes) and inside ``<...>`` do not
    split.  Elements are stripped of surrounding whitespace; empty elements are kept so that
    a parser can reject them.
    """
    parts: list[str] = []
    start = 0
    in_quote = False
    in_angle = False
    skip_until = -1
    for match in _SPLIT_RE.finditer(value):
        pos = match.start()
        if pos < skip_until:
            continue
        ch = match.group()
        if in_quote:
            if ch == "\\":
                skip_until = pos + 2
            elif ch == '"':
                in_quote = False
        elif in_angle:
            if ch == ">":
                in_angle = False
        elif ch == '"':
            in_quote = True
        elif ch == "<":
            in_angle = True
        elif ch == ",":
            parts.append(value[start:pos].strip(" \t"))
            start = pos + 1
    parts.append(value[start:].strip(" \t"))
    return parts


class Cursor:
    """A position in a header field value, with the few moves the grammar needs."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str, pos: int = 0) -> None:
        self.text = text
        self.pos = pos

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def advance(self, count: int = 1) -> None:
        self.pos += count

    def error(self, message: str) -> SipParseError:
        return SipParseError(
            "Malformed value", detail=f"{message} at offset {self.pos} of {self.text[:60]!r}"
        )

    def skip_ws(self) -> bool:
        """Skip spaces and tabs; return whether there were any."""
        match = WS_RE.match(self.text, self.pos)
        if match is None:
            return False
        self.pos = match.end()
        return True

    def accept(self, ch: str) -> bool:
        """Consume ``ch`` (with whitespace on either side) if it comes next."""
        start = self.pos
        self.skip_ws()
        if self.peek() == ch:
            self.pos += 1
            self.skip_ws()
            return True
        self.pos = start
        return False

    def expect(self, ch: str) -> None:
        if not self.accept(ch):
            raise self.error(f"expected {ch!r}")

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group()

    def token(self, what: str = "token") -> str:
        found = self.match(TOKEN_RE)
        if found is None:
            raise self.error(f"expected {what}")
        return found

    def quoted_raw(self) -> str:
        """Consume a quoted-string and return it as written, quotes included."""
        found = QUOTED_RE.match(self.text, self.pos)
        if found is None:
            raise self.error("unterminated or invalid quoted string")
        self.pos = found.end()
        return found.group()

    def quoted(self) -> str:
        """Consume a quoted-string and return its decoded contents."""
        raw = self.quoted_raw()
        return unquote_string(raw[1:-1])

    def finish(self) -> None:
        """Allow trailing whitespace, then require the end of the value."""
        self.skip_ws()
        if not self.at_end():
            raise self.error(f"unexpected {self.peek()!r}")
