"""Every change to a cycle's procurement, one service each.

Each service locks the cycle row, checks who is asking, validates, writes and appends exactly one
ledger event, in one transaction (``cycle.service_support.service``); a refusal (``Forbidden``)
changes nothing and is written to the ledger with its code. Who may do what:

- the lead commissioner records the route, opens the tender, records bids, moderates scores,
  publishes the notice of intention, records representations and the contract award;
- scorers (commissioners of the organisation, and members of the tender panel) declare their
  interests in bids, score the bids they are not recused from, and comment on any bid;
- a decision-maker of the organisation decides the award at a decision meeting, and reviews the
  decision after a representation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from cycle import input_rules, ledger, workdays
from cycle.actions import LedgerAction
from cycle.errors import Conflict, Forbidden, InvalidRequest, NotFound
from cycle.models import CommissioningCycle, DecisionMeeting
from cycle.service_support import lock_cycle, service
from roles.models import ConflictDeclaration
from roles.permissions import Action as Permission
from roles.permissions import require

from ..i18n import gettext_lazy as _
from . import notice as notice_contents
from . import selectors, standstill
from .evaluation import SCORE_MAX, BidFacts, recusal
from .models import (
    AwardDecision,
    Bid,
    BidComment,
    BidInterest,
    Criterion,
    IntentionNotice,
    KeyCriterion,
    Lot,
    LotAward,
    Moderation,
    Representation,
    RouteAssessment,
    Score,
    Side,
    Tender,
)
from .routes import QUESTIONS, RouteAnswers, decide_route

TEXT_LIMIT = 10_000


# --- checks every service shares ---------------------------------------------------------------


def _text(value: str | None, field: str, *, required: bool = True, limit: int = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidRequest(
            _(
                "Enter %(field)s.",
                field=field,
            ),
            code=f"invalid.{field.replace(' ', '_')}",
        )
    # The length limit and valid Unicode, as every service checks them (``cycle.input_rules``).
    return input_rules.text(text, field, limit=limit, required=False)


_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def _decimal(value: Any, field: str) -> Decimal:
    written = str(value).replace(",", "").replace("£", "").strip()
    try:
        if isinstance(value, bool | float) or _PLAIN_NUMBER.fullmatch(written) is None:
            # No 1_000, exponents, digits of another script, NaN or Infinity: ASCII digits only.
            raise ValueError(written)
        amount = Decimal(written)
    except (InvalidOperation, ValueError):
        raise InvalidRequest(
            _(
                "%(field)s must be a number, like 1200000.",
                field=field,
            ),
            code=f"invalid.{field.replace(' ', '_')}",
        ) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidRequest(
            _(
                "%(field)s must be zero or more.",
                field=field,
            ),
            code=f"invalid.{field.replace(' ', '_')}",
        )
    return amount


def _date(value: date | str | None, field: str) -> date:
    if value is None:
        return workdays.uk_date(timezone.now())
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidRequest(
            _(
                "%(field)s must be a date like 2026-12-31.",
                field=field,
            ),
            code=f"invalid.{field.replace(' ', '_')}",
        ) from None


def _active(cycle: CommissioningCycle) -> None:
    if cycle.status != CommissioningCycle.Status.ACTIVE:
        raise Conflict(
            _(
                "The cycle is completed; reopen a stage first.",
            ),
            code="cycle.completed",
        )


def _tender(cycle: CommissioningCycle) -> Tender:
    tender = Tender.objects.filter(cycle=cycle).first()
    if tender is None:
        raise Conflict(
            _(
                "No tender has been opened on this cycle.",
            ),
            code="tender.missing",
        )
    return tender


def _bid(tender: Tender, bid_id: int) -> Bid:
    bid = Bid.objects.filter(pk=bid_id, tender=tender).select_related("lot").first()
    if bid is None:
        raise NotFound(
            _(
                "The tender has no bid %(bid_id)s.",
                bid_id=bid_id,
            ),
            code="bid.not_found",
        )
    return bid


def _criterion(tender: Tender, criterion_id: int) -> Criterion:
    criterion = Criterion.objects.filter(pk=criterion_id, tender=tender).first()
    if criterion is None:
        raise NotFound(
            _(
                "The tender has no criterion %(criterion_id)s.",
                criterion_id=criterion_id,
            ),
            code="criterion.not_found",
        )
    return criterion


def _open_for_evaluation(tender: Tender) -> None:
    if AwardDecision.objects.filter(tender=tender, superseded_at__isnull=True).exists():
        raise Conflict(
            _(
                "The award has been decided; scores and bids can no longer change.",
            ),
            code="tender.decided",
        )


def _scorer_side(actor: Any, cycle: CommissioningCycle) -> Side:
    """Which side ``actor`` scores for on this cycle, or a refusal."""
    side = selectors.scorer_side(actor, cycle)
    if side is None:
        raise Forbidden(
            _(
                "Only the organisation's commissioners and the members of the tender panel "
                "take part in evaluating the bids.",
            ),
            code="forbidden.evaluate",
        )
    return side


# --- the route ---------------------------------------------------------------------------------


def _answers(raw: Mapping[str, Any]) -> RouteAnswers:
    unknown = set(raw) - set(QUESTIONS)
    if unknown:
        raise InvalidRequest(
            _(
                "Unknown questions: %(unknown)s.",
                unknown=", ".join(sorted(unknown)),
            ),
            code="invalid.route_question",
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or value == "":
            continue
        if name.endswith("_lifetime_value"):
            values[name] = _decimal(value, name.replace("_", " "))
        elif isinstance(value, bool):
            values[name] = value
        elif str(value).lower() in ("yes", "true"):
            values[name] = True
        elif str(value).lower() in ("no", "false"):
            values[name] = False
        else:
            raise InvalidRequest(
                _(
                    "Answer %(name)s with yes or no.",
                    name=name,
                ),
                code="invalid.route_answer",
            )
    return RouteAnswers(**values)


@service(LedgerAction.PROCUREMENT_ROUTE_RECORDED)
def route_record(
    *, actor: Any, cycle_id: int, answers: Mapping[str, Any], rationale: str
) -> RouteAssessment:
    """Record the answers to the regime's questions and the process they lead to, with reasons.

    Refused (``route.unanswered``) while a question that matters has no answer.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    _active(cycle)
    given = _answers(answers)
    rationale = _text(rationale, "rationale")
    decision = decide_route(given)
    if decision.invalid:
        raise InvalidRequest(
            _(
                "Lifetime values cannot be negative.",
            ),
            code="invalid.lifetime_value",
        )
    if decision.route is None:
        question = decision.unanswered[0]
        raise InvalidRequest(
            _(
                "Answer this question first: %(question)s",
                question=QUESTIONS[question],
            ),
            code="route.unanswered",
        )
    previous = RouteAssessment.objects.filter(cycle=cycle).order_by("-version").first()
    assessment = RouteAssessment.objects.create(
        cycle=cycle,
        version=previous.version + 1 if previous else 1,
        route=decision.route.value,
        mandatory=decision.mandatory,
        reasons="\n".join(reason.as_line() for reason in decision.reasons),
        rationale=rationale,
        recorded_by=actor,
        recorded_at=timezone.now(),
        **{name: getattr(given, name) for name in QUESTIONS},
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_ROUTE_RECORDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=assessment,
        payload={
            "version": assessment.version,
            "route": decision.route.value,
            "mandatory": decision.mandatory,
            "answers": given.as_dict(),
            "reasons": list(decision.codes),
            "rationale": rationale,
        },
    )
    return assessment


