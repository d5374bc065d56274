"""What compliance counts is kept in columns, written in the same transaction as the ledger event
that tells the same thing: how many attestations counted when a stage was passed and which one
completed the quorum, how many sign-offs a budget change voided, whether a version of the role
boundaries changed nothing. The services and the generator write them; the migration that filled
them for earlier rows, from the ledger's payloads, gives the same values."""

from __future__ import annotations

import json
from importlib import import_module
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command

from cycle import services
from cycle.actions import LedgerAction
from cycle.models import (
    AuditEvent,
    BudgetDisclosure,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db

fill_from_the_ledger = import_module(
    "cycle.migrations.0019_stage_passage_and_change_columns"
).fill_from_the_ledger


def payload(action: str, obj: Any) -> dict[str, Any]:
    event = AuditEvent.objects.get(action=action, object_id=str(obj.pk))
    return dict(json.loads(event.payload))


def columns() -> list[list[tuple[Any, ...]]]:
    return [
        sorted(StageVisit.objects.values_list("id", "attesting", "quorum_signoff_id")),
        sorted(BudgetDisclosure.objects.values_list("id", "signoffs_voided")),
        sorted(RoleBoundaryAgreement.objects.values_list("id", "unchanged_from_previous")),
    ]


def filled_again_from_the_ledger() -> list[list[tuple[Any, ...]]]:
    StageVisit.objects.update(attesting=None, quorum_signoff=None)
    BudgetDisclosure.objects.update(signoffs_voided=0)
    RoleBoundaryAgreement.objects.update(unchanged_from_previous=False)
    fill_from_the_ledger(apps, None)
    return columns()


def test_an_advance_records_the_attestations_that_counted_and_the_one_completing_the_quorum():
    world = CycleWorld(panel_size=3)
    world.meet_gate()
    visit = StageVisit.objects.get(cycle=world.cycle, closed_at__isnull=True)
    services.stage_advance(actor=world.lead, cycle_id=world.id)

    visit.refresh_from_db()
    attesting = payload(LedgerAction.STAGE_ADVANCED, visit)["attesting"]
    in_order = SignOff.objects.filter(visit=visit, kind=SignOff.Kind.ATTEST).order_by(
        "recorded_at", "id"
    )
    assert visit.attesting == len(attesting) == 3
    assert visit.quorum_signoff == in_order[1]  # two of three make the quorum


def test_a_gate_passed_by_override_records_no_completing_attestation():
    world = CycleWorld(panel_size=3)
    world.pass_gate()
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest(world.panel[1:])
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")
    visit = StageVisit.objects.get(cycle=world.cycle, closed_at__isnull=True)
    world.record_the_records()
    services.gate_override(actor=world.governor, cycle_id=world.id, reason="Papers were sent.")
    services.stage_advance(actor=world.lead, cycle_id=world.id)

    visit.refresh_from_db()
    assert visit.closure == StageVisit.Closure.OVERRIDDEN
    assert visit.attesting == len(payload(LedgerAction.STAGE_ADVANCED, visit)["attesting"]) == 2
    assert visit.quorum_signoff is None


def test_a_budget_change_records_the_sign_offs_it_voided_and_boundaries_the_copy():
    world = CycleWorld(panel_size=3)
    world.meet_gate()
    changed = world.disclose_budget("950000")
    again = world.agree_boundaries()

    assert (
        changed.signoffs_voided
        == payload(LedgerAction.BUDGET_DISCLOSED, changed)["signoffs_voided"]
        == 3
    )
    assert again.unchanged_from_previous is True
    assert payload(LedgerAction.BOUNDARIES_AGREED, again)["unchanged_from_previous"] is True
    first = RoleBoundaryAgreement.objects.get(cycle=world.cycle, version=1)
    assert first.unchanged_from_previous is False


def test_the_migration_fills_from_the_ledger_what_the_services_wrote():
    world = CycleWorld(panel_size=4)
    world.pass_gate()
    world.meet_gate()
    world.disclose_budget("950000")
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest()
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    services.stage_reopen(actor=world.lead, cycle_id=world.id, stage_key="needs", reason="Again.")
    written = columns()

    assert filled_again_from_the_ledger() == written


def test_the_generator_writes_what_the_ledger_says():
    call_command(
        "generate", "--organisations", "1", "--cycles", "12", "--seed", "7", stdout=StringIO()
    )
    written = columns()
    assert any(attesting for _, attesting, _ in written[0])
    assert any(signoff for _, _, signoff in written[0])

    assert filled_again_from_the_ledger() == written
