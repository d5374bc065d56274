"""The Provider Selection Regime's route decision as a pure function: answers in, route and reasons out."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from cycle.procurement.routes import (
    QUESTIONS,
    Route,
    RouteAnswers,
    considerable_change,
    decide_route,
)

# An incumbent whose contract is expiring, performing well, nothing changing: direct award C open.
INCUMBENT = RouteAnswers(
    framework=False,
    existing_provider=True,
    only_existing_provider_capable=False,
    patient_choice=False,
    contract_expiring=True,
    provider_performing=True,
    materially_different=False,
    change_by_authority=False,
)
NEW_SERVICE = RouteAnswers(framework=False, existing_provider=False, patient_choice=False)


def answers(base: RouteAnswers, **changes: object) -> RouteAnswers:
    return replace(base, **changes)  # type: ignore[arg-type]


CASES = [
    # (id, answers, route, mandatory, the last reason's code)
    (
        "framework-needs-competition",
        RouteAnswers(framework=True),
        Route.COMPETITIVE,
        True,
        "framework.competitive_only",
    ),
    (
        "only-the-incumbent-can-provide",
        answers(INCUMBENT, only_existing_provider_capable=True),
        Route.DIRECT_AWARD_A,
        True,
        "direct_award_a.only_capable_provider",
    ),
    (
        "patient-choice-any-qualified-provider",
        answers(NEW_SERVICE, patient_choice=True),
        Route.DIRECT_AWARD_B,
        True,
        "direct_award_b.patient_choice",
    ),
    (
        "incumbent-renewed-by-direct-award-c",
        answers(INCUMBENT, use_direct_award_c=True),
        Route.DIRECT_AWARD_C,
        False,
        "direct_award_c.chosen",
    ),
    (
        "c-open-but-declined-then-most-suitable",
        answers(INCUMBENT, use_direct_award_c=False, most_suitable_identifiable=True),
        Route.MOST_SUITABLE_PROVIDER,
        False,
        "most_suitable_provider.identifiable",
    ),
    (
        "c-open-but-declined-then-competition",
        answers(INCUMBENT, use_direct_award_c=False, most_suitable_identifiable=False),
        Route.COMPETITIVE,
        False,
        "competitive.needed",
    ),
    (
        "contract-not-expiring",
        answers(INCUMBENT, contract_expiring=False, most_suitable_identifiable=False),
        Route.COMPETITIVE,
        False,
        "competitive.needed",
    ),
    (
        "incumbent-not-performing",
        answers(INCUMBENT, provider_performing=False, most_suitable_identifiable=True),
        Route.MOST_SUITABLE_PROVIDER,
        False,
        "most_suitable_provider.identifiable",
    ),
    (
        "day-services-remodelled-into-hubs",  # seed 004: a new service model, five lots tendered
        answers(INCUMBENT, materially_different=True, most_suitable_identifiable=False),
        Route.COMPETITIVE,
        False,
        "competitive.needed",
    ),
    (
        "authority-raises-value-by-600k-of-1m",
        answers(
            INCUMBENT,
            change_by_authority=True,
            existing_lifetime_value=Decimal("1000000"),
            proposed_lifetime_value=Decimal("1600000"),
            most_suitable_identifiable=False,
        ),
        Route.COMPETITIVE,
        False,
        "competitive.needed",
    ),
    (
        "authority-raises-value-by-600k-of-4m-is-under-25-percent",
        answers(
            INCUMBENT,
            change_by_authority=True,
            existing_lifetime_value=Decimal("4000000"),
            proposed_lifetime_value=Decimal("4600000"),
            use_direct_award_c=True,
        ),
        Route.DIRECT_AWARD_C,
        False,
        "direct_award_c.chosen",
    ),
    (
        "authority-raises-value-by-400k-of-1m-is-under-500k",
        answers(
            INCUMBENT,
            change_by_authority=True,
            existing_lifetime_value=Decimal("1000000"),
            proposed_lifetime_value=Decimal("1400000"),
            use_direct_award_c=True,
        ),
        Route.DIRECT_AWARD_C,
        False,
        "direct_award_c.chosen",
    ),
    (
        "no-incumbent-no-direct-award-c",
        answers(NEW_SERVICE, most_suitable_identifiable=False),
        Route.COMPETITIVE,
        False,
        "competitive.needed",
    ),
]


@pytest.mark.parametrize(
    ("answers_given", "route", "mandatory", "last_code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_answers_lead_to_the_route_with_its_reasons(
    answers_given: RouteAnswers, route: Route, mandatory: bool, last_code: str
) -> None:
    decision = decide_route(answers_given)

    assert decision.route is route
    assert decision.mandatory is mandatory
    assert decision.unanswered == ()
    assert decision.codes[-1] == last_code
    assert all(reason.regulation.startswith("reg ") for reason in decision.reasons)


def test_an_unanswered_question_that_matters_chooses_no_route_and_names_it() -> None:
    decision = decide_route(replace(INCUMBENT, provider_performing=None))

    assert decision.route is None
    assert not decision.decided
    assert decision.unanswered == ("provider_performing",)
    assert decision.codes == ("direct_award_a.not_applicable", "direct_award_b.not_applicable")


def test_questions_that_do_not_matter_need_no_answer() -> None:
    # Direct award A applies; nothing about direct award C or competition is asked.
    decision = decide_route(
        RouteAnswers(framework=False, existing_provider=True, only_existing_provider_capable=True)
    )

    assert decision.route is Route.DIRECT_AWARD_A


def test_direct_award_c_open_asks_whether_the_authority_chooses_it() -> None:
    decision = decide_route(INCUMBENT)

    assert decision.route is None
    assert decision.direct_award_c_open
    assert decision.considerable_change is False
    assert decision.unanswered == ("use_direct_award_c",)


def test_a_value_rise_by_the_authority_asks_for_both_lifetime_values() -> None:
    decision = decide_route(replace(INCUMBENT, change_by_authority=True))

    assert decision.unanswered == ("existing_lifetime_value",)


def test_a_negative_lifetime_value_is_invalid_and_chooses_no_route() -> None:
    decision = decide_route(
        replace(INCUMBENT, existing_lifetime_value=Decimal("-1"), use_direct_award_c=True)
    )

    assert decision.route is None
    assert decision.invalid == ("existing_lifetime_value",)


@pytest.mark.parametrize(
    ("existing", "proposed", "met"),
    [
        ("1000000", "1500000", True),  # exactly £500,000 and 50%
        ("2000000", "2500000", True),  # exactly £500,000 and exactly 25%
        ("2000000", "2499999", False),  # a pound short of £500,000
        ("2400000", "2900000", False),  # £500,000 but under 25%
        ("100000", "400000", False),  # 300% but only £300,000
        ("1000000", "900000", False),  # a fall in value
        ("4000000", "4600000", False),  # £600,000 but 15%
        ("250000", "350000", False),  # 40% but £100,000
    ],
)
def test_the_considerable_change_threshold_needs_500k_and_25_percent(
    existing: str, proposed: str, met: bool
) -> None:
    given = replace(
        INCUMBENT,
        change_by_authority=True,
        existing_lifetime_value=Decimal(existing),
        proposed_lifetime_value=Decimal(proposed),
    )

    met_now, reasons = considerable_change(given)
    assert met_now is met
    # Reg 6(11)(b) of the Provider Selection Regime Regulations 2023 (SI 2023/1348).
    assert [reason.regulation for reason in reasons] == ["reg 6(11)(b)"]


def test_arrangements_different_in_character_meet_the_threshold_whatever_the_value() -> None:
    met, reasons = considerable_change(replace(INCUMBENT, materially_different=True))

    assert met is True
    assert [(r.code, r.regulation) for r in reasons] == [
        ("change.different_in_character", "reg 6(11)(a)")
    ]


@pytest.mark.parametrize("route", list(Route))
def test_key_criteria_and_standstill_apply_to_c_msp_and_competitive_only(route: Route) -> None:
    assessed = route in (Route.DIRECT_AWARD_C, Route.MOST_SUITABLE_PROVIDER, Route.COMPETITIVE)

    assert route.needs_key_criteria is assessed
    assert route.has_standstill is assessed
    assert route.label


def test_every_answer_field_has_its_question_in_order() -> None:
    assert list(QUESTIONS) == list(RouteAnswers().as_dict())
