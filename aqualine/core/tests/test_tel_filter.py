"""Phone numbers on pages are tel: links (a field phone dials them; the desk dials through the
switch)."""

from __future__ import annotations

from django.template import Context, Template


def render(value: object) -> str:
    return Template("{% load aqualine %}{{ value|tel }}").render(Context({"value": value}))


def test_a_number_becomes_a_tel_link_and_its_text_is_escaped() -> None:
    assert render("139 0013 9000") == (
        '<a class="tel nowrap" href="tel:13900139000">139 0013 9000</a>'
    )
    assert render("+86 10 1234<b>") == (
        '<a class="tel nowrap" href="tel:+86101234">+86 10 1234&lt;b&gt;</a>'
    )


def test_no_number_stays_as_it_was() -> None:
    assert render("") == ""
    assert render(None) == ""
    assert render("—") == "—"