# --- the tender --------------------------------------------------------------------------------

DEFAULT_CRITERIA = tuple(
    {"key": key.value, "name": str(key.label), "weight": "20"} for key in KeyCriterion
)


@service(LedgerAction.PROCUREMENT_TENDER_OPENED)
def tender_open(
    *,
    actor: Any,
    cycle_id: int,
    title: str,
    reference: str,
    services: str,
    cpv_code: str,
    lifetime_value: Decimal | str,
    user_panel_weight: Decimal | str,
    lots: Sequence[Mapping[str, str]],
    criteria: Sequence[Mapping[str, Any]] = DEFAULT_CRITERIA,
) -> Tender:
    """Open the tender: its lots, its weighted criteria and the weight of the user panel's scores.

    The criteria must include the five key criteria, each with a weight above zero, and the
    weights must add up to 100. The latest route must be one assessed against the key criteria
    (direct award C, most suitable provider or competition).
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    _active(cycle)
    if Tender.objects.filter(cycle=cycle).exists():
        raise Conflict(
            _(
                "A tender is already open on this cycle.",
            ),
            code="tender.exists",
        )
    route = RouteAssessment.objects.filter(cycle=cycle).order_by("-version").first()
    if route is None:
        raise Conflict(
            _(
                "Record the route under the Provider Selection Regime first.",
            ),
            code="route.missing",
        )
    if route.route in ("direct-award-a", "direct-award-b"):
        raise Conflict(
            _(
                "The route is %(route_label)s: there is no evaluation against the key criteria.",
                route_label=route.route_label,
            ),
            code="route.not_evaluated",
        )
    weight = _decimal(user_panel_weight, "user panel weight")
    if weight > 100:
        raise InvalidRequest(
            _(
                "The user panel's weight is a percentage, from 0 to 100.",
            ),
            code="invalid.user_panel_weight",
        )
    if not lots:
        raise InvalidRequest(
            _(
                "A tender needs at least one lot.",
            ),
            code="invalid.lots",
        )
    lot_rows = []
    for position, lot in enumerate(lots, start=1):
        kind = lot.get("kind", Lot.Kind.GEOGRAPHIC)
        if kind not in Lot.Kind.values:
            raise InvalidRequest(
                _(
                    "A lot is %(choices)s.",
                    choices=" or ".join(Lot.Kind.values),
                ),
                code="invalid.lot_kind",
            )
        lot_rows.append(
            Lot(
                position=position,
                name=_text(lot.get("name"), "lot name", limit=200),
                kind=kind,
                area=_text(lot.get("area"), "area", required=False, limit=200),
            )
        )
    if len({lot.name for lot in lot_rows}) != len(lot_rows):
        raise InvalidRequest(
            _(
                "Each lot needs a name of its own.",
            ),
            code="invalid.lot_name",
        )
    criterion_rows = []
    for position, item in enumerate(criteria, start=1):
        key = item.get("key") or ""
        if key and key not in KeyCriterion.values:
            raise InvalidRequest(
                _(
                    "Unknown key criterion %(key)s.",
                    key=repr(key),
                ),
                code="invalid.criterion_key",
            )
        value = _decimal(item.get("weight"), "criterion weight")
        if value <= 0:
            raise InvalidRequest(
                _(
                    "Every criterion needs a weight above zero.",
                ),
                code="invalid.criterion_weight",
            )
        criterion_rows.append(
            Criterion(
                position=position,
                key=key,
                name=_text(item.get("name"), "criterion name", limit=200),
                weight=value,
            )
        )
    keys = [c.key for c in criterion_rows if c.key]
    missing = [str(k.label) for k in KeyCriterion if k.value not in keys]
    if missing or len(keys) != len(set(keys)):
        raise InvalidRequest(
            _(
                "The criteria must include each of the five key criteria once; missing: "
                "%(missing)s.",
                missing=", ".join(missing) or "none",
            ),
            code="invalid.key_criteria",
        )
    if sum(c.weight for c in criterion_rows) != 100:
        raise InvalidRequest(
            _(
                "The criteria's weights must add up to 100.",
            ),
            code="invalid.criteria_weights",
        )
    tender = Tender.objects.create(
        cycle=cycle,
        route_assessment=route,
        title=_text(title, "title", limit=200),
        reference=_text(reference, "reference", limit=60),
        services=_text(services, "services"),
        cpv_code=_text(cpv_code, "CPV code", limit=20),
        lifetime_value=_decimal(lifetime_value, "lifetime value"),
        user_panel_weight=weight,
        opened_by=actor,
        opened_at=timezone.now(),
    )
    for lot_row in lot_rows:
        lot_row.tender = tender
    for criterion_row in criterion_rows:
        criterion_row.tender = tender
    Lot.objects.bulk_create(lot_rows)
    Criterion.objects.bulk_create(criterion_rows)
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_TENDER_OPENED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=tender,
        payload={
            "title": tender.title,
            "reference": tender.reference,
            "route": route.route,
            "route_version": route.version,
            "cpv_code": tender.cpv_code,
            "lifetime_value": str(tender.lifetime_value),
            "user_panel_weight": str(weight),
            "lots": [{"name": lot.name, "kind": lot.kind, "area": lot.area} for lot in lot_rows],
            "criteria": [
                {"key": c.key, "name": c.name, "weight": str(c.weight)} for c in criterion_rows
            ],
        },
    )
    return tender


@service(LedgerAction.PROCUREMENT_BID_RECORDED)
def bid_record(
    *,
    actor: Any,
    cycle_id: int,
    lot_id: int,
    bidder: str,
    address: str,
    submitted_on: date | str | None = None,
) -> Bid:
    """Record a provider's bid for one lot."""
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    _active(cycle)
    tender = _tender(cycle)
    _open_for_evaluation(tender)
    lot = Lot.objects.filter(pk=lot_id, tender=tender).first()
    if lot is None:
        raise NotFound(
            _(
                "The tender has no lot %(lot_id)s.",
                lot_id=lot_id,
            ),
            code="lot.not_found",
        )
    bidder = _text(bidder, "provider", limit=200)
    if Bid.objects.filter(lot=lot, bidder__iexact=bidder).exists():
        raise Conflict(
            _(
                "%(bidder)s has already bid for %(name)s.",
                bidder=bidder,
                name=lot.name,
            ),
            code="bid.exists",
        )
    bid = Bid.objects.create(
        tender=tender,
        lot=lot,
        bidder=bidder,
        address=_text(address, "address"),
        submitted_on=_date(submitted_on, "date received"),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_BID_RECORDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=bid,
        payload={"lot": lot.name, "bidder": bidder, "submitted_on": bid.submitted_on.isoformat()},
    )
    return bid


