"""The ledger against an insider: someone who can write to the database, not only to the pages.

Such a person can rewrite events and recompute every hash after them, head row included, so the
ledger verifies on its own; a head kept outside the database (``audit verify --head``) gives them
away. On PostgreSQL the head row only moves forward, and the database role the application runs
as (the README's production section) cannot switch the ledger's triggers off.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cycle import chain, ledger, replay, services
from cycle.models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    GateOverride,
    GateOverrideDeparture,
    LedgerHead,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)
from tests.factories import CycleWorld

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = connection.vendor == "postgresql"
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="the triggers and database roles exist only on PostgreSQL"
)


@pytest.fixture
def events(world: CycleWorld) -> list[dict[str, Any]]:
    world.agree_boundaries()
    world.disclose_budget()
    world.acknowledge_all()
    world.attest()
    return records()


def records() -> list[dict[str, Any]]:
    return list(ledger.iter_records(AuditEvent.objects.all()))


def audit(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except CommandError as failure:
        return failure.returncode, out.getvalue(), err.getvalue() or str(failure)
    return 0, out.getvalue(), err.getvalue()


def named(record: dict[str, Any]) -> str:
    return chain.describe_event(record["seq"], record["action"], record["cycle_id"])


def as_superuser(statements: Callable[[Any], None]) -> None:
    """Write behind the application's back, as a database superuser can: triggers off first.

    The test's transaction puts the triggers back.
    """
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE cycle_auditevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE cycle_ledgerhead DISABLE TRIGGER USER")
        statements(cursor)


def rewrite_from(seq: int, change: dict[str, Any]) -> list[dict[str, Any]]:
    """Change event ``seq`` and recompute every hash and link after it, and the head row."""
    old = records()
    new: list[dict[str, Any]] = []
    cycle_last: dict[int, str] = {}
    previous = chain.GENESIS
    for record in old:
        record = dict(record)
        if record["seq"] == seq:
            record.update(change)
        record["prev_hash"] = previous
        if record["cycle_id"] is not None:
            record["cycle_prev_hash"] = cycle_last.get(record["cycle_id"], chain.GENESIS)
        record["hash"] = chain.event_hash(record)
        if record["cycle_id"] is not None:
            cycle_last[record["cycle_id"]] = record["hash"]
        previous = record["hash"]
        new.append(record)

    def write(cursor: Any) -> None:
        mark = "%s"
        for record in new[seq - 1 :]:
            cursor.execute(
                f"UPDATE cycle_auditevent SET payload = {mark}, prev_hash = {mark}, "
                f"cycle_prev_hash = {mark}, hash = {mark} WHERE seq = {mark}",
                [
                    record["payload"],
                    record["prev_hash"],
                    record["cycle_prev_hash"],
                    record["hash"],
                    record["seq"],
                ],
            )
        cursor.execute(
            f"UPDATE cycle_ledgerhead SET seq = {mark}, hash = {mark} WHERE id = 1",
            [new[-1]["seq"], new[-1]["hash"]],
        )

    as_superuser(write)
    return new


# audit verify --head ---------------------------------------------------------------------------


def test_audit_verify_with_the_head_kept_outside_accepts_an_untouched_ledger(events):
    last = events[-1]
    code, out, _ = audit("verify")
    assert out.splitlines()[-1] == f"head: {last['seq']}:{last['hash']}"

    for kept in (f"{last['seq']}:{last['hash']}", last["hash"], events[2]["hash"]):
        code, out, err = audit("verify", "--head", kept)
        assert (code, err) == (0, "")
        assert out.splitlines()[-1] == (
            "the head kept outside the database is in the ledger, unchanged"
        )


def test_a_ledger_grown_since_the_head_was_kept_still_verifies_against_it(world, events):
    kept = f"{events[-1]['seq']}:{events[-1]['hash']}"
    world.disclose_budget("1300000")
    assert audit("verify", "--head", kept)[0] == 0


def test_a_ledger_rewritten_with_every_hash_recomputed_is_caught_only_by_the_kept_head(events):
    kept = f"{events[-1]['seq']}:{events[-1]['hash']}"
    disclosed = next(r for r in events if r["action"] == "budget.disclosed")
    rewritten = rewrite_from(
        disclosed["seq"], {"payload": disclosed["payload"].replace("1200000", "2400000")}
    )

    assert audit("verify")[0] == 0, "rewritten consistently, the ledger verifies on its own"
    code, out, err = audit("verify", "--head", kept)

    assert (code, out) == (1, "")
    assert err.strip() == (
        f"{named(rewritten[-1])}: its hash is not the one kept outside the database: "
        "the events up to it were rewritten"
    )
    code, _, err = audit("verify", "--head", events[-1]["hash"])
    assert code == 1
    assert err.strip() == (
        f"no event has the hash kept outside the database ({events[-1]['hash'][:12]}…): "
        "the ledger was rewritten, or cut short before it"
    )


def test_a_tail_cut_off_with_the_head_moved_back_is_caught_by_the_kept_head(events):
    kept = f"{events[-1]['seq']}:{events[-1]['hash']}"
    keep = events[-3]

    def cut(cursor: Any) -> None:
        cursor.execute("DELETE FROM cycle_auditevent WHERE seq > %s", [keep["seq"]])
        cursor.execute(
            "UPDATE cycle_ledgerhead SET seq = %s, hash = %s WHERE id = 1",
            [keep["seq"], keep["hash"]],
        )

    as_superuser(cut)

    assert audit("verify")[0] == 0, "cut at an event and the head moved back, it verifies"
    code, _, err = audit("verify", "--head", kept)
    assert code == 1
    assert err.strip() == (
        f"event #{keep['seq'] + 1} (missing): the events end at #{keep['seq']} but the head kept "
        f"outside the database is #{events[-1]['seq']}: events were removed and the head moved back"
    )


@pytest.mark.parametrize("kept", ["12", "12:abc", "f" * 63, "x:" + "f" * 64])
def test_a_kept_head_that_is_not_a_hash_is_a_usage_error(events, kept):
    with pytest.raises(CommandError, match="--head: expected"):
        call_command("audit", "verify", "--head", kept)


# PostgreSQL: the head row moves only forward ---------------------------------------------------


def refused(sql: str, params: list[Any] | None = None) -> str:
    """Run ``sql`` in a savepoint; the database's refusal, or fail the test."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as refusal:
        return str(refusal).splitlines()[0]
    raise AssertionError(f"the database allowed: {sql}")


