"""The day-services scenario's tender (seed 004 L770), played through the services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from cycle import scenarios
from cycle.models import CommissioningCycle
from cycle.procurement import notice, selectors
from cycle.procurement.models import IntentionNotice


@pytest.fixture(scope="module")
def day_services(django_db_setup: None, django_db_blocker: Any) -> Iterator[CommissioningCycle]:
    with django_db_blocker.unblock(), transaction.atomic():
        loaded = scenarios.load(scenarios.discover()["day-services"])
        yield loaded.cycle
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_seeded_notice_of_intention_carries_every_required_field(
    day_services: CommissioningCycle,
) -> None:
    published = IntentionNotice.objects.get(decision__tender__cycle=day_services)
    contents = json.loads(published.contents)

    assert all(contents[name] for name in notice.REQUIRED), [
        name for name in notice.REQUIRED if not contents[name]
    ]
    assert [p["name"] for p in contents["providers"]] == [
        "Brightways Community Trust",
        "Meadowcroft Partnership",
        "Westfield Wellbeing Network",
        "Northvale Employment Works",
    ]
    assert contents["decision_makers"] == [
        "Catherine Holt (catherine.holt), Consortium senior management"
    ]
    assert len(contents["reasons"]) == 5 and all(r["reasons"] for r in contents["reasons"])
    managed = {c["person"]: c["managed"] for c in contents["conflicts"]}
    assert managed["Pauline Dobson (pauline.dobson)"].startswith(
        "Did not score the bid by Riverside Care Ltd for Eastern hub and gave their views on it"
    )
    assert (
        managed["Kevin Marsden (kevin.marsden)"]
        == "Taken off the tender panel: took no part in evaluating the bids."
    )
    assert contents["user_panel_weight"] == "30%"
    assert published.contract_awarded_on is not None
    assert published.contract_awarded_on > published.standstill_ends_on


@pytest.mark.django_db
def test_the_seeded_ranking_puts_the_awarded_bids_first(day_services: CommissioningCycle) -> None:
    evaluation = selectors.tender_evaluation(day_services.tender)

    firsts = {ranking.lot.name: ranking.results[0] for ranking in evaluation.lots}
    assert {lot: result.bidder for lot, result in firsts.items()} == {
        "Eastern hub": "Brightways Community Trust",
        "Central hub": "Meadowcroft Partnership",
        "Western hub": "Westfield Wellbeing Network",
        "Vocational services": "Northvale Employment Works",
    }
    assert all(result.rank == 1 and result.complete for result in firsts.values())
    assert firsts["Central hub"].total == Decimal("80.00")
    recused = {
        r.bidder: evaluation.recusals[r.bid_id]
        for ranking in evaluation.lots
        for r in ranking.results
    }
    assert recused["Riverside Care Ltd"] == ["pauline.dobson"]
    assert recused["Harbour Lane Enterprises"] == ["janet.okoye"]
