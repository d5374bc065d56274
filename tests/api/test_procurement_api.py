"""Procurement through the API: a competitive tender with user scorers and a recusal, the
decision, the notice of intention and its standstill; and the procurement tables of
docs/permissions.md tried cell by cell through the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from cycle.procurement.models import Bid, Criterion, Lot, Representation, Score
from tests.api.conftest import Caller, body
from tests.api.test_permission_matrix import SEES
from tests.factories import fresh
from tests.procurement.conftest import COMPETITIVE, LOTS
from tests.procurement.test_decision import REASONS
from tests.procurement.test_permission_matrix import MATRIX, TRIES, _today
from tests.roles.cast import Cast, build_cast
from tests.roles.test_permission_matrix import Cell, _ledger_counts

PROBLEM = "application/problem+json"


def _ids(caller: Caller, path: str) -> dict[str, int]:
    answer = caller.get(path)
    assert answer.status_code == 200, answer.content
    return {row.get("bidder") or row.get("name"): row["id"] for row in body(answer)["results"]}


@pytest.mark.django_db
def test_a_competitive_tender_with_user_scorers_and_a_recusal_through_the_api() -> None:
    cast = build_cast("api")
    lead, colleague = Caller(cast.lead), Caller(cast.colleague)
    rep, rep2 = Caller(cast.representative), Caller(cast.second_representative)
    decider = Caller(cast.decision_maker)
    base = f"cycles/{cast.id}/procurement"

    assert body(lead.get(f"{base}/tender/"))["code"] == "tender.not_found"
    early = lead.post(f"{base}/tender/", {})
    assert early.status_code == 400 and body(early)["code"] == "invalid"

    route = lead.post(
        f"{base}/routes/",
        {"answers": COMPETITIVE, "rationale": "The new model of hubs is a different service."},
    )
    assert route.status_code == 201, route.content
    assert body(route)["route"] == "competitive"
    assert body(lead.get(f"{base}/routes/"))["count"] == 1

    opened = lead.post(
        f"{base}/tender/",
        {
            "title": "Day and vocational services",
            "reference": "DVS-2008-01",
            "services": "Resource hubs and community links; vocational services.",
            "cpv_code": "85311000",
            "lifetime_value": "4800000",
            "user_panel_weight": "40",
            "lots": LOTS,
        },
    )
    assert opened.status_code == 201, opened.content
    tender = body(opened)
    assert [lot["kind"] for lot in tender["lots"]] == ["geographic", "locality-wide"]
    assert {c["key"] for c in tender["criteria"]} == {
        "quality",
        "value",
        "integration",
        "access",
        "social-value",
    }
    assert rep.get(f"{base}/tender/").status_code == 200
    lots = {lot["name"]: lot["id"] for lot in tender["lots"]}
    criteria = [c["id"] for c in tender["criteria"]]

    for lot, bidder in (
        ("Eastern hub", "Pathways Trust"),
        ("Eastern hub", "Open Doors"),
        ("Vocational services", "Workwise"),
    ):
        made = lead.post(
            f"{base}/bids/",
            {"lot": lots[lot], "bidder": bidder, "address": "1 High Street"},
        )
        assert made.status_code == 201, made.content
    bids = _ids(lead, f"{base}/bids/")

    # The representative declares an interest in one bid: the scoring service refuses them that
    # bid, on the ledger, and they may still give their views on it.
    declared = rep.post(
        f"{base}/bids/{bids['Open Doors']}/interests/",
        {"interest": "uses-service", "details": "Goes to the Open Doors centre twice a week."},
    )
    assert declared.status_code == 201, declared.content

    def score(caller: Caller, bidder: str, value: int) -> Any:
        return caller.post(
            f"{base}/bids/{bids[bidder]}/scores/",
            {"scores": [{"criterion": c, "score": value} for c in criteria]},
        )

    for caller, bidder, value in (
        (lead, "Pathways Trust", 4),
        (colleague, "Pathways Trust", 2),
        (rep, "Pathways Trust", 5),
        (rep2, "Pathways Trust", 5),
        (lead, "Open Doors", 3),
        (colleague, "Open Doors", 3),
        (rep2, "Open Doors", 2),
    ):
        answer = score(caller, bidder, value)
        assert answer.status_code == 201, answer.content
        assert len(body(answer)) == 5
    before = _ledger_counts()
    refused = score(rep, "Open Doors", 5)
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    assert body(refused)["code"] == "forbidden.recused"
    assert _ledger_counts() == (before[0], before[1] + 1)
    assert not Score.objects.filter(scorer=cast.representative, bid_id=bids["Open Doors"])
    views = rep.post(
        f"{base}/bids/{bids['Open Doors']}/comments/",
        {"text": "The centre is welcoming, but the minibus is often late."},
    )
    assert views.status_code == 201 and body(views)["recused"] is True
    assert body(lead.get(f"{base}/bids/{bids['Open Doors']}/comments/"))["count"] == 1
    listed = body(lead.get(f"{base}/bids/"))["results"]
    assert {b["bidder"]: b["recused"] for b in listed}["Open Doors"] == ["api-rep"]

    ranking = body(rep.get(f"{base}/evaluation/"))
    eastern = ranking["lots"][0]
    assert [(r["bidder"], r["total"], r["rank"]) for r in eastern["results"]] == [
        ("Pathways Trust", "76.00", 1),
        ("Open Doors", "52.00", 2),
    ]
    best = eastern["results"][0]
    assert (best["commissioners"], best["user_panel"]) == ("36.00", "40.00")
    parts: dict[str, float] = {}
    for part in best["parts"]:
        parts[part["who"]] = parts.get(part["who"], 0) + float(part["points"])
    assert parts == {"api-lead": 24, "api-colleague": 12, "api-rep": 20, "api-rep2": 20}
    assert eastern["results"][1]["recused"] == ["api-rep"]
    assert ranking["lots"][1]["results"][0]["rank"] is None

    moderated = lead.post(
        f"{base}/bids/{bids['Open Doors']}/moderations/",
        {
            "criterion": criteria[0],
            "side": "commissioners",
            "score": "3.5",
            "reason": "Agreed at moderation.",
        },
    )
    assert moderated.status_code == 201, moderated.content
    refused_moderation = rep2.post(
        f"{base}/bids/{bids['Open Doors']}/moderations/",
        {"criterion": criteria[0], "side": "user-panel", "score": "4", "reason": "Ours."},
    )
    assert body(refused_moderation)["code"].startswith("forbidden")

    meeting = lead.post(
        f"cycles/{cast.id}/meetings/",
        {
            "held_on": str(_today()),
            "forum": "Partnership board",
            "decision_maker": cast.decision_maker.username,
        },
    )
    assert meeting.status_code == 201, meeting.content
    papers = lead.post(f"cycles/{cast.id}/meetings/{body(meeting)['id']}/papers/", {})
    assert papers.status_code == 200, papers.content
    draft = body(lead.get(f"{base}/notice/"))
    assert draft["published"] is False and draft["missing"]

    decided = decider.post(
        f"{base}/decisions/",
        {
            "meeting": body(meeting)["id"],
            "awards": [
                {"lot": lots["Eastern hub"], "bid": bids["Pathways Trust"]},
                {"lot": lots["Vocational services"], "bid": None},
            ],
            "summary": "Award the eastern hub to Pathways Trust; no award for vocational services.",
            "reasons": REASONS,
        },
    )
    assert decided.status_code == 201, decided.content
    assert body(decided)["outcome"] == "award"
    assert {(a["lot"], a["bid"]) for a in body(decided)["lots"]} == {
        (lots["Eastern hub"], bids["Pathways Trust"]),
        (lots["Vocational services"], None),
    }

    published = lead.post(f"{base}/notice/", {"on": str(_today() - timedelta(days=2))})
    assert published.status_code == 201, published.content
    notice = body(published)
    assert notice["published"] is True and notice["standstill"]["may_award"] is False
    for field in ("decision_makers", "reasons", "conflicts", "providers", "lifetime_value"):
        assert notice["contents"][field], field

    early_award = lead.post(f"{base}/contract-award/", {})
    assert early_award.status_code == 409, early_award.content
    assert body(early_award)["code"].startswith("standstill")

    represented = lead.post(
        f"{base}/representations/",
        {"provider": "Open Doors", "summary": "Our bid was not scored fairly."},
    )
    assert represented.status_code == 201, represented.content
    waiting = body(lead.get(f"{base}/notice/"))["standstill"]
    assert waiting["may_award"] is False
    reviewed = decider.post(
        f"{base}/representations/{body(represented)['id']}/review/",
        {"outcome": "proceed", "reasons": "The scores stand after review."},
    )
    assert reviewed.status_code == 200, reviewed.content
    assert body(reviewed)["waits_until"]
    assert body(lead.get(f"{base}/representations/"))["results"][0]["outcome"] == "proceed"


@pytest.mark.django_db
def test_procurement_of_a_cycle_one_may_not_see_answers_404_and_writes_nothing() -> None:
    own, other = build_cast("near"), build_cast("far")
    caller = Caller(own.lead)
    before = _ledger_counts()
    for path in ("procurement/tender/", "procurement/evaluation/", "procurement/notice/"):
        answer = caller.get(f"cycles/{other.id}/{path}")
        assert answer.status_code == 404 and body(answer)["code"] == "cycle.not_found"
    answer = caller.post(
        f"cycles/{other.id}/procurement/routes/", {"answers": COMPETITIVE, "rationale": "x"}
    )
    assert answer.status_code == 404 and body(answer)["code"] == "cycle.not_found"
    assert _ledger_counts() == before
    assert caller.get(f"cycles/{own.id}/procurement/bids/99/comments/").status_code == 404


# --- the procurement tables of docs/permissions.md, through the API -----------------------------


def _bid(t: Cast) -> int:
    return Bid.objects.get(tender__cycle=t.cycle).pk


def _quality(t: Cast) -> int:
    return Criterion.objects.get(tender__cycle=t.cycle, key="quality").pk


Request = Callable[[Caller, Cast], Any]

REQUESTS: dict[str, Request] = {
    "route_record": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/routes/",
        {"answers": COMPETITIVE, "rationale": "A new model."},
    ),
    "tender_open": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/tender/",
        {
            "title": "Day services",
            "reference": "DS-1",
            "services": "Hubs",
            "cpv_code": "85311000",
            "lifetime_value": "1000000",
            "user_panel_weight": "30",
            "lots": LOTS,
        },
    ),
    "bid_record": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/bids/",
        {
            "lot": Lot.objects.filter(tender__cycle=t.cycle).first().pk,  # type: ignore[union-attr]
            "bidder": "Workwise",
            "address": "2 Mill Lane",
        },
    ),
    "bid_interest_declare": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/bids/{_bid(t)}/interests/",
        {"interest": "bidder-link", "details": "I volunteer there."},
    ),
    "score_record": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/bids/{_bid(t)}/scores/",
        {"scores": [{"criterion": _quality(t), "score": 4}]},
    ),
    "bid_comment_record": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/bids/{_bid(t)}/comments/",
        {"text": "A strong plan for transport."},
    ),
    "score_moderate": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/bids/{_bid(t)}/moderations/",
        {
            "criterion": _quality(t),
            "side": "commissioners",
            "score": "3.5",
            "reason": "Agreed at moderation.",
        },
    ),
    "award_decide": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/decisions/",
        {
            "meeting": t.cycle.decision_meetings.get().pk,
            "awards": [
                {"lot": lot.pk, "bid": _bid(t) if lot.name == "Eastern hub" else None}
                for lot in Lot.objects.filter(tender__cycle=t.cycle)
            ],
            "summary": "Award the eastern hub.",
            "reasons": REASONS,
        },
    ),
    "notice_publish": lambda c, t: c.post(f"cycles/{t.id}/procurement/notice/", {}),
    "representation_record": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/representations/",
        {"provider": "Open Doors", "summary": "Not scored fairly."},
    ),
    "representation_review": lambda c, t: c.post(
        f"cycles/{t.id}/procurement/representations/"
        f"{Representation.objects.get(notice__decision__tender__cycle=t.cycle).pk}/review/",
        {"outcome": "proceed", "reasons": "The scores stand."},
    ),
    "contract_award_record": lambda c, t: c.post(f"cycles/{t.id}/procurement/contract-award/", {}),
}


@pytest.fixture(scope="module")
def casts(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Cast, Cast]]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_cast("north"), build_cast("south")
        transaction.set_rollback(True)


def test_every_procurement_service_of_the_matrix_has_a_request() -> None:
    assert set(REQUESTS) == set(TRIES)


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_procurement_matrix_cell_holds_through_the_api(
    cell: Cell, casts: tuple[Cast, Cast]
) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    caller = Caller(fresh(getattr(own, cell.role)))
    prepare, _ = TRIES[cell.service]
    prepare(target)
    before = _ledger_counts()
    response = REQUESTS[cell.service](caller, target)
    after = _ledger_counts()

    if cell.allowed:
        assert 200 <= response.status_code < 300, response.content
        assert after == (before[0] + 1, before[1]), "exactly one event, no refusal"
        return
    problem = body(response)
    if SEES[(cell.scope, cell.role)]:
        assert response.status_code == 403, response.content
        assert problem["code"].startswith("forbidden"), problem
        assert after == (before[0], before[1] + 1), "exactly one refused event, nothing else"
    else:
        assert response.status_code == 404, response.content
        assert problem["code"] == "cycle.not_found"
        assert after == before, "nothing written for a cycle the caller may not see"