# --- evaluation --------------------------------------------------------------------------------


@service(LedgerAction.PROCUREMENT_BID_INTEREST_DECLARED)
def bid_interest_declare(
    *, actor: Any, cycle_id: int, bid_id: int, interest: str, details: str
) -> BidInterest:
    """A scorer declares an interest in one bid, for themselves: they will not score it."""
    cycle = lock_cycle(cycle_id)
    side = _scorer_side(actor, cycle)
    tender = _tender(cycle)
    bid = _bid(tender, bid_id)
    if interest not in ConflictDeclaration.Interest.values or interest == "none":
        raise InvalidRequest(
            _(
                "Say what the interest is: uses the service, employment, a link to the bidder, "
                "plans to bid, or other.",
            ),
            code="invalid.interest",
        )
    details = _text(details, "details")
    if BidInterest.objects.filter(bid=bid, person=actor).exists():
        raise Conflict(
            _(
                "You have already declared an interest in this bid.",
            ),
            code="interest.exists",
        )
    declared = BidInterest.objects.create(
        bid=bid,
        person=actor,
        side=side,
        interest=interest,
        details=details,
        declared_at=timezone.now(),
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_BID_INTEREST_DECLARED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=declared,
        payload={
            "bid": bid.pk,
            "bidder": bid.bidder,
            "lot": bid.lot.name,
            "side": side,
            "interest": interest,
            "details": details,
        },
    )
    return declared


