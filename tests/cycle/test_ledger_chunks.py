"""Ledgers longer than one chunk verify, and name the first bad event, exactly as event by event.

Verification checks a chunk of events as a whole (hashed together, numbers and links compared as
lists) and goes back to one event at a time only for a chunk with something wrong in it; from
PostgreSQL the canonical bytes are laid out from rows of text. These tests hold both to the
definition: whatever the damage and wherever it falls, the outcome is the one-at-a-time verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from cycle import chain, ledger
from cycle.models import AuditEvent, LedgerHead
from tests.cycle.test_ledger import tamper
from tests.factories import CycleWorld

LONG = chain.CHUNK * 2 + 300  # the damage falls in the second chunk, the end in a third


def long_chain(count: int = LONG, cycles: tuple[int | None, ...] = (1, 2, None, 3)) -> list[dict]:
    """A well-formed ledger of ``count`` events spread over a few cycles, with varied text."""
    records: list[dict[str, Any]] = []
    last: dict[int, str] = {}
    for seq in range(1, count + 1):
        cycle_id = cycles[seq % len(cycles)]
        record = {
            "seq": seq,
            "at": f"2025-03-01T10:{seq // 60 % 60:02d}:{seq % 60:02d}.{seq:06d}Z",
            "actor_id": seq % 7 or None,
            "actor_name": f"rep-{seq % 7}" if seq % 7 else "",
            "action": "input.submitted",
            "outcome": "done",
            "cycle_id": cycle_id,
            "stage_key": "needs",
            "object_type": "cycle.userinput",
            "object_id": str(seq),
            "payload": chain.canonical_json({"n": seq, "text": 'He said "no" \\ — ✓'}),
            "prev_hash": records[-1]["hash"] if records else chain.GENESIS,
            "cycle_prev_hash": "" if cycle_id is None else last.get(cycle_id, chain.GENESIS),
        }
        record["hash"] = chain.event_hash(record)
        if cycle_id is not None:
            last[cycle_id] = record["hash"]
        records.append(record)
    return records


def one_at_a_time(records: list[dict], **options: Any) -> chain.Verification:
    verifier = chain.ChainVerifier(**options)
    verifier.one_by_one(records)
    return verifier.result()


def rehash(record: dict) -> None:
    record["hash"] = chain.event_hash(record)


def rechain(records: list[dict]) -> None:
    """Every link and hash computed again, as the ledger would have written them."""
    last: dict[int, str] = {}
    for index, record in enumerate(records):
        cycle_id = record["cycle_id"]
        record["prev_hash"] = records[index - 1]["hash"] if index else chain.GENESIS
        record["cycle_prev_hash"] = "" if cycle_id is None else last.get(cycle_id, chain.GENESIS)
        rehash(record)
        if cycle_id is not None:
            last[cycle_id] = record["hash"]


def change_payload(records: list[dict], at: int) -> None:
    records[at]["payload"] = '{"n":0}'


def change_and_rehash(records: list[dict], at: int) -> None:
    records[at]["payload"] = '{"n":0}'
    rehash(records[at])


def fork_a_cycle(records: list[dict], at: int) -> None:
    cycle_id = records[at]["cycle_id"]
    first = next(r for r in records if r["cycle_id"] == cycle_id)
    records[at]["cycle_prev_hash"] = first["hash"]
    rehash(records[at])


def remove(records: list[dict], at: int) -> None:
    del records[at]


def swap(records: list[dict], at: int) -> None:
    records[at], records[at + 1] = records[at + 1], records[at]


def control_character(records: list[dict], at: int) -> None:
    # A control character is escaped in the canonical form; the hash is of that form.
    records[at]["actor_name"] = "rep\t2"
    rechain(records)


def quote_in_a_name(records: list[dict], at: int) -> None:
    records[at]["actor_name"] = 'rep "two"'
    rechain(records)


def hash_holding_the_next(records: list[dict], at: int) -> None:
    # Hashes are compared a chunk at a time, one line each: a line feed must not shift them.
    records[at]["hash"] += "\n" + records[at + 1]["hash"]


def hash_as_bytes(records: list[dict], at: int) -> None:
    records[at]["hash"] = records[at]["hash"].encode()


DAMAGE = [
    change_payload,
    hash_holding_the_next,
    hash_as_bytes,
    change_and_rehash,
    fork_a_cycle,
    remove,
    swap,
    control_character,
    quote_in_a_name,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda damage: damage.__name__)
def test_a_long_ledger_is_judged_as_one_event_at_a_time_would(damage):
    records = long_chain()
    damage(records, chain.CHUNK + 57)

    result = chain.verify_records(records)

    assert result == one_at_a_time(records)
    if damage in (control_character, quote_in_a_name):
        assert result.ok  # unusual text is not damage: its hash is of its canonical form
    else:
        assert result.position in (chain.CHUNK + 58, chain.CHUNK + 59)


def test_a_long_ledger_verifies_through_every_chunk_against_its_head():
    records = long_chain()
    head = (records[-1]["seq"], records[-1]["hash"])

    result = chain.verify_records(records, head=head)

    assert result.ok and result.checked == LONG
    assert (result.last_seq, result.last_hash) == head
    assert chain.verify_records(records[:-1], head=head) == one_at_a_time(records[:-1], head=head)
    assert not chain.verify_records(records[:-1], head=head).ok


@pytest.mark.parametrize("damage", [change_and_rehash, remove, swap], ids=lambda d: d.__name__)
def test_one_long_cycle_is_judged_as_one_event_at_a_time_would(damage):
    records = [r for r in long_chain(LONG * 2, cycles=(5, None)) if r["cycle_id"] == 5]
    assert len(records) > chain.CHUNK * 2
    assert chain.verify_records(records, per_cycle=True).ok
    damage(records, chain.CHUNK + 5)

    result = chain.verify_records(records, per_cycle=True)

    assert not result.ok
    assert result == one_at_a_time(records, per_cycle=True)


def as_text_row(record: dict) -> tuple[str, ...]:
    """The row PostgreSQL gives the verifier: every hashed field as text, the payload escaped."""

    def number(value: int | None) -> str:
        return "null" if value is None else str(value)

    payload = record["payload"].replace("\\", "\\\\").replace('"', '\\"')
    values = {
        **record,
        "actor_id": number(record["actor_id"]),
        "cycle_id": number(record["cycle_id"]),
        "seq": str(record["seq"]),
        "payload": payload,
    }
    return tuple(values[name] for name in sorted(chain.HASHED_FIELDS))


text_records = st.fixed_dictionaries(
    {
        **dict.fromkeys(chain.HASHED_FIELDS, st.text()),
        "seq": st.integers(min_value=0, max_value=2**63 - 1),
        "actor_id": st.none() | st.integers(min_value=0, max_value=2**63 - 1),
        "cycle_id": st.none() | st.integers(min_value=0, max_value=2**63 - 1),
    }
)


@settings(max_examples=500, deadline=None)
@given(st.lists(text_records, min_size=1, max_size=4))
def test_bodies_laid_out_from_text_rows_are_the_canonical_form_or_refused(records):
    rows = [as_text_row(record) for record in records]

    bodies = chain.canonical_bodies(rows, list(zip(*rows, strict=True)))

    texts = [name for name in chain.HASHED_FIELDS if name not in chain.INTEGER_FIELDS]
    plain = all(
        all(c >= " " for c in record[name])
        and (name == "payload" or ('"' not in record[name] and "\\" not in record[name]))
        for record in records
        for name in texts
    )
    if plain:
        assert bodies == [chain.canonical_event(record) for record in records]
    else:
        assert bodies is None


# From the database ------------------------------------------------------------------------------


def store(records: list[dict]) -> int:
    """The records after the ledger's events, bulk-inserted, the head on the last; their first seq.

    Background data only: chained on from the head as :func:`cycle.ledger.append` chains events,
    with the records' cycle 1 as a real cycle and their other events outside any cycle.
    """
    world = CycleWorld(panel_size=1)
    first_seq, prev_hash = ledger.head()
    first_seq += 1
    cycle_last = (
        AuditEvent.objects.filter(cycle=world.cycle).order_by("-seq").values_list("hash", flat=True)
    )
    last = {world.cycle.pk: cycle_last.first() or chain.GENESIS}
    start = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    rows = []
    for seq, record in enumerate(records, start=first_seq):
        cycle_id = world.cycle.pk if record["cycle_id"] == 1 else None
        at = start + timedelta(seconds=seq, microseconds=seq)
        fields = {
            **record,
            "seq": seq,
            "at": chain.format_timestamp(at),
            "actor_id": None,
            "cycle_id": cycle_id,
            "prev_hash": prev_hash,
            "cycle_prev_hash": "" if cycle_id is None else last[cycle_id],
        }
        del fields["hash"]
        digest = chain.event_hash(fields)
        rows.append(AuditEvent(**{**fields, "at": at, "hash": digest}))
        prev_hash = digest
        if cycle_id is not None:
            last[cycle_id] = digest
    AuditEvent.objects.bulk_create(rows, batch_size=1000)
    LedgerHead.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev_hash})
    return first_seq


@pytest.mark.django_db
def test_a_long_stored_ledger_verifies_and_names_a_payload_changed_by_sql():
    first = store(long_chain())
    assert ledger.verify_ledger().checked == first - 1 + LONG
    bad = first + chain.CHUNK + 57
    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"n":0}', bad])

    result = ledger.verify_ledger()

    assert (result.first_bad_seq, result.checked, result.position) == (bad, bad - 1, bad)
    assert result.problem == "its contents do not match its hash"
    assert result == chain.verify_records(
        list(ledger.iter_records(AuditEvent.objects.all())), head=ledger.head()
    )


@pytest.mark.django_db
def test_a_long_stored_ledger_with_unusual_text_verifies_by_its_canonical_form():
    records = long_chain(cycles=(1, 1, None))
    records[chain.CHUNK + 3]["actor_name"] = 'rep "two"\t'
    records[chain.CHUNK + 9]["payload"] = '{"text":"line\\none"}\r'
    records[chain.CHUNK + 11]["payload"] = "{}\x01"
    first = store(records)

    result = ledger.verify_ledger()

    assert result.ok and result.checked == first - 1 + LONG, result.describe()
    cycle = AuditEvent.objects.filter(seq__gte=first).exclude(cycle=None).first().cycle
    one_cycle = ledger.verify_cycle(cycle)
    assert one_cycle.ok and one_cycle.checked > chain.CHUNK, one_cycle.describe()


@pytest.mark.parametrize("number", ["007", "1,2", " 1", "None", "", "\u0661"])
def test_a_text_row_whose_number_is_not_plain_decimal_is_refused(number):
    record = long_chain(1)[0]
    row = list(as_text_row(record))
    assert chain.canonical_bodies([row], list(zip(row, strict=True))) == [
        chain.canonical_event(record)
    ]
    row[11] = number  # seq

    assert chain.canonical_bodies([row], list(zip(row, strict=True))) is None


# From PostgreSQL, a chunk of events per row -----------------------------------------------------

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the stored canonical bytes exist only on PostgreSQL"
)


def the_definition() -> chain.Verification:
    """The verdict of the export form read event by event, then of what lies past the head."""
    expected = ledger.head()
    result = chain.verify_records(
        ledger.iter_records(AuditEvent.objects.filter(seq__lte=expected[0])), head=expected
    )
    beyond = AuditEvent.objects.filter(seq__gt=expected[0]).order_by("seq").first()
    if not result.ok or beyond is None:
        return result
    return chain.Verification(
        checked=result.checked,
        first_bad_seq=beyond.seq,
        problem="comes after the ledger head: it was not appended through the ledger",
        action=beyond.action,
        cycle_id=beyond.cycle_id,
        position=result.checked + 1,
        last_seq=result.last_seq,
        last_hash=result.last_hash,
    )


def payload_changed(first: int) -> None:
    tamper(
        "UPDATE cycle_auditevent SET payload = %s WHERE seq = %s",
        ['{"n":0}', first + chain.CHUNK + 52],
    )


def first_of_a_chunk_deleted(first: int) -> None:
    tamper("DELETE FROM cycle_auditevent WHERE seq = %s", [chain.CHUNK + 1])


def last_deleted(first: int) -> None:
    tamper("DELETE FROM cycle_auditevent WHERE seq = %s", [ledger.head()[0]])


def renumbered_below_one(first: int) -> None:
    tamper("UPDATE cycle_auditevent SET seq = 0 WHERE seq = %s", [first + 5])


def renumbered_into_the_next_chunk(first: int) -> None:
    tamper("UPDATE cycle_auditevent SET seq = %s WHERE seq = %s", [10**9, chain.CHUNK])
    tamper("UPDATE cycle_auditevent SET seq = %s WHERE seq = %s", [chain.CHUNK, chain.CHUNK + 1])
    tamper("UPDATE cycle_auditevent SET seq = %s WHERE seq = %s", [chain.CHUNK + 1, 10**9])


def head_moved_back(first: int) -> None:
    tamper("SELECT 1", [])  # the deferred checks settled first
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE cycle_ledgerhead DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE cycle_ledgerhead SET seq = %s WHERE id = 1", [first + 2 * chain.CHUNK]
        )


def hash_lengthened(first: int) -> None:
    tamper("ALTER TABLE cycle_auditevent ALTER COLUMN hash TYPE varchar(200)", [])
    bad = first + chain.CHUNK + 7
    tamper("UPDATE cycle_auditevent SET hash = hash || E'\\n' || hash WHERE seq = %s", [bad])


def nothing(first: int) -> None:
    pass


DATABASE_DAMAGE = [
    nothing,
    payload_changed,
    first_of_a_chunk_deleted,
    last_deleted,
    renumbered_below_one,
    renumbered_into_the_next_chunk,
    head_moved_back,
    hash_lengthened,
]


@on_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("chunks_per_copy", [1, 8])
@pytest.mark.parametrize("damage", DATABASE_DAMAGE, ids=lambda damage: damage.__name__)
def test_a_stored_ledger_read_a_chunk_a_row_is_judged_as_event_by_event(
    monkeypatch: pytest.MonkeyPatch, chunks_per_copy: int, damage: Callable[[int], None]
) -> None:
    monkeypatch.setattr(ledger, "_CHUNKS_PER_COPY", chunks_per_copy)
    records = long_chain(LONG + chain.CHUNK, cycles=(1, None, 1))
    records[chain.CHUNK + 9]["payload"] = '{"text":"line\\none"}\r'  # read again from the fields
    first = store(records)
    damage(first)
    read_again: list[int] = []
    one_by_one = chain.ChainVerifier.one_by_one

    def counted(verifier: chain.ChainVerifier, events: Any) -> bool:
        events = list(events)
        read_again.extend(event["seq"] for event in events[:1])
        return one_by_one(verifier, events)

    monkeypatch.setattr(chain.ChainVerifier, "one_by_one", counted)

    result = ledger.verify_ledger()

    assert result == the_definition()
    assert result.ok == (damage is nothing), result.describe()
    if damage is nothing:  # only the chunk with the control character was read again
        assert read_again == [chain.CHUNK + 1]
