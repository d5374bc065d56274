"""The audit ledger refuses, or detects, every edit, deletion and reordering of its events.

Through the ORM the model refuses; through raw SQL the PostgreSQL trigger refuses, and where SQL
gets past it (SQLite, or a superuser switching the trigger off) ``audit verify`` names the event.
An export is verified on its own by ``python -m cycle.verify_export``, which names the event too.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.db.models.signals import post_migrate
from hypothesis import given, settings
from hypothesis import strategies as st

from cycle import chain, ledger
from cycle.models import AuditEvent, LedgerImmutableError
from cycle.verify_export import main as verify_export
from cycle.verify_export import read_export
from tests.factories import CycleWorld

ON_POSTGRES = connection.vendor == "postgresql"
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="the append-only trigger exists only on PostgreSQL"
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def events(world: CycleWorld) -> list[dict[str, Any]]:
    """A ledger with two cycles' events interleaved, and one event with awkward text."""
    other = CycleWorld(panel_size=1, title="Meals on wheels")
    world.agree_boundaries()
    other.disclose_budget("80000")
    world.disclose_budget()
    world.acknowledge_all()
    ledger.append(
        actor=world.panel[0],
        action="input.noted",
        cycle=world.cycle,
        stage_key=world.cycle.current_stage,
        payload={"text": 'Siân said: "three hubs, not one",\r\nthen — ✓ =SUM(A1) \\ \t end'},
    )
    other.agree_boundaries()
    other.acknowledge_all()
    world.attest()
    return all_records()


def all_records() -> list[dict[str, Any]]:
    return list(ledger.iter_records(AuditEvent.objects.all()))


