"""An override departs from named conditions only, and never from the records themselves."""

from __future__ import annotations

import json

import pytest

from cycle import selectors, services
from cycle.errors import Forbidden, GateClosed, InvalidRequest
from cycle.gates import MUST_RECORD
from cycle.models import AuditEvent, GateOverride, GateOverrideDeparture
from roles import services as role_services
from tests.factories import CycleWorld, representative

pytestmark = pytest.mark.django_db


def override(world: CycleWorld, codes: tuple[str, ...] | None = None) -> GateOverride:
    return services.gate_override(
        actor=world.governor, cycle_id=world.id, reason="Statutory deadline.", codes=codes
    )


def advance(world: CycleWorld) -> object:
    return services.stage_advance(actor=world.lead, cycle_id=world.id)


def dissent(world: CycleWorld, index: int) -> None:
    services.signoff_record(
        actor=world.panel[index], cycle_id=world.id, dissent="We were not shown the options."
    )


def test_an_override_of_an_empty_gate_is_refused_naming_what_must_be_recorded(
    world: CycleWorld,
) -> None:
    with pytest.raises(Forbidden) as refused:
        override(world)

    assert refused.value.code == "override.not_waivable"
    for code in ("boundaries.missing", "budget.missing", "lead.missing"):
        assert f"{code} cannot be overridden: {MUST_RECORD[code]}" in refused.value.message
    assert not GateOverride.objects.exists()
    refusal = AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED)
    assert refusal.action == "gate_override"
    assert json.loads(refusal.payload)["code"] == "override.not_waivable"
    with pytest.raises(GateClosed):
        advance(world)


def test_an_empty_panel_cannot_be_overridden(world: CycleWorld) -> None:
    world.record_the_records()
    for member in world.panel:
        role_services.membership_leave(actor=member, cycle_id=world.id)

    with pytest.raises(Forbidden) as refused:
        override(world)

    assert refused.value.code == "override.not_waivable"
    assert refused.value.message.startswith("panel.empty cannot be overridden:")


def test_an_override_records_the_codes_and_members_it_departs_from(world: CycleWorld) -> None:
    world.meet_gate()
    dissent(world, 2)

    made = override(world)

    assert made.unmet_codes == "signoff.dissent"
    assert list(GateOverrideDeparture.objects.values_list("code", "member_id")) == [
        ("signoff.dissent", world.panel[2].pk)
    ]
    payload = json.loads(AuditEvent.objects.get(action="gate.overridden").payload)
    assert payload["departs_from"] == {"signoff.dissent": [world.panel[2].pk]}
    assert advance(world).stage_key == "needs"


def test_a_dissent_recorded_after_the_override_closes_the_gate_again(world: CycleWorld) -> None:
    world.meet_gate()
    dissent(world, 2)
    override(world)
    assert selectors.gate_state(world.refresh()).passable

    dissent(world, 1)

    with pytest.raises(GateClosed) as closed:
        advance(world)
    assert "signoff.dissent" in closed.value.result.codes
    assert world.refresh().current_stage == "framework"


def test_a_newcomer_who_has_not_acknowledged_closes_an_overridden_gate(world: CycleWorld) -> None:
    world.meet_gate()
    dissent(world, 2)
    override(world)

    role_services.membership_add(actor=world.lead, cycle_id=world.id, member=representative())

    with pytest.raises(GateClosed) as closed:
        advance(world)
    assert "boundaries.unacknowledged" in closed.value.result.codes


def test_a_new_budget_version_closes_an_overridden_gate(world: CycleWorld) -> None:
    world.meet_gate()
    dissent(world, 2)
    override(world)

    world.disclose_budget("900000")

    with pytest.raises(GateClosed):
        advance(world)


def test_the_gate_stays_closed_for_an_unmet_condition_the_override_did_not_name(
    world: CycleWorld,
) -> None:
    world.meet_gate()
    dissent(world, 1)
    dissent(world, 2)  # now too few attest as well
    assert selectors.gate_state(world.refresh()).codes == ("signoff.quorum", "signoff.dissent")

    override(world, codes=("signoff.dissent",))

    with pytest.raises(GateClosed) as closed:
        advance(world)
    assert closed.value.result.codes == ("signoff.quorum", "signoff.dissent")


def test_an_override_cannot_name_a_condition_that_is_not_unmet(world: CycleWorld) -> None:
    world.meet_gate()
    dissent(world, 2)

    with pytest.raises(InvalidRequest) as refused:
        override(world, codes=("signoff.quorum",))

    assert refused.value.code == "invalid.override_codes"
    assert not GateOverride.objects.exists()
