"""Recording duty assessments and proposal changes, and the `needs` gate that asks for one."""

from __future__ import annotations

import json

import pytest

from cycle import duty_services, selectors, services
from cycle.errors import Forbidden, GateClosed, InvalidRequest
from cycle.gates import DutyAssessmentState, evaluate
from cycle.models import AuditEvent, DutyAssessment
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_needs() -> CycleWorld:
    world = CycleWorld()
    world.walk_to("needs")
    return world


def _meet_needs_but_duty(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.acknowledge_all()
    world.sign_agreement()
    world.attest()


def test_the_needs_gate_stays_closed_until_the_duty_is_assessed(at_needs: CycleWorld) -> None:
    world = at_needs
    _meet_needs_but_duty(world)

    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert refused.value.result.codes == ("duty.missing",)

    world.assess_duty()
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert world.refresh().current_stage == "review"


def test_a_proposal_change_makes_the_assessment_stale_until_assessed_again(
    at_needs: CycleWorld,
) -> None:
    world = at_needs
    _meet_needs_but_duty(world)
    world.assess_duty()
    duty_services.proposal_change_record(
        actor=world.lead, cycle_id=world.id, summary="Two hubs close; one new site opens."
    )

    result = evaluate(selectors.gate_snapshot(world.refresh()))
    assert result.codes == ("duty.stale",)

    again = world.assess_duty(activity="proposals", affects_delivery=True, substantial=True)
    assert (again.version, again.proposal_version) == (2, 1)
    assert evaluate(selectors.gate_snapshot(world.refresh())).open


def test_the_assessment_stores_the_rules_result_and_one_ledger_event(
    at_needs: CycleWorld,
) -> None:
    world = at_needs
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    assessment = world.assess_duty(
        body_type="pct", wording="2008", activity="contractual", substantial=True
    )

    assert (assessment.outcome, assessment.limb, assessment.scrutiny) == (
        "not-required",
        "",
        True,
    )
    assert [rule["code"] for rule in assessment.rules][-1] == "scrutiny.substantial"
    event = AuditEvent.objects.get(seq__gt=before)
    assert event.action == "duty.assessed"
    payload = json.loads(event.payload)
    assert (payload["outcome"], payload["scrutiny"]) == ("not-required", True)


def test_only_the_lead_commissioner_assesses_and_a_refusal_is_on_the_ledger(
    at_needs: CycleWorld,
) -> None:
    world = at_needs
    with pytest.raises(Forbidden):
        duty_services.duty_assess(
            actor=world.panel[0],
            cycle_id=world.id,
            proposal="Close a hub.",
            body_type="icb",
            activity="decision",
        )
    assert not DutyAssessment.objects.exists()
    refused = AuditEvent.objects.order_by("-seq").first()
    assert refused is not None and (refused.action, refused.outcome) == ("duty_assess", "refused")


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        ({"body_type": "parish-council"}, "invalid.body_type"),
        ({"activity": "thinking"}, "invalid.activity"),
        ({"wording": "1977"}, "invalid.wording"),
        ({"proposal": "  "}, "invalid.proposal"),
    ],
)
def test_unknown_answers_are_refused_with_their_code(
    at_needs: CycleWorld, answers: dict[str, str], code: str
) -> None:
    with pytest.raises(InvalidRequest) as invalid:
        at_needs.assess_duty(**answers)
    assert invalid.value.code == code
    assert not DutyAssessment.objects.exists()


def test_the_batch_of_snapshots_sees_the_same_duty_state(at_needs: CycleWorld) -> None:
    other = CycleWorld(title="Carers' breaks")
    other.walk_to("needs")
    at_needs.assess_duty()

    batch = selectors.gate_snapshots([at_needs.refresh(), other.refresh()])

    assert batch[at_needs.id].duty_assessment is DutyAssessmentState.CURRENT
    assert batch[other.id].duty_assessment is DutyAssessmentState.MISSING
    assert batch[other.id] == selectors.gate_snapshot(other.cycle)