@postgres_only
@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (
            "UPDATE cycle_ledgerhead SET seq = seq - 2, hash = (SELECT hash FROM cycle_auditevent "
            "WHERE seq = (SELECT seq - 2 FROM cycle_ledgerhead))",
            "moving it back from #{last} to #{back} refused",
        ),
        (
            "UPDATE cycle_ledgerhead SET hash = repeat('f', 64)",
            "it can move only to the newest event #{last}, not to #{last}",
        ),
        (
            "UPDATE cycle_ledgerhead SET seq = seq + 1",
            "it can move only to the newest event #{last}, not to #{ahead}",
        ),
        ("UPDATE cycle_ledgerhead SET id = 2", "it is row 1 and stays row 1"),
        ("DELETE FROM cycle_ledgerhead", "DELETE of head #{last} refused"),
        ("TRUNCATE cycle_ledgerhead", "TRUNCATE refused while the ledger is kept"),
        (
            "INSERT INTO cycle_ledgerhead (id, seq, hash) VALUES (2, 0, repeat('0', 64))",
            "it is row 1 and stays row 1",
        ),
    ],
    ids=["back", "other-hash", "ahead", "renumber", "delete", "truncate", "second-head"],
)
def test_postgres_moves_the_ledger_head_only_forward_to_the_newest_event(events, sql, refusal):
    last = events[-1]["seq"]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    message = refusal.format(last=last, back=last - 2, ahead=last + 1)
    assert refused(sql) == f"the ledger head is append-only: {message}"
    assert ledger.head() == (last, events[-1]["hash"])
    assert ledger.verify_ledger().ok


@postgres_only
def test_postgres_lets_appends_move_the_head(world, events):
    world.disclose_budget("1300000")
    newest = records()[-1]
    assert ledger.head() == (newest["seq"], newest["hash"])
    assert LedgerHead.objects.count() == 1


# PostgreSQL: the application's role cannot switch the guards off ------------------------------


def app_role_grants() -> list[str]:
    """The statements the README's production section gives the application's role."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    production = text.split("## Production", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", production, flags=re.S)
    statements = [
        statement.strip()
        for block in blocks
        for statement in re.sub(r"--[^\n]*", "", block).split(";")
        if statement.strip()
    ]
    grants = [s for s in statements if s.upper().startswith(("GRANT", "ALTER DEFAULT"))]
    assert grants, "the README's production section grants the application's role its rights"
    return grants


@pytest.fixture
def app_role(events: list[dict[str, Any]]) -> Any:
    """A role made as the README says, in the test's transaction (so it goes with it)."""
    name = f"cycle_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE ROLE {name} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
        )
        for grant in app_role_grants():
            cursor.execute(grant.replace("cycle_app", name).replace("cycle_owner", "CURRENT_USER"))

    class Role:
        def __enter__(self) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"SET ROLE {name}")

        def __exit__(self, *exc: object) -> None:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")

    return Role()


