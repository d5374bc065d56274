"""The governance board member's journey in a real browser, on the seeded demo: sign in, read the
compliance dashboard, drill into a cycle, verify its events and the whole ledger, read the audit
trail, override a dissent with reasons, and download the report on involvement as a PDF.

Every page visited is checked by ``Journey.visit`` (one ``h1``, axe-core at 1280 and 360 px, no
console error or CSP violation) and, with ``--screens``, photographed under docs/screens/."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cycle import selectors, services
from cycle.models import CommissioningCycle, GateOverride, UserInput
from roles.models import PanelMembership
from tests.web.browser import activate, choose_among, pick, press, tab_to
from tests.web.test_foundation_browser import focused_is_visible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY_SERVICES = "Day and vocational services re-commissioning 2007-09"
DISSENT = "We were not told that the standing committee's budget was still being decided."
REASONS = (
    "The standing committee starts next week and cannot wait for the next panel meeting. "
    "The dissent stands on the record and goes to the committee's first agenda."
)


def held_by_one_dissent() -> CommissioningCycle:
    """The day-services cycle at its monitoring gate, met but for one representative's dissent."""
    users = get_user_model().objects
    cycle = CommissioningCycle.objects.get(title=DAY_SERVICES)
    lead = users.get(username="gillian.marsh")
    for user_input in UserInput.objects.filter(cycle=cycle).unanswered():
        services.input_respond(
            actor=lead,
            cycle_id=cycle.pk,
            input_id=user_input.pk,
            kind="we-did",
            text="The committee gets a budget of its own for rooms and expenses from April.",
        )
    members = [
        membership.member
        for membership in PanelMembership.objects.active()
        .filter(cycle=cycle)
        .select_related("member")
        .order_by("id")
    ]
    gate = selectors.gate_snapshot(cycle)
    for member in members:
        if member.pk not in gate.acknowledged_by:
            services.boundaries_acknowledge(actor=member, cycle_id=cycle.pk)
    dissenter, *others = members
    for member in others:
        services.signoff_record(actor=member, cycle_id=cycle.pk)
    services.signoff_record(actor=dissenter, cycle_id=cycle.pk, dissent=DISSENT)
    assert selectors.gate_state(cycle).codes == ("signoff.dissent",)
    return cycle


def test_a_board_member_reads_the_dashboard_verifies_overrides_and_downloads_the_report(journey):
    """By keyboard alone, with the focus visible at each step."""
    cycle = held_by_one_dissent()
    walk = journey("governance", "david.achebe")
    page = walk.page
    walk.visit("home")

    # The dashboard: charts, each with its table.
    activate(page, "Compliance")
    walk.visit("dashboard")
    main = page.locator("main")
    assert "Northvale Health and Social Care Commissioning Consortium" in main.inner_text()
    assert page.locator("main svg[role=img]").count() >= 3
    assert page.get_by_role("table").filter(has_text="The numbers in the chart").count() >= 3
    gates_table = page.get_by_role("table").filter(has_text="Passed normally").first
    assert DAY_SERVICES in gates_table.inner_text()

    # Drill down to the cycle's record.
    activate(page, DAY_SERVICES)
    walk.visit("cycle-record")
    assert "is closed" in main.inner_text()
    assert DISSENT in main.inner_text()

    # Verify this cycle's events.
    activate(page, "Verify this cycle's events")
    walk.visit("verify-cycle")
    assert "events of this cycle verify" in page.locator("#verdict").inner_text()

    # The audit trail, filtered, and the whole ledger verified.
    activate(page, "Audit trail")
    walk.visit("audit-trail")
    press(page, "Filter the events")
    pick(page, "Action", "signoff.dissented")
    activate(page, "Show these events")
    walk.visit("audit-trail-filtered")
    assert page.locator("main tbody tr").count() >= 1
    assert "signoff.dissented" in page.locator("main tbody").inner_text()
    activate(page, "Verify the ledger")
    walk.visit("verify-ledger")
    assert "events of the ledger verify" in page.locator("#verdict").inner_text()

    # Override the dissent, with reasons: first without, then with.
    page.goto(walk.url(f"/governance/cycles/{cycle.pk}/"))
    activate(page, "Override the gate, with reasons")
    walk.visit("override")
    activate(page, "Record the override")
    walk.visit("override-errors")
    summary = page.locator(".nhsuk-error-summary").inner_text()
    assert "Tick at least one condition the board departs from" in summary
    assert "Enter the board's reasons for the override" in summary
    # By keyboard alone from here: the error summary's first link leads to the checkbox.
    # The design system moves focus to the error summary when the page loads.
    assert page.evaluate("document.activeElement.classList.contains('nhsuk-error-summary')")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_codes_0"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_codes_0"
    assert focused_is_visible(page)
    page.keyboard.press("Space")
    assert page.get_by_label("1 member recorded dissent", exact=False).is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_reason"
    assert focused_is_visible(page)
    page.keyboard.type(REASONS)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Record the override"
    assert focused_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(walk.url(f"/governance/cycles/{cycle.pk}/"))
    walk.visit("overridden")
    assert "You overrode the gate of" in page.locator(".nhsuk-notification-banner").inner_text()
    override = GateOverride.objects.filter(cycle=cycle).latest("id")
    assert override.reason == REASONS
    assert override.by.username == "david.achebe"

    # Download the report on involvement as a PDF.
    activate(page, "Report")
    walk.visit("report")
    choose_among(page, "Printable document (PDF)")
    tab_to(page, "Download the report")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
