"""The journeys in a real browser, on the demo: every page checked (one h1, axe-core at 1280 and
360 px, no console or CSP error) and, with ``--screens``, photographed into docs/screens/.

    python3 manage.py test tests/web -m browser --screens -p no:xdist
"""

from __future__ import annotations

import re

import pytest

from cycle.models import CommissioningCycle
from tests.web.browser import activate, choose, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def click(walk, name: str, role: str = "link") -> None:
    with walk.page.expect_navigation():
        walk.page.get_by_role(role, name=name).first.click()


def banner(walk) -> str:
    return walk.page.locator(".nhsuk-notification-banner").inner_text()


def summary(walk) -> str:
    return walk.page.locator(".nhsuk-error-summary").inner_text()


def test_commissioner_blocked_at_a_gate_fixes_it_from_the_checklist_and_goes_through(journey):
    lead = journey("commissioner", "gillian.marsh")
    page = lead.page
    lead.visit("home")

    click(lead, "Start a new cycle")
    lead.visit("start-a-cycle")
    click(lead, "Start the cycle", "button")
    assert "Enter a name for the cycle" in summary(lead)
    lead.visit("start-a-cycle-error")
    page.get_by_label("Name of the cycle").fill("Carers' breaks 2027")
    page.get_by_label("Commissioning cycle (nine stages)").check()
    click(lead, "Start the cycle", "button")
    assert "You started “Carers' breaks 2027”" in banner(lead)
    lead.visit("cycle")
    cycle_url = page.url

    click(lead, "Move on to the next stage", "button")
    assert "No user representatives are on the panel." in summary(lead)
    lead.visit("gate-closed")

    # Each unmet condition of the summary links to the page that fixes it.
    click(lead, "No involvement lead has been named for this cycle.")
    lead.visit("panel")
    click(lead, "Name the involvement lead")
    page.get_by_label("Who is responsible for involvement in this cycle?").select_option(
        label="Maggie Rowe (maggie.rowe)"
    )
    lead.visit("involvement-lead")
    click(lead, "Name the involvement lead", "button")
    assert "You named Maggie Rowe as the involvement lead." in banner(lead)
    click(lead, "Add someone to the panel")
    page.get_by_label("Who joins the panel?").select_option(label="Pauline Dobson (pauline.dobson)")
    page.get_by_label("Whom do they speak for? (optional)").fill("Carers in the north")
    lead.visit("add-to-panel")
    click(lead, "Add to the panel", "button")
    assert "You added Pauline Dobson to the panel." in banner(lead)
    lead.visit("panel-with-member")

    page.goto(cycle_url)
    click(lead, "Working agreement signed by everyone")
    lead.visit("agreement")
    click(lead, "Write the working agreement")
    page.get_by_label("What is the panel's job?").fill("Help plan carers' breaks.")
    page.get_by_label("What does each member agree to do?").fill("Come to four meetings.")
    page.get_by_label("Support and training offered").fill("A training day, and a buddy.")
    lead.visit("agreement-form")
    click(lead, "Save the working agreement", "button")
    assert "You recorded version 1 of the working agreement." in banner(lead)

    page.goto(cycle_url)
    click(lead, "Role boundaries agreed and acknowledged")
    lead.visit("boundaries-none")
    click(lead, "Record the role boundaries")
    page.get_by_label("Why are users involved in this stage?").fill(
        "To say what breaks carers need."
    )
    page.get_by_label("What will users do?").fill("Tell us what works, and what does not.")
    page.get_by_label("Influence", exact=True).check()
    page.get_by_label("Who actually decides?").fill("The council's cabinet.")
    lead.visit("boundaries-form")
    click(lead, "Save the role boundaries", "button")
    assert "You recorded version 1 of the role boundaries." in banner(lead)
    lead.visit("boundaries")

    page.goto(cycle_url)
    click(lead, "Budget told to the panel")
    lead.visit("budget-none")
    click(lead, "Tell the panel about the budget")
    page.get_by_label("Yes, give the amount").check()
    page.get_by_label("Amount in pounds").fill("250000")
    lead.visit("budget-form")
    click(lead, "Tell the panel", "button")
    assert "You told the panel £250,000.00 (version 1)." in banner(lead)

    page.goto(cycle_url)
    click(lead, "Most of the panel say they were involved as agreed")
    lead.visit("ask-for-sign-off")
    click(lead, "Ask the panel to sign off", "button")
    # Pauline was asked when she joined the panel, so asking again asks nobody new.
    assert "Everyone on the panel had already been asked." in banner(lead)
    lead.visit("sign-offs")

    # The representative does their part in their own browser.
    member = journey("commissioner", "pauline.dobson")
    member.page.goto(cycle_url)
    click(member, "Read what your part is in this stage, and say you have read it.")
    click(member, "I have read this", "button")
    click(member, "Read the working agreement and sign it.")
    click(member, "I agree and sign", "button")
    member.page.goto(cycle_url)
    click(member, "Tell us if you took part in the way that was agreed.")
    member.page.get_by_label("Yes. I took part as agreed, and I was told about the money.").check()
    click(member, "Send", "button")

    page.goto(cycle_url)
    assert "Everything is done." in page.locator("main").inner_text()
    lead.visit("gate-open")
    click(lead, "Move on to the next stage", "button")
    assert (
        "You moved the cycle on from “Agree the involvement framework” to “Assess needs and "
        "operating context”." in banner(lead)
    )
    lead.visit("moved-on")

    click(lead, "Open an earlier stage again")
    page.get_by_label("Agree the involvement framework").check()
    page.get_by_label("Why?").fill("A second carers' group asked to join the panel.")
    lead.visit("reopen")
    click(lead, "Open the stage again", "button")
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

    # The commissioner changes the budget.
    lead = journey("representative", "gillian.marsh")
    lead.page.goto(lead.url(f"/cycles/{cycle.pk}/budget/record/"))
    lead.page.get_by_label("Yes, give the amount").check()
    lead.page.get_by_label("Amount in pounds").fill("4100000")
    click(lead, "Tell the panel", "button")

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
    lead.page.goto(lead.url(f"/cycles/{cycle.pk}/inputs/"))
    lead.page.get_by_role("link", name=re.compile("^Answer .*Pauline Dobson")).first.click()
    lead.page.get_by_label("We did").check()
    lead.page.get_by_label("What was done, or why not").fill("The drop-in stays open on Fridays.")
    click(lead, "Send the answer", "button")
    assert "You answered “We did”." in banner(lead)

    page.goto(member.url(f"/cycles/{cycle.pk}/inputs/"))
    assert "We did: The drop-in stays open on Fridays." in page.locator("main").inner_text()
    member.visit("the-answer")