@postgres_only
@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (
            "ALTER TABLE cycle_auditevent DISABLE TRIGGER cycle_auditevent_append_only",
            "must be owner of table cycle_auditevent",
        ),
        ("ALTER TABLE cycle_auditevent DISABLE TRIGGER USER", "must be owner of table"),
        (
            "ALTER TABLE cycle_ledgerhead DISABLE TRIGGER cycle_ledgerhead_forward_only",
            "must be owner of table cycle_ledgerhead",
        ),
        (
            "DROP TRIGGER cycle_auditevent_append_only ON cycle_auditevent",
            "must be owner of relation cycle_auditevent",
        ),
        (
            "DROP TRIGGER cycle_ledgerhead_forward_only ON cycle_ledgerhead",
            "must be owner of relation cycle_ledgerhead",
        ),
        (
            "CREATE OR REPLACE FUNCTION cycle_auditevent_append_only() RETURNS trigger "
            "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
            # PostgreSQL 15 lets no one but the owner create in the schema; before it, the
            # function's owner alone could replace it.
            "permission denied for schema public|must be owner of function",
        ),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("ALTER TABLE cycle_auditevent OWNER TO CURRENT_USER", "must be owner of table"),
        (
            "UPDATE cycle_auditevent SET payload = '{}' WHERE seq = 4",
            "the audit ledger is append-only: UPDATE of event #4 refused",
        ),
        (
            "DELETE FROM cycle_auditevent WHERE seq = 4",
            "the audit ledger is append-only: DELETE of event #4 refused",
        ),
        ("TRUNCATE cycle_auditevent", "permission denied for table cycle_auditevent"),
        (
            "UPDATE cycle_ledgerhead SET seq = 1, hash = (SELECT hash FROM cycle_auditevent "
            "WHERE seq = 1)",
            "the ledger head is append-only: moving it back",
        ),
        ("DELETE FROM cycle_ledgerhead", "the ledger head is append-only: DELETE of head"),
    ],
    ids=[
        "disable-ledger-trigger",
        "disable-all-triggers",
        "disable-head-trigger",
        "drop-ledger-trigger",
        "drop-head-trigger",
        "replace-trigger-function",
        "replication-role",
        "take-ownership",
        "update-event",
        "delete-event",
        "truncate-ledger",
        "move-head-back",
        "delete-head",
    ],
)
def test_the_application_role_cannot_disable_drop_or_get_past_the_ledgers_triggers(
    events, app_role, sql, refusal
):
    with app_role:
        assert re.search(refusal, refused(sql))
    assert records() == events
    assert ledger.verify_ledger().ok


@postgres_only
def test_the_application_role_can_do_everything_the_application_does(world, events, app_role):
    with app_role:
        world.disclose_budget("1300000")
        world.attest()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            user, superuser = cursor.fetchone()
    assert user.startswith("cycle_app_") and superuser is False
    assert ledger.verify_ledger().checked == len(events) + 1 + len(world.panel)


# audit verify --state --------------------------------------------------------------------------


@pytest.fixture
def history(world: CycleWorld) -> CycleWorld:
    """A cycle with every kind of gate record: passed, overridden and reopened stages, a budget
    changed after attestations, a dissent withdrawn, a dissent standing."""
    world.pass_gate()  # needs
    world.meet_gate()
    world.disclose_budget("1300000")  # the attestations stop counting
    world.attest(world.panel[:1])
    services.signoff_record(actor=world.panel[1], cycle_id=world.id, dissent="Told too late.")
    services.dissent_withdraw(actor=world.panel[1], cycle_id=world.id)
    services.signoff_record(actor=world.panel[2], cycle_id=world.id, dissent="Not involved.")
    services.gate_override(
        actor=world.governor, cycle_id=world.id, reason="The board heard the panel in person."
    )
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    services.stage_reopen(
        actor=world.lead, cycle_id=world.id, stage_key="needs", reason="New evidence of need."
    )
    world.agree_boundaries(influence="co-decide")
    return world


