"""The duty to involve and consultations, through the pages: the commissioner records them, the
governance board reads them, and the cycle's checklist links to them."""

from __future__ import annotations

from cycle.models import Consultation
from tests.web.pages import h1_count

LEAD = "gillian.marsh"
GOVERNOR = "david.achebe"


def test_the_board_reads_the_assessment_and_its_reasons_without_a_button(demo, client_as):
    cycle = demo["day-services"]
    page = client_as(GOVERNOR).get(f"/cycles/{cycle.pk}/duty/").content.decode()

    assert 'data-outcome="required"' in page and "limb (a) planning" in page
    assert 'data-scrutiny="yes"' in page
    assert 'data-rule="scrutiny.substantial"' in page
    assert "2008 wording" in page
    assert "Assess the duty again" not in page


def test_the_lead_assesses_again_and_a_proposal_change_shows_the_old_one_is_stale(demo, client_as):
    cycle = demo["dermatology-tender"]
    lead = client_as(cycle.lead_commissioner.username)

    changed = lead.post(f"/cycles/{cycle.pk}/duty/change/", {"summary": "One site, not two."})
    assert changed.status_code == 302
    page = lead.get(f"/cycles/{cycle.pk}/duty/").content.decode()
    assert "The proposal has changed" in page and "One site, not two." in page

    answers = dict.fromkeys(
        ("affects_other_services", "already_involved", "substantial", "urgent_safety_risk"), "no"
    )
    assessed = lead.post(
        f"/cycles/{cycle.pk}/duty/assess/",
        {
            "proposal": "Tender dermatology from one site.",
            "body_type": "pct",
            "wording": "2008",
            "activity": "proposals",
            "responsible": "yes",
            "affects_delivery": "yes",
            "affects_range": "no",
            **answers,
        },
        follow=True,
    )
    page = assessed.content.decode()
    assert "limb (b) proposals for change" in page
    assert "The proposal has changed" not in page


def test_an_unanswered_question_is_in_the_error_summary(demo, client_as):
    cycle = demo["day-services"]
    response = client_as(LEAD).post(f"/cycles/{cycle.pk}/duty/assess/", {"proposal": "x"})
    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.content.decode()
    assert h1_count(response) == 1


def test_a_short_consultation_shows_the_principle_it_breaks_and_blocks_until_considered(
    demo, client_as
):
    cycle = demo["day-services"]
    lead = client_as(LEAD)
    opened = lead.post(
        f"/cycles/{cycle.pk}/consultations/open/",
        {
            "title": "Day services: the options",
            "document": "The options paper, at every day centre.",
            "equality_kind": "assessment",
            "equality_reference": "EIA-2008-03",
            "opens_on": "01/09/2008",
            "closes_on": "13/10/2008",
        },
    )
    assert opened.status_code == 302
    consultation = Consultation.objects.get(cycle=cycle)

    board_sees = client_as(GOVERNOR).get(f"/cycles/{cycle.pk}/consultations/").content.decode()
    assert 'data-finding="gunning.short"' in board_sees
    assert "Principle 3" in board_sees
    checklist = lead.get(f"/cycles/{cycle.pk}/").content.decode()
    assert "Responses to every consultation considered" in checklist

    considered = lead.post(
        f"/cycles/{cycle.pk}/consultations/{consultation.pk}/consider/",
        {"responses": "86", "analysis": "People want hubs.", "statement": "Hubs it is."},
    )
    assert considered.status_code == 302
    assert (
        "Responses to every consultation considered"
        not in lead.get(f"/cycles/{cycle.pk}/").content.decode()
    )


def test_a_consultation_without_an_equality_assessment_does_not_open(demo, client_as):
    cycle = demo["day-services"]
    response = client_as(LEAD).post(
        f"/cycles/{cycle.pk}/consultations/open/",
        {
            "title": "Day services: the options",
            "document": "The options paper.",
            "equality_kind": "assessment",
            "equality_reference": "",
            "opens_on": "01/09/2008",
            "closes_on": "01/12/2008",
        },
    )
    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.content.decode()
    assert not Consultation.objects.filter(cycle=cycle).exists()


def test_a_consultation_shows_its_working_days_and_the_bank_holidays_it_spans(demo, client_as):
    """Twelve calendar weeks over Easter are twelve weeks (no warning), and the page says what
    the bank holidays take out of them."""
    cycle = demo["day-services"]
    lead = client_as(LEAD)
    opened = lead.post(
        f"/cycles/{cycle.pk}/consultations/open/",
        {
            "title": "Day services: six hubs or eight?",
            "document": "The options paper, at every day centre.",
            "equality_kind": "assessment",
            "equality_reference": "EIA-2026-014",
            "opens_on": "02/03/2026",
            "closes_on": "25/05/2026",
        },
    )
    assert opened.status_code == 302

    page = lead.get(f"/cycles/{cycle.pk}/consultations/").content.decode()
    # 60 weekdays after 2 March up to 25 May, less Good Friday, Easter Monday and two May holidays.
    assert 'data-working-days="56"' in page
    assert "Good Friday (03 Apr)" in page and "Spring Bank Holiday (25 May)" in page
    assert 'data-finding="gunning.short"' not in page
