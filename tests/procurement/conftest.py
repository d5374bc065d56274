"""A cycle ready for procurement: a route, a tender with geographic and locality-wide lots, bids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from cycle.meetings import meeting_schedule
from cycle.procurement import services as procurement
from cycle.procurement.models import Bid, Criterion, Lot, Tender
from tests.roles.cast import Cast, build_cast

COMPETITIVE = {
    "framework": "no",
    "existing_provider": "yes",
    "only_existing_provider_capable": "no",
    "patient_choice": "no",
    "contract_expiring": "yes",
    "provider_performing": "yes",
    "materially_different": "yes",
    "most_suitable_identifiable": "no",
}
LOTS = [
    {"name": "Eastern hub", "kind": "geographic", "area": "Eastern end of the locality"},
    {"name": "Vocational services", "kind": "locality-wide", "area": "The whole locality"},
]


@dataclass
class Tendering:
    cast: Cast
    tender: Tender

    @property
    def id(self) -> int:
        return self.cast.id

    def lot(self, name: str) -> Lot:
        return Lot.objects.get(tender=self.tender, name=name)

    def criterion(self, key: str) -> Criterion:
        return Criterion.objects.get(tender=self.tender, key=key)

    def bid(self, bidder: str) -> Bid:
        return Bid.objects.get(tender=self.tender, bidder=bidder)

    def add_bid(self, lot: str, bidder: str) -> Bid:
        return procurement.bid_record(
            actor=self.cast.lead,
            cycle_id=self.id,
            lot_id=self.lot(lot).pk,
            bidder=bidder,
            address=f"1 High Street, {bidder} House",
            submitted_on="2008-10-01",
        )

    def score_all(self, scorer: Any, bidder: str, score: int) -> None:
        procurement.score_record(
            actor=scorer,
            cycle_id=self.id,
            bid_id=self.bid(bidder).pk,
            scores={criterion.pk: score for criterion in self.tender.criteria.all()},
        )

    def meeting(self) -> Any:
        return meeting_schedule(
            actor=self.cast.lead,
            cycle_id=self.id,
            held_on=date(2008, 12, 10),
            forum="Partnership board",
            decision_maker=self.cast.decision_maker,
        )


def open_tender(cast: Cast, user_panel_weight: str = "40") -> Tender:
    procurement.route_record(
        actor=cast.lead,
        cycle_id=cast.id,
        answers=COMPETITIVE,
        rationale="The new model of hubs and community links is a different service.",
    )
    return procurement.tender_open(
        actor=cast.lead,
        cycle_id=cast.id,
        title="Day and vocational services",
        reference="DVS-2008-01",
        services="Resource hubs and community links; vocational services.",
        cpv_code="85311000",
        lifetime_value="4800000",
        user_panel_weight=user_panel_weight,
        lots=LOTS,
    )


@pytest.fixture
def tendering(db: Any) -> Tendering:
    cast = build_cast("east")
    tender = open_tender(cast)
    world = Tendering(cast=cast, tender=tender)
    world.add_bid("Eastern hub", "Pathways Trust")
    world.add_bid("Eastern hub", "Open Doors")
    world.add_bid("Vocational services", "Workwise")
    return world