@service(LedgerAction.PROCUREMENT_BID_SCORED)
def score_record(
    *,
    actor: Any,
    cycle_id: int,
    bid_id: int,
    scores: Mapping[Any, Any],
    comments: Mapping[Any, str] | None = None,
) -> list[Score]:
    """A scorer scores a bid against one or more criteria; a new score replaces their earlier one.

    ``scores`` maps criterion ids to whole numbers from 0 to 5, ``comments`` (optional) criterion
    ids to why. Refused (``forbidden.recused``) for a bid the scorer declared an interest in, or
    whose bidder an interest they declared on the cycle names
    (``roles.selectors.scoring_recusals``): they may still give their views on it
    (:func:`bid_comment_record`).
    """
    cycle = lock_cycle(cycle_id)
    side = _scorer_side(actor, cycle)
    tender = _tender(cycle)
    _open_for_evaluation(tender)
    bid = _bid(tender, bid_id)
    conflict = recusal(
        BidFacts(bid.pk, bid.lot_id, bid.bidder), selectors.interests_of(actor, cycle)
    )
    if conflict is not None:
        raise Forbidden(
            _(
                "You declared an interest (%(details)s) in this bid by %(bidder)s, so you do "
                "not score it. You can still give your views on it.",
                details=conflict.details,
                bidder=bid.bidder,
            ),
            code="forbidden.recused",
        )
    if not scores:
        raise InvalidRequest(
            _(
                "Give at least one score.",
            ),
            code="invalid.score",
        )
    criteria = {c.pk: c for c in Criterion.objects.filter(tender=tender)}
    comments = {int(k): v for k, v in (comments or {}).items()}
    values: dict[int, int] = {}
    for key, score in scores.items():
        criterion_id = int(key)
        if criterion_id not in criteria:
            raise NotFound(
                _(
                    "The tender has no criterion %(criterion_id)s.",
                    criterion_id=criterion_id,
                ),
                code="criterion.not_found",
            )
        try:
            value = int(score)
        except (TypeError, ValueError):
            value = -1
        if not 0 <= value <= SCORE_MAX:
            raise InvalidRequest(
                _(
                    "A score is a whole number from 0 to %(most)s.",
                    most=SCORE_MAX,
                ),
                code="invalid.score",
            )
        values[criterion_id] = value
    now = timezone.now()
    previous = {
        row.criterion_id: row
        for row in Score.objects.filter(
            bid=bid, criterion_id__in=values, scorer=actor, superseded_at__isnull=True
        )
    }
    Score.objects.filter(pk__in=[row.pk for row in previous.values()]).update(superseded_at=now)
    rows = Score.objects.bulk_create(
        Score(
            bid=bid,
            criterion=criteria[criterion_id],
            scorer=actor,
            side=side,
            score=value,
            comment=_text(comments.get(criterion_id), "comment", required=False),
            recorded_at=now,
        )
        for criterion_id, value in values.items()
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_BID_SCORED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=bid,
        payload={
            "bid": bid.pk,
            "bidder": bid.bidder,
            "side": side,
            "scores": [
                {
                    "criterion": criteria[row.criterion_id].name,
                    "score": row.score,
                    "previous_score": (
                        previous[row.criterion_id].score if row.criterion_id in previous else None
                    ),
                    "comment": row.comment,
                }
                for row in rows
            ],
        },
    )
    return rows


