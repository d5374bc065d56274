"""Tender evaluation with users on the panel: scores, recusal, moderation, ranking."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cycle.errors import Conflict, Forbidden, InvalidRequest
from cycle.models import AuditEvent
from cycle.procurement import selectors
from cycle.procurement import services as procurement
from cycle.procurement.evaluation import ScoringSide
from cycle.procurement.models import BidComment, Score
from roles import services as role_services
from roles.models import PanelMembership
from tests.procurement.conftest import LOTS, Tendering, open_tender
from tests.roles.cast import build_cast

pytestmark = pytest.mark.django_db


def test_a_tender_has_geographic_and_locality_wide_lots_and_the_five_key_criteria(
    tendering: Tendering,
) -> None:
    tender = tendering.tender

    assert [(lot.name, lot.kind) for lot in tender.lots.all()] == [
        ("Eastern hub", "geographic"),
        ("Vocational services", "locality-wide"),
    ]
    assert sorted(c.key for c in tender.criteria.all()) == sorted(
        ["quality", "value", "integration", "access", "social-value"]
    )
    assert tender.user_panel_weight == Decimal("40")
    assert tender.route_assessment.route == "competitive"
    opened = AuditEvent.objects.get(action="procurement.tender_opened")
    assert '"user_panel_weight":"40"' in opened.payload


def test_criteria_without_every_key_criterion_are_refused(db: None) -> None:
    cast = build_cast("west")
    with pytest.raises(InvalidRequest) as refused:
        open_tender_with(cast, criteria=[{"key": "quality", "name": "Quality", "weight": "100"}])
    assert refused.value.code == "invalid.key_criteria"


def test_criteria_weights_must_add_up_to_100(db: None) -> None:
    cast = build_cast("west")
    criteria = [
        {"key": k, "name": k, "weight": "10"}
        for k in ("quality", "value", "integration", "access", "social-value")
    ]
    with pytest.raises(InvalidRequest) as refused:
        open_tender_with(cast, criteria=criteria)
    assert refused.value.code == "invalid.criteria_weights"


def open_tender_with(cast, **changes):  # type: ignore[no-untyped-def]
    procurement.route_record(
        actor=cast.lead,
        cycle_id=cast.id,
        answers={"framework": "yes"},
        rationale="We are setting up a framework of hub providers.",
    )
    arguments = {
        "title": "Hubs",
        "reference": "H-1",
        "services": "Hubs",
        "cpv_code": "85311000",
        "lifetime_value": "100000",
        "user_panel_weight": "50",
        "lots": LOTS,
        **changes,
    }
    return procurement.tender_open(actor=cast.lead, cycle_id=cast.id, **arguments)


def test_a_competitive_tender_ranks_bids_with_each_scorers_part_and_a_recusal(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    role_services.conflict_declare(
        actor=cast.representative,
        cycle_id=cast.id,
        interest="uses-service",
        details="Goes to the Open Doors day centre twice a week.",
    )
    tendering.score_all(cast.lead, "Pathways Trust", 4)
    tendering.score_all(cast.colleague, "Pathways Trust", 2)
    tendering.score_all(cast.representative, "Pathways Trust", 5)
    tendering.score_all(cast.second_representative, "Pathways Trust", 5)
    tendering.score_all(cast.lead, "Open Doors", 3)
    tendering.score_all(cast.colleague, "Open Doors", 3)
    tendering.score_all(cast.second_representative, "Open Doors", 2)
    refused_before = AuditEvent.objects.filter(outcome="refused").count()

    with pytest.raises(Forbidden) as refused:
        tendering.score_all(cast.representative, "Open Doors", 5)
    procurement.bid_comment_record(
        actor=cast.representative,
        cycle_id=cast.id,
        bid_id=tendering.bid("Open Doors").pk,
        text="The centre is welcoming, but the minibus is often late.",
    )

    assert refused.value.code == "forbidden.recused"
    assert AuditEvent.objects.filter(outcome="refused").count() == refused_before + 1
    assert not Score.objects.filter(scorer=cast.representative, bid=tendering.bid("Open Doors"))
    assert BidComment.objects.get(author=cast.representative).recused is True

    evaluation = selectors.tender_evaluation(tendering.tender)
    eastern = evaluation.lots[0]
    assert [(r.bidder, r.total, r.rank) for r in eastern.results] == [
        ("Pathways Trust", Decimal("76.00"), 1),
        ("Open Doors", Decimal("52.00"), 2),
    ]
    best = eastern.results[0]
    assert best.by_side == {
        ScoringSide.COMMISSIONERS: Decimal("36.00"),
        ScoringSide.USER_PANEL: Decimal("40.00"),
    }
    part = {}
    for item in best.parts:
        part[item.who] = part.get(item.who, Decimal(0)) + item.points
    assert part == {
        "east-lead": Decimal("24.00"),
        "east-colleague": Decimal("12.00"),
        "east-rep": Decimal("20.00"),
        "east-rep2": Decimal("20.00"),
    }
    assert evaluation.recusals[tendering.bid("Open Doors").pk] == ["east-rep"]
    assert evaluation.recusals[tendering.bid("Pathways Trust").pk] == []
    # Nobody has scored the locality-wide lot yet: its one bid is unranked.
    assert evaluation.lots[1].results[0].rank is None


def test_a_declared_interest_in_one_bid_recuses_a_commissioner_from_it_only(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    procurement.bid_interest_declare(
        actor=cast.colleague,
        cycle_id=cast.id,
        bid_id=tendering.bid("Workwise").pk,
        interest="employment",
        details="My partner is a trustee of Workwise.",
    )

    with pytest.raises(Forbidden) as refused:
        tendering.score_all(cast.colleague, "Workwise", 3)
    tendering.score_all(cast.colleague, "Pathways Trust", 3)

    assert refused.value.code == "forbidden.recused"
    assert Score.objects.filter(scorer=cast.colleague).count() == 5


def test_moderation_replaces_a_sides_mean_and_keeps_each_score(tendering: Tendering) -> None:
    cast = tendering.cast
    quality = tendering.criterion("quality")
    for scorer, value in ((cast.lead, 1), (cast.colleague, 5)):
        tendering.score_all(scorer, "Workwise", value)
    for scorer in (cast.representative, cast.second_representative):
        tendering.score_all(scorer, "Workwise", 3)

    procurement.score_moderate(
        actor=cast.lead,
        cycle_id=cast.id,
        bid_id=tendering.bid("Workwise").pk,
        criterion_id=quality.pk,
        side="commissioners",
        score="4",
        reason="At moderation we agreed the staffing plan is strong.",
    )

    result = selectors.tender_evaluation(tendering.tender).lots[1].results[0]
    # Quality: 20 x (0.6 x 4 + 0.4 x 3) / 5 = 14.4; the other four: 20 x (0.6 x 3 + 0.4 x 3) / 5 = 12.
    assert result.total == Decimal("62.40")
    moderated = [p for p in result.parts if p.moderated]
    assert [(p.criterion_id, p.score) for p in moderated] == [(quality.pk, Decimal("4.00"))]
    assert Score.objects.filter(bid=tendering.bid("Workwise"), criterion=quality).count() == 4


def test_someone_outside_evaluation_cannot_score(tendering: Tendering) -> None:
    cast = tendering.cast
    for outsider in (cast.involvement_lead, cast.decision_maker, cast.newcomer, cast.governor):
        with pytest.raises(Forbidden) as refused:
            tendering.score_all(outsider, "Workwise", 3)
        assert refused.value.code == "forbidden.evaluate"


def test_a_member_who_plans_to_bid_leaves_the_tender_panel_and_cannot_return(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    role_services.conflict_declare(
        actor=cast.second_representative,
        cycle_id=cast.id,
        interest="plans-to-bid",
        details="Our user-led group is bidding for the vocational lot.",
    )

    membership = PanelMembership.objects.active().get(
        cycle=cast.cycle, member=cast.second_representative
    )
    assert membership.tender_panel is False
    declared = AuditEvent.objects.filter(action="conflict.declared").last()
    assert declared is not None and '"left_tender_panel":true' in declared.payload
    with pytest.raises(Forbidden) as refused:
        tendering.score_all(cast.second_representative, "Workwise", 5)
    assert refused.value.code == "forbidden.evaluate"
    with pytest.raises(Conflict) as back:
        role_services.membership_set_tender_panel(
            actor=cast.lead, cycle_id=cast.id, member=cast.second_representative, tender_panel=True
        )
    assert back.value.code == "panel.plans_to_bid"


def test_a_score_out_of_range_is_invalid_and_a_new_score_replaces_the_old(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    bid = tendering.bid("Workwise").pk
    value = tendering.criterion("value").pk

    with pytest.raises(InvalidRequest) as invalid:
        procurement.score_record(actor=cast.lead, cycle_id=cast.id, bid_id=bid, scores={value: 6})
    procurement.score_record(actor=cast.lead, cycle_id=cast.id, bid_id=bid, scores={value: 2})
    procurement.score_record(
        actor=cast.lead,
        cycle_id=cast.id,
        bid_id=bid,
        scores={value: 3},
        comments={value: "Clear costs."},
    )

    assert invalid.value.code == "invalid.score"
    current = Score.objects.get(scorer=cast.lead, superseded_at__isnull=True)
    assert current.score == 3
    assert current.comment == "Clear costs."
    assert Score.objects.filter(scorer=cast.lead).count() == 2


def test_the_user_panel_weight_of_zero_ranks_on_commissioners_scores_alone(db: None) -> None:
    cast = build_cast("north")
    open_tender(cast, user_panel_weight="0")
    world = Tendering(cast=cast, tender=cast.cycle.tender)
    world.add_bid("Vocational services", "Workwise")
    world.score_all(cast.lead, "Workwise", 5)

    result = selectors.tender_evaluation(world.tender).lots[1].results[0]

    assert result.complete
    assert result.total == Decimal("100.00")
