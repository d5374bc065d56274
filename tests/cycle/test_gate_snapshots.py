"""``gate_snapshots`` (many cycles at once, for lists) agrees with ``gate_snapshot`` (one cycle)
on every scenario and on cycles at every kind of gate, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cycle import selectors, services
from cycle.models import CommissioningCycle
from tests import scenario_cache
from tests.factories import CycleWorld


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock(), scenario_cache.rolled_back():
        yield


def test_the_batch_agrees_with_one_cycle_at_a_time_on_every_scenario(loaded, db):
    # Cycles at other gates too: a fresh one, one blocked by a stale sign-off, one completed.
    fresh = CycleWorld(title="Fresh")
    stale = CycleWorld(title="Stale")
    stale.walk_to("needs")
    stale.meet_gate()
    stale.disclose_budget("900000")
    done = CycleWorld(title="Done", template_key="default")
    done.walk_to("monitoring")
    done.pass_gate()
    cycles = list(CommissioningCycle.objects.order_by("id"))

    batch = selectors.gate_snapshots(cycles)

    assert {cycle.pk for cycle in cycles} == set(batch)
    for cycle in cycles:
        assert batch[cycle.pk] == selectors.gate_snapshot(cycle), cycle.title
    assert fresh.cycle.pk in batch and done.refresh().status == "completed"


def test_the_batch_costs_at_most_thirteen_queries_however_many_cycles(loaded, db):
    """One query per kind of record; the stage-specific ones only when some cycle needs them
    (the scenarios have cycles at the decision stage, so the tender's award and standstill, one
    query for every such cycle, count here)."""
    CycleWorld(title="At the first stage, which asks for a working agreement").meet_gate()
    before = list(CommissioningCycle.objects.order_by("id"))
    with CaptureQueriesContext(connection) as small:
        selectors.gate_snapshots(before)
    for number in range(4):
        world = CycleWorld(title=f"More {number}", panel_size=4)
        world.meet_gate()
        services.input_submit(actor=world.panel[0], cycle_id=world.id, text="More buses.")
    after = list(CommissioningCycle.objects.order_by("id"))

    with CaptureQueriesContext(connection) as large:
        selectors.gate_snapshots(after)

    assert len(after) == len(before) + 4
    assert len(large) == len(small) <= 13
