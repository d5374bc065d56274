"""A prepared read gives the rows its queryset gives, for each call's values, from SQL compiled
once; and the gate's snapshot of one cycle is one such query. A prepared write writes the row
the ORM would write; the lock of a cycle and its open visit gives the instances the ORM gives."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from cycle import ledger, selectors
from cycle.models import AuditEvent, CommissioningCycle, StageVisit
from cycle.prepared import PreparedRead, PreparedWrite
from cycle.service_support import lock_cycle_with_open_visit
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db


def visits_at(cycle_id: int, stage_key: str) -> object:
    return (
        StageVisit.objects.filter(cycle_id=cycle_id, stage_key=stage_key)
        .order_by("id")
        .values_list("id", "stage_key")
    )


def test_a_prepared_read_gives_the_querysets_rows_for_each_calls_values() -> None:
    first, second = CycleWorld(), CycleWorld()
    second.pass_gate()
    read = PreparedRead(visits_at, cycle_id=int, stage_key=str)

    for world in (first, second):
        for stage_key in ("framework", "needs", "review"):
            assert read.rows(cycle_id=world.id, stage_key=stage_key) == list(
                visits_at(world.id, stage_key)
            )


def test_a_prepared_read_is_compiled_once_and_costs_one_query_a_call() -> None:
    world = CycleWorld()
    read = PreparedRead(visits_at, cycle_id=int, stage_key=str)
    read.rows(cycle_id=world.id, stage_key="framework")
    built = []
    read.build = lambda **values: built.append(values)  # type: ignore[assignment, misc, return-value]

    with CaptureQueriesContext(connection) as queries:
        assert read.rows(cycle_id=world.id, stage_key="framework")
        assert not read.rows(cycle_id=world.id + 1, stage_key="framework")

    assert len(queries) == 2
    assert built == []


def test_a_parameter_that_never_reaches_the_sql_is_refused() -> None:
    read = PreparedRead(
        lambda cycle_id, stage_key: StageVisit.objects.filter(cycle_id=cycle_id).values("id"),
        cycle_id=int,
        stage_key=str,
    )
    with pytest.raises(ImproperlyConfigured, match="stage_key"):
        read.rows(cycle_id=1, stage_key="needs")


def test_constants_of_the_queryset_stay_as_they_were_built() -> None:
    world = CycleWorld()
    read = PreparedRead(
        lambda cycle_id: CommissioningCycle.objects.filter(pk=cycle_id).values_list(
            Value("label"), F("title")
        ),
        cycle_id=int,
    )
    assert read.rows(cycle_id=world.id) == [("label", world.cycle.title)]


def test_the_gate_snapshot_of_a_visit_is_one_query() -> None:
    world = CycleWorld(panel_size=4)
    world.pass_gate()
    world.meet_gate()
    cycle = CommissioningCycle.objects.get(pk=world.id)
    visit = selectors.open_visit(cycle)
    assert visit is not None

    with CaptureQueriesContext(connection) as queries:
        snapshot = selectors.gate_snapshot(cycle, visit)

    assert len(queries) == 1
    assert snapshot == selectors.gate_snapshots([cycle])[cycle.pk]
    assert len(snapshot.active_members) == 4 and snapshot.signoffs


def test_converted_rows_are_the_values_the_orm_gives_the_fields() -> None:
    world = CycleWorld()
    read = PreparedRead(
        lambda cycle_id: CommissioningCycle.objects.filter(pk=cycle_id).values_list(
            "created_at", "followed_by_process", "title"
        ),
        cycle_id=int,
    )
    expected = CommissioningCycle.objects.filter(pk=world.id).values_list(
        "created_at", "followed_by_process", "title"
    )

    assert read.converted_rows(cycle_id=world.id) == [list(row) for row in expected]


def test_a_prepared_insert_writes_the_row_save_would_write() -> None:
    world = CycleWorld()
    insert = PreparedWrite.inserting(StageVisit)
    visit = StageVisit(
        cycle=world.cycle, stage_key="review", position=3, opened_by=world.lead, opened_at=now()
    )
    visit.cycle.visits.update(closed_at=now())

    with CaptureQueriesContext(connection) as queries:
        insert.insert_instance(visit)

    assert len(queries) == 1
    assert visit.pk is not None and not visit._state.adding
    stored = StageVisit.objects.get(pk=visit.pk)
    fields = [field.attname for field in StageVisit._meta.concrete_fields]
    assert [getattr(stored, name) for name in fields] == [getattr(visit, name) for name in fields]


def test_a_prepared_update_writes_its_fields_to_one_row_only() -> None:
    first, second = CycleWorld(), CycleWorld()
    update = PreparedWrite(CommissioningCycle, "status", "current_stage", "updated_at")
    later = now()

    update.run([CommissioningCycle.Status.COMPLETED, "review", later], pk=first.id)

    assert CommissioningCycle.objects.filter(pk=first.id).values_list(
        "status", "current_stage", "updated_at"
    ).get() == (CommissioningCycle.Status.COMPLETED, "review", later)
    assert second.refresh().status == CommissioningCycle.Status.ACTIVE


def test_a_prepared_update_takes_a_field_from_a_subquery() -> None:
    world = CycleWorld()
    world.pass_gate()
    visit = selectors.open_visit(world.cycle)
    assert visit is not None
    update = PreparedWrite(StageVisit, "opened_reason", "attesting")
    first_position = PreparedRead(
        lambda cycle_id: (
            StageVisit.objects.filter(cycle_id=cycle_id).order_by("id").values("position")[:1]
        ),
        cycle_id=int,
    )

    update.run(
        ["Subquery.", None],
        pk=visit.pk,
        sql_values={"attesting": first_position.statement(cycle_id=world.id)},
    )

    visit.refresh_from_db()
    assert visit.opened_reason == "Subquery."
    first = StageVisit.objects.filter(cycle_id=world.id).first()
    assert first is not None and visit.attesting == first.position
    assert visit.attesting != visit.position


def test_the_lock_gives_the_cycle_and_its_open_visit_as_the_orm_reads_them() -> None:
    world = CycleWorld()
    world.pass_gate()
    fields = {
        model: [field.attname for field in model._meta.concrete_fields]
        for model in (CommissioningCycle, StageVisit)
    }

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        cycle, visit = lock_cycle_with_open_visit(world.id)
        assert visit is not None and visit.cycle is cycle

    assert len(queries) == 1
    expected_visit = StageVisit.objects.get(cycle_id=world.id, closed_at__isnull=True)
    for instance, expected in ((cycle, world.refresh()), (visit, expected_visit)):
        assert [getattr(instance, name) for name in fields[type(instance)]] == [
            getattr(expected, name) for name in fields[type(instance)]
        ]
        assert not instance._state.adding


def test_the_lock_is_refused_outside_a_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    world = CycleWorld()
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)  # as outside a transaction

    with pytest.raises(TransactionManagementError):
        lock_cycle_with_open_visit(world.id)


def test_an_append_to_the_ledger_outside_a_transaction_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = ledger.head()
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)  # as outside a transaction

    with pytest.raises(TransactionManagementError):
        ledger.append(actor=None, action="input.noted", payload={"n": 1})

    monkeypatch.undo()
    assert ledger.head() == before


def test_a_prepared_append_chains_as_the_ledger_verifies() -> None:
    world = CycleWorld()
    ledger.append(actor=world.lead, action="input.noted", cycle=world.cycle, payload={"n": 1})
    ledger.append(actor=None, action="input.noted", payload={"n": 2})
    event = ledger.append(actor=None, action="input.noted", cycle=world.cycle, payload={"n": 3})

    stored = AuditEvent.objects.get(pk=event.pk)
    assert [getattr(stored, name) for name in ledger.EXPORT_FIELDS] == [
        getattr(event, name) for name in ledger.EXPORT_FIELDS
    ]
    assert ledger.head() == (event.seq, event.hash)
    assert ledger.verify_ledger().ok and ledger.verify_cycle(world.cycle).ok
