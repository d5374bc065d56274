"""The self-assessment tool: the rule that proposes a score from the records, the board's scores
refused at 3 or more without evidence from the records, and the proposal for a seeded scenario
explained line by line."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from cycle import duty_selectors, duty_services, scenarios, self_assessment
from cycle.errors import Forbidden, InvalidRequest
from cycle.models import (
    AuditEvent,
    InputResponse,
    SelfAssessment,
    SelfAssessmentEvidence,
    SignOff,
    UserInput,
)
from cycle.self_assessment import DimensionFacts, propose
from tests.factories import CycleWorld

# --- The rule, table-tested ---------------------------------------------------------------------

RULE_CASES = [
    # (facts, proposed score)
    (DimensionFacts(), None),
    (DimensionFacts(cycles_reached=2), 1),
    (DimensionFacts(cycles_reached=2, cycles_involved=2, attestations=6), 2),
    (DimensionFacts(cycles_reached=2, cycles_involved=2, inputs=3, inputs_unanswered=3), 2),
    (DimensionFacts(cycles_reached=4, cycles_involved=2, inputs=1, inputs_we_did=1), 3),
    (
        DimensionFacts(
            cycles_reached=2, cycles_involved=2, inputs=2, inputs_we_did=1, inputs_unanswered=1
        ),
        3,
    ),
    (
        DimensionFacts(
            cycles_reached=3, cycles_involved=2, consultations=1, consultations_considered=1
        ),
        4,
    ),
    (DimensionFacts(cycles_reached=1, cycles_involved=1, inputs=1, inputs_we_did=1), 4),
]


@pytest.mark.parametrize(("facts", "expected"), RULE_CASES)
def test_the_rule_proposes_the_level_the_records_support(
    facts: DimensionFacts, expected: int | None
) -> None:
    proposal = propose(facts)
    assert proposal.score == expected
    if expected is not None:
        assert proposal.lines[-1 if expected < 4 else -2].endswith(f"level {expected}.")


def test_the_rule_never_proposes_five_and_says_why() -> None:
    everything = DimensionFacts(
        cycles_reached=5,
        cycles_involved=5,
        attestations=40,
        inputs=30,
        inputs_we_did=30,
        consultations=5,
        consultations_considered=5,
    )
    proposal = propose(everything)
    assert proposal.score == 4
    assert "Not level 5" in proposal.lines[-1]


def test_every_stage_of_every_template_counts_towards_known_stages_of_the_tool() -> None:
    from cycle.stages import TEMPLATES

    for key, template in TEMPLATES.items():
        assert set(self_assessment.STAGE_DIMENSIONS[key]) == set(template.keys), key
        for stage_key in template.keys:
            assert set(self_assessment.dimensions_of(key, stage_key)) <= set(
                self_assessment.DIMENSION_KEYS
            )
    assert len(self_assessment.DIMENSIONS) == 8
    assert len(self_assessment.LEVELS) == 5


# --- The service --------------------------------------------------------------------------------


def _scores(**overrides: dict[str, Any]) -> list[dict[str, Any]]:
    base = {
        key: {"dimension": key, "score": 2, "comments": ""}
        for key in self_assessment.DIMENSION_KEYS
    }
    for key, entry in overrides.items():
        base[key.replace("_", "-")].update(entry)
    return list(base.values())


@pytest.fixture
def world(db: None) -> CycleWorld:
    world = CycleWorld()
    world.pass_gate()  # framework
    world.pass_gate()  # needs: three sign-offs
    return world


def _record(world: CycleWorld, scores: list[dict[str, Any]], actor: Any = None) -> SelfAssessment:
    return duty_services.self_assessment_record(
        actor=actor or world.governor,
        organisation_id=world.organisation.pk,
        scores=scores,
        assessed_on=date(2026, 3, 2),
    )


def test_a_score_of_three_or_more_with_comments_alone_is_refused(world: CycleWorld) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidRequest) as refused:
        _record(
            world,
            _scores(assessing_needs={"score": 3, "comments": "We always involve users early."}),
        )
    assert refused.value.code == "self_assessment.no_evidence"
    assert "Assessing needs" in refused.value.message
    assert "Comments alone are not evidence" in refused.value.message
    assert not SelfAssessment.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_score_of_three_or_more_with_a_record_is_kept_with_its_evidence_and_the_proposal(
    world: CycleWorld,
) -> None:
    signoff = SignOff.objects.filter(cycle=world.cycle, visit__stage_key="needs").first()
    assert signoff is not None

    assessment = _record(
        world,
        _scores(assessing_needs={"score": 4, "evidence": [f"signoff:{signoff.pk}"]}),
    )

    needs = assessment.scores.get(dimension="assessing-needs")
    assert needs.score == 4
    assert SelfAssessmentEvidence.objects.get(score=needs).signoff_id == signoff.pk
    # The records show three sign-offs but nothing that came of them: the rule says 2.
    assert needs.proposed_score == 2
    assert (
        needs.proposed_lines[1] == "3 sign-offs that users were involved as agreed, and 0 dissents."
    )
    assert assessment.scores.get(dimension="clinical-decisions").proposed_score is None
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.action == "self_assessment.recorded"
    payload = json.loads(event.payload)
    assert payload["scores"]["assessing-needs"] == 4
    assert payload["proposed"]["assessing-needs"] == 2
    assert payload["evidence"]["assessing-needs"] == [f"signoff:{signoff.pk}"]
    again = _record(world, _scores())
    assert again.version == 2


def test_evidence_from_another_organisation_or_that_is_not_a_record_is_refused(
    world: CycleWorld,
) -> None:
    elsewhere = CycleWorld()
    elsewhere.pass_gate()
    foreign = SignOff.objects.filter(cycle=elsewhere.cycle).first()
    assert foreign is not None
    for refs, code in [
        ([f"signoff:{foreign.pk}"], "invalid.evidence"),
        (["minutes of the March board"], "invalid.evidence"),
        ("signoff:1", "invalid.evidence"),
    ]:
        with pytest.raises(InvalidRequest) as refused:
            _record(world, _scores(design={"score": 3, "evidence": refs}))
        assert refused.value.code == code
    assert not SelfAssessment.objects.exists()


def test_every_stage_must_be_scored_once_from_one_to_five(world: CycleWorld) -> None:
    cases = [
        (_scores()[:7], "invalid.scores"),
        ([*_scores(), {"dimension": "design", "score": 1}], "invalid.dimension"),
        (_scores(design={"score": 6}), "invalid.score"),
        (_scores(design={"score": "3"}), "invalid.score"),
        ([{"dimension": "weather", "score": 1}], "invalid.dimension"),
    ]
    for scores, code in cases:
        with pytest.raises(InvalidRequest) as refused:
            _record(world, scores)
        assert refused.value.code == code


def test_only_a_board_member_overseeing_the_organisation_records_it(world: CycleWorld) -> None:
    elsewhere = CycleWorld()
    for actor in (world.lead, world.panel[0], elsewhere.governor):
        with pytest.raises(Forbidden) as refused:
            _record(world, _scores(), actor=actor)
        assert refused.value.code == "forbidden.audit"
    assert not SelfAssessment.objects.exists()
    refusal = AuditEvent.objects.order_by("-seq").first()
    assert refusal is not None and refusal.action == "self_assessment_record"
    assert refusal.outcome == AuditEvent.Outcome.REFUSED


def test_the_records_are_counted_in_a_fixed_number_of_queries(
    world: CycleWorld, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(4):
        duty_selectors.self_assessment_facts(world.organisation.pk)
    world.pass_gate()
    world.pass_gate()
    with django_assert_num_queries(4):
        facts = duty_selectors.self_assessment_facts(world.organisation.pk)
    assert facts["review-provision"].attestations == 3


# --- A seeded scenario, explained line by line ---------------------------------------------------


@pytest.mark.django_db
def test_the_day_services_scenario_is_explained_line_by_line() -> None:
    """The day-services scenario (fixtures/scenarios/day-services.toml) as the board would read
    the records' suggestion for two stages of the tool, every line of it."""
    (loaded,) = scenarios.load_all(only=["day-services"])
    cycle = loaded.cycle
    proposals = duty_selectors.self_assessment_proposals(cycle.organisation_id)

    # The scenario's needs stage: eight attestations, no input, no consultation.
    assert proposals["assessing-needs"] == self_assessment.Proposal(
        2,
        (
            "1 cycle reached this stage; users were involved on the record in 1 of them (a "
            "sign-off, input or a consultation).",
            "8 sign-offs that users were involved as agreed, and 0 dissents.",
            "0 pieces of input from users: 0 answered “we did”, 0 not answered yet.",
            "0 consultations, 0 with the responses analysed and how they were considered recorded.",
            "Users were involved, but no record shows what came of it (no input answered “we "
            "did”, no consultation's responses considered): level 2.",
        ),
    )
    # The review of current services: the panel's two inputs, one answered "we did".
    assert proposals["review-provision"] == self_assessment.Proposal(
        4,
        (
            "1 cycle reached this stage; users were involved on the record in 1 of them (a "
            "sign-off, input or a consultation).",
            "8 sign-offs that users were involved as agreed, and 0 dissents.",
            "2 pieces of input from users: 1 answered “we did”, 0 not answered yet.",
            "0 consultations, 0 with the responses analysed and how they were considered recorded.",
            "Users were involved in 1 of 1 cycles, something came of it (1 record) and every "
            "input was answered: level 4.",
            "Not level 5: the records cannot show a tangible improvement in the quality of "
            "services. That is for the board's own evidence.",
        ),
    )
    # The counts are the records' own, not the rule's guess.
    assert (
        SignOff.objects.filter(
            cycle=cycle,
            visit__stage_key="needs",
            kind=SignOff.Kind.ATTEST,
            withdrawn=False,
            superseded_at__isnull=True,
        ).count()
        == 8
    )
    review_inputs = UserInput.objects.filter(cycle=cycle, stage_key="review")
    assert review_inputs.count() == 2
    assert review_inputs.filter(status=UserInput.Status.WE_DID).count() == 1
    assert InputResponse.objects.filter(user_input__in=review_inputs).exists()
    # Clinical decisions has no stage in the nine-stage template: no suggestion, and it says so.
    assert proposals["clinical-decisions"].score is None
