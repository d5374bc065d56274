"""The append-only, hash-chained audit ledger: writing events and verifying them in the database.

Every service writes exactly one event per change (and one per refusal) through :func:`append`,
inside the same transaction as the change. Appends are serialised by locking the single
:class:`~cycle.models.LedgerHead` row, so the chain never forks. What is hashed, and how a run of
events is verified, is defined once in :mod:`cycle.chain` (free of Django), so an export verifies
without the database exactly as the database does.
"""

from __future__ import annotations

import hashlib
import json
import sys
from array import array
from collections.abc import Iterator, Mapping
from itertools import compress, islice
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models
from django.db.models import F, Func, Subquery, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Replace
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from .chain import (
    CHUNK,
    EXPORT_FIELDS,
    GENESIS,
    HASHED_FIELDS,
    ChainVerifier,
    Verification,
    canonical_bodies,
    canonical_json,
    event_hash,
    format_timestamp,
    stored_bodies,
    verify_records,
)
from .models import AuditEvent, CommissioningCycle, LedgerHead
from .prepared import PreparedRead, PreparedWrite

__all__ = [
    "EXPORT_FIELDS",
    "GENESIS",
    "HASHED_FIELDS",
    "Verification",
    "append",
    "canonical_json",
    "event_fields",
    "event_hash",
    "head",
    "iter_records",
    "verify_against_kept_head",
    "verify_cycle",
    "verify_ledger",
]


_ROWS_PER_FETCH = 2048  # rows a server-side cursor hands over per round trip


def _head_with_cycle_last(cycle_id: int) -> models.QuerySet[LedgerHead, Any]:
    last_event = AuditEvent.objects.order_by("-seq")
    return (
        LedgerHead.objects.select_for_update()
        .filter(pk=1)
        .annotate(
            cycle_last=Subquery(last_event.filter(cycle_id=cycle_id).values("hash")[:1]),
            seen_seq=Subquery(last_event.values("seq")[:1]),
        )
        .values_list("seq", "hash", "cycle_last", "seen_seq")
    )


def _head() -> models.QuerySet[LedgerHead, Any]:
    return (
        LedgerHead.objects.select_for_update()
        .filter(pk=1)
        .annotate(cycle_last=Value(""), seen_seq=Value(0))
        .values_list("seq", "hash", "cycle_last", "seen_seq")
    )


_HEAD_WITH_CYCLE_LAST = PreparedRead(_head_with_cycle_last, cycle_id=int)
_HEAD = PreparedRead(_head)
_INSERT_EVENT = PreparedWrite.inserting(AuditEvent)
_MOVE_HEAD = PreparedWrite(LedgerHead, "seq", "hash")