def test_the_ledger_explains_every_visit_and_gate_record_of_a_long_history(history):
    result = replay.verify_state()

    assert result.ok, result.describe()
    assert result.rows == (
        StageVisit.objects.count()
        + RoleBoundaryAgreement.objects.count()
        + BoundaryAcknowledgement.objects.count()
        + BudgetDisclosure.objects.count()
        + SignOff.objects.count()
        + GateOverride.objects.count()
    )
    code, out, _ = audit("verify", "--state")
    assert code == 0
    assert out.splitlines()[-1] == f"state verified: {result.describe()}"


def test_the_ledger_explains_the_demo_scenarios(db):
    from tests import scenario_cache

    scenario_cache.load_demo()

    assert replay.verify_state().ok, replay.verify_state().describe()


def latest(model: Any, **filters: Any) -> Any:
    return model.objects.filter(**filters).order_by("-pk").first()


TAMPERING = {
    "signoff-added": (
        lambda w: SignOff.objects.create(
            visit=StageVisit.objects.get(cycle=w.cycle, closed_at__isnull=True),
            cycle=w.cycle,
            member=w.panel[2],
            kind=SignOff.Kind.ATTEST,
            recorded_at=timezone.now(),
        ),
        lambda w, row: f"sign-off #{row.pk} (cycle {w.id}): no event records it",
    ),
    "amount-changed": (
        lambda w: (
            BudgetDisclosure.objects.filter(pk=latest(BudgetDisclosure).pk).update(
                amount=Decimal("9000000")
            )
            and latest(BudgetDisclosure)
        ),
        lambda w, row: (
            f"budget disclosure #{row.pk} (cycle {w.id}): amount is 9000000.00 "
            "but the ledger recorded 1300000.00"
        ),
    ),
    "dissent-turned-attestation": (
        lambda w: (
            SignOff.objects.filter(pk=latest(SignOff, kind="dissent").pk).update(
                kind=SignOff.Kind.ATTEST
            )
            and latest(SignOff, member=w.panel[2])
        ),
        lambda w, row: (
            f"sign-off #{row.pk} (cycle {w.id}): kind is 'attest' but the ledger recorded 'dissent'"
        ),
    ),
    "withdrawal-undone": (
        lambda w: (
            SignOff.objects.filter(withdrawn=True).update(withdrawn=False, superseded_at=None)
            and latest(SignOff, member=w.panel[1], kind="dissent")
        ),
        lambda w, row: (
            f"sign-off #{row.pk} (cycle {w.id}): superseded is False but the ledger recorded True"
        ),
    ),
    "signoff-removed": (
        lambda w: (
            row := latest(SignOff, member=w.panel[0]),
            SignOff.objects.filter(pk=row.pk).delete(),
        )[0],
        lambda w, row: (
            f"sign-off #{row.pk} (cycle {w.id}): event #"
            f"{AuditEvent.objects.get(action='signoff.attested', object_id=str(row.pk)).seq} "
            "recorded it, but the table does not have it"
        ),
    ),
    "visit-closed": (
        lambda w: (
            StageVisit.objects.filter(pk=latest(StageVisit).pk).update(
                closed_at=timezone.now(), closed_by=w.lead, closure=StageVisit.Closure.PASSED
            )
            and latest(StageVisit)
        ),
        lambda w, row: (
            f"stage visit #{row.pk} (cycle {w.id}): closure is 'passed' but the ledger recorded ''"
        ),
    ),
    "override-widened": (
        lambda w: (
            GateOverrideDeparture.objects.create(
                override=latest(GateOverride), code="quorum.not_met"
            )
            and latest(GateOverride)
        ),
        lambda w, row: (
            f"gate override #{row.pk} (cycle {w.id}): its departures are not the "
            f"conditions and members event #{AuditEvent.objects.get(action='gate.overridden').seq} "
            "recorded"
        ),
    ),
    "boundaries-weakened": (
        lambda w: (
            RoleBoundaryAgreement.objects.filter(pk=latest(RoleBoundaryAgreement).pk).update(
                influence="inform"
            )
            and latest(RoleBoundaryAgreement)
        ),
        lambda w, row: (
            f"role boundaries #{row.pk} (cycle {w.id}): influence is 'inform' but "
            "the ledger recorded 'co-decide'"
        ),
    ),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_audit_verify_state_names_the_first_row_the_ledger_does_not_explain(history, how):
    change, message = TAMPERING[how]
    row = change(history)

    code, _, err = audit("verify", "--state")

    assert code == 1
    assert err.strip() == message(history, row)
    assert audit("verify")[0] == 0, "the chain itself is intact: only the tables were changed"
