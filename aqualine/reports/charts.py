"""Charts drawn on the server as inline SVG: no JavaScript library, no network, nothing to build.

Two kinds are enough for the reports: horizontal bars (a figure per category, department,
agent) and stacked columns (calls per hour of the day). Each bar carries a <title> (the
browser's tooltip) and the chart a role and label for screen readers; colours come from
reports.css. Every label is escaped: department and category names are data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
LABEL_WIDTH = 150
VALUE_WIDTH = 70
BAR_HEIGHT = 18
ROW_HEIGHT = 26
MAX_LABEL = 12


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above `value` (the top of a count axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def hbar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    value_text: Callable[[float], str] = _number,
    scale_max: float | None = None,
) -> SafeString:
    """One horizontal bar per (label, value), in the order given; `scale_max` fixes the scale
    (e.g. 1 for rates), else the largest value fills the width."""
    if not items or not any(v for _l, v in items):
        return mark_safe("")
    top = scale_max or max((v for _l, v in items), default=0) or 1
    bar_space = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW_HEIGHT * len(items) + 8
    parts = [
        f'<svg class="aq-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>"
    ]
    for index, (label, value) in enumerate(items):
        y = 4 + index * ROW_HEIGHT
        length = max(0.0, min(1.0, value / top)) * bar_space
        text = value_text(value)
        parts.append(
            f'<g class="aq-bar"><title>{escape(label)}: {escape(text)}</title>'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end" class="aq-label">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'class="aq-s0"/>'
            f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 13}" class="aq-value">'
            f"{escape(text)}</text></g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def column_chart(labels: Sequence[str], series: Sequence[Series], *, title: str) -> SafeString:
    """Stacked columns, one per label (e.g. the 24 hours), with a legend; series i is drawn
    with the class aq-s{i}."""
    if not labels or not series:
        return mark_safe("")
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    if not any(totals):
        return mark_safe("")
    top = nice_ceiling(max(totals))
    left, bottom, top_pad, legend = 40, 22, 10, 24
    plot_h = 200
    height = top_pad + plot_h + bottom + legend
    step = (WIDTH - left - 4) / len(labels)
    width = max(2.0, step * 0.7)
    parts = [
        f'<svg class="aq-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>"
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = top_pad + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{left}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="aq-grid"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="aq-axis">'
            f"{escape(_number(top * fraction))}</text>"
        )
    for i, label in enumerate(labels):
        x = left + i * step + (step - width) / 2
        base = float(top_pad + plot_h)
        tip = [f"{escape(label)}"]
        bars = []
        for n, s in enumerate(series):
            value = s.values[i]
            tip.append(f"{escape(s.name)} {escape(_number(value))}")
            h = plot_h * value / top
            base -= h
            if h > 0:
                bars.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{width:.1f}" height="{h:.1f}" '
                    f'class="aq-s{n}"/>'
                )
        parts.append(
            f'<g class="aq-bar"><title>{" · ".join(tip)}</title>{"".join(bars)}'
            f'<text x="{x + width / 2:.1f}" y="{top_pad + plot_h + 15}" text-anchor="middle" '
            f'class="aq-axis">{escape(label)}</text></g>'
        )
    x = left
    for n, s in enumerate(series):
        y = height - 8
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" class="aq-s{n}"/>'
            f'<text x="{x + 16}" y="{y}" class="aq-label">{escape(s.name)}</text>'
        )
        x += 28 + 14 * len(s.name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