def append(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    cycle: CommissioningCycle | None = None,
    stage_key: str = "",
    obj: models.Model | None = None,
    payload: Mapping[str, Any] | None = None,
    outcome: str = AuditEvent.Outcome.DONE,
) -> AuditEvent:
    """Append one event to the ledger. Call inside the transaction that made the change.

    The head stays locked until that transaction ends, so that appends are serialised: call it
    as the transaction's last write, and the lock is held for no longer than the commit.
    """
    if connection.get_autocommit():
        raise TransactionManagementError("ledger.append locks the head: call it in a transaction")
    # The head, locked, and the cycle's last event hash, in one query. The hash is read as of
    # the statement's start: if another append committed while this one waited for the lock, the
    # events it saw end before the head, and the hash is read again. The reads and writes are
    # compiled once per database (``cycle.prepared``).
    rows = _HEAD_WITH_CYCLE_LAST.rows(cycle_id=cycle.pk) if cycle is not None else _HEAD.rows()
    if not rows:
        LedgerHead.objects.get_or_create(pk=1)
        return append(
            actor=actor,
            action=action,
            cycle=cycle,
            stage_key=stage_key,
            obj=obj,
            payload=payload,
            outcome=outcome,
        )
    ((head_seq, head_hash, cycle_last, seen_seq),) = rows
    cycle_prev = ""
    if cycle is not None:
        if (seen_seq or 0) != head_seq:
            cycle_last = (
                AuditEvent.objects.filter(cycle=cycle)
                .order_by("-seq")
                .values_list("hash", flat=True)
                .first()
            )
        cycle_prev = cycle_last or GENESIS
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    fields: dict[str, Any] = {
        "seq": head_seq + 1,
        "at": format_timestamp(now),
        "actor_id": actor_id,
        "actor_name": actor.get_username() if actor is not None and actor_id is not None else "",
        "action": action,
        "outcome": str(outcome),
        "cycle_id": cycle.pk if cycle is not None else None,
        "stage_key": stage_key,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "payload": canonical_json(payload or {}),
        "prev_hash": head_hash,
        "cycle_prev_hash": cycle_prev,
    }
    digest = event_hash(fields)
    event = AuditEvent(**{**fields, "at": now, "hash": digest})
    # Two statements, not one: the head's trigger (migration 0012) must see the event it moves
    # to, and a data-modifying WITH would hide it from the head's update.
    _INSERT_EVENT.insert_instance(event)
    _MOVE_HEAD.run([fields["seq"], digest], pk=1)
    return event


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The stored fields of an event in the form that was hashed (also the export form)."""
    return {name: getattr(event, name) for name in EXPORT_FIELDS} | {
        "at": format_timestamp(event.at)
    }


def head() -> tuple[int, str]:
    """The sequence number and hash of the last event appended, as the ledger head records them."""
    row = LedgerHead.objects.filter(pk=1).values_list("seq", "hash").first()
    return (0, GENESIS) if row is None else (row[0], row[1])


def iter_records(
    queryset: models.QuerySet[AuditEvent], chunk_size: int = 2000
) -> Iterator[dict[str, Any]]:
    """The events of ``queryset`` in order, in the export form, without building model instances."""
    rows = queryset.order_by("seq").values_list(*EXPORT_FIELDS).iterator(chunk_size=chunk_size)
    for row in rows:
        record = dict(zip(EXPORT_FIELDS, row, strict=True))
        record["at"] = format_timestamp(record["at"])
        yield record


def verify_ledger() -> Verification:
    """Verify the whole ledger against its head: every event, every link, nothing missing.

    The head is read first and the events up to it are verified, so appends made meanwhile do not
    disturb the result. Deleting the last events shows as events missing before the head; an event
    written past the head (not through :func:`append`) is named too.
    """
    expected = head()
    if connection.vendor == "postgresql" and _canonical_column_is_generated():
        result = _verify_ledger_in_bulk(expected)
    else:
        result = _verify(AuditEvent.objects.filter(seq__lte=expected[0]), head=expected)
    if not result.ok:
        return result
    # One statement, so it compares the events and the head as of one moment.
    current_head = Subquery(LedgerHead.objects.filter(pk=1).values("seq")[:1])
    beyond = (
        AuditEvent.objects.filter(seq__gt=Coalesce(current_head, 0))
        .order_by("seq")
        .values_list("seq", "action", "cycle_id")
        .first()
    )
    if beyond is not None:
        return Verification(
            checked=result.checked,
            first_bad_seq=beyond[0],
            problem="comes after the ledger head: it was not appended through the ledger",
            action=beyond[1],
            cycle_id=beyond[2],
            position=result.checked + 1,
            last_seq=result.last_seq,
            last_hash=result.last_hash,
        )
    return result


def verify_against_kept_head(kept: tuple[int, str] | str) -> Verification:
    """Verify the whole ledger, and that it still holds a head kept outside the database.

    ``kept`` is ``(seq, hash)`` or just the hash, as printed by an earlier ``audit verify``. The
    ledger only grows, so the event kept must still be there, at the same place, with the same
    hash. Someone able to write to the database could rewrite events and recompute every hash
    after them and the head row too, which :func:`verify_ledger` alone cannot tell from the truth;
    they cannot change a hash that was written down elsewhere.
    """
    result = verify_ledger()
    if not result.ok:
        return result
    if isinstance(kept, str):
        found = AuditEvent.objects.filter(hash=kept).values_list("seq", flat=True).first()
        if found is None:
            return _failed(
                result,
                first_bad_seq=None,
                problem=f"no event has the hash kept outside the database ({kept[:12]}…): "
                "the ledger was rewritten, or cut short before it",
            )
        kept = (found, kept)
    kept_seq, kept_hash = kept
    last_seq = result.last_seq or 0
    if kept_seq > last_seq:
        return _failed(
            result,
            first_bad_seq=last_seq + 1,
            problem=f"the events end at #{last_seq} but the head kept outside the database is "
            f"#{kept_seq}: events were removed and the head moved back",
        )
    if kept_seq == 0:
        return result  # the empty ledger, kept before the first event
    event = AuditEvent.objects.filter(seq=kept_seq).values_list("hash", "action", "cycle_id").get()
    if event[0] != kept_hash:
        return _failed(
            result,
            first_bad_seq=kept_seq,
            action=event[1],
            cycle_id=event[2],
            problem="its hash is not the one kept outside the database: "
            "the events up to it were rewritten",
        )
    return result


def _failed(
    result: Verification,
    *,
    first_bad_seq: int | None,
    problem: str,
    action: str = "",
    cycle_id: int | None = None,
) -> Verification:
    return Verification(
        checked=result.checked,
        first_bad_seq=first_bad_seq,
        problem=problem,
        action=action,
        cycle_id=cycle_id,
        last_seq=result.last_seq,
        last_hash=result.last_hash,
    )


def verify_cycle(cycle: CommissioningCycle) -> Verification:
    """Verify one cycle's chain of events (``cycle_prev_hash``), naming the first that fails."""
    return _verify(AuditEvent.objects.filter(cycle=cycle), per_cycle=True)


