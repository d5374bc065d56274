"""Consultations: the Gunning principles checked when one opens, and its stage's gate closed until
the responses have been considered."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from cycle import duty_selectors, duty_services, selectors, services
from cycle.errors import Conflict, Forbidden, GateClosed, InvalidRequest
from cycle.gates import evaluate
from cycle.models import AuditEvent, Consultation
from roles import definitions
from tests.factories import CycleWorld, user_with_role

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


def _open(world: CycleWorld, **changes: Any) -> Consultation:
    terms: dict[str, Any] = {
        "title": "Day services: six hubs or eight?",
        "document": "The options paper, on the council's website.",
        "options": "Six hubs; eight hubs; keep the centres.",
        "opens_on": TODAY,
        "closes_on": TODAY + timedelta(weeks=12),
        "equality_kind": "assessment",
        "equality_reference": "EIA-2026-014",
    }
    terms.update(changes)
    return duty_services.consultation_open(actor=world.lead, cycle_id=world.id, **terms)


def _consider(world: CycleWorld, consultation: Consultation) -> Any:
    return duty_services.consultation_consider(
        actor=world.lead,
        cycle_id=world.id,
        consultation_id=consultation.pk,
        responses=212,
        analysis="Most people want a hub within one bus ride of home.",
        statement="The specification now asks for hubs on the main bus routes.",
    )


def _last_event() -> AuditEvent:
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    return event


@pytest.fixture
def world() -> CycleWorld:
    return CycleWorld()


def test_the_gate_stays_closed_until_the_responses_are_considered(world: CycleWorld) -> None:
    world.meet_gate()
    consultation = _open(world)

    with pytest.raises(GateClosed) as closed:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert closed.value.result.codes == ("consultation.unconsidered",)

    _consider(world, consultation)
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert world.refresh().current_stage == "needs"


def test_no_override_stands_in_for_considering_the_responses(world: CycleWorld) -> None:
    world.meet_gate()
    _open(world)
    with pytest.raises(Forbidden) as refused:
        services.gate_override(actor=world.governor, cycle_id=world.id, reason="Deadline.")
    assert refused.value.code == "override.not_waivable"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"equality_reference": "  "}, "invalid.equality_reference"),
        ({"document": ""}, "invalid.document"),
        ({"closes_on": TODAY}, "invalid.closes_on"),
        ({"equality_kind": "none"}, "invalid.equality_kind"),
    ],
    ids=["no-equality-assessment-blocks", "no-document-blocks", "no-time", "unknown-kind"],
)
def test_a_consultation_without_its_papers_does_not_open(
    world: CycleWorld, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises(InvalidRequest) as invalid:
        _open(world, **changes)
    assert invalid.value.code == code
    assert not Consultation.objects.exists()


def test_a_screening_out_with_reasons_counts_as_the_equality_assessment(world: CycleWorld) -> None:
    consultation = _open(
        world,
        equality_kind="screened-out",
        equality_reference="Screened out: opening hours only, no group affected differently.",
    )
    (row,) = duty_selectors.consultation_rows(world.cycle)
    assert row.consultation == consultation
    assert [f.code for f in row.findings] == ["gunning.not_considered"]


def test_a_short_consultation_opens_with_a_warning_naming_the_third_principle(
    world: CycleWorld,
) -> None:
    _open(world, closes_on=TODAY + timedelta(weeks=6))

    assert json.loads(_last_event().payload)["warnings"] == ["gunning.short"]
    (row,) = duty_selectors.consultation_rows(world.cycle)
    (warning,) = row.warnings
    assert (warning.code, warning.principle) == ("gunning.short", 3)


@override_settings(CONSULTATION_MIN_WEEKS=6)
def test_the_length_that_counts_as_short_is_configurable(world: CycleWorld) -> None:
    _open(world, closes_on=TODAY + timedelta(weeks=6))
    assert json.loads(_last_event().payload)["warnings"] == []


def test_one_opened_after_the_stages_decision_warns_it_was_not_formative(
    world: CycleWorld,
) -> None:
    decider = user_with_role(definitions.DECISION_MAKER, "decider")
    world.organisation.staff.add(decider)
    services.decision_record(actor=decider, cycle_id=world.id, summary="Six hubs.")

    _open(
        world, opens_on=timezone.localdate(), closes_on=timezone.localdate() + timedelta(weeks=12)
    )

    (row,) = duty_selectors.consultation_rows(world.cycle)
    assert [(f.code, f.principle) for f in row.warnings] == [("gunning.not_formative", 1)]


def test_considering_is_recorded_once_and_on_the_ledger(world: CycleWorld) -> None:
    consultation = _open(world)
    _consider(world, consultation)
    event = _last_event()
    assert event.action == "consultation.considered"
    assert json.loads(event.payload)["responses"] == 212

    with pytest.raises(Conflict) as again:
        _consider(world, consultation)
    assert again.value.code == "consultation.already_considered"


def test_a_consultation_binds_only_the_gate_of_the_stage_it_was_opened_in(
    world: CycleWorld,
) -> None:
    world.meet_gate()
    _consider(world, _open(world))
    world.pass_gate()
    snapshot = selectors.gate_snapshot(world.refresh())
    assert snapshot.unconsidered_consultations == 0
    assert "consultation.unconsidered" not in evaluate(snapshot).codes
    assert selectors.gate_snapshots([world.cycle])[world.id] == snapshot
