"""``manage.py report --organisation NAME --from YYYY-MM-DD --to YYYY-MM-DD --format html|csv|pdf
-o FILE``: the report on how people's views influenced an organisation's commissioning decisions
in a period (``cycle.reports``). Without ``-o`` HTML and CSV go to standard output."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from cycle.management.base import CommandLine
from cycle.models import Organisation
from cycle.reports import (
    ReportUnavailable,
    involvement_report,
    render_csv,
    render_html,
    render_pdf,
)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date in the form YYYY-MM-DD.") from None


class Command(CommandLine):
    help = "Report how people's views influenced an organisation's decisions in a period."
    exact_output = True
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, metavar="NAME")
        parser.add_argument("--from", dest="period_from", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="period_to", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--format", choices=("html", "csv", "pdf"), default="html")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE.")

    def handle(self, *args: Any, **options: Any) -> None:
        period_from = _day(options["period_from"])
        period_to = _day(options["period_to"])
        if period_to < period_from:
            raise CommandError("The period ends before it starts.")
        output_format = options["format"]
        output = options["output"]
        if output_format == "pdf" and not output:
            raise CommandError("A PDF report needs a file to go to: add -o FILE.")
        organisation = Organisation.objects.filter(name=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"There is no organisation named {options['organisation']!r}.")

        # The bar only where the report goes to a file: on standard output it would break into it.
        shown = bool(output) or not self.stdout.isatty()
        with self.progress_bar("Reading the decisions", 0, unit="decisions", shown=shown) as bar:

            def built(done: int, total: int) -> None:
                bar.total = total
                bar.update(done)

            report = involvement_report(organisation, period_from, period_to, progress=built)
        with self.progress_bar(
            f"Writing the {output_format.upper()}", 1, shown=shown, counts=False
        ):
            if output_format == "pdf":
                try:
                    Path(output).write_bytes(render_pdf(report))
                except ReportUnavailable as error:
                    raise CommandError(str(error)) from error
                return
            text = render_html(report) if output_format == "html" else render_csv(report)
        if output:
            Path(output).write_text(text, encoding="utf-8", newline="")
        else:
            self.stdout.write(text, ending="")
