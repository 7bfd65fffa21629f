"""Text templates in IVR prompts: ``{name}`` inserts a call variable, ``{name:format}`` formats it.

Formats, for text-to-speech:

| placeholder | value | spoken text |
|---|---|---|
| ``{account_number}`` | ``1001234`` | ``1001234`` (espeak-ng reads "one million ...") |
| ``{account_number:digits}`` | ``1001234`` | ``一 零 零 一 二 三 四`` (digit by digit) |
| ``{arrears:money}`` | ``45.60`` | ``45元6角`` (espeak-ng drops a decimal point) |

``{{`` and ``}}`` are literal braces. A variable that is not set renders as the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,63}")
FORMATS: Final = ("digits", "money")
_TOKEN: Final = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_HANZI_DIGITS: Final = dict(zip("0123456789", "零一二三四五六七八九", strict=True))


class TemplateError(ValueError):
    """A template with a malformed placeholder."""


def placeholders(text: str) -> list[tuple[str, str]]:
    """The (variable, format) pairs a template uses; raises :class:`TemplateError`."""
    found: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        inner = match.group(1)
        if inner is None:
            raise TemplateError(f"a lone {token!r} (write {token * 2!r} for a literal brace)")
        name, _, fmt = inner.partition(":")
        if not NAME.fullmatch(name):
            raise TemplateError(f"{{{inner}}} is not a variable name (a-z, 0-9, _)")
        if ":" in inner and fmt not in FORMATS:
            raise TemplateError(
                f"{{{inner}}}: unknown format {fmt!r} (known: {', '.join(FORMATS)})"
            )
        found.append((name, fmt))
    return found


def render(text: str, variables: Mapping[str, str]) -> str:
    """The template with its placeholders filled in (the template must be valid)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        inner = match.group(1)
        if inner is None:  # validated flows have none; keep the text as it is
            return token
        name, _, fmt = inner.partition(":")
        return format_value(variables.get(name, ""), fmt)

    return _TOKEN.sub(replace, text)


def format_value(value: str, fmt: str) -> str:
    if fmt == "digits":
        return " ".join(_HANZI_DIGITS.get(ch, ch) for ch in value if not ch.isspace())
    if fmt == "money":
        return spoken_money(value)
    return value


def spoken_money(value: str) -> str:
    """``"45.60"`` → ``"45元6角"``; ``"45.06"`` → ``"45元零6分"``; not a number → unchanged."""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return value
    sign = "负" if amount < 0 else ""
    fen_total = int(abs(amount) * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    parts = []
    if yuan or not rest:
        parts.append(f"{yuan}元")
    if jiao:
        parts.append(f"{jiao}角")
    if fen:
        parts.append(f"{'零' if yuan and not jiao else ''}{fen}分")
    return sign + "".join(parts)
