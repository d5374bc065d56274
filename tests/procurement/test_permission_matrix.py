"""The procurement tables of docs/permissions.md, tried cell by cell against the services.

As in ``tests/roles/test_permission_matrix.py``: a "yes" goes ahead with no refusal, a "no" is
refused with ``Forbidden``, writes exactly one ``refused`` event and changes nothing else.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cycle import workdays
from cycle.meetings import meeting_schedule
from cycle.procurement import services as procurement
from cycle.procurement.models import Bid, Criterion, Lot, Representation
from tests.factories import fresh
from tests.procurement.conftest import COMPETITIVE, LOTS
from tests.procurement.test_decision import REASONS
from tests.roles.cast import Cast, build_cast
from tests.roles.test_permission_matrix import Cell, Try, _ledger_counts, read_matrix, try_service

TABLES = {
    "own": "## Procurement, on their own cycle",
    "other": "## Procurement, on another organisation's cycle",
}


MATRIX = read_matrix(TABLES)


def _today() -> Any:
    return workdays.uk_date(timezone.now())


def _route(t: Cast) -> None:
    procurement.route_record(
        actor=t.lead, cycle_id=t.id, answers=COMPETITIVE, rationale="A new model of service."
    )


def _tender(t: Cast) -> None:
    _route(t)
    procurement.tender_open(
        actor=t.lead,
        cycle_id=t.id,
        title="Day services",
        reference="DS-1",
        services="Hubs",
        cpv_code="85311000",
        lifetime_value="1000000",
        user_panel_weight="30",
        lots=LOTS,
    )


def _bid(t: Cast) -> None:
    _tender(t)
    procurement.bid_record(
        actor=t.lead,
        cycle_id=t.id,
        lot_id=Lot.objects.get(tender__cycle=t.cycle, name="Eastern hub").pk,
        bidder="Pathways Trust",
        address="1 High Street",
    )


def _the_bid(t: Cast) -> int:
    return Bid.objects.get(tender__cycle=t.cycle).pk


def _quality(t: Cast) -> int:
    return Criterion.objects.get(tender__cycle=t.cycle, key="quality").pk


def _scored(t: Cast) -> None:
    _bid(t)
    procurement.score_record(
        actor=t.lead, cycle_id=t.id, bid_id=_the_bid(t), scores={_quality(t): 3}
    )


def _meeting(t: Cast) -> Any:
    return meeting_schedule(
        actor=t.lead,
        cycle_id=t.id,
        held_on=_today(),
        forum="Partnership board",
        decision_maker=t.decision_maker,
    )


def _awards(t: Cast) -> dict[int | str, int | str | None]:
    lots = Lot.objects.filter(tender__cycle=t.cycle)
    return {lot.pk: (_the_bid(t) if lot.name == "Eastern hub" else None) for lot in lots}


def _decided(t: Cast) -> None:
    _bid(t)
    procurement.award_decide(
        actor=t.decision_maker,
        cycle_id=t.id,
        meeting_id=_meeting(t).pk,
        awards=_awards(t),
        summary="Award the eastern hub.",
        reasons=REASONS,
    )


def _published(t: Cast, days_ago: int = 1) -> None:
    _decided(t)
    procurement.notice_publish(
        actor=t.lead, cycle_id=t.id, published_on=_today() - timedelta(days=days_ago)
    )


def _represented(t: Cast) -> None:
    _published(t)
    procurement.representation_record(
        actor=t.lead, cycle_id=t.id, provider="Open Doors", summary="Not scored fairly."
    )


TRIES: dict[str, Try] = {
    "route_record": (
        lambda t: None,
        lambda a, t: procurement.route_record(
            actor=a, cycle_id=t.id, answers=COMPETITIVE, rationale="A new model."
        ),
    ),
    "tender_open": (
        _route,
        lambda a, t: procurement.tender_open(
            actor=a,
            cycle_id=t.id,
            title="Day services",
            reference="DS-1",
            services="Hubs",
            cpv_code="85311000",
            lifetime_value="1000000",
            user_panel_weight="30",
            lots=LOTS,
        ),
    ),
    "bid_record": (
        _tender,
        lambda a, t: procurement.bid_record(
            actor=a,
            cycle_id=t.id,
            lot_id=Lot.objects.filter(tender__cycle=t.cycle).first().pk,  # type: ignore[union-attr]
            bidder="Workwise",
            address="2 Mill Lane",
        ),
    ),
    "bid_interest_declare": (
        _bid,
        lambda a, t: procurement.bid_interest_declare(
            actor=a,
            cycle_id=t.id,
            bid_id=_the_bid(t),
            interest="bidder-link",
            details="I volunteer there.",
        ),
    ),
    "score_record": (
        _bid,
        lambda a, t: procurement.score_record(
            actor=a, cycle_id=t.id, bid_id=_the_bid(t), scores={_quality(t): 4}
        ),
    ),
    "bid_comment_record": (
        _bid,
        lambda a, t: procurement.bid_comment_record(
            actor=a, cycle_id=t.id, bid_id=_the_bid(t), text="A strong plan for transport."
        ),
    ),
    "score_moderate": (
        _scored,
        lambda a, t: procurement.score_moderate(
            actor=a,
            cycle_id=t.id,
            bid_id=_the_bid(t),
            criterion_id=_quality(t),
            side="commissioners",
            score="3.5",
            reason="Agreed at moderation.",
        ),
    ),
    "award_decide": (
        lambda t: (_bid(t), _meeting(t)),
        lambda a, t: procurement.award_decide(
            actor=a,
            cycle_id=t.id,
            meeting_id=t.cycle.decision_meetings.get().pk,
            awards=_awards(t),
            summary="Award the eastern hub.",
            reasons=REASONS,
        ),
    ),
    "notice_publish": (
        _decided,
        lambda a, t: procurement.notice_publish(actor=a, cycle_id=t.id),
    ),
    "representation_record": (
        _published,
        lambda a, t: procurement.representation_record(
            actor=a, cycle_id=t.id, provider="Open Doors", summary="Not scored fairly."
        ),
    ),
    "representation_review": (
        _represented,
        lambda a, t: procurement.representation_review(
            actor=a,
            cycle_id=t.id,
            representation_id=Representation.objects.get(
                notice__decision__tender__cycle=t.cycle
            ).pk,
            outcome="proceed",
            reasons="The scores stand.",
        ),
    ),
    "contract_award_record": (
        lambda t: _published(t, days_ago=30),
        lambda a, t: procurement.contract_award_record(actor=a, cycle_id=t.id),
    ),
}


@pytest.fixture(scope="module")
def casts(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Cast, Cast]]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_cast("north"), build_cast("south")
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_procurement_matrix_cell_holds(cell: Cell, casts: tuple[Cast, Cast]) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    actor = fresh(getattr(own, cell.role))
    refused, done = try_service(TRIES, cell.service, actor, target)

    assert refused is not cell.allowed, (
        f"docs/permissions.md says {cell.role} {'may' if cell.allowed else 'may not'} "
        f"{cell.service} on {'their own' if cell.scope == 'own' else 'another'} cycle"
    )
    if not refused:
        assert done == 1, "exactly one event"


def test_every_procurement_service_has_a_row_in_both_tables() -> None:
    acted = {
        name
        for name, function in inspect.getmembers(procurement, inspect.isfunction)
        if function.__module__ == procurement.__name__
        and hasattr(function, "__wrapped__")
        and "actor" in inspect.signature(function).parameters
    }
    for scope in TABLES:
        assert {cell.service for cell in MATRIX if cell.scope == scope} == acted
    assert set(TRIES) == acted


# --- the same cells, through the web pages -----------------------------------------------------


def _page(name: str, t: Cast, *args: Any) -> str:
    return reverse(f"web:{name}", args=[t.id, *args])


def _day(value: Any) -> str:
    return value.strftime("%d/%m/%Y")


def _award_form(a: Any, t: Cast) -> tuple[str, dict[str, Any]]:
    form: dict[str, Any] = {
        "meeting": t.cycle.decision_meetings.get().pk,
        "summary": "Award the eastern hub.",
        **{f"reasons_{key}": text for key, text in REASONS.items()},
    }
    for lot_id, bid_id in _awards(t).items():
        form[f"lot_{lot_id}"] = bid_id if bid_id is not None else "none"
    return _page("procurement-award", t), form


PAGES: dict[str, Callable[[Any, Cast], tuple[str, dict[str, Any]]]] = {
    "route_record": lambda a, t: (
        _page("procurement-route", t),
        {**COMPETITIVE, "rationale": "A new model.", "confirm": "1"},
    ),
    "tender_open": lambda a, t: (
        _page("procurement-tender", t),
        {
            "title": "Day services",
            "reference": "DS-1",
            "services": "Hubs",
            "cpv_code": "85311000",
            "lifetime_value": "1000000",
            "user_panel_weight": "30",
            "lot_1_name": "Eastern hub",
            "lot_1_kind": "geographic",
            **{f"weight_{key}": "20" for key in REASONS},
        },
    ),
    "bid_record": lambda a, t: (
        _page("procurement-bid-new", t),
        {
            "lot": Lot.objects.filter(tender__cycle=t.cycle).first().pk,  # type: ignore[union-attr]
            "bidder": "Workwise",
            "address": "2 Mill Lane",
            "submitted_on": _day(_today()),
        },
    ),
    "bid_interest_declare": lambda a, t: (
        _page("procurement-bid-interest", t, _the_bid(t)),
        {"interest": "bidder-link", "details": "I volunteer there."},
    ),
    "score_record": lambda a, t: (
        _page("procurement-bid", t, _the_bid(t)),
        {
            f"score_{c.pk}": "4"
            for c in Criterion.objects.filter(tender__cycle=t.cycle)  # every criterion
        },
    ),
    "bid_comment_record": lambda a, t: (
        _page("procurement-bid-views", t, _the_bid(t)),
        {"text": "A strong plan for transport."},
    ),
    "score_moderate": lambda a, t: (
        _page("procurement-moderate", t, _the_bid(t)),
        {
            "criterion": _quality(t),
            "side": "commissioners",
            "score": "3.5",
            "reason": "Agreed at moderation.",
        },
    ),
    "award_decide": _award_form,
    "notice_publish": lambda a, t: (
        _page("procurement-notice-publish", t),
        {"published_on": _day(_today())},
    ),
    "representation_record": lambda a, t: (
        _page("procurement-representation", t),
        {"provider": "Open Doors", "summary": "Not scored fairly.", "received_on": _day(_today())},
    ),
    "representation_review": lambda a, t: (
        _page(
            "procurement-review",
            t,
            Representation.objects.get(notice__decision__tender__cycle=t.cycle).pk,
        ),
        {"outcome": "proceed", "reasons": "The scores stand.", "reviewed_on": _day(_today())},
    ),
    "contract_award_record": lambda a, t: (
        _page("procurement-contract", t),
        {"awarded_on": _day(_today())},
    ),
}


def test_every_procurement_service_has_a_web_page() -> None:
    assert set(PAGES) == set(TRIES)


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_procurement_matrix_cell_holds_through_the_web_pages(
    cell: Cell, casts: tuple[Cast, Cast]
) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    actor = fresh(getattr(own, cell.role))
    client = Client()
    client.force_login(actor)
    prepare, _ = TRIES[cell.service]
    prepare(target)
    before = _ledger_counts()
    url, data = PAGES[cell.service](actor, target)
    response = client.post(url, data)
    after = _ledger_counts()

    went_ahead = response.status_code == 302 and "/accounts/login/" not in response["Location"]
    if cell.allowed:
        assert went_ahead, (response.status_code, response.content[:3000])
        assert after == (before[0] + 1, before[1]), "exactly one event, no refusal"
        return
    assert not went_ahead, response.status_code
    assert after[0] == before[0], "nothing done"
    assert after[1] - before[1] <= 1, "at most the one refusal"
