"""Two simultaneous advances through the flow make exactly one transition (PostgreSQL row locks).

The flow's lock is the cycle's row lock, the one the services take; these tests show that the two
never wait on each other in opposite orders, and that the loser of the race finds the next stage's
gate closed rather than moving the cycle twice or leaving the process out of step.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, connections
from viewflow.workflow.status import STATUS

from cycle.errors import Conflict, GateClosed
from cycle.models import SignOff, StageVisit
from processes import commissioning
from processes.commissioning import CommissioningFlow
from roles.definitions import sync_role_groups
from tests.factories import fresh
from tests.processes.worlds import FlowWorld

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises whole-database writes, so there is no row "
        "lock to race for",
    ),
]

LEDGER_TRUNCATE_TRIGGER = "cycle_auditevent_no_truncate"


@pytest.fixture
def restore_after_flush(django_db_blocker: Any) -> Iterator[None]:
    """After the committed test data is flushed: re-arm the ledger's trigger, restore the roles."""
    yield
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE cycle_auditevent ENABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}")
        sync_role_groups(Group, Permission)


@pytest.fixture
def committed_db(restore_after_flush: None, transactional_db: None) -> Iterator[None]:
    """A database whose writes are committed, so that other connections see them.

    The flush after the test truncates every table; the ledger refuses TRUNCATE, so its trigger is
    lifted for the flush only (``restore_after_flush`` re-arms it and restores the role groups).
    """
    sync_role_groups(Group, Permission)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE cycle_auditevent DISABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}")


def at_once(*calls: Any) -> list[Any]:
    """Run each call in a thread of its own, with its own connection, released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except Exception as error:  # every outcome is inspected by the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_simultaneous_advances_through_the_flow_make_exactly_one_transition(
    committed_db: None,
) -> None:
    world = FlowWorld(panel_size=1)
    world.meet_gate_through_the_flow()
    first_task = world.stage_task()

    results = at_once(
        *(
            lambda: commissioning.advance(actor=fresh(world.lead), cycle_id=world.id)
            for _ in range(2)
        )
    )

    moved = [result for result in results if isinstance(result, StageVisit)]
    refused = [result for result in results if isinstance(result, GateClosed)]
    assert len(moved) == 1 and len(refused) == 1, results
    assert refused[0].stage_key == "needs"
    assert world.refresh().current_stage == "needs"
    assert StageVisit.objects.filter(cycle=world.cycle).count() == 2
    first_task.refresh_from_db()
    assert first_task.status == STATUS.DONE
    stage_tasks = world.tasks(CommissioningFlow.stage, open_only=False)
    assert [task.data["stage"] for task in stage_tasks.order_by("pk")] == ["framework", "needs"]


def test_a_sign_off_and_an_advance_at_once_leave_the_process_in_step_with_the_cycle(
    committed_db: None,
) -> None:
    world = FlowWorld(panel_size=3)
    commissioning.request_signoff(actor=world.lead, cycle_id=world.id)
    world.agree_boundaries()
    world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    first, second, last = world.panel
    for member in (first, second):
        commissioning.signoff(actor=member, cycle_id=world.id)

    results = at_once(
        lambda: commissioning.advance(actor=fresh(world.lead), cycle_id=world.id),
        lambda: commissioning.signoff(actor=fresh(last), cycle_id=world.id),
    )

    advanced, signed = results
    assert isinstance(advanced, StageVisit), results
    # First, the sign-off counts for the framework stage; second, it meets the next stage,
    # whose role boundaries are not agreed yet, and is refused there. Never half of each.
    assert isinstance(signed, SignOff) or (
        isinstance(signed, Conflict) and signed.code == "signoff.nothing_to_attest"
    ), results
    assert world.refresh().current_stage == "needs"
    last_task = world.tasks(CommissioningFlow.signoff, open_only=False).get(
        owner=last, data__stage="framework"
    )
    assert last_task.status == (STATUS.DONE if isinstance(signed, SignOff) else STATUS.CANCELED)
    assert {task.data["stage"] for task in world.signoff_tasks()} == {"needs"}
    assert world.signoff_tasks().count() == 3
