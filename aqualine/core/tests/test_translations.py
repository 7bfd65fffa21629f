"""The Chinese catalogue is complete, compiled, and covers every string the code marks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2]
PO = PACKAGE / "locale/zh_Hans/LC_MESSAGES/django.po"
MO = PO.with_suffix(".mo")


def test_every_entry_is_translated_and_none_is_fuzzy() -> None:
    po = polib.pofile(str(PO))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    po = {
        (e.msgid, e.msgstr or e.msgstr_plural.get(0, ""))
        for e in polib.pofile(str(PO))
        if not e.obsolete
    }
    mo = {
        (e.msgid, e.msgstr or e.msgstr_plural.get(0, "")) for e in polib.mofile(str(MO)) if e.msgid
    }
    assert po == mo, "run `make messages` to recompile the catalogue"


def test_no_marked_string_is_missing_from_the_catalogue(tmp_path: Path) -> None:
    if not shutil.which("xgettext"):
        pytest.fail("gettext is not installed (apt-get install gettext; `make test` does it)")
    copy = tmp_path / "aqualine"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "tests", "telephony", "*.mo")
    )
    (tmp_path / "extract_settings.py").write_text(
        f"from aqualine.settings import *  # noqa\nLOCALE_PATHS = [{str(copy / 'locale')!r}]\n"
    )
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="extract_settings",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    )
    subprocess.run(
        [sys.executable, "-m", "aqualine", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = {e.msgid for e in polib.pofile(str(copy / "locale/zh_Hans/LC_MESSAGES/django.po"))}
    catalogue = {e.msgid for e in polib.pofile(str(PO))}
    assert sorted(extracted - catalogue) == [], "run `make messages` and translate the new strings"


def test_msgfmt_accepts_the_catalogue() -> None:
    """Placeholders of every translation match its msgid (msgfmt --check-format)."""
    if not shutil.which("msgfmt"):
        pytest.fail("gettext is not installed (apt-get install gettext; `make test` does it)")
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", os.devnull, str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