@service(LedgerAction.PROCUREMENT_BID_COMMENTED)
def bid_comment_record(*, actor: Any, cycle_id: int, bid_id: int, text: str) -> BidComment:
    """Anyone taking part in evaluation gives their views on a bid, recused or not."""
    cycle = lock_cycle(cycle_id)
    side = _scorer_side(actor, cycle)
    tender = _tender(cycle)
    bid = _bid(tender, bid_id)
    recused = (
        recusal(BidFacts(bid.pk, bid.lot_id, bid.bidder), selectors.interests_of(actor, cycle))
        is not None
    )
    comment = BidComment.objects.create(
        bid=bid,
        author=actor,
        side=side,
        recused=recused,
        text=_text(text, "views"),
        recorded_at=timezone.now(),
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_BID_COMMENTED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=comment,
        payload={"bid": bid.pk, "bidder": bid.bidder, "side": side, "recused": recused},
    )
    return comment


@service(LedgerAction.PROCUREMENT_SCORE_MODERATED)
def score_moderate(
    *,
    actor: Any,
    cycle_id: int,
    bid_id: int,
    criterion_id: int,
    side: str,
    score: Decimal | str,
    reason: str,
) -> Moderation:
    """Record one side's agreed score for a bid and criterion after moderation, with the reason.

    Each scorer's own score stays on the record beside it.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    tender = _tender(cycle)
    _open_for_evaluation(tender)
    bid = _bid(tender, bid_id)
    criterion = _criterion(tender, criterion_id)
    if side not in Side.values:
        raise InvalidRequest(
            _(
                "Moderate the commissioners' or the user panel's scores.",
            ),
            code="invalid.side",
        )
    value = _decimal(score, "score")
    if value > SCORE_MAX:
        raise InvalidRequest(
            _(
                "A score is from 0 to %(most)s.",
                most=SCORE_MAX,
            ),
            code="invalid.score",
        )
    scored = list(
        Score.objects.filter(
            bid=bid, criterion=criterion, side=side, superseded_at__isnull=True
        ).values_list("score", flat=True)
    )
    if not scored:
        raise Conflict(
            _(
                "Nobody on that side has scored this yet.",
            ),
            code="moderation.nothing_scored",
        )
    now = timezone.now()
    previous = Moderation.objects.filter(
        bid=bid, criterion=criterion, side=side, superseded_at__isnull=True
    ).first()
    if previous is not None:
        previous.superseded_at = now
        previous.save(update_fields=["superseded_at"])
    row = Moderation.objects.create(
        bid=bid,
        criterion=criterion,
        side=side,
        score=value.quantize(Decimal("0.01")),
        reason=_text(reason, "reason"),
        moderated_by=actor,
        moderated_at=now,
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_SCORE_MODERATED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=row,
        payload={
            "bid": bid.pk,
            "bidder": bid.bidder,
            "criterion": criterion.name,
            "side": side,
            "score": str(row.score),
            "scores_given": sorted(scored),
            "reason": row.reason,
        },
    )
    return row


# --- the decision, the notice and the standstill -----------------------------------------------


@service(LedgerAction.PROCUREMENT_AWARD_DECIDED)
def award_decide(
    *,
    actor: Any,
    cycle_id: int,
    meeting_id: int,
    awards: Mapping[int | str, int | str | None],
    summary: str,
    reasons: Mapping[str, str],
    conflicts_managed: str = "",
) -> AwardDecision:
    """The decision-maker decides, at a decision meeting, which bid each lot goes to, or none.

    ``awards`` maps every lot to a bid for it, or to None for no award ("no award" is a valid
    outcome, seed 003 L1150). ``reasons`` gives the reasons against each of the five key criteria.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.DECIDE, cycle)
    _active(cycle)
    tender = _tender(cycle)
    meeting = DecisionMeeting.objects.filter(pk=meeting_id, cycle=cycle).first()
    if meeting is None:
        raise NotFound(
            _(
                "Cycle %(pk)s has no decision meeting %(meeting_id)s.",
                pk=cycle.pk,
                meeting_id=meeting_id,
            ),
            code="meeting.not_found",
        )
    if AwardDecision.objects.filter(tender=tender, superseded_at__isnull=True).exists():
        raise Conflict(
            _(
                "The award has already been decided.",
            ),
            code="award.decided",
        )
    lots = {lot.pk: lot for lot in Lot.objects.filter(tender=tender)}
    given = {int(k): (int(v) if v not in (None, "") else None) for k, v in awards.items()}
    if set(given) != set(lots):
        raise InvalidRequest(
            _(
                "Decide every lot: a bid for it, or no award.",
            ),
            code="invalid.awards",
        )
    bids = {bid.pk: bid for bid in Bid.objects.filter(tender=tender)}
    for lot_id, bid_id in given.items():
        if bid_id is not None and (bid_id not in bids or bids[bid_id].lot_id != lot_id):
            raise InvalidRequest(
                _(
                    "Bid %(bid_id)s is not a bid for %(name)s.",
                    bid_id=bid_id,
                    name=lots[lot_id].name,
                ),
                code="invalid.awards",
            )
    texts = {}
    for key, field in AwardDecision.REASON_FIELDS.items():
        texts[field] = _text(reasons.get(key.value), f"reasons on {key.label}".lower())
    outcome = (
        AwardDecision.Outcome.AWARD
        if any(bid_id is not None for bid_id in given.values())
        else AwardDecision.Outcome.NO_AWARD
    )
    decision = AwardDecision.objects.create(
        tender=tender,
        meeting=meeting,
        outcome=outcome,
        summary=_text(summary, "summary"),
        conflicts_managed=_text(conflicts_managed, "conflicts managed", required=False),
        decided_by=actor,
        decided_at=timezone.now(),
        **texts,
    )
    LotAward.objects.bulk_create(
        LotAward(decision=decision, lot=lots[lot_id], bid=bids.get(bid_id) if bid_id else None)
        for lot_id, bid_id in sorted(given.items(), key=lambda kv: lots[kv[0]].position)
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_AWARD_DECIDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=decision,
        payload={
            "meeting": meeting.pk,
            "outcome": outcome,
            "summary": decision.summary,
            "awards": {
                lots[lot_id].name: (bids[bid_id].bidder if bid_id else None)
                for lot_id, bid_id in given.items()
            },
            "reasons": {
                key.value: texts[field] for key, field in AwardDecision.REASON_FIELDS.items()
            },
            "conflicts_managed": decision.conflicts_managed,
        },
    )
    return decision


