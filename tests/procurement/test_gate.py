"""The gate at the end of the decision stage, for a cycle with a tender: the award decided, its
standstill over, and the tender panel's sign-off that they took part in evaluation as agreed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cycle import gates, selectors, services, workdays
from cycle.errors import GateClosed
from cycle.gates import StageSnapshot, TenderState, evaluate
from cycle.meetings import meeting_papers_issue, meeting_schedule
from cycle.procurement import services as procurement
from roles import services as role_services
from roles.models import PanelMembership
from tests.procurement.conftest import Tendering, open_tender
from tests.procurement.test_decision import REASONS
from tests.roles.cast import build_cast

AWARD_CODES = {
    "award.undecided",
    "notice.unpublished",
    "standstill.running",
    "standstill.under_review",
    "evaluation.unsigned",
}


# --- the rules, over plain snapshots -------------------------------------------------------------


def snapshot(tender: TenderState | None, **extra: Any) -> StageSnapshot:
    return StageSnapshot(
        stage_key="decision",
        active_members=frozenset({1, 2, 3}),
        tender_panel=frozenset({1, 2}),
        requires=frozenset({gates.Condition.AWARD_SETTLED, gates.Condition.EVALUATION_SIGNED}),
        tender=tender,
        **extra,
    )


def award_codes(tender: TenderState | None, **extra: Any) -> list[str]:
    return [code for code in evaluate(snapshot(tender, **extra)).codes if code in AWARD_CODES]


def attest(*members: int) -> tuple[gates.SignOffPosition, ...]:
    return tuple(gates.SignOffPosition(m, gates.SignOffKind.ATTEST, 1, 1) for m in members)


SIGNED = {
    "boundary_version": 1,
    "budget_version": 1,
    "acknowledged_by": frozenset({1, 2, 3}),
    "signoffs": attest(1, 2),
}


def test_a_cycle_without_a_tender_is_not_asked_about_an_award() -> None:
    assert award_codes(None) == []


def test_the_award_must_be_decided() -> None:
    assert award_codes(TenderState(), **SIGNED) == ["award.undecided"]


def test_an_award_needs_its_notice_and_the_end_of_its_standstill() -> None:
    assert award_codes(TenderState(decided=True, awards=True), **SIGNED) == ["notice.unpublished"]
    running = TenderState(
        decided=True,
        awards=True,
        notice_published=True,
        standstill_code="standstill.running",
        standstill_message="The standstill runs until the end of 5 January 2026.",
    )
    result = evaluate(snapshot(running, **SIGNED))
    assert result.codes == ("standstill.running",)
    assert result.unmet[0].message == "The standstill runs until the end of 5 January 2026."
    review = TenderState(True, True, True, "standstill.under_review", "Under review.")
    assert award_codes(review, **SIGNED) == ["standstill.under_review"]
    assert award_codes(TenderState(True, True, True, "standstill.over", ""), **SIGNED) == []
    assert award_codes(TenderState(True, True, True, "standstill.abandoned", ""), **SIGNED) == []


def test_no_award_has_no_notice_and_no_standstill_to_wait_for() -> None:
    assert award_codes(TenderState(decided=True, awards=False), **SIGNED) == []


def test_most_of_the_tender_panel_must_sign_off_that_they_took_part_as_agreed() -> None:
    decided = TenderState(True, False)
    # Members 1 and 3 attest: a majority of the panel, but only one of the two on the tender panel.
    result = evaluate(snapshot(decided, **{**SIGNED, "signoffs": attest(1, 3)}))

    assert result.codes == ("evaluation.unsigned",)
    assert result.unmet[0].members == frozenset({2})
    assert result.unmet[0].message == (
        "1 of the 2 members of the tender panel has signed off that they took part in "
        "evaluating the bids as agreed; 2 are needed."
    )


def test_a_dissent_from_the_tender_panel_does_not_count_as_their_sign_off() -> None:
    dissent = (gates.SignOffPosition(2, gates.SignOffKind.DISSENT, 1, 1),)
    codes = award_codes(TenderState(True, False), **{**SIGNED, "signoffs": attest(1, 3) + dissent})
    assert codes == ["evaluation.unsigned"]


def test_a_board_may_depart_from_the_tender_panels_sign_off_but_never_from_the_standstill() -> None:
    assert gates.waivable("evaluation.unsigned")
    for code in ("award.undecided", "notice.unpublished", "standstill.running"):
        assert not gates.waivable(code), code
    assert "reg 12" in gates.must_record("standstill.running")
    running = TenderState(True, True, True, "standstill.running", "Runs.")
    check = gates.check_override(evaluate(snapshot(running, **SIGNED)))
    assert [item.code for item in check.not_waivable] == ["standstill.running"]


def test_each_template_asks_for_both_when_leaving_the_stage_that_awards_contracts() -> None:
    from cycle.stages import TEMPLATES

    expected = {"default": ["decision"], "guide": ["contract"], "self-assessment": ["contract"]}
    for key, template in TEMPLATES.items():
        awarding = [
            s.key for s in template.stages if gates.Condition.AWARD_SETTLED in s.exit_requires
        ]
        signed = [
            s.key for s in template.stages if gates.Condition.EVALUATION_SIGNED in s.exit_requires
        ]
        assert awarding == signed == expected[key], key


# --- through the services ----------------------------------------------------------------------


@pytest.fixture
def at_decision(db: Any) -> Tendering:
    """A cycle whose tender was run in the procurement stage, now at the decision stage with the
    usual records met: boundaries acknowledged, budget disclosed, the whole panel attesting."""
    cast = build_cast("gate")
    while cast.refresh().current_stage != "procurement":
        cast.pass_stage()
    world = Tendering(cast=cast, tender=open_tender(cast))
    world.add_bid("Eastern hub", "Pathways Trust")
    world.add_bid("Vocational services", "Workwise")
    cast.pass_stage()
    assert cast.refresh().current_stage == "decision"
    cast.evidence_for_signoff()
    cast.attest()
    return world


def refused_codes(world: Tendering) -> set[str]:
    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.cast.lead, cycle_id=world.id)
    return set(refused.value.result.codes)


def decide(world: Tendering, awards: dict[str, str | None]) -> None:
    today = workdays.uk_date(timezone.now())
    meeting = meeting_schedule(
        actor=world.cast.lead,
        cycle_id=world.id,
        held_on=today,
        forum="Partnership board",
        decision_maker=world.cast.decision_maker,
    )
    meeting_papers_issue(
        actor=world.cast.lead,
        cycle_id=world.id,
        meeting_id=meeting.pk,
        issued_on=today - timedelta(days=7),
    )
    lots = {lot.name: lot.pk for lot in world.tender.lots.all()}
    procurement.award_decide(
        actor=world.cast.decision_maker,
        cycle_id=world.id,
        meeting_id=meeting.pk,
        awards={lots[lot]: world.bid(b).pk if b else None for lot, b in awards.items()},
        summary="Award each lot to the bid ranked first.",
        reasons=REASONS,
    )


AWARD = {"Eastern hub": "Pathways Trust", "Vocational services": "Workwise"}


def test_the_decision_stage_cannot_be_left_before_the_award_is_decided(
    at_decision: Tendering,
) -> None:
    assert refused_codes(at_decision) == {"award.undecided"}


def test_the_decision_stage_waits_for_the_notice_and_the_whole_standstill(
    at_decision: Tendering,
) -> None:
    world = at_decision
    decide(world, AWARD)
    assert refused_codes(world) == {"notice.unpublished"}

    today = workdays.uk_date(timezone.now())
    procurement.notice_publish(actor=world.cast.lead, cycle_id=world.id, published_on=today)
    assert refused_codes(world) == {"standstill.running"}

    procurement.representation_record(
        actor=world.cast.lead,
        cycle_id=world.id,
        provider="Open Doors",
        summary="Our bid was scored on an old version of the specification.",
        received_on=today + timedelta(days=1),
    )
    # The representation is dated tomorrow: the gate judges the standstill on today's date, and
    # a representation on record holds it whatever the date.
    assert refused_codes(world) == {"standstill.under_review"}


def test_the_decision_stage_can_be_left_once_the_standstill_is_over(
    at_decision: Tendering,
) -> None:
    world = at_decision
    decide(world, AWARD)
    procurement.notice_publish(actor=world.cast.lead, cycle_id=world.id, published_on="2008-12-12")

    services.stage_advance(actor=world.cast.lead, cycle_id=world.id)

    assert world.cast.refresh().current_stage == "implementation"


def test_a_no_award_decision_lets_the_decision_stage_be_left_without_a_notice(
    at_decision: Tendering,
) -> None:
    decide(at_decision, {"Eastern hub": None, "Vocational services": None})

    services.stage_advance(actor=at_decision.cast.lead, cycle_id=at_decision.id)

    assert at_decision.cast.refresh().current_stage == "implementation"


def test_the_tender_panel_must_sign_off_at_the_decision_stage(at_decision: Tendering) -> None:
    world = at_decision
    cast = world.cast
    # A third member, not on the tender panel, joins and attests; one of the two on the tender
    # panel withdraws their attestation by dissenting and withdrawing it.
    role_services.membership_add(
        actor=cast.lead,
        cycle_id=cast.id,
        member=cast.newcomer,
        represents="carers",
        tier=PanelMembership.Tier.DECISION_FORUM,
    )
    services.boundaries_acknowledge(actor=cast.newcomer, cycle_id=cast.id)
    if cast.cycle.working_agreements.exists():
        role_services.agreement_sign(actor=cast.newcomer, cycle_id=cast.id)
    services.signoff_record(actor=cast.newcomer, cycle_id=cast.id)
    services.signoff_record(actor=cast.second_representative, cycle_id=cast.id, dissent="Rushed.")
    services.dissent_withdraw(actor=cast.second_representative, cycle_id=cast.id)
    decide(world, {"Eastern hub": None, "Vocational services": None})

    result = selectors.gate_state(cast.refresh())
    assert "signoff.quorum" not in result.codes
    assert result.codes == ("evaluation.unsigned",)
    assert result.unmet[0].members == frozenset({cast.second_representative.pk})

    services.signoff_record(actor=cast.second_representative, cycle_id=cast.id)
    services.stage_advance(actor=cast.lead, cycle_id=cast.id)
    assert cast.refresh().current_stage == "implementation"


def test_a_gate_that_does_not_award_never_reads_the_tender(at_decision: Tendering) -> None:
    cast = build_cast("plain")
    with CaptureQueriesContext(connection) as queries:
        selectors.gate_state(cast.cycle)
    assert not [q for q in queries if "procurement_" in q["sql"]]


def test_the_checklist_shows_the_award_only_for_a_cycle_with_a_tender(
    at_decision: Tendering,
) -> None:
    from cycle.web.selectors import checklist

    cycle = at_decision.cast.refresh()
    snap = selectors.gate_snapshot(cycle)
    keys = {item.key: item for item in checklist(snap, evaluate(snap))}
    assert keys["award"].codes == ("award.undecided",) and keys["award"].url_name == (
        "web:procurement"
    )
    assert keys["evaluation"].done

    plain = build_cast("untendered")
    while plain.refresh().current_stage != "decision":
        plain.pass_stage()
    snap = selectors.gate_snapshot(plain.cycle)
    assert snap.tender is None
    assert not {"award", "evaluation"} & {item.key for item in checklist(snap, evaluate(snap))}


def test_the_standstill_is_judged_on_the_day_the_gate_is_read(at_decision: Tendering) -> None:
    from cycle.procurement.selectors import tender_states

    world = at_decision
    decide(world, AWARD)
    published = procurement.notice_publish(
        actor=world.cast.lead, cycle_id=world.id, published_on="2025-12-19"
    )
    assert published.standstill_ends_on == date(2026, 1, 5)

    states = tender_states([world.id], today=date(2026, 1, 5))
    assert states[world.id].standstill_code == "standstill.running"
    assert tender_states([world.id], today=date(2026, 1, 6))[world.id].standstill_code == (
        "standstill.over"
    )


def test_the_tender_panel_is_told_their_sign_off_covers_scoring_the_bids(
    at_decision: Tendering,
) -> None:
    from django.test import Client
    from django.urls import reverse

    cast = at_decision.cast
    line = "You are one of the people who scored the bids."
    page = reverse("web:signoff", args=[cast.id])
    member = Client()
    member.force_login(cast.representative)
    assert line in member.get(page).content.decode()

    elsewhere = build_cast("elsewhere")
    other = Client()
    other.force_login(elsewhere.representative)
    assert line not in other.get(reverse("web:signoff", args=[elsewhere.id])).content.decode()
