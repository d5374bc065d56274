"""The journeys in a real browser, on the demo: every page checked (one h1, axe-core at 1280 and
360 px, no console or CSP error) and, with ``--screens``, photographed into docs/screens/.

    python3 manage.py test tests/web -m browser --screens -p no:xdist
"""

from __future__ import annotations

import re

import pytest

from cycle.models import CommissioningCycle
from tests.web.browser import activate, choose, choose_among, pick, press, tab_to, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def click(walk, name: str, role: str = "link") -> None:
    with walk.page.expect_navigation():
        walk.page.get_by_role(role, name=name).first.click()


def banner(walk) -> str:
    return walk.page.locator(".nhsuk-notification-banner").inner_text()


def summary(walk) -> str:
    return walk.page.locator(".nhsuk-error-summary").inner_text()


def test_commissioner_blocked_at_a_gate_fixes_it_from_the_checklist_and_goes_through(journey):
    """By keyboard alone, with the focus visible at each step (the new panel member's part too)."""
    lead = journey("commissioner", "gillian.marsh")
    page = lead.page
    lead.visit("home")

    activate(page, "Start a new cycle")
    lead.visit("start-a-cycle")
    activate(page, "Start the cycle")
    assert "Enter a name for the cycle" in summary(lead)
    lead.visit("start-a-cycle-error")
    type_into(page, "Name of the cycle", "Carers' breaks 2027")
    choose_among(page, "Commissioning cycle (nine stages)")
    activate(page, "Start the cycle")
    assert "You started “Carers' breaks 2027”" in banner(lead)
    lead.visit("cycle")
    cycle_url = page.url

    activate(page, "Move on to the next stage")
    assert "No user representatives are on the panel." in summary(lead)
    lead.visit("gate-closed")

    # Each unmet condition of the summary links to the page that fixes it.
    activate(page, "No involvement lead has been named for this cycle.")
    lead.visit("panel")
    activate(page, "Name the involvement lead")
    pick(page, "Who is responsible for involvement in this cycle?", "Maggie Rowe (maggie.rowe)")
    lead.visit("involvement-lead")
    activate(page, "Name the involvement lead")
    assert "You named Maggie Rowe as the involvement lead." in banner(lead)
    activate(page, "Add someone to the panel")
    pick(page, "Who joins the panel?", "Pauline Dobson (pauline.dobson)")
    type_into(page, "Whom do they speak for? (optional)", "Carers in the north")
    lead.visit("add-to-panel")
    activate(page, "Add to the panel")
    assert "You added Pauline Dobson to the panel." in banner(lead)
    lead.visit("panel-with-member")

    page.goto(cycle_url)
    activate(page, "Working agreement signed by everyone")
    lead.visit("agreement")
    activate(page, "Write the working agreement")
    type_into(page, "What is the panel's job?", "Help plan carers' breaks.")
    type_into(page, "What does each member agree to do?", "Come to four meetings.")
    type_into(page, "Support and training offered", "A training day, and a buddy.")
    lead.visit("agreement-form")
    activate(page, "Save the working agreement")
    assert "You recorded version 1 of the working agreement." in banner(lead)

    page.goto(cycle_url)
    activate(page, "Role boundaries agreed and acknowledged")
    lead.visit("boundaries-none")
    activate(page, "Record the role boundaries")
    type_into(page, "Why are users involved in this stage?", "To say what breaks carers need.")
    type_into(page, "What will users do?", "Tell us what works, and what does not.")
    choose_among(page, "Influence")
    type_into(page, "Who actually decides?", "The council's cabinet.")
    lead.visit("boundaries-form")
    activate(page, "Save the role boundaries")
    assert "You recorded version 1 of the role boundaries." in banner(lead)
    lead.visit("boundaries")

    page.goto(cycle_url)
    activate(page, "Budget told to the panel")
    lead.visit("budget-none")
    activate(page, "Tell the panel about the budget")
    choose_among(page, "Yes, give the amount")
    type_into(page, "Amount in pounds", "250000")
    lead.visit("budget-form")
    activate(page, "Tell the panel")
    assert "You told the panel £250,000.00 (version 1)." in banner(lead)

    page.goto(cycle_url)
    activate(page, "Most of the panel say they were involved as agreed")
    lead.visit("ask-for-sign-off")
    activate(page, "Ask the panel to sign off")
    # Pauline was asked when she joined the panel, so asking again asks nobody new.
    assert "Everyone on the panel had already been asked." in banner(lead)
    lead.visit("sign-offs")

    # The new panel member does their part in their own browser, by keyboard too.
    member = journey("new-member", "pauline.dobson")
    mine = member.page
    member.goto(cycle_url.removeprefix(member.base_url), "cycle")
    activate(mine, "Read what your part is in this stage, and say you have read it.")
    member.visit("your-part")
    activate(mine, "I have read this")
    assert "You said you have read your part in this stage" in banner(member)
    member.visit("read-it")
    mine.goto(cycle_url)
    activate(mine, "Read the working agreement and sign it.")
    member.visit("agreement")
    activate(mine, "I agree and sign")
    assert "You signed" in banner(member)
    member.visit("signed")
    mine.goto(cycle_url)
    activate(mine, "Tell us if you took part in the way that was agreed.")
    choose(mine, "Yes. I took part as agreed, and I was told about the money.")
    member.visit("tell-us")
    activate(mine, "Send")
    assert "You said you took part as agreed" in banner(member)

    page.goto(cycle_url)
    assert "Everything is done." in page.locator("main").inner_text()
    lead.visit("gate-open")
    activate(page, "Move on to the next stage")
    assert (
        "You moved the cycle on from “Agree the involvement framework” to “Assess needs and "
        "operating context”." in banner(lead)
    )
    lead.visit("moved-on")

    activate(page, "Open an earlier stage again")
    choose_among(page, "Agree the involvement framework")
    type_into(page, "Why?", "A second carers' group asked to join the panel.")
    lead.visit("reopen")
    activate(page, "Open the stage again")
    assert "You opened “Agree the involvement framework” again." in banner(lead)
    assert (
        "A second carers' group asked to join the panel." in page.locator("#timeline").inner_text()
    )
    cycle = CommissioningCycle.objects.get(title="Carers' breaks 2027")
    assert cycle.current_stage == "framework"