def _current_decision(tender: Tender) -> AwardDecision:
    decision = AwardDecision.objects.filter(tender=tender, superseded_at__isnull=True).first()
    if decision is None:
        raise Conflict(
            _(
                "The award has not been decided yet.",
            ),
            code="award.undecided",
        )
    return decision


def _region(cycle: CommissioningCycle) -> str:
    return str(cycle.organisation.bank_holidays)


@service(LedgerAction.PROCUREMENT_NOTICE_PUBLISHED)
def notice_publish(
    *, actor: Any, cycle_id: int, published_on: date | str | None = None
) -> IntentionNotice:
    """Publish the notice of intention, generated from the records, and start the standstill.

    Only an award (not "no award") under a route with a standstill has a notice.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    tender = _tender(cycle)
    decision = _current_decision(tender)
    if decision.outcome != AwardDecision.Outcome.AWARD:
        raise Conflict(
            _(
                "The decision was not to award: there is no intention to award to publish.",
            ),
            code="notice.no_award",
        )
    if IntentionNotice.objects.filter(decision=decision).exists():
        raise Conflict(
            _(
                "The notice has already been published.",
            ),
            code="notice.published",
        )
    day = _date(published_on, "publication date")
    contents = notice_contents.build(tender.pk)
    if contents.missing:
        raise InvalidRequest(
            _(
                "The notice cannot be published without: %(missing)s.",
                missing=", ".join(contents.missing),
            ),
            code="notice.incomplete",
        )
    ends = standstill.standstill_ends(day, _region(cycle))
    published = IntentionNotice.objects.create(
        decision=decision,
        published_on=day,
        standstill_ends_on=ends,
        contents=json.dumps(contents.as_dict(), sort_keys=True, separators=(",", ":")),
        published_by=actor,
        published_at=timezone.now(),
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_NOTICE_PUBLISHED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=published,
        payload={
            "published_on": day.isoformat(),
            "standstill_ends_on": ends.isoformat(),
            "contents": contents.as_dict(),
        },
    )
    return published


def _notice(tender: Tender) -> IntentionNotice:
    published = IntentionNotice.objects.filter(decision__tender=tender).order_by("-id").first()
    if published is None:
        raise Conflict(
            _(
                "No notice of intention has been published.",
            ),
            code="notice.missing",
        )
    return published


@service(LedgerAction.PROCUREMENT_REPRESENTATION_RECORDED)
def representation_record(
    *,
    actor: Any,
    cycle_id: int,
    provider: str,
    summary: str,
    received_on: date | str | None = None,
) -> Representation:
    """Record a provider's representation made during the standstill; the award waits for review."""
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    published = _notice(_tender(cycle))
    day = _date(received_on, "date received")
    if day <= published.published_on or day > published.standstill_ends_on:
        raise Conflict(
            _(
                "Representations are made during the standstill: from the day after the notice "
                "to the end of %(day)s.",
                day=published.standstill_ends_on.isoformat(),
            ),
            code="representation.outside_standstill",
        )
    row = Representation.objects.create(
        notice=published,
        provider=_text(provider, "provider", limit=200),
        received_on=day,
        summary=_text(summary, "summary"),
        recorded_by=actor,
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_REPRESENTATION_RECORDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=row,
        payload={"provider": row.provider, "received_on": day.isoformat(), "summary": row.summary},
    )
    return row


