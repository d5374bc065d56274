"""A seeded cycle taken from where the demo leaves it to completion in the browser alone: no
command line, no override. Each person signs in in their own browser and does their part by
keyboard, from the gate's checklist (one member first dissents with reasons and takes it back); every page is checked as in the journeys (one h1, axe-core
at 1280 and 360 px, no console or CSP error) and, with ``--screens``, photographed."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cycle import selectors
from cycle.models import CommissioningCycle, GateOverride, StageVisit
from roles.models import PanelMembership
from tests.web.browser import activate, choose, choose_among, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "panel-member-demo"


def banner(walk) -> str:
    return walk.page.locator(".nhsuk-notification-banner").inner_text()


def test_day_services_is_completed_in_the_browser_alone_with_no_override(journey):
    cycle = CommissioningCycle.objects.get(title__startswith="Day and vocational")
    assert cycle.current_stage == "monitoring"  # the last stage, its gate closed
    cycle_path = f"/cycles/{cycle.pk}/"
    lead = journey("completion", "gillian.marsh")
    page = lead.page
    lead.goto(cycle_path, "cycle")
    activate(page, "Move on to the next stage")
    blocked = page.locator(".nhsuk-error-summary").inner_text()
    assert "have not acknowledged" in blocked and "no answer yet" in blocked
    lead.visit("blocked")

    # Those who have not read their part yet, and one who has, each in their own browser.
    # The scenario's people have no password of their own; one is set for them here, as an
    # administrator would, so that they sign in through the sign-in page like anyone else.
    gate = selectors.gate_snapshot(cycle)
    panel = list(
        PanelMembership.objects.active().filter(cycle=cycle).select_related("member").order_by("id")
    )
    waiting = [m.member for m in panel if m.member.pk not in gate.acknowledged_by]
    assert waiting
    users = get_user_model().objects
    for member in waiting:
        member.set_password(PASSWORD)
        member.save(update_fields=["password"])
    pauline = users.get(username="pauline.dobson")
    people = [(member.username, PASSWORD) for member in waiting] + [(pauline.username, None)]
    for number, (username, password) in enumerate(people):
        walk = journey(f"completion-member-{number + 1}", username, password)
        mine = walk.page
        first = number == 0  # the others see the same pages: check and photograph them once
        mine.goto(walk.url(cycle_path))
        if first:
            walk.visit("cycle")
        if username != pauline.username:
            activate(mine, "Read what your part is in this stage, and say you have read it.")
            activate(mine, "I have read this")
            assert "You said you have read your part in this stage" in banner(walk)
            if first:
                walk.visit("read-it")
            mine.goto(walk.url(cycle_path))
        if first:
            # First they say it did not go as agreed, then take it back once it is put right.
            activate(mine, "Tell us if you took part in the way that was agreed.")
            choose_among(mine, "No. It did not happen as agreed.")
            type_into(mine, "If no, tell us what went wrong", "Nobody told me about the meeting.")
            walk.visit("dissent")
            activate(mine, "Send")
            assert "You said it did not happen as agreed. We wrote down your reasons." in banner(
                walk
            )
            walk.visit("dissented")
            mine.goto(walk.url(f"{cycle_path}sign-off/"))
            assert "Nobody told me about the meeting." in mine.locator("main").inner_text()
            walk.visit("take-it-back")
            activate(mine, "Take it back")
            assert "You took back what you said went wrong." in banner(walk)
            walk.visit("took-it-back")
            mine.goto(walk.url(cycle_path))
        activate(mine, "Tell us if you took part in the way that was agreed.")
        choose(mine, "Yes. I took part as agreed, and I was told about the money.")
        if first:
            walk.visit("tell-us")
        activate(mine, "Send")
        assert "You said you took part as agreed" in banner(walk)
        if first:
            walk.visit("told-us")

    # The lead answers the input the checklist points to.
    lead.goto(cycle_path, "cycle-after-the-panel")
    activate(page, "Every input answered")
    lead.visit("inputs")
    activate(page, "Answer the input from")
    choose_among(page, "We did")
    type_into(page, "What was done, or why not", "The committee becomes user-run from April.")
    lead.visit("answer")
    activate(page, "Send the answer")
    assert "You answered “We did”." in banner(lead)

    lead.goto(cycle_path, "gate-open")
    assert "Everything is done." in page.locator("main").inner_text()
    activate(page, "Move on to the next stage")
    assert "That was the last stage: it is complete." in banner(lead)
    lead.visit("complete")

    cycle.refresh_from_db()
    assert cycle.status == CommissioningCycle.Status.COMPLETED
    last = StageVisit.objects.filter(cycle=cycle, stage_key="monitoring").latest("id")
    assert last.closed_at is not None
    assert last.closure == StageVisit.Closure.PASSED
    assert not GateOverride.objects.filter(cycle=cycle, visit=last).exists()
