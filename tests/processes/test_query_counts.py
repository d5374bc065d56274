"""An advance through the flow (the service completes the stage task; the flow opens the next
stage and its sign-off tasks) costs a bounded number of queries, whatever the panel's size: the
members' sign-off tasks are written together."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes import commissioning
from tests.factories import fresh
from tests.processes.worlds import FlowWorld

pytestmark = pytest.mark.django_db

FLOW_ADVANCE_QUERIES = 51
"""At most what the advance through the flow costs (statements Django sends, savepoints
included): lower it when the advance gets cheaper, never raise it."""


def advance_queries(panel_size: int) -> int:
    world = FlowWorld(panel_size=panel_size)
    world.pass_gate_through_the_flow()
    world.meet_gate_through_the_flow()
    lead = fresh(world.lead)
    with CaptureQueriesContext(connection) as queries:
        commissioning.advance(actor=lead, cycle_id=world.id)
    assert world.refresh().current_stage == "review"
    assert world.signoff_tasks().count() == panel_size
    return len(queries)


def test_an_advance_through_the_flow_costs_no_more_queries_than_its_budget() -> None:
    small, large = advance_queries(3), advance_queries(12)

    print(f"\nadvance through the flow: {small} queries (3 members), {large} (12 members)")
    assert small <= FLOW_ADVANCE_QUERIES
    assert large == small
