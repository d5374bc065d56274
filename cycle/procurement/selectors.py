"""Reads about a cycle's procurement, each in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from cycle import workdays
from cycle.gates import TenderState
from cycle.models import CommissioningCycle
from roles.models import PanelMembership
from roles.permissions import LEAD_PERM, Action, refusal, works_for
from roles.selectors import scoring_recusals

from . import evaluation, standstill
from .evaluation import BidFacts, BidResult, CriterionFacts, Interest, ModerationFacts, ScoreFacts
from .models import (
    AwardDecision,
    Bid,
    BidInterest,
    Criterion,
    IntentionNotice,
    Lot,
    Moderation,
    RouteAssessment,
    Score,
    Side,
    Tender,
)


def scorer_side(user: Any, cycle: CommissioningCycle) -> Side | None:
    """The side ``user`` evaluates bids for on this cycle, or None if they do not evaluate.

    Commissioners: the lead commissioner and the organisation's other commissioners. The user
    panel: active members of the tender panel (a member who plans to bid is taken off it).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.has_perm(LEAD_PERM) and (
        user.pk == cycle.lead_commissioner_id or works_for(user, cycle.organisation_id)
    ):
        return Side.COMMISSIONERS
    on_tender_panel = (
        PanelMembership.objects.active()
        .filter(cycle=cycle, member_id=user.pk, tender_panel=True)
        .exists()
    )
    if on_tender_panel and refusal(user, Action.REPRESENT, cycle) is None:
        return Side.USER_PANEL
    return None


def interests_of(user: Any, cycle: CommissioningCycle) -> list[Interest]:
    """Every interest ``user`` declared that can recuse them: in a bid, or on the cycle."""
    declared = [
        Interest(interest=item.interest, details=item.details)
        for item in scoring_recusals(cycle).get(user.pk, ())
    ]
    declared.extend(
        Interest(interest=interest, details=details, bid_id=bid_id)
        for bid_id, interest, details in BidInterest.objects.filter(
            bid__tender__cycle=cycle, person_id=user.pk
        ).values_list("bid_id", "interest", "details")
    )
    return declared


def latest_route(cycle: CommissioningCycle) -> RouteAssessment | None:
    return RouteAssessment.objects.filter(cycle=cycle).order_by("-version").first()


def tender_of(cycle: CommissioningCycle) -> Tender | None:
    return Tender.objects.filter(cycle=cycle).select_related("route_assessment").first()


@dataclass(frozen=True)
class LotRanking:
    lot: Lot
    results: list[BidResult]


@dataclass(frozen=True)
class TenderEvaluation:
    """The tender's ranking, lot by lot, and who is recused from which bid."""

    tender: Tender
    criteria: list[Criterion]
    lots: list[LotRanking]
    recusals: dict[int, list[str]]
    """Bid id to the names of the people recused from scoring it."""


def tender_evaluation(tender: Tender) -> TenderEvaluation:
    """Every lot's bids ranked, each with each scorer's part (five queries, plus recusals)."""
    criteria = list(Criterion.objects.filter(tender=tender))
    lots = list(Lot.objects.filter(tender=tender))
    bids = list(Bid.objects.filter(tender=tender))
    scores = [
        ScoreFacts(bid_id, criterion_id, scorer_id, username, evaluation.ScoringSide(side), value)
        for bid_id, criterion_id, scorer_id, username, side, value in Score.objects.filter(
            bid__tender=tender, superseded_at__isnull=True
        ).values_list("bid_id", "criterion_id", "scorer_id", "scorer__username", "side", "score")
    ]
    moderations = [
        ModerationFacts(bid_id, criterion_id, evaluation.ScoringSide(side), value, reason)
        for bid_id, criterion_id, side, value, reason in Moderation.objects.filter(
            bid__tender=tender, superseded_at__isnull=True
        ).values_list("bid_id", "criterion_id", "side", "score", "reason")
    ]
    facts = [CriterionFacts(c.pk, c.name, c.weight) for c in criteria]
    results = [
        evaluation.evaluate_bid(
            BidFacts(bid.pk, bid.lot_id, bid.bidder),
            facts,
            tender.user_panel_weight,
            scores,
            moderations,
        )
        for bid in bids
    ]
    rankings = [
        LotRanking(lot, evaluation.rank(r for r in results if r.lot_id == lot.pk)) for lot in lots
    ]
    return TenderEvaluation(
        tender=tender, criteria=criteria, lots=rankings, recusals=recused_by_bid(tender)
    )


