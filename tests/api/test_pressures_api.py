"""The register of external pressures through the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cycle.models import ExternalPressure, Notification
from tests.api.conftest import Caller, body
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db

PRESSURE = {
    "category": "regulation",
    "title": "New national standards for community meals",
    "implication": "Meals must meet new rules on salt and sugar, which may change the menu.",
    "affects": ["design", "needs"],
}


@pytest.fixture
def world() -> CycleWorld:
    return CycleWorld()


def test_the_lead_records_a_pressure_and_the_panel_is_told(world: CycleWorld) -> None:
    response = Caller(world.lead).post(f"cycles/{world.id}/pressures/", PRESSURE)

    assert response.status_code == 201, response.content
    created = body(response)
    assert created["affects"] == ["needs", "design"]
    assert created["disclosed"] is True and created["recorded_by"] == world.lead.username
    assert Notification.objects.filter(kind="pressure.recorded").count() == len(world.panel)


def test_bad_input_is_a_problem_with_its_code_and_nothing_is_written(world: CycleWorld) -> None:
    response = Caller(world.lead).post(
        f"cycles/{world.id}/pressures/", {**PRESSURE, "disclosed": False}
    )
    assert response.status_code == 400
    assert body(response)["code"] == "invalid.withheld_reason"
    assert not ExternalPressure.objects.exists()


def test_a_panel_member_reads_a_pressure_not_yet_told_as_its_kind_and_reason_only(
    world: CycleWorld,
) -> None:
    lead = Caller(world.lead)
    lead.post(
        f"cycles/{world.id}/pressures/",
        {**PRESSURE, "disclosed": False, "withheld_reason": "Out for comment until May."},
    )
    (seen,) = body(Caller(world.panel[0]).get(f"cycles/{world.id}/pressures/"))["results"]
    assert seen["category"] == "regulation"
    assert seen["withheld_reason"] == "Out for comment until May."
    assert seen["title"] == seen["implication"] == "" and seen["affects"] == []
    (whole,) = body(lead.get(f"cycles/{world.id}/pressures/"))["results"]
    assert whole["title"] == PRESSURE["title"]

    told = lead.post(f"cycles/{world.id}/pressures/{whole['id']}/disclose/")
    assert told.status_code == 200 and body(told)["disclosed"] is True
    (seen,) = body(Caller(world.panel[0]).get(f"cycles/{world.id}/pressures/"))["results"]
    assert seen["title"] == PRESSURE["title"]


def test_the_list_costs_the_same_however_many_pressures(world: CycleWorld) -> None:
    caller = Caller(world.lead)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response: Any = caller.get(f"cycles/{world.id}/pressures/")
        assert response.status_code == 200
        return len(queries)

    caller.post(f"cycles/{world.id}/pressures/", PRESSURE)
    one = count()
    for number in range(4):
        caller.post(f"cycles/{world.id}/pressures/", {**PRESSURE, "title": f"Rule {number}"})
    assert count() == one
