"""The `aqualine` command: Django management with Aqualine's own commands
(run, web, worker, demo) among them."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aqualine.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "aqualine"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
