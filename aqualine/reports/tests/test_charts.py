"""The server-drawn SVG charts: bars in proportion, labels escaped, nothing drawn for nothing."""

from __future__ import annotations

import re

from aqualine.reports.charts import Series, column_chart, hbar_chart


def widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]


def test_bars_are_in_proportion_and_labels_are_escaped() -> None:
    svg = hbar_chart([("<script>x</script>", 10), ("管网维修部", 5)], title="A & B")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'aria-label="A &amp; B"' in svg
    long, short = widths(svg)
    assert long == 2 * short > 0


def test_a_rate_chart_keeps_its_scale() -> None:
    svg = hbar_chart([("a", 0.5)], title="rate", scale_max=1.0, value_text=lambda v: f"{v:.0%}")
    full = hbar_chart([("a", 1.0)], title="rate", scale_max=1.0)
    assert widths(svg)[0] * 2 == widths(full)[0]
    assert ">50%<" in svg


def test_columns_stack_and_nothing_is_drawn_without_data() -> None:
    svg = column_chart(["09", "10"], [Series("接通", [3, 1]), Series("放弃", [1, 0])], title="t")
    assert svg.count('class="aq-s0"') == 3  # two columns and the legend
    assert svg.count('class="aq-s1"') == 2  # one column (the zero is not drawn) and the legend
    assert column_chart(["09"], [Series("接通", [0])], title="t") == ""
    assert hbar_chart([], title="t") == ""


def test_count_axes_end_on_a_round_number() -> None:
    from aqualine.reports.charts import nice_ceiling

    assert [nice_ceiling(v) for v in (0, 0.3, 1, 7, 13, 2565, 5000)] == [
        1.0,
        0.5,
        1.0,
        10.0,
        20.0,
        5000.0,
        5000.0,
    ]
