"""The procurement pages in a real browser, on the demo's day-services tender: each page checked
as every journey's pages are (one h1, axe-core at 1280 and 360 px, no console or CSP error)."""

from __future__ import annotations

import pytest

from cycle.models import CommissioningCycle
from cycle.procurement.models import Bid, Representation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_procurement_pages_pass_the_accessibility_checks(journey):
    cycle = CommissioningCycle.objects.get(title__startswith="Day and vocational services")
    base = f"/cycles/{cycle.pk}/procurement"
    bid = Bid.objects.filter(tender__cycle=cycle).order_by("id").first()
    lead = journey("procurement-commissioner", "gillian.marsh")

    lead.goto(f"{base}/", "overview")
    lead.goto(f"{base}/route/", "route")
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Continue").click()
    lead.visit("route-check")
    assert "Check your answers" in lead.page.locator("h1").inner_text()
    for path, name in (
        ("tender/", "tender"),
        ("bids/new/", "bid"),
        (f"bids/{bid.pk}/moderate/", "moderate"),
        ("meeting/", "meeting"),
        ("notice/", "notice"),
        ("notice/publish/", "notice-publish"),
        ("representations/new/", "representation"),
        ("contract/", "contract"),
    ):
        lead.goto(f"{base}/{path}", name)
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Record the contract").click()
    lead.visit("contract-error")
    assert lead.page.locator(".nhsuk-error-summary").count() == 1

    decider = journey("procurement-decision-maker", "catherine.holt")
    decider.goto(f"{base}/award/", "award")
    assert not Representation.objects.exists()
