"""The hash chain of the audit ledger: the canonical form of an event, its hash, and verification.

This module is deliberately free of Django (standard library only), so that an exported ledger can
be verified anywhere with nothing but Python (``python -m cycle.verify_export``). The database side
(``cycle.ledger``) uses the same functions to write and verify events, so there is one definition
of what is hashed.

An event's hash is the SHA-256 of the canonical JSON (sorted keys, no insignificant white space,
UTF-8 kept as is) of its :data:`HASHED_FIELDS`. ``prev_hash`` links it to the event before it in the
whole ledger and ``cycle_prev_hash`` to the event before it in the same cycle; the first link of
each chain is :data:`GENESIS`, and an event outside any cycle has an empty ``cycle_prev_hash``.

The export form of an event is its hashed fields plus ``hash``, with plain JSON types (integers,
``null`` and strings; ``at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``). JSON Lines and CSV both convert to
and from exactly that form (:func:`jsonl_line`, :func:`record_from_jsonl`, :func:`csv_row`,
:func:`record_from_csv`).
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any, cast

GENESIS = "0" * 64

HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "outcome",
    "cycle_id",
    "stage_key",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
    "cycle_prev_hash",
)
EXPORT_FIELDS = (*HASHED_FIELDS, "hash")
INTEGER_FIELDS = frozenset({"seq", "actor_id", "cycle_id"})
NULLABLE_FIELDS = frozenset({"actor_id", "cycle_id"})


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a ledger payload")


def canonical_json(value: Mapping[str, Any]) -> str:
    """Sorted keys, no insignificant white space, UTF-8 kept as is."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def format_timestamp(value: datetime) -> str:
    """An aware time as hashed and exported: UTC, microseconds, ``Z``."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" becomes "Z"


# The hashed fields in the order canonical JSON puts them (sorted by name).
_SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))
_sorted_values = itemgetter(*_SORTED_FIELDS)
# Deleting every byte but the control characters leaves nothing exactly when there are none: about
# three times faster than deleting the control characters and comparing the lengths.
_NOT_CONTROL = bytes(range(0x20, 0x100))


def canonical_event(fields: Mapping[str, Any]) -> bytes:
    """The bytes whose SHA-256 is an event's hash.

    Always equal to ``canonical_json({name: fields[name] for name in HASHED_FIELDS}).encode()``.
    Ledger events are plain (integers or null, strings without control characters), so the body
    is built directly, which is several times faster; anything else takes the general path.
    """
    body = _direct_body(_sorted_values(fields))
    # JSON escapes control characters; without any, the direct body is the canonical one.
    if body is not None and not body.translate(None, _NOT_CONTROL):
        return body
    return canonical_json({name: fields[name] for name in HASHED_FIELDS}).encode()


def _direct_body(values: Sequence[Any]) -> bytes | None:
    """An event's body laid out directly from its hashed fields in canonical order.

    It is the canonical form unless it holds a control character, which the caller checks (for a
    chunk of bodies at once, which costs less than for each on its own). None when the event is
    not plain, for the general path to lay it out (``values`` may go on past the hashed fields:
    the rest is not looked at).
    """
    (
        action,
        actor_id,
        actor_name,
        at,
        cycle_id,
        cycle_prev_hash,
        object_id,
        object_type,
        outcome,
        payload,
        prev_hash,
        seq,
        stage_key,
    ) = values[:13]
    if (
        type(seq) is int
        and (actor_id is None or type(actor_id) is int)
        and (cycle_id is None or type(cycle_id) is int)
        and type(payload) is str
    ):
        try:
            plain = "".join(
                (
                    action,
                    actor_name,
                    at,
                    cycle_prev_hash,
                    object_id,
                    object_type,
                    outcome,
                    prev_hash,
                    stage_key,
                )
            )
        except TypeError:
            return None  # a field that is not a string: the general path says what it is
        if '"' not in plain and "\\" not in plain:
            payload = payload.replace("\\", "\\\\").replace('"', '\\"')
            return (
                f'{{"action":"{action}",'
                f'"actor_id":{"null" if actor_id is None else actor_id},'
                f'"actor_name":"{actor_name}",'
                f'"at":"{at}",'
                f'"cycle_id":{"null" if cycle_id is None else cycle_id},'
                f'"cycle_prev_hash":"{cycle_prev_hash}",'
                f'"object_id":"{object_id}",'
                f'"object_type":"{object_type}",'
                f'"outcome":"{outcome}",'
                f'"payload":"{payload}",'
                f'"prev_hash":"{prev_hash}",'
                f'"seq":{seq},'
                f'"stage_key":"{stage_key}"}}'
            ).encode()
    return None


# The canonical form with every field already text, the payload already escaped for JSON.
_TEMPLATE = (
    '{"action":"%s","actor_id":%s,"actor_name":"%s","at":"%s","cycle_id":%s,'
    '"cycle_prev_hash":"%s","object_id":"%s","object_type":"%s","outcome":"%s","payload":"%s",'
    '"prev_hash":"%s","seq":%s,"stage_key":"%s"}'
)
_PLAIN_COLUMNS = (0, 2, 3, 5, 6, 7, 8, 10, 12)  # the text fields that must need no escapes
_NUMBER_COLUMNS = (1, 4, 11)  # actor_id, cycle_id and seq, in decimal (or null)
_NUMBERS = re.compile(r"(?:(?:null|0|[1-9][0-9]*)\n)*")
_first_13 = itemgetter(*range(13))


def canonical_bodies(
    rows: Sequence[Sequence[Any]], columns: Sequence[Sequence[Any]]
) -> list[bytes] | None:
    """The canonical bytes of many events at once, or None if any might need the general path.

    Each row starts with the hashed fields in canonical (sorted) order, all as text: the numbers
    in decimal or ``null``, ``at`` as :func:`format_timestamp` writes it and the payload with its
    backslashes and double quotes escaped; ``columns`` are the same rows transposed. The bodies are
    those of :func:`canonical_event` when no other field holds a double quote or a backslash and
    nothing holds a control character, which is checked for the rows as a whole.
    """
    try:
        plain = "".join(chain.from_iterable(columns[index] for index in _PLAIN_COLUMNS))
        numbers = "\n".join(chain.from_iterable(columns[index] for index in _NUMBER_COLUMNS))
        "".join(columns[9])  # the payload is text too
    except TypeError:
        return None
    if '"' in plain or "\\" in plain or not _NUMBERS.fullmatch(numbers + "\n"):
        return None
    bodies = list(map(str.encode, map(_TEMPLATE.__mod__, map(_first_13, rows))))
    joined = b"".join(bodies)
    if joined.translate(None, _NOT_CONTROL):
        return None
    return bodies


def stored_bodies(texts: Iterable[Any]) -> list[bytes] | None:
    """Canonical bodies kept as text (by the database), as bytes; None if any might not be one.

    A body kept is the canonical form only if it holds no control character (JSON escapes those);
    None also when one is missing or not text.
    """
    try:
        bodies = list(map(str.encode, texts))
    except (TypeError, ValueError):
        return None
    joined = b"".join(bodies)
    if joined.translate(None, _NOT_CONTROL):
        return None
    return bodies


_digest = type(hashlib.sha256()).digest


def hex_digests(bodies: Iterable[bytes]) -> str:
    """The SHA-256 of each body in hexadecimal, one a line (no line feed after the last)."""
    return b"".join(map(_digest, map(hashlib.sha256, bodies))).hex("\n", 32)


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the canonical JSON of the hashed fields of one event."""
    return hashlib.sha256(canonical_event(fields)).hexdigest()


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying a run of events.

    When it fails, ``first_bad_seq`` (with ``action`` and ``cycle_id`` where the event exists) names
    the first event that does not verify, ``position`` its place among the records given (the line
    of an export counts the header of a CSV file separately), and ``problem`` says why.
    """

    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    action: str = ""
    cycle_id: int | None = None
    position: int | None = None
    last_seq: int | None = None
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.problem

    def describe(self) -> str:
        """``event #12 (budget.disclosed, cycle 3): its contents do not match its hash``."""
        if self.ok:
            return f"{self.checked} events verified"
        if self.first_bad_seq is None:
            return self.problem
        return f"{describe_event(self.first_bad_seq, self.action, self.cycle_id)}: {self.problem}"


