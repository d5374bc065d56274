"""The gate rules as pure functions: no database, plain values in, unmet conditions out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cycle.gates import (
    MUST_RECORD,
    Condition,
    Departure,
    OverrideRecord,
    SignOffKind,
    SignOffPosition,
    StageSnapshot,
    check_override,
    evaluate,
    quorum_for,
    waivable,
)

PANEL = frozenset({1, 2, 3})


def attest(member: int, boundary: int | None = 1, budget: int | None = 1) -> SignOffPosition:
    return SignOffPosition(member, SignOffKind.ATTEST, boundary, budget)


def dissent(member: int, boundary: int | None = 1, budget: int | None = 1) -> SignOffPosition:
    return SignOffPosition(member, SignOffKind.DISSENT, boundary, budget)


def ready(**changes: Any) -> StageSnapshot:
    """A stage whose gate is open: boundaries v1 acknowledged by all, budget v1, all attest."""
    snapshot = StageSnapshot(
        stage_key="design",
        active_members=PANEL,
        boundary_version=1,
        acknowledged_by=PANEL,
        budget_version=1,
        signoffs=tuple(attest(member) for member in sorted(PANEL)),
    )
    return replace(snapshot, **changes)


def test_gate_is_open_when_boundaries_budget_and_signoff_are_in_place() -> None:
    result = evaluate(ready())

    assert result.open
    assert result.passable
    assert result.codes == ()
    assert result.attesting == PANEL
    assert result.quorum == 2


def test_empty_panel_closes_the_gate_with_panel_empty() -> None:
    result = evaluate(ready(active_members=frozenset(), acknowledged_by=frozenset(), signoffs=()))

    assert result.codes == ("panel.empty",)
    assert not result.open


def test_missing_boundaries_report_boundaries_missing_and_no_attestation_counts() -> None:
    result = evaluate(ready(boundary_version=None, acknowledged_by=frozenset(), signoffs=()))

    assert result.codes == ("boundaries.missing", "signoff.quorum")


def test_a_member_who_has_not_acknowledged_leaves_boundaries_unacknowledged() -> None:
    result = evaluate(ready(acknowledged_by=frozenset({1, 2})))

    assert result.codes == ("boundaries.unacknowledged",)
    assert "version 1" in result.unmet[0].message
    assert "1 member" in result.unmet[0].message


def test_acknowledging_an_earlier_boundary_version_does_not_count() -> None:
    snapshot = ready(
        boundary_version=2,
        acknowledged_by=frozenset(),
        signoffs=tuple(attest(member, boundary=2) for member in sorted(PANEL)),
    )

    assert "boundaries.unacknowledged" in evaluate(snapshot).codes


def test_newcomer_must_acknowledge_the_boundaries_too() -> None:
    result = evaluate(ready(active_members=PANEL | {4}))

    assert result.codes == ("boundaries.unacknowledged",)


def test_missing_budget_reports_budget_missing() -> None:
    result = evaluate(ready(budget_version=None, signoffs=()))

    assert result.codes == ("budget.missing", "signoff.quorum")


def test_budget_change_makes_earlier_signoffs_stale() -> None:
    result = evaluate(ready(budget_version=2))

    assert result.codes == ("signoff.stale", "signoff.quorum")
    assert result.attesting == frozenset()
    assert "3 members" in result.unmet[0].message


def test_boundary_change_makes_earlier_signoffs_stale() -> None:
    result = evaluate(ready(boundary_version=2))

    assert "signoff.stale" in result.codes
    assert "signoff.quorum" in result.codes


def test_stale_signoffs_do_not_block_once_a_quorum_attests_to_the_current_versions() -> None:
    snapshot = ready(
        budget_version=2, signoffs=(attest(1, budget=2), attest(2, budget=2), attest(3))
    )

    result = evaluate(snapshot)

    assert result.open
    assert result.attesting == frozenset({1, 2})


def test_too_few_attestations_report_signoff_quorum() -> None:
    result = evaluate(ready(signoffs=(attest(1),)))

    assert result.codes == ("signoff.quorum",)
    assert result.unmet[0].message.startswith("1 of 3 panel members have attested")
    assert "2 are needed" in result.unmet[0].message


def test_an_attestation_without_acknowledgement_does_not_count() -> None:
    snapshot = ready(
        active_members=frozenset({1, 2}),
        acknowledged_by=frozenset({1, 2, 3}),
        signoffs=(attest(1), attest(3)),
    )

    assert evaluate(snapshot).codes == ("signoff.quorum",)


@pytest.mark.parametrize(
    ("panel_size", "quorum"),
    [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (8, 5), (30, 16)],
)
def test_quorum_is_a_majority_of_the_active_panel_and_at_least_one(
    panel_size: int, quorum: int
) -> None:
    assert quorum_for(panel_size) == quorum


def test_exactly_a_majority_of_attestations_opens_the_gate_and_one_fewer_does_not() -> None:
    panel = frozenset(range(1, 6))
    base = ready(active_members=panel, acknowledged_by=panel)

    assert evaluate(replace(base, signoffs=(attest(1), attest(2), attest(3)))).open
    assert evaluate(replace(base, signoffs=(attest(1), attest(2)))).codes == ("signoff.quorum",)


def test_a_single_member_panel_needs_that_member_to_attest() -> None:
    panel = frozenset({7})
    base = ready(active_members=panel, acknowledged_by=panel)

    assert evaluate(replace(base, signoffs=())).codes == ("signoff.quorum",)
    assert evaluate(replace(base, signoffs=(attest(7),))).open


def test_dissent_blocks_even_when_a_quorum_attests() -> None:
    result = evaluate(ready(signoffs=(attest(1), attest(2), dissent(3))))

    assert result.codes == ("signoff.dissent",)
    assert not result.passable


def test_members_who_left_do_not_count_towards_quorum_nor_block_by_dissent() -> None:
    snapshot = ready(
        active_members=frozenset({1, 2}),
        acknowledged_by=PANEL,
        signoffs=(attest(1), attest(2), dissent(3), attest(4)),
    )

    result = evaluate(snapshot)

    assert result.open
    assert result.attesting == frozenset({1, 2})
    assert result.quorum == 2


def test_attestations_of_members_who_left_no_longer_make_the_quorum() -> None:
    snapshot = ready(
        active_members=frozenset({1, 2, 3}), signoffs=(attest(1), attest(4), attest(5))
    )

    assert evaluate(snapshot).codes == ("signoff.quorum",)


def test_unsigned_working_agreement_blocks_where_required_or_once_one_is_on_record() -> None:
    required = ready(
        requires=frozenset({Condition.WORKING_AGREEMENT}), agreement_signed_by=frozenset({1, 2})
    )

    assert evaluate(required).codes == ("agreement.unsigned",)
    assert evaluate(replace(required, agreement_signed_by=PANEL)).open
    assert evaluate(ready(agreement_signed_by=frozenset())).open
    # At a later stage that does not ask for it, the agreement on record still binds everyone.
    later = ready(agreement_version=2, agreement_signed_by=PANEL - {3})
    assert "agreement.unsigned" in evaluate(later).codes


def test_unnamed_involvement_lead_reports_lead_missing_where_required() -> None:
    required = ready(requires=frozenset({Condition.INVOLVEMENT_LEAD}))

    assert evaluate(required).codes == ("lead.missing",)
    assert evaluate(replace(required, involvement_lead_named=True)).open
    assert evaluate(ready()).open


def test_tender_panel_members_must_declare_conflicts_where_required() -> None:
    required = ready(
        requires=frozenset({Condition.CONFLICTS_DECLARED}),
        tender_panel=frozenset({1, 2}),
        conflicts_declared_by=frozenset({1}),
    )

    result = evaluate(required)

    assert result.codes == ("conflicts.undeclared",)
    assert "1 member of the tender panel has not declared" in result.unmet[0].message
    assert evaluate(replace(required, conflicts_declared_by=frozenset({1, 2}))).open


def test_members_off_the_tender_panel_need_not_declare_conflicts() -> None:
    snapshot = ready(requires=frozenset({Condition.CONFLICTS_DECLARED}), tender_panel=frozenset())

    assert evaluate(snapshot).open


def test_every_unmet_condition_is_listed_at_once_with_a_message() -> None:
    snapshot = StageSnapshot(
        stage_key="framework",
        active_members=frozenset(),
        requires=frozenset({Condition.WORKING_AGREEMENT, Condition.INVOLVEMENT_LEAD}),
    )

    result = evaluate(snapshot)

    assert result.codes == ("panel.empty", "boundaries.missing", "budget.missing", "lead.missing")
    assert all(item.message for item in result.unmet)
    assert result.unmet[0].as_line() == "panel.empty: " + result.unmet[0].message


def overriding(snapshot: StageSnapshot, codes: tuple[str, ...] | None = None) -> StageSnapshot:
    """The snapshot with an override on record for what is unmet in it now (or ``codes``)."""
    check = check_override(evaluate(snapshot), codes)
    assert not check.not_waivable and not check.not_unmet
    record = OverrideRecord(snapshot.boundary_version, snapshot.budget_version, check.departures)
    return replace(snapshot, override=record)


def test_override_lets_a_closed_gate_be_passed_without_opening_it() -> None:
    snapshot = overriding(ready(signoffs=(attest(1), dissent(2))))

    result = evaluate(snapshot)

    assert result.overridden
    assert result.passable
    assert not result.open
    assert result.codes == ("signoff.quorum", "signoff.dissent")


def test_override_stands_only_against_the_versions_it_was_recorded_for() -> None:
    closed = overriding(ready(signoffs=(dissent(1),)))

    assert evaluate(closed).passable
    assert not evaluate(replace(closed, budget_version=2)).passable
    assert not evaluate(replace(closed, boundary_version=2)).passable


def test_a_dissent_recorded_after_the_override_closes_the_gate_again() -> None:
    overridden = overriding(ready(signoffs=(attest(1), attest(2), dissent(3))))
    assert evaluate(overridden).passable

    second = replace(overridden, signoffs=(attest(1), dissent(2), dissent(3)))

    result = evaluate(second)
    assert result.codes == ("signoff.quorum", "signoff.dissent")
    assert not result.overridden
    assert not result.passable


def test_a_newcomer_who_has_not_acknowledged_closes_an_overridden_gate() -> None:
    overridden = overriding(ready(acknowledged_by=frozenset({1, 2}), signoffs=(attest(1),)))
    assert evaluate(overridden).passable

    joined = replace(overridden, active_members=PANEL | {4})

    assert evaluate(joined).codes == ("boundaries.unacknowledged", "signoff.quorum")
    assert not evaluate(joined).passable


def test_the_gate_stays_closed_for_an_unmet_condition_the_override_did_not_name() -> None:
    snapshot = ready(signoffs=(attest(1), dissent(2)))
    named_dissent_only = overriding(snapshot, ("signoff.dissent",))

    result = evaluate(named_dissent_only)

    assert result.codes == ("signoff.quorum", "signoff.dissent")
    assert not result.passable
    assert evaluate(overriding(snapshot, ("signoff.quorum", "signoff.dissent"))).passable


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"active_members": frozenset(), "acknowledged_by": frozenset()}, "panel.empty"),
        ({"boundary_version": None}, "boundaries.missing"),
        ({"budget_version": None}, "budget.missing"),
        ({"requires": frozenset({Condition.INVOLVEMENT_LEAD})}, "lead.missing"),
        (
            {"requires": frozenset({Condition.CONFLICTS_DECLARED}), "tender_panel": PANEL},
            "conflicts.undeclared",
        ),
        (
            {"requires": frozenset({Condition.INPUT_ANSWERED}), "unanswered_inputs": 2},
            "input.unanswered",
        ),
    ],
)
def test_the_records_themselves_can_never_be_overridden(changes: dict[str, Any], code: str) -> None:
    snapshot = ready(signoffs=(dissent(1),), **changes)
    result = evaluate(snapshot)
    assert code in result.codes

    check = check_override(result)

    assert code in [item.code for item in check.not_waivable]
    assert f"{code} cannot be overridden: {MUST_RECORD[code]}" in check.refusal_message
    assert not waivable(code)
    # Even an override on record that names the code does not let the stage be left.
    forced = OverrideRecord(
        snapshot.boundary_version,
        snapshot.budget_version,
        tuple(Departure(item.code, item.members) for item in result.unmet),
    )
    assert not evaluate(replace(snapshot, override=forced)).passable


def test_an_override_can_name_only_conditions_that_are_unmet() -> None:
    check = check_override(evaluate(ready(signoffs=(dissent(1),))), ("agreement.unsigned",))

    assert check.not_unmet == ("agreement.unsigned",)


def test_an_override_records_the_members_each_condition_was_unmet_for() -> None:
    result = evaluate(ready(acknowledged_by=frozenset({1}), signoffs=(attest(1), dissent(3))))

    check = check_override(result)

    assert check.departures == (
        Departure("boundaries.unacknowledged", frozenset({2, 3})),
        Departure("signoff.quorum", frozenset({2, 3})),
        Departure("signoff.dissent", frozenset({3})),
    )


def test_an_attestation_counts_only_from_a_member_who_signed_the_current_agreement() -> None:
    # A working agreement is on record; member 3 joined later and never signed it.
    snapshot = ready(
        agreement_version=1,
        agreement_signed_by=frozenset({1}),
        signoffs=(attest(1), attest(2), attest(3)),
    )

    result = evaluate(snapshot)

    assert result.attesting == frozenset({1})
    assert result.codes == ("signoff.quorum", "agreement.unsigned")
    assert result.unmet[-1].members == frozenset({2, 3})
    assert evaluate(replace(snapshot, agreement_signed_by=PANEL)).open


def test_without_override_a_closed_gate_is_not_passable() -> None:
    result = evaluate(ready(signoffs=()))

    assert not result.overridden
    assert not result.passable