def _verify(
    events: models.QuerySet[AuditEvent],
    *,
    per_cycle: bool = False,
    head: tuple[int, str] | None = None,
) -> Verification:
    """Verify ``events`` in order as :func:`cycle.chain.verify_records` does.

    On PostgreSQL each event keeps the bytes it was hashed over, laid out by the database itself
    from the event's fields whenever they are written (``canonical``, migration 0018): those are
    hashed as they are, and only what links the events is read beside them. The column is used
    only while it is still generated by that expression. A chunk with anything wrong or unusual in
    it is read again in the export form and verified one event at a time, by the definition
    itself, which names the first event that does not verify. Other databases are read in the
    export form. The whole ledger is read from PostgreSQL a chunk per row instead
    (:func:`_verify_ledger_in_bulk`); this reads one cycle's events, a row each.
    """
    if connection.vendor != "postgresql":
        return verify_records(iter_records(events), per_cycle=per_cycle, head=head)
    if not _canonical_column_is_generated():
        return _verify_laid_out(events, per_cycle=per_cycle, head=head)
    verifier = ChainVerifier(per_cycle=per_cycle, head=head)
    query = (
        events.order_by("seq")
        .annotate(canonical=RawSQL(f"{AuditEvent._meta.db_table}.canonical", ()))
        .values_list("seq", "cycle_id", "prev_hash", "cycle_prev_hash", "hash", "canonical")
    )
    # The rows as the database driver gives them, a chunk at a time from a server-side cursor:
    # the columns are in the order asked for (the fields, then the one annotation).
    sql, params = query.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(_ROWS_PER_FETCH):
            seqs, cycles, prev_hashes, cycle_prev_hashes, hashes, texts = map(
                list, zip(*chunk, strict=True)
            )
            bodies = stored_bodies(texts)
            if not (
                bodies is not None
                and verifier.bodies(
                    seqs,
                    cycles,
                    prev_hashes,
                    cycle_prev_hashes,
                    hashes,
                    bodies,
                    last_action=json.loads(texts[-1])["action"],
                )
            ) and not verifier.one_by_one(
                iter_records(events.filter(seq__gte=seqs[0], seq__lte=seqs[-1]))
            ):
                break
    return verifier.result()


# Verifying the whole ledger from PostgreSQL, a chunk of events per row ----------------------------

# Chunks read by one COPY statement: what is read ahead is at most this many (about 8 MB), and
# each statement's own cost is spread over some 16,000 events.
_CHUNKS_PER_COPY = 64

