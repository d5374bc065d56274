"""The register of external pressures: each with what it means for users, told to the panel (or
why not yet), and able to reopen the stage it affects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cycle import duty_selectors, duty_services
from cycle.errors import Conflict, Forbidden, InvalidRequest
from cycle.models import AuditEvent, ExternalPressure, Notification, StageVisit
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db

ZERO_PER_CENT = {
    "category": "political-control",
    "title": "The new council has promised no council tax rise",
    "implication": "There is less money for day services, so some options may no longer be "
    "affordable.",
    "description": "The election returned a council pledged to a 0% council tax increase.",
}


def _record(world: CycleWorld, **changes: Any) -> ExternalPressure:
    terms = {**ZERO_PER_CENT, **changes}
    return duty_services.pressure_record(actor=world.lead, cycle_id=world.id, **terms)


def _panel_told(world: CycleWorld) -> list[Notification]:
    return list(
        Notification.objects.filter(
            cycle=world.cycle, kind=Notification.Kind.PRESSURE_RECORDED
        ).order_by("recipient_id")
    )


@pytest.fixture
def world() -> CycleWorld:
    return CycleWorld()


def test_a_disclosed_pressure_tells_every_panel_member_what_it_means_for_them(
    world: CycleWorld,
) -> None:
    pressure = _record(world, affects=["needs", "priorities"])

    told = _panel_told(world)
    assert sorted(n.recipient_id for n in told) == sorted(m.pk for m in world.panel)
    assert "less money for day services" in told[0].body
    assert "Assess needs and operating context, Decide priorities and strategy" in told[0].body
    assert list(pressure.affected_stages.values_list("stage_key", flat=True)) == [
        "needs",
        "priorities",
    ]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.action == "pressure.recorded"
    payload = json.loads(event.payload)
    assert payload["disclosed"] is True
    assert payload["affects"] == ["needs", "priorities"]
    assert payload["reopens"] is None


def test_a_pressure_that_cannot_be_told_yet_needs_the_reason_and_the_panel_hears_only_that(
    world: CycleWorld,
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        _record(world, disclosed=False)
    assert refused.value.code == "invalid.withheld_reason"
    assert not ExternalPressure.objects.exists()

    pressure = _record(
        world, disclosed=False, withheld_reason="The cabinet has not yet published its budget."
    )
    (first, *_) = _panel_told(world)
    assert "cannot be given yet" in first.body
    assert "not yet published its budget" in first.body
    assert "less money" not in first.body

    duty_services.pressure_disclose(actor=world.lead, cycle_id=world.id, pressure_id=pressure.pk)
    pressure.refresh_from_db()
    assert pressure.disclosed and pressure.disclosed_at is not None
    latest = Notification.objects.filter(recipient=world.panel[0]).order_by("-id").first()
    assert latest is not None and "less money for day services" in latest.body
    with pytest.raises(Conflict) as again:
        duty_services.pressure_disclose(
            actor=world.lead, cycle_id=world.id, pressure_id=pressure.pk
        )
    assert again.value.code == "pressure.already_disclosed"


def test_a_new_pressure_reopens_the_earliest_stage_it_affects_with_itself_as_the_reason(
    world: CycleWorld,
) -> None:
    world.walk_to("review")

    pressure = _record(world, affects=["review", "needs"], reopen=True)

    cycle = world.refresh()
    assert cycle.current_stage == "needs"
    assert pressure.reopened_stage == "needs"
    visit = StageVisit.objects.filter(cycle=cycle, closed_at__isnull=True).get()
    assert visit.stage_key == "needs"
    assert "The new council has promised no council tax rise" in visit.opened_reason
    assert "less money for day services" in visit.opened_reason
    actions = list(
        AuditEvent.objects.filter(cycle=cycle).order_by("-seq").values_list("action", flat=True)[:2]
    )
    assert actions == ["stage.reopened", "pressure.recorded"]
    kinds = set(
        Notification.objects.filter(recipient=world.panel[0]).values_list("kind", flat=True)
    )
    assert {Notification.Kind.PRESSURE_RECORDED, Notification.Kind.STAGE_REOPENED} <= kinds


def test_reopening_needs_an_affected_stage_the_cycle_has_left(world: CycleWorld) -> None:
    world.walk_to("needs")
    with pytest.raises(Conflict) as refused:
        _record(world, affects=["needs", "design"], reopen=True)
    assert refused.value.code == "reopen.not_earlier"
    assert not ExternalPressure.objects.exists()
    assert world.refresh().current_stage == "needs"


def test_bad_input_is_refused_with_its_field_and_nothing_is_written(world: CycleWorld) -> None:
    for changes, code in [
        ({"category": "weather"}, "invalid.category"),
        ({"implication": "  "}, "invalid.implication"),
        ({"title": ""}, "invalid.title"),
        ({"affects": ["nowhere"]}, "invalid.affects"),
    ]:
        with pytest.raises(InvalidRequest) as refused:
            _record(world, **changes)
        assert refused.value.code == code
    assert not ExternalPressure.objects.exists()
    assert not _panel_told(world)


def test_only_the_lead_commissioner_records_a_pressure_and_a_refusal_is_on_the_ledger(
    world: CycleWorld,
) -> None:
    with pytest.raises(Forbidden):
        duty_services.pressure_record(actor=world.governor, cycle_id=world.id, **ZERO_PER_CENT)
    refused = AuditEvent.objects.order_by("-seq").first()
    assert refused is not None and refused.outcome == AuditEvent.Outcome.REFUSED
    assert refused.action == "pressure_record"
    assert not ExternalPressure.objects.exists()


def test_the_register_reads_in_a_fixed_number_of_queries(
    world: CycleWorld, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        _record(world, title=f"Pressure {n}", affects=["needs", "review"])
    with django_assert_num_queries(2):
        rows = list(duty_selectors.pressures(world.cycle))
        assert [[s.stage_key for s in p.affected_stages.all()] for p in rows] == [
            ["needs", "review"]
        ] * 3
