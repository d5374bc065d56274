"""The decision meeting pages in a real browser, on the demo's day-services cycle: each page
checked as every journey's pages are (one h1, axe-core at 1280 and 360 px, no console or CSP
error), through a refusal, a check of the answers and the late-papers warning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cycle import workdays
from cycle.models import CommissioningCycle, DecisionMeeting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_meeting_pages_pass_the_accessibility_checks(journey):
    cycle = CommissioningCycle.objects.get(title__startswith="Day and vocational services")
    base = f"/cycles/{cycle.pk}/meetings"
    held = DecisionMeeting.objects.filter(cycle=cycle).order_by("id").first()
    soon = workdays.uk_date(timezone.now()) + timedelta(days=3)
    lead = journey("meetings-commissioner", "gillian.marsh")

    lead.goto(f"{base}/", "list")
    lead.goto(f"{base}/new/", "schedule")
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Continue").click()
    lead.visit("schedule-error")
    assert lead.page.locator(".nhsuk-error-summary").count() == 1
    lead.page.get_by_label("Date of the meeting").fill(soon.strftime("%d/%m/%Y"))
    lead.page.get_by_label("Where is it decided?").fill("Consortium senior management")
    lead.page.get_by_label("Catherine Holt").check()
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Continue").click()
    lead.visit("schedule-check")
    assert "Check your answers" in lead.page.locator("h1").inner_text()
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Schedule the meeting").click()
    lead.visit("list-scheduled")
    meeting = DecisionMeeting.objects.filter(cycle=cycle, held_on=soon).get()

    lead.goto(f"{base}/{meeting.pk}/papers/", "papers")
    lead.page.get_by_label("Date the papers went to the panel").fill(
        workdays.uk_date(timezone.now()).strftime("%d/%m/%Y")
    )
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Continue").click()
    lead.visit("papers-check")
    assert lead.page.locator("#papers-warning").count() == 1
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Record the date").click()
    lead.visit("list-papers-late")
    assert "Papers sent late" in lead.page.locator("main").inner_text()
    lead.goto(f"{base}/{meeting.pk}/change/", "change")
    lead.goto(f"{base}/{held.pk}/papers/", "papers-held")

    member = journey("meetings-representative", "pauline.dobson")
    member.goto("/", "home")
    assert "Decision meetings coming up" in member.page.locator("main").inner_text()
    member.goto(f"{base}/", "list")