def test_representative_sees_a_budget_change_marked_re_attests_gives_input_and_reads_the_answer(
    journey,
):
    """The representative's part is done by keyboard alone, with the focus visible at each step."""
    cycle = CommissioningCycle.objects.get(title__startswith="Day and vocational")
    member = journey("representative", "pauline.dobson")
    page = member.page
    member.visit("home")
    assert page.locator("main h2").first.inner_text() == "What we ask you to do"

    activate(page, "Tell us if you took part in the way that was agreed.")
    member.visit("tell-us")
    activate(page, "Send")  # nothing chosen yet
    assert "Choose yes or no" in summary(member)
    member.visit("tell-us-error")
    choose(page, "Yes. I took part as agreed")
    activate(page, "Send")
    assert (
        "You said you took part as agreed, and that you were told about the money. You did not "
        "say yes to any choice." in banner(member)
    )
    member.visit("told-us")
    activate(page, "What you can change, and who decides")
    assert "You said you have read this." in page.locator("main").inner_text()
    member.visit("your-part")

    # The commissioner changes the budget (by keyboard too).
    lead = journey("budget-and-answer", "gillian.marsh")
    desk = lead.page
    lead.goto(f"/cycles/{cycle.pk}/budget/", "budget")
    activate(desk, "Change the budget")
    choose_among(desk, "Yes, give the amount")
    tab_to(desk, "Amount in pounds")
    desk.keyboard.press("Control+A")
    desk.keyboard.type("4100000")
    lead.visit("budget-form")
    activate(desk, "Tell the panel")
    assert "You told the panel £4,100,000.00" in banner(lead)
    lead.visit("budget-changed")

    page.goto(member.url("/"))
    assert (
        "Something changed since you last told us how it went" in page.locator("main").inner_text()
    )
    member.visit("home-something-changed")
    activate(page, "Day and vocational services")
    activate(page, "The money")
    assert "The money has changed" in page.locator("main").inner_text()
    assert "Now: £4,100,000.00" in page.locator("main").inner_text()
    member.visit("money-changed")
    activate(page, "Please tell us again how it went")
    choose(page, "Yes. I took part as agreed")
    activate(page, "Send")
    assert "You said you took part as agreed" in banner(member)

    activate(page, "Your ideas, and our answers")
    member.visit("your-ideas")
    activate(page, "Tell us what you think")
    member.visit("tell-us-what-you-think")
    type_into(page, "What do you want to tell them?", "Please keep the Friday drop-in open.")
    activate(page, "Send it")
    assert "You sent what you had to say." in banner(member)

    # The commissioner answers it.
    lead.goto(f"/cycles/{cycle.pk}/inputs/", "inputs")
    activate(desk, "Answer the input from Pauline Dobson")
    lead.visit("answer-form")
    choose_among(desk, "We did")
    type_into(desk, "What was done, or why not", "The drop-in stays open on Fridays.")
    activate(desk, "Send the answer")
    assert "You answered “We did”." in banner(lead)
    lead.visit("answered")

    page.goto(member.url(f"/cycles/{cycle.pk}/inputs/"))
    assert "We did: The drop-in stays open on Fridays." in page.locator("main").inner_text()
    member.visit("the-answer")


