"""On PostgreSQL each event keeps the bytes it was hashed over, laid out by the database.

The column is generated from the event's own fields, so it is the canonical form of ``cycle.chain``
for every event the services write, changes with any field changed by SQL, and verification hashes
it rather than laying the event out again. Whoever drops its expression to make it disagree with
the fields only sends verification back to the fields.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from cycle import chain, ledger
from cycle.models import AuditEvent, LedgerHead
from tests.cycle.test_ledger import tamper

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the generated column exists only on PostgreSQL"
)


def stored() -> dict[int, bytes]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, canonical FROM cycle_auditevent ORDER BY seq")
        return {seq: text.encode() for seq, text in cursor.fetchall()}


def append_unusual(texts: list[str]) -> None:
    """Events whose names and payloads hold quotes, backslashes, other scripts, odd times."""
    for text in texts:
        ledger.append(actor=None, action="bench.unusual", stage_key=text, payload={"text": text})
    # And one written at a time with no microseconds, and one early in the year 1.
    seq, prev_hash = ledger.head()
    for at in (datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)):
        seq += 1
        fields = {
            "seq": seq,
            "at": chain.format_timestamp(at),
            "actor_id": None,
            "actor_name": 'a "name" \\ like this',
            "action": "bench.time",
            "outcome": "done",
            "cycle_id": None,
            "stage_key": "",
            "object_type": "",
            "object_id": "",
            "payload": "{}",
            "prev_hash": prev_hash,
            "cycle_prev_hash": "",
        }
        prev_hash = chain.event_hash(fields)
        AuditEvent.objects.create(**{**fields, "at": at, "hash": prev_hash})
    LedgerHead.objects.filter(pk=1).update(seq=seq, hash=prev_hash)


def test_the_column_is_the_canonical_form_of_every_event_without_a_control_character(world):
    world.agree_boundaries()
    world.disclose_budget()
    world.acknowledge_all()
    world.attest()
    append_unusual(['He said "no" \\ — ✓', "\\u0041", "Ünïcødé 日本語 𝄞", "", '\\"'])

    kept = stored()
    records = list(ledger.iter_records(AuditEvent.objects.all()))

    assert len(records) > 10
    assert all(kept[record["seq"]] == chain.canonical_event(record) for record in records)
    assert ledger._canonical_column_is_generated()
    assert ledger.verify_ledger().ok


def test_an_event_with_a_control_character_is_verified_from_its_fields(world):
    ledger.append(actor=None, action="bench.control", stage_key="tab\there", payload={"n": 1})
    event = AuditEvent.objects.get(action="bench.control")

    assert stored()[event.seq] != chain.canonical_event(ledger.event_fields(event))
    assert ledger.verify_ledger().ok
    assert ledger.verify_cycle(world.cycle).ok


def test_a_field_changed_by_sql_changes_the_column_and_is_named(world):
    world.agree_boundaries()
    world.disclose_budget()
    event = AuditEvent.objects.get(action="budget.disclosed")
    before = stored()[event.seq]

    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"n":0}', event.seq])

    assert stored()[event.seq] != before
    result = ledger.verify_ledger()
    assert (result.first_bad_seq, result.problem) == (
        event.seq,
        "its contents do not match its hash",
    )


def test_a_column_made_to_disagree_with_the_fields_sends_verification_back_to_them(world):
    world.agree_boundaries()
    world.disclose_budget()
    event = AuditEvent.objects.get(action="budget.disclosed")
    tamper("ALTER TABLE cycle_auditevent ALTER COLUMN canonical DROP EXPRESSION", [])
    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"n":0}', event.seq])
    assert stored()[event.seq] == chain.canonical_event(
        {**ledger.event_fields(event), "payload": event.payload}
    )  # the bytes kept still hash right; the fields no longer agree with them

    assert not ledger._canonical_column_is_generated()
    result = ledger.verify_ledger()
    assert (result.first_bad_seq, result.problem) == (
        event.seq,
        "its contents do not match its hash",
    )
    cycle_result = ledger.verify_cycle(world.cycle)
    assert cycle_result.first_bad_seq == event.seq