def audit(*args: str, command: str = "audit") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except CommandError as failure:
        return failure.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def tamper(sql: str, params: list[Any]) -> None:
    """Change the ledger table behind the model's back, as a database administrator could.

    On PostgreSQL the trigger would refuse, so it is first switched off, as a superuser could;
    the test's transaction puts it back.
    """
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            settle_deferred_checks()
            cursor.execute("ALTER TABLE cycle_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)


def settle_deferred_checks() -> None:
    """Run the foreign key checks PostgreSQL defers to commit (the test never commits).

    With checks pending, PostgreSQL will not alter or truncate the table at all, whatever its
    triggers say.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def named(record: dict[str, Any]) -> str:
    where = "no cycle" if record["cycle_id"] is None else f"cycle {record['cycle_id']}"
    return f"event #{record['seq']} ({record['action']}, {where})"


# The ORM refuses -------------------------------------------------------------------------------


def test_saving_a_changed_event_is_refused_and_names_it(events):
    event = AuditEvent.objects.get(seq=4)
    event.payload = '{"amount":"1"}'
    with pytest.raises(LedgerImmutableError, match="event #4 cannot be changed"):
        event.save()
    assert all_records() == events


def test_deleting_an_event_is_refused_and_names_it(events):
    with pytest.raises(LedgerImmutableError, match="event #4 cannot be deleted"):
        AuditEvent.objects.get(seq=4).delete()
    assert all_records() == events


def test_updating_events_through_a_queryset_is_refused(events):
    with pytest.raises(LedgerImmutableError, match="cannot be updated"):
        AuditEvent.objects.filter(seq__gte=4).update(payload="{}")
    assert all_records() == events


def test_deleting_events_through_a_queryset_is_refused(events):
    with pytest.raises(LedgerImmutableError, match="cannot be deleted"):
        AuditEvent.objects.filter(seq__gte=4).delete()
    assert all_records() == events


def test_bulk_update_of_events_is_refused(events):
    changed = list(AuditEvent.objects.filter(seq__in=[4, 5]))
    for event in changed:
        event.seq += 100
    # bulk_update runs in a transaction of its own, which the refusal rolls back.
    with pytest.raises(LedgerImmutableError, match="cannot be updated"), transaction.atomic():
        AuditEvent.objects.bulk_update(changed, ["seq"])
    assert all_records() == events


def test_deleting_a_cycle_or_an_actor_that_has_ledger_events_is_refused(world, events):
    with pytest.raises(ProtectedError):
        world.cycle.delete()
    with pytest.raises(ProtectedError):
        world.panel[0].delete()
    assert all_records() == events


def test_an_event_written_past_the_ledger_head_is_named(world, events):
    last = events[-1]
    forged = {
        **last,
        "seq": last["seq"] + 1,
        "action": "budget.disclosed",
        "payload": '{"amount":"1"}',
        "prev_hash": last["hash"],
        "cycle_prev_hash": next(r["hash"] for r in reversed(events) if r["cycle_id"] == world.id),
        "cycle_id": world.id,
    }
    forged["hash"] = chain.event_hash(forged)
    AuditEvent.objects.create(**{**forged, "at": AuditEvent.objects.get(seq=last["seq"]).at})

    code, _, err = audit("verify")

    assert code == 1
    assert err.strip() == (
        f"{named(forged)}: comes after the ledger head: it was not appended through the ledger"
    )


# The database verifies -------------------------------------------------------------------------


def test_audit_verify_reports_every_event_and_the_head(events):
    code, out, _ = audit("verify")
    assert code == 0
    assert out.splitlines() == [
        f"ledger verified: {len(events)} events",
        f"head: {events[-1]['seq']}:{events[-1]['hash']}",
    ]


def test_the_stored_hash_is_the_hash_of_the_exported_fields(events):
    for record in events:
        assert chain.event_hash(record) == record["hash"]
    assert [r["seq"] for r in events] == list(range(1, len(events) + 1))


def test_a_payload_changed_by_sql_is_named_by_audit_verify(events):
    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"amount":"1"}', 6])

    code, _, err = audit("verify")

    assert code == 1
    assert err.strip() == f"{named(events[5])}: its contents do not match its hash"


def test_a_hash_changed_by_sql_is_named_by_audit_verify(events):
    tamper("UPDATE cycle_auditevent SET hash = %s WHERE seq = %s", ["f" * 64, 3])

    code, _, err = audit("verify")

    assert code == 1
    assert err.strip() == f"{named(events[2])}: its contents do not match its hash"


def test_a_changed_event_whose_hash_was_recomputed_is_caught_by_the_next_link(events):
    record = {**events[3], "payload": '{"amount":"1"}'}
    tamper(
        "UPDATE cycle_auditevent SET payload = %s, hash = %s WHERE seq = %s",
        [record["payload"], chain.event_hash(record), 4],
    )

    result = ledger.verify_ledger()

    assert (result.first_bad_seq, result.action) == (5, events[4]["action"])
    assert result.problem == "does not follow the event before it (#4)"


def test_a_rewritten_tail_is_caught_by_the_ledger_head(events):
    last = {**events[-1], "payload": '{"reasons":"none"}'}
    tamper(
        "UPDATE cycle_auditevent SET payload = %s, hash = %s WHERE seq = %s",
        [last["payload"], chain.event_hash(last), last["seq"]],
    )

    code, _, err = audit("verify")

    assert code == 1
    assert err.strip() == (
        f"{named(last)}: its hash is not the one recorded for the head #{last['seq']}"
    )


def test_events_swapped_by_renumbering_are_named_by_audit_verify(events):
    # Event 6 takes number 5 and event 5 takes number 6 (through a free number: seq is unique).
    tamper("UPDATE cycle_auditevent SET seq = %s WHERE seq = %s", [10_000, 5])
    tamper("UPDATE cycle_auditevent SET seq = %s WHERE seq = %s", [5, 6])
    tamper("UPDATE cycle_auditevent SET seq = %s WHERE seq = %s", [6, 10_000])

    code, _, err = audit("verify")

    assert code == 1
    moved = {**events[5], "seq": 5}
    assert err.strip() == f"{named(moved)}: its contents do not match its hash"


def test_an_event_deleted_by_sql_is_named_by_audit_verify(events):
    tamper("DELETE FROM cycle_auditevent WHERE seq = %s", [7])

    code, _, err = audit("verify")

    assert code == 1
    assert err.strip() == (
        f"{named(events[7])}: is out of place: event #7 should come here (missing or moved)"
    )


def test_the_last_events_deleted_by_sql_are_named_against_the_ledger_head(events):
    last = events[-1]["seq"]
    tamper("DELETE FROM cycle_auditevent WHERE seq >= %s", [last - 1])

    code, _, err = audit("verify")

    assert code == 1
    assert err.strip() == (
        f"event #{last - 1} (missing): the events end at #{last - 2} but the head is #{last}"
    )


def test_verifying_one_cycle_names_an_event_removed_from_its_chain(world, events):
    mine = [r for r in events if r["cycle_id"] == world.id]
    assert ledger.verify_cycle(world.cycle).checked == len(mine)
    tamper("DELETE FROM cycle_auditevent WHERE seq = %s", [mine[2]["seq"]])

    result = ledger.verify_cycle(world.cycle)

    assert (result.first_bad_seq, result.action) == (mine[3]["seq"], mine[3]["action"])
    assert result.problem == f"does not follow the cycle's event before it (#{mine[1]['seq']})"


def test_cycle_audit_verify_reports_the_cycles_events_and_its_last(world, events):
    mine = [r for r in events if r["cycle_id"] == world.id]
    head = f"{mine[-1]['seq']}:{mine[-1]['hash']}"

    code, out, _ = audit("audit", str(world.id), "--verify", command="cycle")
    assert (code, out.splitlines()) == (
        0,
        [f"cycle {world.id}: ledger verified: {len(mine)} events", f"head: {head}"],
    )

    code, out, _ = audit("audit", str(world.id), "--verify", "--json", command="cycle")
    assert (code, json.loads(out)) == (0, {"verified": True, "events": len(mine), "head": head})


def test_cycle_audit_verify_names_the_first_event_of_the_cycle_that_does_not_verify(world, events):
    mine = [r for r in events if r["cycle_id"] == world.id]
    tamper("UPDATE cycle_auditevent SET actor_name = %s WHERE seq = %s", ["nobody", mine[3]["seq"]])

    code, out, err = audit("audit", str(world.id), "--verify", command="cycle")

    assert (code, out) == (1, "")
    assert err.strip() == (
        f"error: ledger.not_verified: {named(mine[3])}: its contents do not match its hash"
    )


# PostgreSQL refuses raw SQL --------------------------------------------------------------------


@postgres_only
@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("UPDATE cycle_auditevent SET payload = '{}' WHERE seq = 4", "UPDATE of event #4 refused"),
        ("DELETE FROM cycle_auditevent WHERE seq = 4", "DELETE of event #4 refused"),
        ("TRUNCATE cycle_auditevent CASCADE", "TRUNCATE of event"),
    ],
    ids=["update", "delete", "truncate"],
)
def test_postgres_refuses_to_change_or_remove_ledger_rows(events, sql, refusal):
    settle_deferred_checks()
    with (
        pytest.raises(DatabaseError, match=f"the audit ledger is append-only: {refusal}"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert all_records() == events
    assert ledger.verify_ledger().ok


# Exports ---------------------------------------------------------------------------------------


def export(tmp_path: Path, fmt: str, *extra: str) -> tuple[Path, str]:
    path = tmp_path / f"ledger-{uuid.uuid4().hex}.{fmt}"
    code, _, err = audit("export", "--format", fmt, "-o", str(path), *extra)
    assert code == 0, err
    return path, err


def rewrite(path: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """Edit an export as someone with a text editor could: change its records, write it back."""
    with path.open(encoding="utf-8", newline="") as stream:
        records = change(list(read_export(stream)))
    with path.open("w", encoding="utf-8", newline="") as stream:
        if path.suffix == ".csv":
            writer = csv.writer(stream)
            writer.writerow(chain.EXPORT_FIELDS)
            writer.writerows(chain.csv_row(record) for record in records)
        else:
            stream.writelines(chain.jsonl_line(record) for record in records)


def check(path: Path, *args: str, capsys: Any) -> tuple[int, str, str]:
    code = verify_export([str(path), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


FORMATS = pytest.mark.parametrize("fmt", ["jsonl", "csv"])


@FORMATS
def test_an_export_reads_back_to_exactly_the_hashed_form(events, tmp_path, fmt, capsys):
    path, summary = export(tmp_path, fmt)

    with path.open(encoding="utf-8", newline="") as stream:
        exported = list(read_export(stream))

    assert exported == events
    assert [chain.canonical_event(r) for r in exported] == [
        chain.canonical_json({name: r[name] for name in chain.HASHED_FIELDS}).encode()
        for r in events
    ]
    head = f"{events[-1]['seq']}:{events[-1]['hash']}"
    assert summary.strip() == f"exported {len(events)} events of the ledger; head {head}"
    code, out, _ = check(path, "--head", head, capsys=capsys)
    assert code == 0
    assert out.splitlines()[:2] == [f"ledger verified: {len(events)} events", f"head: {head}"]


@FORMATS
def test_an_edited_field_in_an_export_is_named(events, tmp_path, fmt, capsys):
    path, _ = export(tmp_path, fmt)

    def edit(records):
        records[4]["actor_name"] = "someone-else"
        return records

    rewrite(path, edit)

    code, _, err = check(path, capsys=capsys)
    assert code == 1
    assert err.strip() == (
        f"{path}: line {5 if fmt == 'jsonl' else 6}: "
        f"{named(events[4])}: its contents do not match its hash"
    )


@FORMATS
def test_an_edited_event_with_a_recomputed_hash_is_named_by_the_next_link(
    events, tmp_path, fmt, capsys
):
    path, _ = export(tmp_path, fmt)

    def edit(records):
        records[4]["payload"] = "{}"
        records[4]["hash"] = chain.event_hash(records[4])
        return records

    rewrite(path, edit)

    code, _, err = check(path, capsys=capsys)
    assert code == 1
    assert err.strip().endswith(f"{named(events[5])}: does not follow the event before it (#5)")


@FORMATS
def test_a_deleted_line_in_an_export_is_named(events, tmp_path, fmt, capsys):
    path, _ = export(tmp_path, fmt)
    rewrite(path, lambda records: records[:3] + records[4:])

    code, _, err = check(path, capsys=capsys)
    assert code == 1
    assert err.strip().endswith(
        f"{named(events[4])}: is out of place: event #4 should come here (missing or moved)"
    )


@FORMATS
def test_two_swapped_lines_in_an_export_are_named(events, tmp_path, fmt, capsys):
    path, _ = export(tmp_path, fmt)
    rewrite(path, lambda records: [*records[:5], records[6], records[5], *records[7:]])

    code, _, err = check(path, capsys=capsys)
    assert code == 1
    assert err.strip().endswith(
        f"{named(events[6])}: is out of place: event #6 should come here (missing or moved)"
    )


@FORMATS
def test_a_truncated_export_is_named_against_the_head(events, tmp_path, fmt, capsys):
    path, _ = export(tmp_path, fmt)
    rewrite(path, lambda records: records[:-2])
    last = events[-1]["seq"]

    code, _, err = check(path, "--head", f"{last}:{events[-1]['hash']}", capsys=capsys)

    assert code == 1
    assert err.strip().endswith(
        f"event #{last - 1} (missing): the events end at #{last - 2} but the head is #{last}"
    )


@FORMATS
def test_an_export_cut_in_the_middle_of_a_line_is_named(events, tmp_path, fmt, capsys):
    path, _ = export(tmp_path, fmt)
    text = path.read_text(encoding="utf-8")
    # Part way through the last line's prev_hash (the one place it occurs as a link).
    path.write_text(text[: text.rindex(events[-1]["prev_hash"]) + 10], encoding="utf-8")
    line = len(events) + (1 if fmt == "csv" else 0)

    code, _, err = check(path, capsys=capsys)

    assert code == 1
    assert err.startswith(
        f"{path}: line {line} (event #{events[-1]['seq']}, after event #{events[-2]['seq']}): "
    )


def test_a_field_given_twice_on_one_line_of_an_export_is_refused(events, tmp_path, capsys):
    path, _ = export(tmp_path, "jsonl")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace('"payload":', '"payload":"{}","payload":', 1)
    path.write_text("".join(lines), encoding="utf-8")

    code, _, err = check(path, capsys=capsys)

    assert code == 1
    assert err.strip() == f"{path}: line 3 (event #3, after event #2): a field appears twice"


@FORMATS
def test_one_cycles_export_verifies_on_its_own_and_names_a_moved_event(
    world, events, tmp_path, fmt, capsys
):
    mine = [r for r in events if r["cycle_id"] == world.id]
    path, summary = export(tmp_path, fmt, "--cycle", str(world.id))
    assert summary.strip() == (
        f"exported {len(mine)} events of cycle {world.id}; "
        f"head {mine[-1]['seq']}:{mine[-1]['hash']}"
    )
    assert check(path, "--cycle", capsys=capsys)[0] == 0

    rewrite(path, lambda records: [*records[:1], records[2], records[1], *records[3:]])

    code, _, err = check(path, "--cycle", capsys=capsys)
    assert code == 1
    assert err.strip().endswith(
        f"{named(mine[2])}: does not follow the cycle's event before it (#{mine[0]['seq']})"
    )


def test_one_cycles_export_names_an_event_of_another_cycle(world, events, tmp_path, capsys):
    path, _ = export(tmp_path, "jsonl", "--cycle", str(world.id))
    stranger = next(r for r in events if r["cycle_id"] not in (world.id, None))
    rewrite(path, lambda records: [*records, stranger])

    code, _, err = check(path, "--cycle", capsys=capsys)

    assert code == 1
    assert err.strip().endswith(
        f"{named(stranger)}: belongs to cycle {stranger['cycle_id']}, not cycle {world.id}"
    )


def test_exporting_a_cycle_that_does_not_exist_fails(events, tmp_path):
    code, _, err = audit("export", "--cycle", "999999", "-o", str(tmp_path / "none.jsonl"))
    assert (code, err.strip()) == (1, "There is no commissioning cycle 999999.")
    assert not (tmp_path / "none.jsonl").exists()


def test_an_export_saved_with_a_byte_order_mark_still_verifies(events, tmp_path, capsys):
    path, _ = export(tmp_path, "csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    code, out, _ = check(path, capsys=capsys)

    assert code == 0
    assert out.splitlines()[0] == f"ledger verified: {len(events)} events"


def test_the_export_verifier_runs_without_django(events, tmp_path):
    path, _ = export(tmp_path, "csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    probe = (
        "import sys, runpy; sys.argv = ['verify_export', sys.argv[1]];"
        "code = 0\ntry: runpy.run_module('cycle.verify_export', run_name='__main__')\n"
        "except SystemExit as exit: code = exit.code\n"
        "sys.exit(3 if 'django' in sys.modules else code)"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[0] == f"ledger verified: {len(events)} events"


# The chain on its own --------------------------------------------------------------------------


def chain_of(*cycles: int | None) -> list[dict[str, Any]]:
    """A well-formed ledger whose events belong to the given cycles, in that order."""
    records: list[dict[str, Any]] = []
    last: dict[int | None, str] = {}
    for seq, cycle_id in enumerate(cycles, start=1):
        record = {
            "seq": seq,
            "at": f"2025-03-01T10:00:{seq:02d}.000000Z",
            "actor_id": None,
            "actor_name": "",
            "action": "stage.advanced",
            "outcome": "done",
            "cycle_id": cycle_id,
            "stage_key": "needs",
            "object_type": "",
            "object_id": "",
            "payload": "{}",
            "prev_hash": records[-1]["hash"] if records else chain.GENESIS,
            "cycle_prev_hash": "" if cycle_id is None else last.get(cycle_id, chain.GENESIS),
        }
        record["hash"] = last[cycle_id] = chain.event_hash(record)
        records.append(record)
    return records


def test_times_are_hashed_in_utc_to_the_microsecond():
    summer = datetime(2025, 7, 1, 10, 0, 0, 7, tzinfo=ZoneInfo("Europe/London"))
    assert chain.format_timestamp(summer) == "2025-07-01T09:00:00.000007Z"
    assert chain.format_timestamp(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2025-01-02T03:04:05.000000Z"
    )


def test_a_forked_cycle_chain_is_named_when_the_whole_ledger_is_verified():
    records = chain_of(1, 2, 1, 1)
    # Event 4 links to event 1 instead of event 3 within cycle 1, with a hash to match.
    records[3]["cycle_prev_hash"] = records[0]["hash"]
    records[3]["hash"] = chain.event_hash(records[3])

    result = chain.verify_records(records)

    assert (result.first_bad_seq, result.checked) == (4, 3)
    assert result.problem == "does not follow the event before it in cycle 1"


def test_an_event_outside_any_cycle_must_not_carry_a_cycle_link():
    records = chain_of(None, 1)
    records[0]["cycle_prev_hash"] = chain.GENESIS
    records[0]["hash"] = chain.event_hash(records[0])

    result = chain.verify_records(records)

    assert (result.first_bad_seq, result.problem) == (1, "has a cycle link but no cycle")


def test_a_whole_ledger_must_start_at_the_first_event():
    result = chain.verify_records(chain_of(1, 1, 1)[1:])
    assert (result.first_bad_seq, result.problem) == (
        2,
        "is out of place: event #1 should come here (missing or moved)",
    )


def test_a_cycle_export_must_start_at_the_cycles_first_event():
    records = [r for r in chain_of(1, 2, 1, 1) if r["cycle_id"] == 1]
    assert chain.verify_records(records, per_cycle=True).ok

    result = chain.verify_records(records[1:], per_cycle=True)

    assert (result.first_bad_seq, result.problem) == (
        3,
        "does not follow the cycle's event before it (the start of the cycle)",
    )


plain_text = st.text()
whole_number = st.integers(min_value=0, max_value=2**63 - 1)
any_value = st.one_of(st.none(), st.booleans(), whole_number, st.floats(allow_nan=False), st.text())
event_records = st.fixed_dictionaries(
    {
        **dict.fromkeys(chain.HASHED_FIELDS, plain_text),
        "seq": whole_number,
        "actor_id": st.none() | whole_number,
        "cycle_id": st.none() | whole_number,
    }
)


@settings(max_examples=500, deadline=None)
@given(event_records)
def test_an_events_canonical_form_is_exactly_its_canonical_json(record):
    reference = chain.canonical_json({name: record[name] for name in chain.HASHED_FIELDS})
    assert chain.canonical_event(record) == reference.encode()


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries(dict.fromkeys(chain.HASHED_FIELDS, any_value)))
def test_an_unusual_event_still_takes_its_canonical_json_form(record):
    reference = chain.canonical_json({name: record[name] for name in chain.HASHED_FIELDS})
    assert chain.canonical_event(record) == reference.encode()


@settings(max_examples=300, deadline=None)
@given(event_records)
def test_any_event_reads_back_from_json_lines_and_csv_unchanged(record):
    record = {**record, "hash": chain.event_hash(record)}
    assert chain.record_from_jsonl(chain.jsonl_line(record)) == record
    assert json.loads(chain.jsonl_line(record)) == record

    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow(chain.csv_row(record))
    (row,) = csv.reader(io.StringIO(buffer.getvalue(), newline=""), strict=True)
    assert chain.record_from_csv(row) == record


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"seq": "5"}, "seq is not a whole number: '5'"),
        ({"seq": True}, "seq is not a whole number: True"),
        ({"cycle_id": 2.0}, "cycle_id is not a whole number: 2.0"),
        ({"payload": {"amount": "1"}}, "payload is not text: {'amount': '1'}"),
        ({"seq": None}, "seq is not a whole number: None"),
    ],
)
def test_an_exported_line_with_a_field_of_the_wrong_type_is_refused(change, problem):
    record = {**chain_of(1)[0], **change}
    with pytest.raises(chain.ExportFormatError, match=f"^{re.escape(problem)}$"):
        chain.record_from_jsonl(json.dumps(record))


@pytest.mark.parametrize(
    ("cell", "text", "problem"),
    [
        ("seq", "05", "seq is not a whole number: '05'"),
        ("seq", "", "seq is not a whole number: ''"),
        ("actor_id", "٣", "actor_id is not a whole number: '٣'"),
    ],
)
def test_a_csv_cell_that_is_not_a_plain_whole_number_is_refused(cell, text, problem):
    row = chain.csv_row(chain_of(1)[0])
    row[chain.EXPORT_FIELDS.index(cell)] = text
    with pytest.raises(chain.ExportFormatError, match=f"^{re.escape(problem)}$"):
        chain.record_from_csv(row)


# Concurrent appends ----------------------------------------------------------------------------


@pytest.fixture
def ledger_flushable():
    """Let the test database be emptied after a transactional test on PostgreSQL.

    Django empties tables with TRUNCATE, which the ledger's trigger refuses: that trigger is
    switched off for the flush only, and on again when the flush ends (it sends ``post_migrate``).
    """
    yield
    if not ON_POSTGRES:
        return
    uid = f"ledger-flushable-{uuid.uuid4().hex}"

    def guard_again(**kwargs: object) -> None:
        post_migrate.disconnect(dispatch_uid=uid)
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE cycle_auditevent ENABLE TRIGGER cycle_auditevent_no_truncate"
            )

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE cycle_auditevent DISABLE TRIGGER cycle_auditevent_no_truncate")
    post_migrate.connect(guard_again, weak=False, dispatch_uid=uid)


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="threads need a database they can share and row locks: run on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_appends_from_two_threads_never_fork_the_chain(ledger_flushable):
    first, second = CycleWorld(panel_size=1), CycleWorld(panel_size=1, title="Meals on wheels")
    before = ledger.head()[0]
    per_thread = 30
    start = threading.Barrier(2)
    failures: list[Exception] = []

    def append_many(name: str) -> None:
        try:
            start.wait(timeout=30)
            for i in range(per_thread):
                with transaction.atomic():
                    ledger.append(
                        actor=None,
                        action="input.noted",
                        cycle=(first.cycle, second.cycle)[i % 2],
                        payload={"thread": name, "i": i},
                    )
        except Exception as failure:
            failures.append(failure)
        finally:
            connection.close()

    threads = [threading.Thread(target=append_many, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    records = all_records()
    assert len(records) == before + 2 * per_thread
    assert len({r["prev_hash"] for r in records}) == len(records), "two events share a parent"
    assert ledger.verify_ledger().ok
    assert ledger.verify_cycle(first.cycle).ok and ledger.verify_cycle(second.cycle).ok
    assert ledger.head() == (records[-1]["seq"], records[-1]["hash"])
