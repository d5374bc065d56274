"""Every refusal reaches the ledger, also when the caller holds a transaction and rolls it back.

Also the contract test of ``cycle.rollback_hooks``: the Django methods it overrides are still
the ones ``atomic`` calls."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from cycle import ledger, scenarios, services
from cycle.errors import Forbidden, GateClosed
from cycle.models import AuditEvent, CommissioningCycle, UserInput
from cycle.scenarios import Step
from roles.definitions import sync_role_groups
from tests.factories import CycleWorld

ON_POSTGRES = connection.vendor == "postgresql"
LEDGER_TRUNCATE_TRIGGER = "cycle_auditevent_no_truncate"


def refused(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED, action=action))


@pytest.mark.django_db
def test_a_refusal_stays_on_the_ledger_when_the_callers_transaction_is_rolled_back(
    world: CycleWorld,
) -> None:
    stranger_on_panel = world.panel[0]
    with pytest.raises(Forbidden), transaction.atomic():
        services.input_submit(actor=stranger_on_panel, cycle_id=world.id, text="Said first.")
        services.stage_advance(actor=stranger_on_panel, cycle_id=world.id)

    assert not UserInput.objects.exists()  # the caller's own work is rolled back
    [event] = refused("stage_advance")
    assert event.actor_id == stranger_on_panel.pk
    assert event.cycle_id == world.id
    assert ledger.verify_ledger().ok
    assert ledger.verify_cycle(world.cycle).ok


@pytest.mark.django_db
def test_a_closed_gate_stays_on_the_ledger_through_nested_rollbacks(world: CycleWorld) -> None:
    with pytest.raises(GateClosed), transaction.atomic(), transaction.atomic():
        services.stage_advance(actor=world.lead, cycle_id=world.id)

    [event] = refused("stage_advance")
    assert '"unmet":[' in event.payload
    assert ledger.verify_ledger().ok


@pytest.mark.django_db
def test_a_refusal_the_caller_catches_and_commits_is_recorded_once(world: CycleWorld) -> None:
    with transaction.atomic(), pytest.raises(GateClosed):
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert len(refused("stage_advance")) == 1


@pytest.mark.django_db
def test_a_refusal_about_a_cycle_the_rollback_removed_names_it_in_the_payload(
    world: CycleWorld,
) -> None:
    with pytest.raises(GateClosed), transaction.atomic():
        cycle = services.cycle_create(
            actor=world.lead,
            title="Short-lived",
            organisation=world.organisation,
            lead=world.lead,
        )
        services.stage_advance(actor=world.lead, cycle_id=cycle.pk)

    assert not CommissioningCycle.objects.filter(title="Short-lived").exists()
    [event] = refused("stage_advance")
    assert event.cycle_id is None
    assert f'"cycle_id":{cycle.pk}' in event.payload
    assert '"after_rollback":true' in event.payload
    assert ledger.verify_ledger().ok


@pytest.mark.django_db
def test_a_dry_run_rolled_back_on_purpose_keeps_nothing(world: CycleWorld) -> None:
    before = AuditEvent.objects.count()
    with transaction.atomic():
        with pytest.raises(GateClosed):
            services.stage_advance(actor=world.lead, cycle_id=world.id)
        transaction.set_rollback(True)
    assert AuditEvent.objects.count() == before


# With no transaction around the test: the caller's transaction is the outermost one.


@pytest.fixture
def restore_after_flush(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        if ON_POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE cycle_auditevent ENABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}"
                )
        sync_role_groups(Group, Permission)


@pytest.fixture
def committed_db(restore_after_flush: None, transactional_db: None) -> Iterator[None]:
    sync_role_groups(Group, Permission)
    yield
    if ON_POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE cycle_auditevent DISABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}"
            )


def test_a_refusal_stays_on_the_ledger_when_the_outermost_transaction_is_rolled_back(
    committed_db: None,
) -> None:
    world = CycleWorld()
    with pytest.raises(Forbidden), transaction.atomic():
        services.input_submit(actor=world.panel[0], cycle_id=world.id, text="Said first.")
        services.stage_advance(actor=world.panel[0], cycle_id=world.id)

    assert connection.get_autocommit()
    assert not UserInput.objects.exists()
    [event] = refused("stage_advance")
    assert event.cycle_id == world.id
    assert ledger.verify_ledger().ok


def test_the_rollback_hooks_override_methods_django_still_calls() -> None:
    """If a Django upgrade renames what ``atomic`` calls, the refusal hooks fail here first."""
    import inspect

    from django.db.transaction import Atomic

    exit_source = inspect.getsource(Atomic.__exit__)
    for call in ("connection.savepoint_rollback(sid)", "connection.rollback()"):
        assert call in exit_source
    assert "connection.set_autocommit(True)" in exit_source
    for name in ("commit", "rollback", "savepoint_rollback", "set_autocommit", "set_rollback"):
        assert callable(getattr(BaseDatabaseWrapper, name))
    assert "savepoint_ids" in inspect.getsource(BaseDatabaseWrapper.on_commit)


@pytest.mark.django_db
def test_the_scenario_loader_keeps_a_refusal_when_a_later_step_fails_and_rolls_back() -> None:
    """A face that holds its own transaction: a scenario is loaded in one, rolled back whole
    when a step fails; the advance the gate refused before that stays on the ledger."""
    scenario = scenarios.discover()["meals-on-wheels"]
    upto = next(i for i, step in enumerate(scenario.steps) if step.kind == "try-advance")
    failing = Step(number=upto + 2, kind="expect", params={"stage": "no-such-stage"})
    broken = dataclasses.replace(scenario, steps=(*scenario.steps[: upto + 1], failing))
    before = AuditEvent.objects.count()

    with pytest.raises(scenarios.ScenarioError):
        scenarios.load(broken, fresh=True)

    assert not CommissioningCycle.objects.filter(title=scenario.title).exists()
    [event] = AuditEvent.objects.filter(seq__gt=before)
    assert (event.action, event.outcome) == ("stage_advance", AuditEvent.Outcome.REFUSED)
    assert '"after_rollback":true' in event.payload
    assert f'"actor":"{scenario.lead}"' in event.payload
    assert ledger.verify_ledger().ok