def test_involvement_lead_runs_the_panel_and_the_decision_maker_records_a_veto(journey):
    cycle = CommissioningCycle.objects.get(title__startswith="Day and vocational")
    lead = journey("involvement-lead", "maggie.rowe")
    page = lead.page
    lead.visit("home")
    page.goto(lead.url(f"/cycles/{cycle.pk}/panel/"))
    lead.visit("panel")
    button = page.get_by_role("button", name=re.compile("tender panel for ")).first
    action, name = (part.strip() for part in button.inner_text().split(" for ", 1))
    with page.expect_navigation():
        button.click()
    if action.startswith("Put on"):
        assert f"You put {name} on the tender panel." in banner(lead)
    else:
        assert f"You took {name} off the tender panel." in banner(lead)
    lead.visit("tender-panel")
    page.goto(lead.url(f"/cycles/{cycle.pk}/agreement/"))
    click(lead, "Change the working agreement")
    page.get_by_label("Expenses and payment").fill("Travel and a carer's time paid on the day.")
    click(lead, "Save the working agreement", "button")
    assert "Every panel member must sign it." in banner(lead)
    lead.visit("agreement")

    maker = journey("decision-maker", "catherine.holt")
    maker.page.goto(maker.url(f"/cycles/{cycle.pk}/decisions/"))
    maker.visit("decisions")
    click(maker, "Record a decision")
    maker.page.get_by_label("What was decided?").fill("Keep the standing committee for a year.")
    maker.page.get_by_label("A veto was used").check()
    click(maker, "Record the decision", "button")
    assert "Say why the veto was used" in summary(maker)
    maker.visit("decision-error")
    maker.page.get_by_label("Why the veto was used").fill("The user-run model needs a costed plan.")
    click(maker, "Record the decision", "button")
    assert "The veto and its reasons are on the record." in banner(maker)
    maker.visit("decision-recorded")
