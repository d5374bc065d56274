"""Tender evaluation as pure functions: who is recused from scoring a bid, and the ranking.

No ORM here: ``cycle.procurement.selectors`` turns the records into these frozen values.

**Recusal** (seed 004 L517: service users did not score the services they used, though they
could give their views). A scorer is recused from a bid when they declared an interest in that
bid, or when an interest they declared on the cycle names the bidder. A member who plans to bid
is off the tender panel altogether (``roles.services.conflict_declare``).

**Ranking.** Each side (the commissioners, the user panel) gives each bid a score per criterion:
the moderated score where the side's scores were moderated, else the mean of its scorers'
scores. A criterion's points are its weight times the weighted blend of the two sides' scores
(the user panel carries ``user_panel_weight`` per cent), over the top score. A bid's total is out
of 100. Each scorer's part is what their own score added to the total; a moderated score is
nobody's alone and is shown as moderation. A bid that lacks a side's score on any criterion that
side must score is incomplete, and is ranked after the complete ones, unranked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

SCORE_MAX = 5
"""Scores run from 0 (no evidence) to 5 (excellent)."""
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class ScoringSide(StrEnum):
    COMMISSIONERS = "commissioners"
    USER_PANEL = "user-panel"


@dataclass(frozen=True)
class Interest:
    """An interest a person declared: in one bid, or on the cycle naming a service or bidder."""

    interest: str
    details: str
    bid_id: int | None = None


@dataclass(frozen=True)
class BidFacts:
    bid_id: int
    lot_id: int
    bidder: str


def recusal(bid: BidFacts, interests: Iterable[Interest]) -> Interest | None:
    """The declared interest that recuses its holder from scoring ``bid``, if any."""
    bidder = bid.bidder.casefold().strip()
    for item in interests:
        if item.bid_id is not None:
            if item.bid_id == bid.bid_id:
                return item
        elif bidder and bidder in item.details.casefold():
            return item
    return None


@dataclass(frozen=True)
class CriterionFacts:
    criterion_id: int
    name: str
    weight: Decimal


@dataclass(frozen=True)
class ScoreFacts:
    bid_id: int
    criterion_id: int
    scorer_id: int
    scorer: str
    side: ScoringSide
    score: int


@dataclass(frozen=True)
class ModerationFacts:
    bid_id: int
    criterion_id: int
    side: ScoringSide
    score: Decimal
    reason: str


@dataclass(frozen=True)
class Part:
    """What one scorer (or a moderation) added to a bid's total."""

    who: str
    side: ScoringSide
    criterion_id: int
    score: Decimal
    points: Decimal
    moderated: bool = False


@dataclass(frozen=True)
class BidResult:
    bid_id: int
    lot_id: int
    bidder: str
    total: Decimal
    by_side: dict[ScoringSide, Decimal]
    parts: tuple[Part, ...]
    missing: tuple[tuple[int, ScoringSide], ...]
    """(criterion, side) pairs still waiting for a score."""
    rank: int | None = None

    @property
    def complete(self) -> bool:
        return not self.missing


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def side_weights(user_panel_weight: Decimal) -> dict[ScoringSide, Decimal]:
    return {
        ScoringSide.USER_PANEL: user_panel_weight / HUNDRED,
        ScoringSide.COMMISSIONERS: (HUNDRED - user_panel_weight) / HUNDRED,
    }


def evaluate_bid(
    bid: BidFacts,
    criteria: Iterable[CriterionFacts],
    user_panel_weight: Decimal,
    scores: Iterable[ScoreFacts],
    moderations: Iterable[ModerationFacts] = (),
) -> BidResult:
    """One bid's total, the part of each scorer and side, and what is still to be scored."""
    weights = side_weights(user_panel_weight)
    by_cell: defaultdict[tuple[int, ScoringSide], list[ScoreFacts]] = defaultdict(list)
    for score in scores:
        if score.bid_id == bid.bid_id:
            by_cell[(score.criterion_id, score.side)].append(score)
    moderated = {(m.criterion_id, m.side): m for m in moderations if m.bid_id == bid.bid_id}
    parts: list[Part] = []
    missing: list[tuple[int, ScoringSide]] = []
    by_side = {side: Decimal(0) for side in ScoringSide}
    for criterion in criteria:
        for side in ScoringSide:
            share = weights[side]
            if share == 0:
                continue
            scale = criterion.weight * share / SCORE_MAX
            if (criterion.criterion_id, side) in moderated:
                item = moderated[(criterion.criterion_id, side)]
                points = item.score * scale
                parts.append(
                    Part("moderation", side, criterion.criterion_id, item.score, points, True)
                )
                by_side[side] += points
                continue
            cell = by_cell.get((criterion.criterion_id, side), [])
            if not cell:
                missing.append((criterion.criterion_id, side))
                continue
            for score in cell:
                points = Decimal(score.score) * scale / len(cell)
                parts.append(
                    Part(score.scorer, side, criterion.criterion_id, Decimal(score.score), points)
                )
                by_side[side] += points
    total = sum(by_side.values(), Decimal(0))
    return BidResult(
        bid_id=bid.bid_id,
        lot_id=bid.lot_id,
        bidder=bid.bidder,
        total=_q(total),
        by_side={side: _q(points) for side, points in by_side.items()},
        parts=tuple(
            Part(p.who, p.side, p.criterion_id, p.score, _q(p.points), p.moderated) for p in parts
        ),
        missing=tuple(missing),
    )


def rank(results: Iterable[BidResult]) -> list[BidResult]:
    """Bids of one lot, best first: complete bids ranked (ties share a rank), then incomplete."""
    items = list(results)
    complete = sorted((r for r in items if r.complete), key=lambda r: (-r.total, r.bidder))
    ranked: list[BidResult] = []
    previous: Decimal | None = None
    position = 0
    for index, result in enumerate(complete, start=1):
        if result.total != previous:
            position = index
            previous = result.total
        ranked.append(_with_rank(result, position))
    ranked.extend(sorted((r for r in items if not r.complete), key=lambda r: r.bidder))
    return ranked


def _with_rank(result: BidResult, position: int) -> BidResult:
    return BidResult(
        bid_id=result.bid_id,
        lot_id=result.lot_id,
        bidder=result.bidder,
        total=result.total,
        by_side=result.by_side,
        parts=result.parts,
        missing=result.missing,
        rank=position,
    )
