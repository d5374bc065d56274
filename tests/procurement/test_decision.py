"""The award decision, the notice of intention and the standstill."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cycle.errors import Conflict, Forbidden, InvalidRequest
from cycle.models import AuditEvent
from cycle.procurement import notice, selectors
from cycle.procurement import services as procurement
from cycle.procurement.models import AwardDecision, IntentionNotice
from cycle.procurement.standstill import standstill_ends, wait_after_review
from roles import services as role_services
from tests.procurement.conftest import Tendering
from tests.roles.cast import build_cast

pytestmark = pytest.mark.django_db

REASONS = {
    "quality": "Pathways Trust showed how users will shape each hub's weekly programme.",
    "value": "Both bids came within the budget; Pathways Trust offered more hours.",
    "integration": "Pathways Trust works with the community links already.",
    "access": "Pathways Trust will run a minibus from the villages.",
    "social-value": "Pathways Trust will employ people who use the service.",
}


def decide(world: Tendering, awards: dict[str, str | None], **extra: str) -> AwardDecision:
    meeting = world.meeting()
    lots = {lot.name: lot.pk for lot in world.tender.lots.all()}
    return procurement.award_decide(
        actor=world.cast.decision_maker,
        cycle_id=world.id,
        meeting_id=meeting.pk,
        awards={
            lots[lot]: (world.bid(bidder).pk if bidder else None) for lot, bidder in awards.items()
        },
        summary=extra.pop("summary", "Award the eastern hub to Pathways Trust."),
        reasons=REASONS,
        **extra,
    )


def test_no_award_is_a_valid_outcome_and_has_no_notice_of_intention(tendering: Tendering) -> None:
    # Seed 003 L1150: users rejected one bidder, the commissioner the other; the service stayed
    # in house.
    decision = decide(
        tendering,
        {"Eastern hub": None, "Vocational services": None},
        summary="No award: neither bid can meet the needs of the people who use the service.",
    )

    assert decision.outcome == "no-award"
    assert [award.bid for award in decision.lots.all()] == [None, None]
    with pytest.raises(Conflict) as refused:
        procurement.notice_publish(actor=tendering.cast.lead, cycle_id=tendering.id)
    assert refused.value.code == "notice.no_award"


def test_a_decision_must_decide_every_lot_and_give_reasons_on_every_key_criterion(
    tendering: Tendering,
) -> None:
    with pytest.raises(InvalidRequest) as partial:
        decide(tendering, {"Eastern hub": "Pathways Trust"})
    assert partial.value.code == "invalid.awards"

    meeting = tendering.meeting()
    lots = list(tendering.tender.lots.values_list("pk", flat=True))
    with pytest.raises(InvalidRequest) as unreasoned:
        procurement.award_decide(
            actor=tendering.cast.decision_maker,
            cycle_id=tendering.id,
            meeting_id=meeting.pk,
            awards=dict.fromkeys(lots),
            summary="No award.",
            reasons={**REASONS, "social-value": " "},
        )
    assert unreasoned.value.code == "invalid.reasons_on_social_value"


def test_a_bid_for_another_lot_cannot_be_awarded_this_one(tendering: Tendering) -> None:
    with pytest.raises(InvalidRequest) as refused:
        decide(tendering, {"Eastern hub": "Workwise", "Vocational services": None})
    assert refused.value.code == "invalid.awards"


def test_only_a_decision_maker_decides(tendering: Tendering) -> None:
    meeting = tendering.meeting()
    with pytest.raises(Forbidden):
        procurement.award_decide(
            actor=tendering.cast.lead,
            cycle_id=tendering.id,
            meeting_id=meeting.pk,
            awards={},
            summary="x",
            reasons=REASONS,
        )


def test_the_notice_of_intention_carries_every_required_field_from_the_records(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    role_services.conflict_declare(
        actor=cast.representative,
        cycle_id=cast.id,
        interest="uses-service",
        details="Goes to the Open Doors day centre.",
    )
    procurement.bid_comment_record(
        actor=cast.representative,
        cycle_id=cast.id,
        bid_id=tendering.bid("Open Doors").pk,
        text="Friendly staff; the building needs a lift.",
    )
    procurement.bid_interest_declare(
        actor=cast.colleague,
        cycle_id=cast.id,
        bid_id=tendering.bid("Workwise").pk,
        interest="employment",
        details="I worked for Workwise until 2007.",
    )
    decide(
        tendering,
        {"Eastern hub": "Pathways Trust", "Vocational services": "Workwise"},
        conflicts_managed="Declarations were read out at the start of each evaluation meeting.",
    )

    published = procurement.notice_publish(
        actor=cast.lead, cycle_id=cast.id, published_on="2008-12-12"
    )
    contents = json.loads(published.contents)

    assert set(notice.REQUIRED) <= set(contents)
    assert all(contents[name] for name in notice.REQUIRED)
    assert "competitive process" in contents["process"]
    assert contents["reference"] == "DVS-2008-01"
    assert contents["cpv_code"] == "85311000"
    assert contents["lifetime_value"] == "£4,800,000"
    assert contents["providers"] == [
        {
            "lot": "Eastern hub",
            "name": "Pathways Trust",
            "address": "1 High Street, Pathways Trust House",
        },
        {
            "lot": "Vocational services",
            "name": "Workwise",
            "address": "1 High Street, Workwise House",
        },
    ]
    assert contents["decision_makers"] == ["east-decider, Partnership board"]
    assert [r["criterion"] for r in contents["reasons"]] == [
        "Quality and innovation",
        "Value",
        "Integration, collaboration and service sustainability",
        "Improving access, reducing health inequalities and facilitating choice",
        "Social value",
    ]
    assert contents["reasons"][3]["reasons"] == REASONS["access"]
    managed = {c["person"]: c["managed"] for c in contents["conflicts"]}
    assert managed == {
        "east-rep": "Did not score the bid by Open Doors for Eastern hub and gave their views on it.",
        "east-colleague": "Did not score the bid by Workwise for Vocational services.",
    }
    assert contents["conflicts_managed"].startswith("Declarations were read out")
    assert contents["framework"] == "No framework agreement is concluded."
    assert contents["user_panel_weight"] == "40%"
    event = AuditEvent.objects.get(action="procurement.notice_published")
    assert json.loads(event.payload)["contents"] == contents


def publish(world: Tendering, on: str) -> IntentionNotice:
    decide(world, {"Eastern hub": "Pathways Trust", "Vocational services": "Workwise"})
    return procurement.notice_publish(actor=world.cast.lead, cycle_id=world.id, published_on=on)


def test_the_standstill_runs_8_working_days_across_christmas_bank_holidays(
    tendering: Tendering,
) -> None:
    # Friday 19 December 2025: 22, 23, 24, 29, 30, 31 December, 2 and 5 January are the eight
    # working days (Christmas Day, Boxing Day and New Year's Day are bank holidays).
    published = publish(tendering, "2025-12-19")

    assert published.standstill_ends_on == date(2026, 1, 5)
    with pytest.raises(Conflict) as early:
        procurement.contract_award_record(
            actor=tendering.cast.lead, cycle_id=tendering.id, awarded_on="2026-01-05"
        )
    assert early.value.code == "standstill.running"
    procurement.contract_award_record(
        actor=tendering.cast.lead, cycle_id=tendering.id, awarded_on="2026-01-06"
    )
    published.refresh_from_db()
    assert published.contract_awarded_on == date(2026, 1, 6)


def test_a_representation_holds_the_award_until_review_then_5_more_working_days(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    published = publish(tendering, "2026-03-02")  # a Monday; standstill to Thursday 12 March
    assert published.standstill_ends_on == date(2026, 3, 12)
    representation = procurement.representation_record(
        actor=cast.lead,
        cycle_id=cast.id,
        provider="Open Doors",
        summary="Our transport plan was not scored under access.",
        received_on="2026-03-09",
    )

    with pytest.raises(Conflict) as held:
        procurement.contract_award_record(
            actor=cast.lead, cycle_id=cast.id, awarded_on="2026-03-13"
        )
    assert held.value.code == "standstill.under_review"

    procurement.representation_review(
        actor=cast.decision_maker,
        cycle_id=cast.id,
        representation_id=representation.pk,
        outcome="proceed",
        reasons="The transport plan was scored under access; the scores stand.",
        reviewed_on="2026-03-16",
    )
    representation.refresh_from_db()
    # Five working days after Monday 16 March: Monday 23 March.
    assert representation.waits_until == date(2026, 3, 23)
    with pytest.raises(Conflict) as waiting:
        procurement.contract_award_record(
            actor=cast.lead, cycle_id=cast.id, awarded_on="2026-03-23"
        )
    assert waiting.value.code == "standstill.running"
    procurement.contract_award_record(actor=cast.lead, cycle_id=cast.id, awarded_on="2026-03-24")


def test_a_representation_after_the_standstill_is_refused(tendering: Tendering) -> None:
    publish(tendering, "2026-03-02")
    with pytest.raises(Conflict) as late:
        procurement.representation_record(
            actor=tendering.cast.lead,
            cycle_id=tendering.id,
            provider="Open Doors",
            summary="Late.",
            received_on="2026-03-13",
        )
    assert late.value.code == "representation.outside_standstill"


def test_abandoning_after_review_means_no_contract(tendering: Tendering) -> None:
    cast = tendering.cast
    published = publish(tendering, "2026-03-02")
    representation = procurement.representation_record(
        actor=cast.lead,
        cycle_id=cast.id,
        provider="Open Doors",
        summary="x",
        received_on="2026-03-03",
    )
    procurement.representation_review(
        actor=cast.decision_maker,
        cycle_id=cast.id,
        representation_id=representation.pk,
        outcome="abandon",
        reasons="The evaluation missed a mandatory requirement; we will run it again.",
        reviewed_on="2026-03-05",
    )

    state = selectors.standstill_state(
        IntentionNotice.objects.get(pk=published.pk), today=date(2026, 6, 1)
    )
    assert state.code == "standstill.abandoned"
    with pytest.raises(Conflict):
        procurement.contract_award_record(
            actor=cast.lead, cycle_id=cast.id, awarded_on="2026-06-01"
        )


def test_standstill_counting_uses_the_organisations_working_days() -> None:
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are bank holidays in England;
    # Easter Monday is not one in Scotland.
    assert standstill_ends(date(2026, 3, 31)) == date(2026, 4, 14)
    assert standstill_ends(date(2026, 3, 31), "scotland") == date(2026, 4, 13)
    assert wait_after_review(date(2026, 4, 2)) == date(2026, 4, 13)


def test_a_direct_award_c_is_evaluated_against_the_key_criteria_with_a_notice(db: None) -> None:
    cast = build_cast("south")
    assessment = procurement.route_record(
        actor=cast.lead,
        cycle_id=cast.id,
        answers={
            "framework": "no",
            "existing_provider": "yes",
            "only_existing_provider_capable": "no",
            "patient_choice": "no",
            "contract_expiring": "yes",
            "provider_performing": "yes",
            "materially_different": "no",
            "change_by_authority": "no",
            "use_direct_award_c": "yes",
        },
        rationale="The carers' breaks service is performing well and the contract ends in March.",
    )
    assert assessment.route == "direct-award-c"
    assert "direct_award_c.chosen" in assessment.reasons
    tender = procurement.tender_open(
        actor=cast.lead,
        cycle_id=cast.id,
        title="Carers' breaks",
        reference="CB-2026",
        services="Short breaks for carers.",
        cpv_code="85312000",
        lifetime_value="900000",
        user_panel_weight="50",
        lots=[{"name": "Whole borough", "kind": "locality-wide"}],
    )
    world = Tendering(cast=cast, tender=tender)
    world.add_bid("Whole borough", "Carers Together")
    world.score_all(cast.lead, "Carers Together", 4)
    world.score_all(cast.representative, "Carers Together", 4)
    decide(world, {"Whole borough": "Carers Together"}, summary="Award to the existing provider.")

    published = procurement.notice_publish(
        actor=cast.lead, cycle_id=cast.id, published_on="2026-02-02"
    )

    contents = json.loads(published.contents)
    assert "direct award process c" in contents["process"]
    assert contents["framework"] is None
    assert contents["conflicts"] == []


def test_direct_award_a_has_no_evaluation(db: None) -> None:
    cast = build_cast("south")
    procurement.route_record(
        actor=cast.lead,
        cycle_id=cast.id,
        answers={
            "framework": "no",
            "existing_provider": "yes",
            "only_existing_provider_capable": "yes",
        },
        rationale="Only the trust's specialist unit can provide this.",
    )
    with pytest.raises(Conflict) as refused:
        procurement.tender_open(
            actor=cast.lead,
            cycle_id=cast.id,
            title="t",
            reference="r",
            services="s",
            cpv_code="85000000",
            lifetime_value="1",
            user_panel_weight="0",
            lots=[{"name": "All", "kind": "locality-wide"}],
        )
    assert refused.value.code == "route.not_evaluated"


def test_a_route_with_a_question_unanswered_is_refused_with_the_question(db: None) -> None:
    cast = build_cast("south")
    with pytest.raises(InvalidRequest) as refused:
        procurement.route_record(
            actor=cast.lead, cycle_id=cast.id, answers={"framework": "no"}, rationale="Early days."
        )
    assert refused.value.code == "route.unanswered"
    assert "existing provider" in refused.value.message
