"""The external pressures register, who is missing and the self-assessment in a real browser, on
the demo's day-services cycle: each page checked as every journey's pages are (one h1, axe-core
at 1280 and 360 px, no console or CSP error) and, with ``--screens``, photographed."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from cycle import duty_services, self_assessment
from cycle.models import CommissioningCycle, Consultation, CoverageGroup, SignOff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEAD = "gillian.marsh"
MEMBER = "pauline.dobson"
INVOLVEMENT_LEAD = "maggie.rowe"
GOVERNOR = "david.achebe"


def _day_services() -> CommissioningCycle:
    return CommissioningCycle.objects.get(title__startswith="Day and vocational services")


def _user(username: str):
    return get_user_model().objects.get(username=username)


def test_the_pressures_pages_pass_the_accessibility_checks(journey):
    cycle = _day_services()
    base = f"/cycles/{cycle.pk}/pressures"
    lead = journey("pressures-commissioner", LEAD)
    lead.goto(f"{base}/", "none")
    lead.goto(f"{base}/record/", "record")
    with lead.page.expect_navigation():
        lead.page.get_by_role("button", name="Record the pressure").click()
    lead.visit("record-error")
    assert lead.page.locator(".nhsuk-error-summary").count() == 1

    actor = _user(LEAD)
    duty_services.pressure_record(
        actor=actor,
        cycle_id=cycle.pk,
        category="budget",
        title="The council's savings plan for next year",
        implication="There may be less money for day centres, so fewer hubs may be possible.",
        affects=["needs", "priorities"],
    )
    duty_services.pressure_record(
        actor=actor,
        cycle_id=cycle.pk,
        category="political-control",
        title="A new cabinet member for adult care",
        implication="The priorities may change after the election.",
        disclosed=False,
        withheld_reason="The cabinet decides on 3 March.",
    )
    lead.goto(f"{base}/", "register")
    assert lead.page.get_by_role("button", name="Tell the panel now").count() == 1

    member = journey("pressures-panel-member", MEMBER)
    member.goto(f"{base}/", "register")
    text = member.page.locator("main").inner_text()
    assert "fewer hubs may be possible" in text and "The cabinet decides on 3 March." in text
    assert "A new cabinet member" not in text


def test_the_who_is_missing_pages_pass_the_accessibility_checks(journey):
    cycle = _day_services()
    base = f"/cycles/{cycle.pk}/coverage"
    lead = journey("who-is-missing-commissioner", LEAD)
    lead.goto(f"{base}/", "none")
    lead.goto(f"{base}/add/", "add")
    with lead.page.expect_navigation():
        lead.page.locator("main button[type=submit]").first.click()
    lead.visit("add-error")
    assert lead.page.locator(".nhsuk-error-summary").count() == 1

    actor = _user(LEAD)
    duty_services.coverage_group_add(
        actor=actor, cycle_id=cycle.pk, name="Travellers", kind="easy-to-overlook"
    )
    duty_services.coverage_group_add(actor=actor, cycle_id=cycle.pk, name="Age", kind="equality")
    lead.goto(f"/cycles/{cycle.pk}/", "cycle-flagged")
    assert lead.page.locator("#who-is-missing").count() == 1
    lead.goto(f"{base}/", "groups")

    group = CoverageGroup.objects.get(cycle=cycle, name="Travellers")
    involvement = journey("who-is-missing-involvement-lead", INVOLVEMENT_LEAD)
    involvement.goto(f"{base}/{group.pk}/", "group")
    # The page asks for consultation numbers only where it has a field for them.
    text = involvement.page.locator("main").inner_text()
    asks = "answered each consultation" in text
    fields = involvement.page.get_by_label("How many respondents to").count()
    assert asks == (fields > 0) == Consultation.objects.filter(cycle=cycle).exists()


def test_the_self_assessment_pages_pass_the_accessibility_checks(journey):
    cycle = _day_services()
    organisation = cycle.organisation
    base = f"/governance/organisations/{organisation.pk}/self-assessment"
    governor = journey("self-assessment-governance", GOVERNOR)
    governor.goto(f"{base}/", "none")
    governor.goto(f"{base}/record/", "record")

    signoff = SignOff.objects.filter(cycle=cycle, visit__stage_key="needs", kind="attest").first()
    assert signoff is not None
    actor = _user(GOVERNOR)
    for assessed_on, needs in (("2026-03-02", 2), ("2026-09-01", 4)):
        scores = [
            {"dimension": key, "score": 2, "comments": "", "evidence": []}
            for key in self_assessment.DIMENSION_KEYS
        ]
        scores[0] = {
            "dimension": self_assessment.DIMENSION_KEYS[0],
            "score": needs,
            "comments": "The panel was involved in every needs assessment.",
            "evidence": [f"signoff:{signoff.pk}"],
        }
        duty_services.self_assessment_record(
            actor=actor,
            organisation_id=organisation.pk,
            scores=scores,
            assessed_on=date.fromisoformat(assessed_on),
            contact_name="David Achebe",
        )
    governor.goto(f"{base}/", "scores")
    page = governor.page
    assert page.locator("[role=img]").count() == 1 and page.locator("#latest").count() == 1
    # A stage no cycle reached has no suggestion, said in words rather than as "None".
    clinical = page.locator("#latest tr[data-stage='clinical-decisions']")
    assert clinical.locator("td").last.inner_text().endswith("No score")
    text = page.locator("main").inner_text()
    assert "in the assessments of 2 March 2026 and 1 September 2026:" in text
