"""Two simultaneous advances of one cycle make exactly one transition (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, connections

from cycle import services
from cycle.errors import GateClosed
from cycle.models import AuditEvent, StageVisit
from roles.definitions import sync_role_groups
from tests.factories import CycleWorld, fresh

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
    """After the committed test data is flushed: re-arm the ledger's trigger, restore the roles.

    Flushing the database truncates every table; the ledger refuses TRUNCATE, so
    ``committed_db`` lifts that trigger just for the flush and this fixture restores it. The flush
    also removes the role groups the migrations created, which later tests rely on.
    """
    yield
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE cycle_auditevent ENABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}")
        sync_role_groups(Group, Permission)


@pytest.fixture
def committed_db(restore_after_flush: None, transactional_db: None) -> Iterator[None]:
    """A database whose writes are committed, so that other connections see them."""
    sync_role_groups(Group, Permission)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE cycle_auditevent DISABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}")


def advance_together(world: CycleWorld, callers: int = 2) -> list[Any]:
    """Start ``callers`` threads, each with its own connection, and release them at once."""
    barrier = threading.Barrier(callers)
    results: list[Any] = [None] * callers

    def advance(index: int) -> None:
        lead = fresh(world.lead)
        try:
            barrier.wait(timeout=30)
            results[index] = services.stage_advance(actor=lead, cycle_id=world.id)
        except Exception as error:  # every outcome is inspected by the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=advance, args=(index,)) for index in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_simultaneous_advances_make_exactly_one_transition(committed_db: None) -> None:
    for _ in range(3):
        world = CycleWorld(panel_size=3)
        world.meet_gate()
        before = AuditEvent.objects.filter(cycle=world.cycle).count()

        results = advance_together(world)

        moved = [result for result in results if isinstance(result, StageVisit)]
        refused = [result for result in results if isinstance(result, GateClosed)]
        assert len(moved) == 1, results
        assert len(refused) == 1, results
        # The loser waited for the winner's lock, then met the new stage's closed gate.
        assert refused[0].stage_key == "needs"
        assert "boundaries.missing" in refused[0].result.codes

        assert world.refresh().current_stage == "needs"
        visits = StageVisit.objects.filter(cycle=world.cycle).order_by("id")
        assert [(v.stage_key, v.closure) for v in visits] == [
            ("framework", StageVisit.Closure.PASSED),
            ("needs", ""),
        ]
        written = AuditEvent.objects.filter(cycle=world.cycle).order_by("seq")[before:]
        assert [(e.action, e.outcome) for e in written] == [
            ("stage.advanced", "done"),
            ("stage_advance", "refused"),
        ]


def test_many_simultaneous_advances_still_make_exactly_one_transition(committed_db: None) -> None:
    world = CycleWorld(panel_size=3)
    world.meet_gate()

    results = advance_together(world, callers=5)

    assert sum(isinstance(result, StageVisit) for result in results) == 1
    assert sum(isinstance(result, GateClosed) for result in results) == 4
    assert AuditEvent.objects.filter(cycle=world.cycle, action="stage.advanced").count() == 1
    assert StageVisit.objects.filter(cycle=world.cycle, closed_at__isnull=True).count() == 1