# One row per chunk of CHUNK sequence numbers, each column the chunk's values joined in order. It is
# read with COPY in the binary format, which streams the rows while they are verified and hands a
# text over as its UTF-8 bytes, unescaped. Every value is joined with ``coalesce``, so each column
# holds exactly one value per event. The first chunk takes in any event numbered below 1.
_CHUNK_ROWS = f"""
COPY (
    SELECT chunk.first, joined.*
    FROM generate_series(%(first)s::bigint, %(last)s::bigint, {CHUNK}) AS chunk (first)
    CROSS JOIN LATERAL (
        SELECT
            count(*),
            string_agg(coalesce(canonical, ''), E'\\n'),
            string_agg(coalesce(hash, ''), E'\\n'),
            string_agg(coalesce(prev_hash, ''), E'\\n'),
            string_agg(coalesce(cycle_prev_hash, ''), E'\\n'),
            string_agg(int8send(seq), ''::bytea),
            string_agg(int8send(coalesce(cycle_id, 0)), ''::bytea),
            string_agg(CASE WHEN cycle_id IS NULL THEN '\\x01' ELSE '\\x00' END::bytea, ''::bytea)
        FROM (
            SELECT * FROM {AuditEvent._meta.db_table}
            WHERE seq >= CASE WHEN chunk.first = 1 THEN {-(2**63)} ELSE chunk.first END
                AND seq < chunk.first + {CHUNK} AND seq <= %(head)s
            ORDER BY seq
        ) AS event
    ) AS joined
) TO STDOUT (FORMAT binary)
"""
_CHUNK_TYPES = ["int8", "int8", "bytea", "text", "text", "text", "bytea", "bytea", "bytea"]
_NOT_CONTROL = bytes(range(0x20, 0x100))  # deleted, leaves the control characters


def _verify_ledger_in_bulk(expected: tuple[int, str]) -> Verification:
    """Verify the whole ledger up to ``expected`` from PostgreSQL's stored canonical bytes.

    Each chunk of sequence numbers comes as one row of joined columns (:data:`_CHUNK_ROWS`), so
    the driver makes a handful of Python objects per chunk rather than several per event: the
    bodies are split apart and hashed here, and the numbers and links compared as lists, by
    :meth:`cycle.chain.ChainVerifier.bodies`. A chunk with anything wrong or unusual in it is read
    again in the export form and verified one event at a time, as :func:`_verify` does.
    """
    verifier = ChainVerifier(head=expected)
    first = 1
    while True:
        last = first + CHUNK * (_CHUNKS_PER_COPY - 1)
        if last > expected[0]:
            last = max(first, expected[0] - (expected[0] - first) % CHUNK)
        unsettled = None
        # The driver's own cursor: COPY is not part of Django's cursor interface.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                _CHUNK_ROWS, {"first": first, "last": last, "head": expected[0]}
            ) as copy,
        ):
            copy.set_types(_CHUNK_TYPES)
            while (row := copy.read_row()) is not None:
                if unsettled is not None:
                    continue  # read to the end, so the connection is free again
                if row[0] != first or not _chunk_verified(verifier, row):
                    unsettled = first
                else:
                    first += CHUNK
        if unsettled is not None:
            events = AuditEvent.objects.filter(seq__lt=unsettled + CHUNK, seq__lte=expected[0])
            if unsettled != 1:
                events = events.filter(seq__gte=unsettled)
            if not verifier.one_by_one(iter_records(events)):
                break
            first = unsettled + CHUNK
        if first > expected[0]:
            break
    return verifier.result()


