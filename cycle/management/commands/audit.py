"""``manage.py audit …``: verify the audit ledger, and export it for verification elsewhere.

``audit verify`` checks every event's hash, every link and the ledger head, and names the first
event that does not verify. ``--head HASH`` (or ``SEQ:HASH``, as an earlier ``audit verify``
printed it, kept somewhere the database's users cannot write) checks that the ledger still holds
that event unchanged: the one thing that gives away a ledger rewritten with every hash after it
recomputed, head row included. ``--state`` then replays the ledger and compares it with the stage
visits and gate records in their tables (``cycle.replay``), naming the first row it does not
explain: ``sign-off #12 (cycle 3): no event records it``. ``audit export`` writes the ledger (or
one cycle's events) as JSON Lines or CSV; ``python -m cycle.verify_export`` checks such a file
without the database.

Exit codes: 0 verified (or exported); 1 an event does not verify, or the cycle does not exist;
2 usage error. Failures are one line on standard error:
``event #SEQ (action, cycle ID): problem``.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from contextlib import ExitStack
from typing import Any, NoReturn, TextIO

from django.core.management.base import CommandError, CommandParser, OutputWrapper

from cycle import chain, ledger, replay
from cycle.management.base import CommandLine, TerminalSafeOutput
from cycle.models import AuditEvent, CommissioningCycle

EXIT_NOT_VERIFIED = 1


def _kept_head(text: str) -> tuple[int, str] | str:
    """``SEQ:HASH`` or a bare ``HASH`` (64 lower-case hex digits)."""
    text = text.strip()
    if ":" not in text:
        if re.fullmatch(r"[0-9a-f]{64}", text) is None:
            raise argparse.ArgumentTypeError(
                f"expected HASH (64 hex digits) or SEQ:HASH, not {text!r}"
            )
        return text
    try:
        return chain.parse_head(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class AuditCommandError(CommandError):
    """A failure already written to standard error; carries the exit code."""


class _Unadorned:
    """Standard output as a plain text stream: written as given, no line ending added."""

    def __init__(self, wrapper: OutputWrapper | TerminalSafeOutput) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class Command(CommandLine):
    help = "Verify the audit ledger, or export it as JSON Lines or CSV."
    exact_output = True
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        verify = subcommands.add_parser(
            "verify",
            help="Check the whole ledger and name the first event that does not verify.",
            description="Check the whole ledger and name the first event that does not verify.",
        )
        verify.add_argument(
            "--head",
            type=_kept_head,
            metavar="HASH",
            help="A head kept outside the database (HASH or SEQ:HASH, as printed by an earlier "
            "audit verify): the ledger must still hold that event unchanged.",
        )
        verify.add_argument(
            "--state",
            action="store_true",
            help="Also replay the ledger and compare it with the stage visits and gate records "
            "in their tables, naming the first row the ledger does not explain.",
        )
        export = subcommands.add_parser(
            "export",
            help="Write the ledger (or one cycle's events) as JSON Lines or CSV.",
            description="Write the ledger (or one cycle's events) as JSON Lines or CSV.",
        )
        export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
        export.add_argument(
            "--cycle", type=int, metavar="ID", help="Only this cycle's events (its own chain)."
        )
        export.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of standard output."
        )

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except AuditCommandError as failure:
            if getattr(self, "_called_from_command_line", False):
                sys.exit(failure.returncode)
            raise

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self.verify(options["head"], state=options["state"])
        else:
            self.export(options["format"], options["cycle"], options["output"])

    def verify(self, kept: tuple[int, str] | str | None, *, state: bool = False) -> None:
        result = ledger.verify_ledger() if kept is None else ledger.verify_against_kept_head(kept)
        if not result.ok:
            self.fail(result.describe())
        self.stdout.write(f"ledger verified: {result.checked} events")
        if result.last_seq is not None:
            self.stdout.write(f"head: {result.last_seq}:{result.last_hash}")
        if kept is not None:
            self.stdout.write("the head kept outside the database is in the ledger, unchanged")
        if state:
            replayed = replay.verify_state()
            if not replayed.ok:
                self.fail(replayed.describe())
            self.stdout.write(f"state verified: {replayed.describe()}")

    def export(self, fmt: str, cycle_id: int | None, output: str | None) -> None:
        head_seq, _ = ledger.head()
        # Up to the head as read now, so that appends made meanwhile do not cut a chain in two.
        events = AuditEvent.objects.filter(seq__lte=head_seq)
        if cycle_id is not None:
            if not CommissioningCycle.objects.filter(pk=cycle_id).exists():
                self.fail(f"There is no commissioning cycle {cycle_id}.")
            events = events.filter(cycle_id=cycle_id)
        count, last = 0, None
        with ExitStack() as stack:
            stream: TextIO | _Unadorned
            if output:
                stream = stack.enter_context(open(output, "w", encoding="utf-8", newline=""))
            else:
                stream = _Unadorned(self.stdout)
            write_csv = csv.writer(stream).writerow if fmt == "csv" else None
            if write_csv is not None:
                write_csv(chain.EXPORT_FIELDS)
            total = events.count()
            # Not over the events themselves when they go to the same terminal.
            shown = bool(output) or not self.stdout.isatty()
            with self.progress_bar("Exporting", total, unit="events", shown=shown) as bar:
                for record in ledger.iter_records(events):
                    if write_csv is not None:
                        write_csv(chain.csv_row(record))
                    else:
                        stream.write(chain.jsonl_line(record))
                    count, last = count + 1, record
                    bar.advance()
        what = f"cycle {cycle_id}" if cycle_id is not None else "the ledger"
        summary = f"exported {count} events of {what}"
        if last is not None:
            summary += f"; head {last['seq']}:{last['hash']}"
        self.stderr.write(summary)

    def fail(self, line: str) -> NoReturn:
        self.stderr.write(line)
        raise AuditCommandError(line, returncode=EXIT_NOT_VERIFIED)
