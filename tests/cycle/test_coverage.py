"""Who is missing: the groups a cycle should hear from, set locally, against the panel and the
consultations' respondents; flagged, never holding the gate on its own."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from cycle import duty_selectors, duty_services, services
from cycle.errors import Conflict, Forbidden, InvalidRequest
from cycle.models import AuditEvent, CoverageGroup
from roles import services as role_services
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CycleWorld:
    return CycleWorld()


def _group(world: CycleWorld, name: str, kind: str = "easy-to-overlook") -> CoverageGroup:
    return duty_services.coverage_group_add(
        actor=world.lead, cycle_id=world.id, name=name, kind=kind
    )


def _consultation(world: CycleWorld) -> Any:
    opens = date(2026, 3, 2)
    return duty_services.consultation_open(
        actor=world.lead,
        cycle_id=world.id,
        title="Day services: six hubs or eight?",
        document="The options paper.",
        opens_on=opens,
        closes_on=opens + timedelta(weeks=12),
        equality_kind="assessment",
        equality_reference="EIA-2026-014",
    )


def test_a_group_nobody_speaks_for_is_missing_until_a_member_or_respondents_do(
    world: CycleWorld,
) -> None:
    carers = _group(world, "Young carers")
    travellers = _group(world, "Travellers")
    age = _group(world, "Age", kind="equality")
    assert duty_selectors.missing_groups(world.cycle) == [carers, travellers, age]

    duty_services.coverage_record(
        actor=world.lead, cycle_id=world.id, group_id=carers.pk, member_ids=[world.panel[0].pk]
    )
    consultation = _consultation(world)
    duty_services.coverage_record(
        actor=world.lead,
        cycle_id=world.id,
        group_id=travellers.pk,
        respondents={consultation.pk: 7},
    )

    rows = {row.group.name: row for row in duty_selectors.coverage(world.cycle)}
    assert rows["Young carers"].panel == (
        world.panel[0].get_full_name() or world.panel[0].get_username(),
    )
    assert rows["Travellers"].respondents == 7 and not rows["Travellers"].missing
    assert duty_selectors.missing_groups(world.cycle) == [age]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.action == "coverage.recorded"
    assert json.loads(event.payload)["respondents"] == {str(consultation.pk): 7}


def test_a_member_who_leaves_no_longer_speaks_for_the_group(world: CycleWorld) -> None:
    carers = _group(world, "Young carers")
    member = world.panel[0]
    duty_services.coverage_record(
        actor=world.lead, cycle_id=world.id, group_id=carers.pk, member_ids=[member.pk]
    )
    assert duty_selectors.missing_groups(world.cycle) == []

    role_services.membership_leave(actor=member, cycle_id=world.id, reason="Moved away.")

    assert duty_selectors.missing_groups(world.cycle) == [carers]


def test_a_missing_group_never_holds_the_gate_on_its_own(world: CycleWorld) -> None:
    _group(world, "Travellers")
    world.meet_gate()

    services.stage_advance(actor=world.lead, cycle_id=world.id)

    assert world.refresh().current_stage == "needs"
    assert duty_selectors.missing_groups(world.cycle)


def test_bad_input_is_refused_and_changes_nothing(world: CycleWorld) -> None:
    carers = _group(world, "Young carers")
    with pytest.raises(Conflict) as duplicate:
        _group(world, "young carers")
    assert duplicate.value.code == "coverage.duplicate"
    with pytest.raises(InvalidRequest) as kind:
        _group(world, "Sex workers", kind="hidden")
    assert kind.value.code == "invalid.kind"
    outsider = CycleWorld().panel[0]
    with pytest.raises(InvalidRequest) as stranger:
        duty_services.coverage_record(
            actor=world.lead, cycle_id=world.id, group_id=carers.pk, member_ids=[outsider.pk]
        )
    assert stranger.value.code == "invalid.members"
    with pytest.raises(InvalidRequest) as counts:
        duty_services.coverage_record(
            actor=world.lead, cycle_id=world.id, group_id=carers.pk, respondents={999999: 3}
        )
    assert counts.value.code == "invalid.respondents"
    assert CoverageGroup.objects.count() == 1
    assert not carers.members.exists() and not carers.responses.exists()


def test_only_the_lead_and_the_involvement_lead_set_the_groups(world: CycleWorld) -> None:
    for actor in (world.panel[0], world.governor):
        with pytest.raises(Forbidden) as refused:
            _group_as(world, actor)
        assert refused.value.code == "forbidden.manage_panel"
    assert not CoverageGroup.objects.exists()
    refusal = AuditEvent.objects.order_by("-seq").first()
    assert refusal is not None and refusal.outcome == AuditEvent.Outcome.REFUSED


def _group_as(world: CycleWorld, actor: Any) -> CoverageGroup:
    return duty_services.coverage_group_add(
        actor=actor, cycle_id=world.id, name="Faith groups", kind="easy-to-overlook"
    )


def test_coverage_is_read_in_a_fixed_number_of_queries(
    world: CycleWorld, django_assert_num_queries: Any
) -> None:
    for name in ("Young carers", "Travellers", "Age"):
        group = _group(world, name)
        duty_services.coverage_record(
            actor=world.lead,
            cycle_id=world.id,
            group_id=group.pk,
            member_ids=[m.pk for m in world.panel],
        )
    with django_assert_num_queries(2):
        rows = duty_selectors.coverage(world.cycle)
    assert all(len(row.panel) == 3 for row in rows)