@service(LedgerAction.PROCUREMENT_REPRESENTATION_REVIEWED)
def representation_review(
    *,
    actor: Any,
    cycle_id: int,
    representation_id: int,
    outcome: str,
    reasons: str,
    reviewed_on: date | str | None = None,
) -> Representation:
    """The decision-maker reviews the decision after a representation: proceed, or abandon.

    To proceed starts a further wait of 5 working days before the contract can be awarded.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.DECIDE, cycle)
    published = _notice(_tender(cycle))
    row = Representation.objects.filter(pk=representation_id, notice=published).first()
    if row is None:
        raise NotFound(
            _(
                "There is no representation %(representation_id)s.",
                representation_id=representation_id,
            ),
            code="representation.not_found",
        )
    if row.outcome:
        raise Conflict(
            _(
                "This representation has been reviewed.",
            ),
            code="representation.reviewed",
        )
    if outcome not in Representation.Outcome.values:
        raise InvalidRequest(
            _(
                "Proceed, or abandon the award.",
            ),
            code="invalid.outcome",
        )
    day = _date(reviewed_on, "review date")
    if day < row.received_on:
        raise InvalidRequest(
            _(
                "The review cannot come before the representation.",
            ),
            code="invalid.review_date",
        )
    row.outcome = outcome
    row.review_reasons = _text(reasons, "reasons")
    row.reviewed_on = day
    row.reviewed_by = actor
    if outcome == Representation.Outcome.PROCEED:
        row.waits_until = standstill.wait_after_review(day, _region(cycle))
    row.save()
    if outcome == Representation.Outcome.ABANDON:
        published.abandoned = True
        published.save(update_fields=["abandoned"])
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_REPRESENTATION_REVIEWED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=row,
        payload={
            "provider": row.provider,
            "outcome": outcome,
            "reasons": row.review_reasons,
            "reviewed_on": day.isoformat(),
            "waits_until": row.waits_until.isoformat() if row.waits_until else None,
        },
    )
    return row


@service(LedgerAction.PROCUREMENT_CONTRACT_AWARDED)
def contract_award_record(
    *, actor: Any, cycle_id: int, awarded_on: date | str | None = None
) -> IntentionNotice:
    """Record that the contract was awarded: refused until the standstill is over."""
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    published = _notice(_tender(cycle))
    if published.contract_awarded_on is not None:
        raise Conflict(
            _(
                "The contract has been recorded as awarded.",
            ),
            code="contract.awarded",
        )
    day = _date(awarded_on, "award date")
    state = selectors.standstill_state(published, today=day)
    if not state.may_award:
        raise Conflict(state.message, code=state.code)
    published.contract_awarded_on = day
    published.save(update_fields=["contract_awarded_on"])
    ledger.append(
        actor=actor,
        action=LedgerAction.PROCUREMENT_CONTRACT_AWARDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=published,
        payload={"awarded_on": day.isoformat(), "standstill_ends_on": str(state.earliest_award)},
    )
    return published