def test_involvement_lead_runs_the_panel_and_the_decision_maker_records_a_veto(journey):
    """Both by keyboard alone, with the focus visible at each step."""
    cycle = CommissioningCycle.objects.get(title__startswith="Day and vocational")
    lead = journey("involvement-lead", "maggie.rowe")
    page = lead.page
    lead.visit("home")
    activate(page, "Day and vocational services")
    activate(page, "Panel and involvement lead")
    lead.visit("panel")
    button = page.get_by_role("button", name=re.compile("tender panel for ")).first
    action, name = (part.strip() for part in button.inner_text().split(" for ", 1))
    activate(page, f"{action} for {name}")
    if action.startswith("Put on"):
        assert f"You put {name} on the tender panel." in banner(lead)
    else:
        assert f"You took {name} off the tender panel." in banner(lead)
    lead.visit("tender-panel")
    page.goto(lead.url(f"/cycles/{cycle.pk}/agreement/"))
    activate(page, "Change the working agreement")
    tab_to(page, "Expenses and payment")
    page.keyboard.press("Control+A")
    page.keyboard.type("Travel and a carer's time paid on the day.")
    lead.visit("agreement-form")
    activate(page, "Save the working agreement")
    assert "Every panel member must sign it." in banner(lead)
    lead.visit("agreement")

    maker = journey("decision-maker", "catherine.holt")
    desk = maker.page
    maker.goto(f"/cycles/{cycle.pk}/decisions/", "decisions")
    activate(desk, "Record a decision")
    type_into(desk, "What was decided?", "Keep the standing committee for a year.")
    choose(desk, "A veto was used")
    activate(desk, "Record the decision")
    assert "Say why the veto was used" in summary(maker)
    maker.visit("decision-error")
    # From the error summary, its link leads to the field to fix.
    activate_link_in_place(desk, "Say why the veto was used")
    desk.keyboard.type("The user-run model needs a costed plan.")
    activate(desk, "Record the decision")
    assert "The veto and its reasons are on the record." in banner(maker)
    maker.visit("decision-recorded")


def activate_link_in_place(page, text: str) -> None:
    """Follow a link to a place on the same page (an error summary's link to its field)."""
    press(page, text)
    assert page.evaluate("['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement.tagName)")
