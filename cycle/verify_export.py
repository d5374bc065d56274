"""Verify an exported audit ledger on its own: no database, no Django, nothing but Python.

    python -m cycle.verify_export ledger.jsonl
    python -m cycle.verify_export cycle-12.csv --cycle --head 4711:9f86d0…

The file is what ``manage.py audit export`` writes, as JSON Lines or CSV (told apart by its first
line). Without ``--cycle`` it must be the whole ledger; with ``--cycle`` the events of one cycle.
Every event's hash is recomputed from its fields and every link checked, and the first event that
does not verify is named. An export that was cut short at a line boundary still verifies as far as
it goes; ``--head SEQ:HASH`` (printed by ``audit verify`` and ``audit export``, and worth keeping
apart from the file) makes a missing tail detectable as well.

Exit status: 0 verified, 1 an event does not verify, 2 the file cannot be read or the arguments
are wrong.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from .chain import (
    EXPORT_FIELDS,
    ExportFormatError,
    Verification,
    parse_head,
    record_from_csv,
    record_from_jsonl,
    verify_records,
)


class ExportReadError(Exception):
    """A line that is not an event; says where it is, which event it seems to be and follows."""

    def __init__(self, line: int, after_seq: int | None, problem: str, text: str = "") -> None:
        after = "at the start" if after_seq is None else f"after event #{after_seq}"
        seq = _SEQ_AT_START.match(text)
        which = f"event #{seq.group(1)}, " if seq else ""
        super().__init__(f"line {line} ({which}{after}): {problem}")
        self.line = line
        self.after_seq = after_seq
        self.problem = problem


# Both formats start a line with the event's number, so even a damaged line can be named.
_SEQ_AT_START = re.compile(r'(?:\{"seq":)?([0-9]+)[,}]')


def read_export(stream: TextIO) -> Iterator[dict[str, Any]]:
    """The events of an export, one by one; :class:`ExportReadError` at the first bad line."""
    first = stream.readline()
    if first.startswith("{") or first == "":
        return _read_jsonl(first, stream)
    return _read_csv(first, stream)


def _read_jsonl(first: str, stream: TextIO) -> Iterator[dict[str, Any]]:
    after: int | None = None
    for number, line in enumerate(_chain_first(first, stream), start=1):
        if line.strip() == "":
            raise ExportReadError(number, after, "an empty line")
        try:
            record = record_from_jsonl(line)
        except ExportFormatError as exc:
            raise ExportReadError(number, after, str(exc), line) from None
        after = record["seq"]
        yield record


def _chain_first(first: str, stream: TextIO) -> Iterator[str]:
    if first:
        yield first
    yield from stream


def _read_csv(first: str, stream: TextIO) -> Iterator[dict[str, Any]]:
    header = next(csv.reader([first]), [])
    if tuple(header) != EXPORT_FIELDS:
        raise ExportReadError(1, None, f"not a ledger export: the header is not {EXPORT_FIELDS}")
    reader = csv.reader(stream, strict=True)
    after: int | None = None
    while True:
        line = reader.line_num + 2
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ExportReadError(line, after, f"not a complete CSV row ({exc})") from None
        try:
            record = record_from_csv(row)
        except ExportFormatError as exc:
            raise ExportReadError(line, after, str(exc), ",".join(row[:1]) + ",") from None
        after = record["seq"]
        yield record


def verify_file(
    path: Path, *, per_cycle: bool = False, head: tuple[int, str] | None = None
) -> Verification:
    """Verify an export file; :class:`ExportReadError` if a line is not an event at all."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return verify_records(read_export(stream), per_cycle=per_cycle, head=head)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cycle.verify_export",
        description="Verify an exported audit ledger (JSON Lines or CSV) without the database.",
    )
    parser.add_argument("file", type=Path, help="the export to verify")
    parser.add_argument(
        "--cycle",
        action="store_true",
        help="the file holds one cycle's events (audit export --cycle ID)",
    )
    parser.add_argument(
        "--head",
        metavar="SEQ:HASH",
        help="the last event the export must end with, as printed by audit verify or export",
    )
    args = parser.parse_args(argv)
    try:
        head = parse_head(args.head) if args.head else None
    except ValueError as exc:
        parser.error(str(exc))
    what = "cycle's events" if args.cycle else "ledger"
    try:
        result = verify_file(args.file, per_cycle=args.cycle, head=head)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"{args.file} is not UTF-8 text: {exc}", file=sys.stderr)
        return 1
    except ExportReadError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    if not result.ok:
        print(f"{args.file}: line {_line(result, args.file)}: {result.describe()}", file=sys.stderr)
        return 1
    print(f"{what} verified: {result.checked} events")
    if result.last_seq is not None:
        print(f"head: {result.last_seq}:{result.last_hash}")
    if head is None:
        print("(without --head a missing tail cannot be told from the end of the export)")
    return 0


def _line(result: Verification, path: Path) -> int:
    """The line of the file on which the named event is (or would be)."""
    position = result.position or 0
    with path.open(encoding="utf-8-sig") as stream:
        is_csv = not stream.readline().startswith("{")
    if not is_csv:
        return position
    # A CSV row may span lines (text with line breaks): count the rows after the header.
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        start = 1
        for index, _row in enumerate(reader):
            if index == position:
                return start
            start = reader.line_num + 1
        return start


if __name__ == "__main__":
    sys.exit(main())