def _chunk_verified(verifier: ChainVerifier, row: tuple[Any, ...]) -> bool:
    """Verify one chunk's row of joined columns as a whole; false if it might not verify."""
    _, count, canonical, hashes, prev_hashes, cycle_prev_hashes, seqs, cycles, no_cycle = row
    if not count:
        return True  # no events here: nothing to verify, and the next chunk's numbers show it
    bodies = canonical.split(b"\n")
    # A body with a control character is not canonical (JSON escapes those), nor are the rows
    # split right if one held a line feed.
    if len(bodies) != count or canonical.translate(None, _NOT_CONTROL) != b"\n" * (count - 1):
        return False
    try:
        numbers, cycle_numbers = array("q", seqs), array("q", cycles)
        last_action = json.loads(bodies[-1])["action"]
    except (ValueError, KeyError, TypeError):
        return False
    if not len(numbers) == len(cycle_numbers) == len(no_cycle) == count:
        return False
    if sys.byteorder == "little":  # int8send is big-endian
        numbers.byteswap()
        cycle_numbers.byteswap()
    cycle_ids: list[int | None] = list(cycle_numbers.tolist())
    for index in compress(range(count), no_cycle):
        cycle_ids[index] = None
    return verifier.bodies(
        numbers.tolist(),
        cycle_ids,
        prev_hashes.split("\n"),
        cycle_prev_hashes.split("\n"),
        hashes.split("\n"),
        bodies,
        last_action=last_action,
    )


# The expression generating ``canonical`` as PostgreSQL prints it back, by its SHA-256: if the
# column was dropped, or made anything else, the events are laid out from their fields instead.
_CANONICAL_EXPRESSION_SHA256 = "4e14946a7c2539df334bdf140380c8ac86e64f72ac3bcaad4f4039fc012cd6b4"


def _canonical_column_is_generated() -> bool:
    """Whether ``canonical`` is still the column migration 0018 made, generated from the fields."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = %s::regclass AND a.attname = 'canonical' "
            "AND a.attgenerated = 's' AND NOT a.attisdropped",
            [AuditEvent._meta.db_table],
        )
        row = cursor.fetchone()
    return (
        row is not None
        and hashlib.sha256(row[0].encode()).hexdigest() == _CANONICAL_EXPRESSION_SHA256
    )


def _verify_laid_out(
    events: models.QuerySet[AuditEvent],
    *,
    per_cycle: bool = False,
    head: tuple[int, str] | None = None,
) -> Verification:
    """Verify ``events`` from PostgreSQL by laying out their canonical bytes from their fields.

    Each row comes with its time already in the hashed form and its payload already escaped for
    JSON, as text, so that no model instance, dictionary or ``datetime`` is made for it: the
    chunk's canonical bytes are laid out with one template (:func:`cycle.chain.canonical_bodies`)
    and hashed and compared as a whole, or verified one event at a time as :func:`_verify` does.
    """
    verifier = ChainVerifier(per_cycle=per_cycle, head=head)
    text = TextField()
    rows = (
        events.order_by("seq")
        .annotate(
            hashed_actor_id=Coalesce(Cast("actor_id", text), Value("null"), output_field=text),
            hashed_at=Func(
                F("at"),
                template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
                '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')',
                output_field=text,
            ),
            hashed_cycle_id=Coalesce(Cast("cycle_id", text), Value("null"), output_field=text),
            hashed_payload=Replace(
                Replace("payload", Value("\\"), Value("\\\\"), output_field=text),
                Value('"'),
                Value('\\"'),
                output_field=text,
            ),
            hashed_seq=Cast("seq", text),
        )
        .values_list(
            # The hashed fields in the order of the canonical form, then what links them.
            "action",
            "hashed_actor_id",
            "actor_name",
            "hashed_at",
            "hashed_cycle_id",
            "cycle_prev_hash",
            "object_id",
            "object_type",
            "outcome",
            "hashed_payload",
            "prev_hash",
            "hashed_seq",
            "stage_key",
            "seq",
            "cycle_id",
            "hash",
        )
        .iterator(chunk_size=_ROWS_PER_FETCH)
    )
    while chunk := list(islice(rows, CHUNK)):
        columns = list(zip(*chunk, strict=True))
        bodies = canonical_bodies(chunk, columns)
        seqs = list(columns[13])
        if not (
            bodies is not None
            and verifier.bodies(
                seqs,
                list(columns[14]),
                list(columns[10]),
                list(columns[5]),
                list(columns[15]),
                bodies,
                last_action=columns[0][-1],
            )
        ) and not verifier.one_by_one(
            iter_records(events.filter(seq__gte=seqs[0], seq__lte=seqs[-1]))
        ):
            break
    return verifier.result()
