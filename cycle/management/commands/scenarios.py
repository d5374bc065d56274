"""``manage.py scenarios``: list the realistic scenarios, or load them through the services.

    manage.py scenarios list
    manage.py scenarios load [--only KEY ...]

Loading is idempotent: a scenario already in the database is reused and reported as such.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from cycle import scenarios
from cycle.management.base import CommandLine


def report(loaded: scenarios.Loaded) -> str:
    how = "loaded" if loaded.created else "already loaded, reused"
    return (
        f"{loaded.scenario.key}: {how} - cycle {loaded.cycle.pk}, "
        f"{scenarios.gate_line(loaded.cycle)}"
    )


class Command(CommandLine):
    help = "List the realistic scenarios, or load them (idempotently) through the services."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="List the scenarios and what each shows.")
        load = sub.add_parser("load", help="Load the scenarios, reusing any already loaded.")
        load.add_argument(
            "--only",
            action="append",
            metavar="KEY",
            help="Load only this scenario (repeat for more).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "list":
                for scenario in scenarios.discover().values():
                    self.stdout.write(f"{scenario.key}: {scenario.title}")
                    self.stdout.write(
                        f"    {scenario.organisation}; sources {', '.join(scenario.sources)}"
                    )
                return
            for loaded in scenarios.load_each(options.get("only")):
                self.stdout.write(report(loaded))
                self.stdout.flush()
        except scenarios.ScenarioError as error:
            raise CommandError(str(error)) from error
