"""Fill empty zh_Hans entries of the .po catalogue from a JSON file of {msgid: msgstr}.

Usage: python scripts/fill_po.py translations.json   (then `make messages` compiles)
"""

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parents[1] / "aqualine/locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> None:
    table = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    po = polib.pofile(str(PO))
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Language"] = "zh_Hans"
    filled = 0
    for entry in po:
        if entry.msgid in table:
            value = table[entry.msgid]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: value}
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            filled += 1
    po.save()
    for entry in po.fuzzy_entries():  # msgmerge's guesses are often wrong: show them
        print(f"  fuzzy (check and translate): {entry.msgid!r} -> {entry.msgstr!r}")
    missing = [e.msgid for e in po if not e.translated()]
    print(f"filled {filled}; untranslated {len(missing)}")
    for msgid in missing:
        print("  ", repr(msgid))


if __name__ == "__main__":
    main()
