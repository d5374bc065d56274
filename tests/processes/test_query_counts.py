"""An advance through the flow (the service completes the stage task; the flow opens the next
stage and its sign-off tasks) costs a bounded number of queries, whatever the panel's size: the
members' sign-off tasks are written together, and those nobody answered are closed together."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.status import STATUS

from cycle.gates import quorum_for
from processes import commissioning
from processes.commissioning import CommissioningFlow
from tests.factories import fresh
from tests.processes.worlds import FlowWorld

pytestmark = pytest.mark.django_db

FLOW_ADVANCE_QUERIES = 16 if connection.vendor == "postgresql" else 18
"""At most what the advance through the flow costs (statements Django sends, savepoints
included): lower it when the advance gets cheaper, never raise it. The service's part is two
statements fewer on PostgreSQL (``tests/cycle/test_query_counts.py``); the flow's is 7 on both."""


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


def quorum_advance_queries(panel_size: int) -> int:
    """The advance after only a quorum of the panel signed off: the others' sign-off tasks are
    still open when the stage ends."""
    world = FlowWorld(panel_size=panel_size)
    world.pass_gate_through_the_flow()
    world.agree_boundaries()
    world.acknowledge_all()
    world.meet_stage_conditions()
    quorum = quorum_for(panel_size)
    for member in world.panel[:quorum]:
        commissioning.signoff(actor=member, cycle_id=world.id)
    unanswered = list(world.signoff_tasks().values_list("pk", flat=True))
    assert len(unanswered) == panel_size - quorum
    lead = fresh(world.lead)
    with CaptureQueriesContext(connection) as queries:
        commissioning.advance(actor=lead, cycle_id=world.id)
    assert world.refresh().current_stage == "review"
    closed = world.tasks(CommissioningFlow.signoff, open_only=False).filter(pk__in=unanswered)
    assert set(closed.values_list("status", flat=True)) == {STATUS.CANCELED}
    assert not closed.filter(finished__isnull=True).exists()
    assert world.signoff_tasks().count() == panel_size
    return len(queries)


def test_an_advance_costs_the_same_for_a_panel_of_3_and_of_30_when_only_a_quorum_answered() -> None:
    small, large = quorum_advance_queries(3), quorum_advance_queries(30)

    print(f"\nadvance after a quorum: {small} queries (3 members), {large} (30 members)")
    assert small <= FLOW_ADVANCE_QUERIES
    assert large == small
