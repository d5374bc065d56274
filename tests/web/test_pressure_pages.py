"""The register of external pressures through the pages: the lead records one, the panel reads what
it means for them (or only that it cannot be told yet), and the page costs the same however many
pressures there are."""

from __future__ import annotations

from typing import Any

from cycle import duty_services
from cycle.models import ExternalPressure
from tests.web.pages import h1_count
from tests.web.test_query_counts import measured

LEAD = "gillian.marsh"
MEMBER = "pauline.dobson"
GOVERNOR = "david.achebe"

FORM = {
    "category": "budget",
    "title": "The council's savings plan for next year",
    "implication": "There may be less money for day centres, so fewer hubs may be possible.",
    "affects": ["needs", "priorities"],
    "disclosed": "yes",
}


def test_the_lead_records_a_pressure_and_the_panel_reads_what_it_means(demo, client_as):
    cycle = demo["day-services"]
    lead = client_as(LEAD)

    form = lead.get(f"/cycles/{cycle.pk}/pressures/record/")
    assert form.status_code == 200 and h1_count(form) == 1
    recorded = lead.post(f"/cycles/{cycle.pk}/pressures/record/", FORM, follow=True)
    page = recorded.content.decode()
    assert "The panel has been told what it means for them." in page
    assert "Assess needs and operating context, Decide priorities and strategy" in page

    member_page = client_as(MEMBER).get(f"/cycles/{cycle.pk}/pressures/").content.decode()
    assert "fewer hubs may be possible" in member_page
    assert "Record a pressure" not in member_page


def test_a_pressure_not_yet_told_shows_the_panel_only_its_kind_and_the_reason(demo, client_as):
    cycle = demo["day-services"]
    lead = client_as(LEAD)
    lead.post(
        f"/cycles/{cycle.pk}/pressures/record/",
        {**FORM, "disclosed": "no", "withheld_reason": "The cabinet decides on 3 March."},
    )
    pressure = ExternalPressure.objects.get(cycle=cycle)

    member_page = client_as(MEMBER).get(f"/cycles/{cycle.pk}/pressures/").content.decode()
    assert "Budget: not told yet" in member_page
    assert "The cabinet decides on 3 March." in member_page
    assert "fewer hubs" not in member_page and "savings plan" not in member_page
    board_page = client_as(GOVERNOR).get(f"/cycles/{cycle.pk}/pressures/").content.decode()
    assert "savings plan" in board_page and "Tell the panel now" not in board_page

    told = lead.post(f"/cycles/{cycle.pk}/pressures/{pressure.pk}/disclose/", follow=True)
    assert "You told the panel" in told.content.decode()
    member_page = client_as(MEMBER).get(f"/cycles/{cycle.pk}/pressures/").content.decode()
    assert "fewer hubs may be possible" in member_page


def test_a_missing_reason_for_not_telling_the_panel_is_in_the_error_summary(demo, client_as):
    cycle = demo["day-services"]
    response = client_as(LEAD).post(
        f"/cycles/{cycle.pk}/pressures/record/", {**FORM, "disclosed": "no"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "nhsuk-error-summary" in page
    assert "Say why the panel cannot be told" in page
    assert not ExternalPressure.objects.filter(cycle=cycle).exists()


def test_reopening_a_stage_the_cycle_has_not_left_is_refused_on_the_form(demo, client_as):
    cycle = demo["day-services"]
    response = client_as(LEAD).post(
        f"/cycles/{cycle.pk}/pressures/record/", {**FORM, "affects": ["monitoring"], "reopen": "on"}
    )
    assert response.status_code == 200
    assert "Only a stage the cycle has already left" in response.content.decode()
    assert not ExternalPressure.objects.filter(cycle=cycle).exists()


def _more_pressures(cycle: Any) -> Any:
    def more() -> None:
        for number in range(3):
            duty_services.pressure_record(
                actor=cycle.lead_commissioner,
                cycle_id=cycle.pk,
                category="local-circumstance",
                title=f"A new estate opens ({number})",
                implication="More people will need the service near the estate.",
                affects=["needs", "review"],
                disclosed=number % 2 == 0,
                withheld_reason="" if number % 2 == 0 else "Not yet announced.",
            )

    return more


def test_the_register_costs_the_same_however_many_pressures_there_are(demo, client_as):
    cycle = demo["day-services"]
    for username in (LEAD, MEMBER):
        before, after = measured(
            f"pressures/ ({username})",
            client_as(username),
            f"/cycles/{cycle.pk}/pressures/",
            _more_pressures(cycle),
        )
        assert after == before
