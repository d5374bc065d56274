"""The procurement pages: scoring a bid, a recused member giving views, the ranking, the notice."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cycle.models import AuditEvent
from cycle.procurement import services as procurement
from cycle.procurement.models import BidComment, Score
from roles import services as role_services
from tests.procurement.conftest import Tendering
from tests.procurement.test_decision import REASONS

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def one_h1(response: Any) -> None:
    assert response.content.decode().count("<h1") == 1


def test_a_panel_member_scores_a_bid_on_the_page(tendering: Tendering) -> None:
    cast = tendering.cast
    bid = tendering.bid("Pathways Trust")
    url = reverse("web:procurement-bid", args=[cast.id, bid.pk])
    client = client_for(cast.representative)

    page = client.get(url)
    form = {f"score_{c.pk}": "4" for c in tendering.tender.criteria.all()}
    form[f"comment_{tendering.criterion('access').pk}"] = "A minibus from the villages."
    saved = client.post(url, form, follow=True)

    assert page.status_code == 200
    one_h1(page)
    assert "Give each part a score from 0 to 5" in text(page)
    assert saved.redirect_chain[-1][0] == reverse("web:procurement", args=[cast.id])
    assert "You saved your scores for the bid by Pathways Trust." in text(saved)
    assert (
        sorted(Score.objects.filter(scorer=cast.representative).values_list("score", flat=True))
        == [4] * 5
    )
    assert Score.objects.get(criterion=tendering.criterion("access")).comment.startswith("A mini")


def test_a_missing_score_is_an_error_summary_and_nothing_is_written(tendering: Tendering) -> None:
    cast = tendering.cast
    bid = tendering.bid("Pathways Trust")
    response = client_for(cast.lead).post(
        reverse("web:procurement-bid", args=[cast.id, bid.pk]), {}
    )

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.content.decode()
    assert "Choose a score for Quality and innovation" in text(response)
    assert not Score.objects.exists()


def test_a_recused_member_is_told_why_and_can_still_give_views(tendering: Tendering) -> None:
    cast = tendering.cast
    role_services.conflict_declare(
        actor=cast.representative,
        cycle_id=cast.id,
        interest="uses-service",
        details="I go to Open Doors on Tuesdays.",
    )
    bid = tendering.bid("Open Doors")
    client = client_for(cast.representative)
    url = reverse("web:procurement-bid", args=[cast.id, bid.pk])

    page = client.get(url)
    posted = client.post(url, {f"score_{c.pk}": "5" for c in tendering.tender.criteria.all()})
    views = client.post(
        reverse("web:procurement-bid-views", args=[cast.id, bid.pk]),
        {"text": "Staff are kind; the building has no lift."},
        follow=True,
    )

    assert "So you do not score it" in text(page)
    assert 'name="score_' not in page.content.decode()
    assert "forbidden.recused" in AuditEvent.objects.filter(outcome="refused").last().payload  # type: ignore[union-attr]
    assert posted.status_code == 200 and not Score.objects.exists()
    assert "You gave your views on the bid by Open Doors." in text(views)
    assert BidComment.objects.get(author=cast.representative).recused


def test_the_ranking_shows_each_scorers_part_and_who_was_recused(tendering: Tendering) -> None:
    cast = tendering.cast
    role_services.conflict_declare(
        actor=cast.representative,
        cycle_id=cast.id,
        interest="uses-service",
        details="I go to Open Doors.",
    )
    for scorer in (cast.lead, cast.second_representative):
        tendering.score_all(scorer, "Open Doors", 3)
    tendering.score_all(cast.lead, "Pathways Trust", 5)
    tendering.score_all(cast.second_representative, "Pathways Trust", 4)

    page = client_for(cast.decision_maker).get(reverse("web:procurement", args=[cast.id]))

    body = text(page)
    one_h1(page)
    assert "Competitive process" in body
    assert "Weight of the user panel's scores 40%" in body
    # Pathways Trust: 20 x (0.6 x 5 + 0.4 x 4) / 5 x 5 = 92; Open Doors 60.
    assert re.search(r"1 Pathways Trust 60.00 32.00 92.00", body)
    assert re.search(r"2 Open Doors 36.00 24.00 60.00", body)
    assert "Did not score it, because of a declared interest: east-rep." in body
    assert "east-rep2 User panel Quality and innovation 4 6.40" in body
    assert "Score or give views" not in body  # the decision-maker does not score


def test_the_notice_page_reads_the_published_notice(tendering: Tendering) -> None:
    cast = tendering.cast
    lots = {lot.name: lot.pk for lot in tendering.tender.lots.all()}
    procurement.award_decide(
        actor=cast.decision_maker,
        cycle_id=cast.id,
        meeting_id=tendering.meeting().pk,
        awards={
            lots["Eastern hub"]: tendering.bid("Pathways Trust").pk,
            lots["Vocational services"]: None,
        },
        summary="Award the eastern hub to Pathways Trust; no award for vocational services.",
        reasons=REASONS,
    )
    url = reverse("web:procurement-notice", args=[cast.id])
    draft = client_for(cast.representative).get(url)
    procurement.notice_publish(actor=cast.lead, cycle_id=cast.id, published_on="2008-12-12")

    page = client_for(cast.representative).get(url)

    assert "Draft" in text(draft)
    body = text(page)
    one_h1(page)
    assert "Published on 12 December 2008" in body
    assert "until the end of 24 December 2008" in body
    assert "Eastern hub: Pathways Trust, 1 High Street, Pathways Trust House" in body
    assert "east-decider, Partnership board" in body
    assert REASONS["social-value"] in body
    assert "No conflicts of interest were declared." in body


def test_once_the_award_is_decided_the_ranking_offers_no_more_scoring(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    overview = reverse("web:procurement", args=[cast.id])
    assert "Score or give views" in text(client_for(cast.representative).get(overview))
    lots = {lot.name: lot.pk for lot in tendering.tender.lots.all()}
    procurement.award_decide(
        actor=cast.decision_maker,
        cycle_id=cast.id,
        meeting_id=tendering.meeting().pk,
        awards={lots["Eastern hub"]: None, lots["Vocational services"]: None},
        summary="No award: neither lot had a bid good enough.",
        reasons=REASONS,
    )

    body = text(client_for(cast.representative).get(overview))

    assert "Score or give views" not in body
    assert "Scoring closed: the award is decided" in body


def test_someone_who_cannot_see_the_cycle_gets_not_found(tendering: Tendering) -> None:
    from tests.factories import representative

    outsider = client_for(representative("stranger"))
    assert outsider.get(reverse("web:procurement", args=[tendering.id])).status_code == 404