def describe_event(seq: Any, action: str, cycle_id: Any) -> str:
    """How an event is named in messages: its number, action and cycle."""
    if not action:
        return f"event #{seq} (missing)"
    where = "no cycle" if cycle_id is None else f"cycle {cycle_id}"
    return f"event #{seq} ({action}, {where})"


def parse_head(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` as printed by ``audit verify`` and ``audit export``."""
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"expected SEQ:HASH (a number, a colon, 64 hex digits), not {text!r}")
    return int(seq), digest


def verify_records(
    records: Iterable[Mapping[str, Any]],
    *,
    per_cycle: bool = False,
    head: tuple[int, str] | None = None,
) -> Verification:
    """Verify a run of events in the export form: each hash, each link, their order.

    Without ``per_cycle`` the records are the whole ledger in order: numbered 1, 2, 3 … with no
    gap, each linked by ``prev_hash`` to the one before, and each linked by ``cycle_prev_hash`` to
    the one before it in its cycle. With ``per_cycle`` they are one cycle's events: in increasing
    order, all of that cycle, linked by ``cycle_prev_hash`` from :data:`GENESIS`.

    ``head`` (sequence number and hash of the last event, e.g. from the ledger head or kept from an
    earlier verification) makes a missing tail or an event beyond it detectable too.
    """
    verifier = ChainVerifier(per_cycle=per_cycle, head=head)
    records = iter(records)
    while chunk := list(islice(records, CHUNK)):
        if not verifier.records(chunk):
            break
    return verifier.result()


# Records verified together on the fast path: few enough that the events and what is made of them
# stay in the processor's cache between laying out, hashing and linking them (2,048 took a
# fifth longer).
CHUNK = 256

_sorted_values_and_hash = itemgetter(*_SORTED_FIELDS, "hash")
# Where, in what ``_sorted_values_and_hash`` reads, are the columns ``ChainVerifier.bodies`` takes.
_LINK_COLUMNS = tuple(
    map(
        (*_SORTED_FIELDS, "hash").index, ("seq", "cycle_id", "prev_hash", "cycle_prev_hash", "hash")
    )
)
_first = itemgetter(0)
_NO_CYCLE = object()  # where the links of events outside any cycle are put aside, in a chunk
_key_of_cycle = {None: _NO_CYCLE}.get


class ChainVerifier:
    """Verifies a run of events fed to it in order, a chunk at a time, and says what it found.

    Each chunk is first checked as a whole (its bodies hashed and compared, its numbers and links
    compared as lists): when all is well, that is the whole of the work. A chunk with anything
    wrong in it, or anything unusual, is verified again one event at a time, which finds and names
    the first event that does not verify. Either way the outcome is the same; the first way is
    several times faster.
    """

    def __init__(self, *, per_cycle: bool = False, head: tuple[int, str] | None = None) -> None:
        self.per_cycle = per_cycle
        self.head = head
        self.checked = 0
        self.last_seq: Any = None
        self.last_hash = GENESIS
        self.last_action = ""
        self.last_cycle: Any = None
        self.first_cycle: Any = None
        self.per_cycle_last: dict[Any, str] = {}
        self.failure: Verification | None = None

    def records(self, chunk: Sequence[Mapping[str, Any]]) -> bool:
        """Verify the next events, in the export form; false once one does not verify."""
        if self.failure is not None:
            return False
        try:
            # Each event's fields read once, in canonical order and then the hash: its body is
            # laid out from them, and they are transposed into columns for the links.
            rows = list(map(_sorted_values_and_hash, chunk))
            direct = list(map(_direct_body, rows))
            if None in direct:
                bodies = list(map(canonical_event, chunk))
            else:
                bodies = cast("list[bytes]", direct)
                # JSON escapes control characters: the direct bodies are the canonical ones only
                # without any, checked for the chunk at once.
                if b"".join(bodies).translate(None, _NOT_CONTROL):
                    bodies = list(map(canonical_event, chunk))
            fields = list(zip(*rows, strict=True))
            seqs, cycles, prev_hashes, cycle_prev_hashes, hashes = (
                list(fields[at]) for at in _LINK_COLUMNS
            )
        except (KeyError, TypeError, ValueError, IndexError):
            pass  # one event at a time says which, and why
        else:
            if self.bodies(
                seqs,
                cycles,
                prev_hashes,
                cycle_prev_hashes,
                hashes,
                bodies,
                last_action=chunk[-1]["action"],
            ):
                return True
        return self.one_by_one(chunk)

    # A chunk as a whole ---------------------------------------------------------------------

    def bodies(
        self,
        seqs: list[Any],
        cycles: list[Any],
        prev_hashes: list[Any],
        cycle_prev_hashes: list[Any],
        hashes: list[Any],
        bodies: Iterable[bytes],
        *,
        last_action: str,
    ) -> bool:
        """Verify the next events given as columns and their canonical bytes, all at once.

        True when every one verifies (the verifier then stands after the last); false, with
        nothing changed, when any might not, for :meth:`one_by_one` to find which. ``last_action``
        is the action of the last event, for the result.
        """
        if self.failure is not None:
            return False
        if not seqs:
            return True
        try:
            # One line of hexadecimal per body against the hashes joined the same way: equal only
            # if each hash is its body's (a line feed in a hash would add a line).
            if hex_digests(bodies) != "\n".join(hashes):
                return False
        except TypeError:
            return False  # a hash that is not text, or a body that is not bytes
        if self.head is not None and not seqs[-1] <= self.head[0]:
            return False
        if self.per_cycle:
            if not self._chunk_follows_in_its_cycle(seqs, cycles, cycle_prev_hashes, hashes):
                return False
        elif not (
            self._chunk_follows_in_the_ledger(seqs, prev_hashes, hashes)
            and self._chunk_follows_in_each_cycle(cycles, cycle_prev_hashes, hashes)
        ):
            return False
        if self.last_seq is None and self.per_cycle:
            self.first_cycle = cycles[0]
        self.checked += len(seqs)
        self.last_seq = seqs[-1]
        self.last_hash = hashes[-1]
        self.last_action = last_action
        self.last_cycle = cycles[-1]
        return True

    def _chunk_follows_in_its_cycle(
        self, seqs: list[Any], cycles: list[Any], cycle_prev_hashes: list[Any], hashes: list[Any]
    ) -> bool:
        """One cycle's events: all of that cycle, in increasing order, each linked to the last."""
        first = cycles[0] if self.last_seq is None else self.first_cycle
        if first is None or cycles.count(first) != len(cycles):
            return False
        if cycle_prev_hashes != [self.last_hash, *hashes[:-1]]:
            return False
        before = seqs[:-1] if self.last_seq is None else [self.last_seq, *seqs[:-1]]
        after = seqs[1:] if self.last_seq is None else seqs
        return all(map(operator.lt, before, after))

    def _chunk_follows_in_the_ledger(
        self, seqs: list[Any], prev_hashes: list[Any], hashes: list[Any]
    ) -> bool:
        """The whole ledger's events: numbered on from the last with no gap, each linked to it."""
        start = 1 if self.last_seq is None else self.last_seq + 1
        return seqs == list(range(start, start + len(seqs))) and prev_hashes == [
            self.last_hash,
            *hashes[:-1],
        ]

    def _chunk_follows_in_each_cycle(
        self, cycles: list[Any], cycle_prev_hashes: list[Any], hashes: list[Any]
    ) -> bool:
        """Each event linked to the one before it in its cycle (an empty link outside any cycle).

        The event before each is looked up and the event itself recorded in turn, in one pass:
        ``zip`` takes from its arguments left to right, so each look-up sees the events before
        it and not itself. When a link does not hold, the cycles are put back as they were.
        """
        last = self.per_cycle_last
        touched = set(cycles)
        kept = dict(zip(touched, map(last.get, touched), strict=True))
        last[None] = ""  # the link expected of an event outside any cycle
        expected = list(
            map(
                _first,
                zip(
                    map(last.get, cycles, repeat(GENESIS)),
                    map(last.__setitem__, map(_key_of_cycle, cycles, cycles), hashes),
                    strict=True,
                ),
            )
        )
        del last[None]
        last.pop(_NO_CYCLE, None)
        if expected == cycle_prev_hashes:
            return True
        for cycle_id, value in kept.items():
            if value is None:
                last.pop(cycle_id, None)
            else:
                last[cycle_id] = value
        return False

    # One event at a time --------------------------------------------------------------------

    def one_by_one(self, records: Iterable[Mapping[str, Any]]) -> bool:
        """Verify the next events one at a time; false, naming it, at the first that fails."""
        if self.failure is not None:
            return False
        for position, record in enumerate(records, start=self.checked + 1):
            problem = (
                self._out_of_place(record, position)
                or self._not_its_hash(record)
                or self._not_linked(record)
            )
            if problem:
                self.failure = Verification(
                    checked=position - 1,
                    first_bad_seq=record.get("seq"),
                    problem=problem,
                    action=str(record.get("action") or "?"),
                    cycle_id=record.get("cycle_id"),
                    position=position,
                    last_seq=self.last_seq,
                    last_hash=self.last_hash,
                )
                return False
            self._accept(record, position)
        return True

    def _out_of_place(self, record: Mapping[str, Any], position: int) -> str:
        """Why the event cannot come here (its number, its cycle, the head), or nothing."""
        seq = record["seq"]
        cycle_id = record["cycle_id"]
        previous_seq = self.last_seq
        if self.per_cycle:
            if position == 1:
                self.first_cycle = cycle_id
                if cycle_id is None:
                    return "belongs to no cycle"
            elif cycle_id != self.first_cycle:
                return f"belongs to cycle {cycle_id}, not cycle {self.first_cycle}"
            if previous_seq is not None and not seq > previous_seq:
                return f"is out of order: it comes after event #{previous_seq}"
        else:
            expected = 1 if previous_seq is None else previous_seq + 1
            if seq != expected:
                return f"is out of place: event #{expected} should come here (missing or moved)"
        if self.head is not None and seq > self.head[0]:
            return f"comes after the head #{self.head[0]}"
        return ""

    @staticmethod
    def _not_its_hash(record: Mapping[str, Any]) -> str:
        """Why the event's hash is not that of its contents, or nothing."""
        digest = record["hash"]
        try:
            body = canonical_event(record)
        except (TypeError, ValueError) as exc:
            return f"cannot be put in canonical form: {exc}"
        if hashlib.sha256(body).hexdigest() != digest:
            return "its contents do not match its hash"
        return ""

    def _not_linked(self, record: Mapping[str, Any]) -> str:
        """Why the event does not follow the event before it, in the ledger or its cycle."""
        previous_seq = self.last_seq
        if self.per_cycle:
            if record["cycle_prev_hash"] != self.last_hash:
                after = "the start of the cycle" if previous_seq is None else f"#{previous_seq}"
                return f"does not follow the cycle's event before it ({after})"
            return ""
        if record["prev_hash"] != self.last_hash:
            after = "the start of the ledger" if previous_seq is None else f"#{previous_seq}"
            return f"does not follow the event before it ({after})"
        cycle_id = record["cycle_id"]
        if cycle_id is None:
            return "has a cycle link but no cycle" if record["cycle_prev_hash"] != "" else ""
        if record["cycle_prev_hash"] != self.per_cycle_last.get(cycle_id, GENESIS):
            return f"does not follow the event before it in cycle {cycle_id}"
        return ""

    def _accept(self, record: Mapping[str, Any], position: int) -> None:
        """Stand after the event, which verified."""
        cycle_id = record["cycle_id"]
        if not self.per_cycle and cycle_id is not None:
            self.per_cycle_last[cycle_id] = record["hash"]
        self.last_hash = record["hash"]
        self.last_seq = record["seq"]
        self.last_action, self.last_cycle = record["action"], cycle_id
        self.checked = position

    def result(self) -> Verification:
        """What the events fed so far showed, checked against the head if one was given."""
        if self.failure is not None:
            return self.failure
        checked, previous_seq, previous_hash = self.checked, self.last_seq, self.last_hash
        head = self.head
        if head is not None and (previous_seq or 0, previous_hash) != head:
            last = previous_seq or 0
            if last < head[0]:
                # The whole ledger has no gaps, so the next event is missing; a cycle's events
                # have gaps, so only the head event itself is known to be missing.
                return Verification(
                    checked=checked,
                    first_bad_seq=head[0] if self.per_cycle else last + 1,
                    problem=f"the events end at #{last} but the head is #{head[0]}",
                    position=checked + 1,
                    last_seq=previous_seq,
                    last_hash=previous_hash,
                )
            return Verification(
                checked=checked,
                first_bad_seq=previous_seq,
                problem=f"its hash is not the one recorded for the head #{head[0]}",
                action=self.last_action,
                cycle_id=self.last_cycle,
                position=checked,
                last_seq=previous_seq,
                last_hash=previous_hash,
            )
        return Verification(checked=checked, last_seq=previous_seq, last_hash=previous_hash)


# The export form --------------------------------------------------------------------------------


class ExportFormatError(ValueError):
    """A line of an export that is not a well-formed event."""


def _check_types(record: Mapping[str, Any]) -> None:
    if set(record) != set(EXPORT_FIELDS):
        missing = [name for name in EXPORT_FIELDS if name not in record]
        extra = [name for name in record if name not in EXPORT_FIELDS]
        raise ExportFormatError(
            "fields do not match the export form"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unexpected: {', '.join(map(str, extra))}" if extra else "")
        )
    for name in EXPORT_FIELDS:
        value = record[name]
        if name in INTEGER_FIELDS:
            if not (type(value) is int or (value is None and name in NULLABLE_FIELDS)):
                raise ExportFormatError(f"{name} is not a whole number: {value!r}")
        elif type(value) is not str:
            raise ExportFormatError(f"{name} is not text: {value!r}")


def jsonl_line(record: Mapping[str, Any]) -> str:
    """One event as a line of JSON Lines (fields in export order, UTF-8 kept as is)."""
    return (
        json.dumps(
            {name: record[name] for name in EXPORT_FIELDS},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
    )


def record_from_jsonl(line: str) -> dict[str, Any]:
    """The event on one line of JSON Lines; :class:`ExportFormatError` unless well formed."""
    try:
        record = json.loads(line, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ExportFormatError(f"not a complete JSON record ({exc.msg})") from None
    if not isinstance(record, dict):
        raise ExportFormatError("not a JSON object")
    _check_types(record)
    return record


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        # Two values for one field: a reader could be shown one and the verifier check the other.
        raise ExportFormatError("a field appears twice")
    return record


def csv_row(record: Mapping[str, Any]) -> list[str]:
    """One event as a CSV row: integers in decimal, null as an empty cell, text as is."""
    return ["" if record[name] is None else str(record[name]) for name in EXPORT_FIELDS]


def _whole_number(name: str, text: str) -> int | None:
    if text == "" and name in NULLABLE_FIELDS:
        return None
    if re.fullmatch(r"0|[1-9][0-9]*", text) is None:
        raise ExportFormatError(f"{name} is not a whole number: {text!r}")
    return int(text)


def record_from_csv(row: Sequence[str]) -> dict[str, Any]:
    """The event in one CSV row; :class:`ExportFormatError` unless well formed."""
    if len(row) != len(EXPORT_FIELDS):
        raise ExportFormatError(
            f"expected {len(EXPORT_FIELDS)} fields, found {len(row)} (a cut or damaged row)"
        )
    return {
        name: _whole_number(name, text) if name in INTEGER_FIELDS else text
        for name, text in zip(EXPORT_FIELDS, row, strict=True)
    }
