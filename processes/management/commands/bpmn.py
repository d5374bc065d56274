"""``manage.py bpmn export …``: the stage templates as BPMN 2.0 XML or SVG.

``bpmn export --template KEY --format bpmn|svg --output FILE`` writes one template's process
(``processes.bpmn``): BPMN 2.0 XML with diagram interchange, or an SVG drawing of the same
layout. Without ``--output`` (or with ``-``) it writes to standard output. ``--all DIRECTORY``
writes every template in both formats, as ``commissioning-KEY.bpmn`` and ``.svg``.
``--first-stages N`` (SVG only) draws only the first N stages, an excerpt readable at the width
of a page.

Exit codes: 0 written; 2 usage error (an unknown template, a missing directory, an excerpt asked
of the XML or of no stage), one line on standard error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cycle.stages import TEMPLATES
from processes import bpmn


def export_path(directory: Path, template_key: str, fmt: str) -> Path:
    return directory / f"commissioning-{template_key}.{fmt}"


class Command(BaseCommand):
    help = "Export the stage templates as BPMN 2.0 processes (XML with diagram, or SVG)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        export = subcommands.add_parser(
            "export",
            help="Write a template's process as BPMN 2.0 XML or SVG.",
            description="Write a template's process as BPMN 2.0 XML (with diagram interchange) "
            "or as an SVG drawing of the same layout.",
        )
        export.add_argument(
            "--template",
            default="default",
            metavar="KEY",
            help=f"The stage template: {', '.join(TEMPLATES)} (default: default).",
        )
        export.add_argument("--format", choices=("bpmn", "svg"), default="bpmn")
        export.add_argument(
            "--output", "-o", default="-", metavar="FILE", help="Where to write (default: stdout)."
        )
        export.add_argument(
            "--first-stages",
            type=int,
            metavar="N",
            help="SVG only: draw only the first N stages.",
        )
        export.add_argument(
            "--all",
            dest="directory",
            metavar="DIRECTORY",
            help="Write every template in both formats into DIRECTORY.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["directory"]:
            directory = Path(options["directory"])
            if not directory.is_dir():
                raise CommandError(f"{directory} is not a directory.", returncode=2)
            for key, template in TEMPLATES.items():
                for fmt in ("bpmn", "svg"):
                    path = export_path(directory, key, fmt)
                    path.write_text(bpmn.export(template, fmt), encoding="utf-8")
                    self.stdout.write(str(path))
            return
        key = options["template"]
        if key not in TEMPLATES:
            raise CommandError(
                f"unknown stage template {key!r}; known: {', '.join(TEMPLATES)}", returncode=2
            )
        first_stages = options["first_stages"]
        if first_stages is not None and (options["format"] != "svg" or first_stages < 1):
            raise CommandError(
                "--first-stages takes a number of stages, 1 or more, and --format svg",
                returncode=2,
            )
        text = bpmn.export(TEMPLATES[key], options["format"], first_stages=first_stages)
        if options["output"] == "-":
            self.stdout.write(text, ending="")
            return
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"{output.parent} is not a directory.", returncode=2)
        output.write_text(text, encoding="utf-8")
