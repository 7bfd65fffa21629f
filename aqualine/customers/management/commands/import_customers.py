from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aqualine.customers.importing import ImportKind, SourceError, import_records, source_for_upload


class Command(BaseCommand):
    help = (
        "Import accounts, meters or bills from a CSV (UTF-8 or GBK) or XLSX file. Every bad row "
        "is reported with its line; nothing is imported when any row is bad. Importing again "
        "updates existing rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=[k.value for k in ImportKind])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--check", action="store_true", help="validate and count only; import nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error}") from None
        try:
            source = source_for_upload(path.name, data)
        except SourceError as error:
            raise CommandError(str(error)) from None
        report = import_records(
            kind=ImportKind(options["kind"]), source=source, dry_run=options["check"]
        )
        if report.errors:
            for row_error in report.errors:
                where = f"line {row_error.line}" if row_error.line else "file"
                column = f" [{row_error.column}]" if row_error.column else ""
                self.stderr.write(f"{path.name}: {where}{column}: {row_error.message}")
            raise CommandError(
                f"{len(report.errors)} error(s) in {report.rows} row(s); nothing was imported."
            )
        verb = "Checked" if options["check"] else "Imported"
        self.stdout.write(
            f"{verb} {report.rows} {report.kind} row(s): {report.created} new, "
            f"{report.updated} updated, {report.unchanged} unchanged."
        )
        if report.new_areas:
            self.stdout.write("New areas: " + ", ".join(report.new_areas))
