"""A prepared read gives the rows its queryset gives, for each call's values, from SQL compiled
once; and the gate's snapshot of one cycle is one such query."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F, Value
from django.test.utils import CaptureQueriesContext

from cycle import selectors
from cycle.models import CommissioningCycle, StageVisit
from cycle.prepared import PreparedRead
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