def recused_by_bid(tender: Tender) -> dict[int, list[str]]:
    """For each bid, who is recused from scoring it (by username)."""
    cycle = tender.cycle
    bids = list(Bid.objects.filter(tender=tender))
    cycle_wide = scoring_recusals(cycle)
    names = dict(
        PanelMembership.objects.filter(cycle=cycle, member_id__in=cycle_wide).values_list(
            "member_id", "member__username"
        )
    )
    out: dict[int, list[str]] = {bid.pk: [] for bid in bids}
    for member_id, items in cycle_wide.items():
        interests = [Interest(i.interest, i.details) for i in items]
        for bid in bids:
            if evaluation.recusal(BidFacts(bid.pk, bid.lot_id, bid.bidder), interests):
                out[bid.pk].append(names.get(member_id, str(member_id)))
    for bid_id, username in BidInterest.objects.filter(bid__tender=tender).values_list(
        "bid_id", "person__username"
    ):
        if username not in out[bid_id]:
            out[bid_id].append(username)
    return out


def standstill_state(notice: IntentionNotice, *, today: date) -> standstill.StandstillState:
    """Where the notice's standstill stands on ``today``."""
    return standstill.standstill_state(
        ends_on=notice.standstill_ends_on,
        representations=tuple(
            standstill.RepresentationState(
                received_on=r.received_on,
                reviewed=bool(r.outcome),
                proceed=r.outcome == "proceed",
                waits_until=r.waits_until,
            )
            for r in notice.representations.all()
        ),
        abandoned=notice.abandoned,
        today=today,
    )


def tender_states(cycle_ids: list[int], *, today: date | None = None) -> dict[int, TenderState]:
    """Where each cycle's tender stands for the gate (``cycle.gates.TenderState``), in one query
    whatever the number of cycles: cycles without a tender are absent from the answer.

    The standstill is judged on ``today`` (the UK date now, by default)."""
    today = today if today is not None else workdays.uk_date(timezone.now())
    tenders: set[int] = set()
    current: dict[int, tuple[str, int | None, date | None, bool]] = {}
    representations: defaultdict[int, list[standstill.RepresentationState]] = defaultdict(list)
    for (
        cycle_id,
        outcome,
        superseded_at,
        notice_id,
        ends_on,
        abandoned,
        received_on,
        review_outcome,
        waits_until,
    ) in Tender.objects.filter(cycle_id__in=cycle_ids).values_list(
        "cycle_id",
        "decisions__outcome",
        "decisions__superseded_at",
        "decisions__notice__id",
        "decisions__notice__standstill_ends_on",
        "decisions__notice__abandoned",
        "decisions__notice__representations__received_on",
        "decisions__notice__representations__outcome",
        "decisions__notice__representations__waits_until",
    ):
        tenders.add(cycle_id)
        if outcome is None or superseded_at is not None:
            continue
        current[cycle_id] = (outcome, notice_id, ends_on, bool(abandoned))
        if received_on is not None:
            representations[cycle_id].append(
                standstill.RepresentationState(
                    received_on=received_on,
                    reviewed=bool(review_outcome),
                    proceed=review_outcome == "proceed",
                    waits_until=waits_until,
                )
            )
    states = {}
    for cycle_id in tenders:
        if cycle_id not in current:
            states[cycle_id] = TenderState()
            continue
        decided_outcome, published, last_day, was_abandoned = current[cycle_id]
        awards = decided_outcome == AwardDecision.Outcome.AWARD
        if published is None or last_day is None:
            states[cycle_id] = TenderState(decided=True, awards=awards)
            continue
        state = standstill.standstill_state(
            ends_on=last_day,
            representations=tuple(representations[cycle_id]),
            abandoned=was_abandoned,
            today=today,
        )
        states[cycle_id] = TenderState(
            decided=True,
            awards=awards,
            notice_published=True,
            standstill_code=state.code,
            standstill_message=state.message,
        )
    return states
