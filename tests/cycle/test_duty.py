"""The duty to involve, table-tested: seed 002's worked examples (L612-664) and a case for each
limb, body, exemption and the scrutiny flag."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cycle.duty import (
    Activity,
    BodyType,
    DutyQuestions,
    DutyResult,
    Limb,
    Outcome,
    Wording,
    assess,
)

PCT = BodyType.PRIMARY_CARE_TRUST
Y2008 = Wording.Y2008


@dataclass(frozen=True)
class Case:
    name: str
    questions: DutyQuestions
    outcome: Outcome
    limb: Limb | None
    scrutiny: bool
    codes: tuple[str, ...]
    """Rules that must be among those given."""


CASES = [
    # --- seed 002 L612-618: planning always triggers; changes only with an impact --------------
    Case(
        "planning-always-applies",
        DutyQuestions(PCT, Activity.PLANNING, Y2008),
        Outcome.REQUIRED,
        Limb.PLANNING,
        False,
        ("scope.body_covered", "scope.responsible", "limb.a"),
    ),
    Case(
        "change-without-impact-needs-no-involvement",
        DutyQuestions(PCT, Activity.PROPOSALS, Y2008),
        Outcome.NOT_REQUIRED,
        None,
        False,
        ("impact.none",),
    ),
    # --- L622-630: the regional call centre that is closing -------------------------------------
    Case(
        "call-centre-closure-staff-and-premises-only",
        DutyQuestions(PCT, Activity.CONTRACTUAL, Y2008),
        Outcome.NOT_REQUIRED,
        None,
        False,
        ("activity.not_planning", "impact.none", "note.staff_rules"),
    ),
    Case(
        "call-centre-body-not-responsible-and-no-other-service-affected",
        DutyQuestions(PCT, Activity.CONTRACTUAL, Y2008, responsible=False),
        Outcome.OUT_OF_SCOPE,
        None,
        False,
        ("scope.not_responsible",),
    ),
    Case(
        "call-centre-not-responsible-but-other-services-affected",
        DutyQuestions(
            PCT,
            Activity.DECISION,
            Y2008,
            responsible=False,
            affects_other_services=True,
            affects_delivery=True,
        ),
        Outcome.REQUIRED,
        Limb.DECISIONS,
        False,
        ("scope.other_services", "impact.found", "limb.c"),
    ),
    # --- L634-640: the out-of-hours co-operative that will not continue -------------------------
    Case(
        "out-of-hours-new-provider-same-service",
        DutyQuestions(PCT, Activity.CONTRACTUAL, Y2008),
        Outcome.NOT_REQUIRED,
        None,
        False,
        ("activity.not_planning", "impact.none"),
    ),
    Case(
        "out-of-hours-new-provider-changes-configuration",
        DutyQuestions(PCT, Activity.CONTRACTUAL, Y2008, affects_delivery=True),
        Outcome.REQUIRED,
        Limb.DECISIONS,
        False,
        ("activity.not_planning", "impact.found", "limb.c"),
    ),
    Case(
        "out-of-hours-substantial-variation-goes-to-scrutiny-even-without-the-duty",
        DutyQuestions(PCT, Activity.CONTRACTUAL, Y2008, substantial=True),
        Outcome.NOT_REQUIRED,
        None,
        True,
        ("impact.none", "scrutiny.substantial"),
    ),
    # --- L650-654: the mental health strategy already consulted on -------------------------------
    Case(
        "mental-health-schemes-already-consulted-in-detail",
        DutyQuestions(PCT, Activity.PROPOSALS, Y2008, affects_delivery=True, already_involved=True),
        Outcome.NOT_REQUIRED,
        None,
        False,
        ("impact.found", "exempt.already_involved"),
    ),
    Case(
        "mental-health-schemes-with-further-proposals",
        DutyQuestions(PCT, Activity.PROPOSALS, Y2008, affects_delivery=True, substantial=True),
        Outcome.REQUIRED,
        Limb.PROPOSALS,
        True,
        ("limb.b", "scrutiny.substantial"),
    ),
    # --- L658-664: the dermatology tender ---------------------------------------------------------
    Case(
        "dermatology-tender-as-part-of-the-pcts-plans",
        DutyQuestions(PCT, Activity.PLANNING, Y2008),
        Outcome.REQUIRED,
        Limb.PLANNING,
        False,
        ("limb.a",),
    ),
    # --- today's three-limb duties, one body each -------------------------------------------------
    Case(
        "icb-planning-commissioning-arrangements",
        DutyQuestions(BodyType.ICB, Activity.PLANNING),
        Outcome.REQUIRED,
        Limb.PLANNING,
        False,
        ("limb.a",),
    ),
    Case(
        "icb-proposal-changing-the-range-of-services",
        DutyQuestions(BodyType.ICB, Activity.PROPOSALS, affects_range=True),
        Outcome.REQUIRED,
        Limb.PROPOSALS,
        False,
        ("impact.found", "limb.b"),
    ),
    Case(
        "nhs-england-decision-changing-where-a-clinic-runs",
        DutyQuestions(BodyType.NHS_ENGLAND, Activity.DECISION, affects_delivery=True),
        Outcome.REQUIRED,
        Limb.DECISIONS,
        False,
        ("limb.c",),
    ),
    Case(
        "trust-decision-with-no-impact",
        DutyQuestions(BodyType.NHS_TRUST, Activity.DECISION),
        Outcome.NOT_REQUIRED,
        None,
        False,
        ("impact.none",),
    ),
    Case(
        "foundation-trust-moving-a-service-to-another-site",
        DutyQuestions(BodyType.FOUNDATION_TRUST, Activity.DECISION, affects_delivery=True),
        Outcome.REQUIRED,
        Limb.DECISIONS,
        False,
        ("limb.c",),
    ),
    # --- out of scope and exemptions -------------------------------------------------------------
    Case(
        "welsh-trust-is-outside-section-242",
        DutyQuestions(BodyType.WELSH_NHS_TRUST, Activity.PLANNING, Y2008, substantial=True),
        Outcome.OUT_OF_SCOPE,
        None,
        False,
        ("scope.welsh_body",),
    ),
    Case(
        "a-council-is-outside-the-nhs-duty",
        DutyQuestions(BodyType.LOCAL_AUTHORITY, Activity.PLANNING),
        Outcome.OUT_OF_SCOPE,
        None,
        False,
        ("scope.body",),
    ),
    Case(
        "a-pct-under-todays-wording-does-not-exist",
        DutyQuestions(PCT, Activity.PLANNING, Wording.CURRENT, substantial=True),
        Outcome.OUT_OF_SCOPE,
        None,
        False,
        ("scope.wording",),
    ),
    Case(
        "an-icb-under-the-2008-wording-does-not-exist",
        DutyQuestions(BodyType.ICB, Activity.PLANNING, Y2008),
        Outcome.OUT_OF_SCOPE,
        None,
        False,
        ("scope.wording",),
    ),
    # --- the scrutiny flag ------------------------------------------------------------------------
    Case(
        "icb-substantial-variation-consults-scrutiny",
        DutyQuestions(BodyType.ICB, Activity.DECISION, affects_delivery=True, substantial=True),
        Outcome.REQUIRED,
        Limb.DECISIONS,
        True,
        ("scrutiny.substantial",),
    ),
    Case(
        "urgent-safety-risk-need-not-wait-for-scrutiny",
        DutyQuestions(
            BodyType.NHS_TRUST,
            Activity.DECISION,
            affects_delivery=True,
            substantial=True,
            urgent_safety_risk=True,
        ),
        Outcome.REQUIRED,
        Limb.DECISIONS,
        False,
        ("scrutiny.urgent",),
    ),
    Case(
        "not-substantial-means-no-scrutiny",
        DutyQuestions(BodyType.ICB, Activity.PLANNING),
        Outcome.REQUIRED,
        Limb.PLANNING,
        False,
        (),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_duty_follows_the_law(case: Case) -> None:
    result = assess(case.questions)

    assert (result.outcome, result.limb, result.scrutiny) == (
        case.outcome,
        case.limb,
        case.scrutiny,
    )
    assert set(case.codes) <= set(result.codes), result.codes
    assert result.required is (case.outcome is Outcome.REQUIRED)


def test_every_result_gives_its_reasons_and_scrutiny_comes_last() -> None:
    for case in CASES:
        result = assess(case.questions)
        assert result.rules, case.name
        assert all(rule.text.endswith(".") for rule in result.rules)
        scrutiny = [r for r in result.codes if r.startswith("scrutiny.")]
        if scrutiny:
            assert result.codes[-1] == scrutiny[0]


def test_the_statute_named_is_the_one_for_the_body() -> None:
    assert assess(DutyQuestions(BodyType.ICB, Activity.PLANNING)).statute.endswith("s.14Z45")
    assert assess(DutyQuestions(BodyType.NHS_ENGLAND, Activity.PLANNING)).statute.endswith("s.13Q")
    trust = assess(DutyQuestions(BodyType.NHS_TRUST, Activity.PLANNING))
    assert trust.statute.endswith("s.242(1B)")
    pct = assess(DutyQuestions(PCT, Activity.PLANNING, Y2008))
    assert pct.statute == "NHS Act 2006 s.242(1B) (2008 wording)"


def test_delivery_is_judged_at_the_point_of_receipt_only_under_todays_wording() -> None:
    today = assess(DutyQuestions(BodyType.NHS_TRUST, Activity.DECISION, affects_delivery=True))
    then = assess(
        DutyQuestions(BodyType.NHS_TRUST, Activity.DECISION, Y2008, affects_delivery=True)
    )
    assert "at the point they receive them" in _rule(today, "impact.found")
    assert "at the point" not in _rule(then, "impact.found")


def _rule(result: DutyResult, code: str) -> str:
    return next(rule.text for rule in result.rules if rule.code == code)
