"""The self-assessment through the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cycle.models import SelfAssessment, SignOff
from cycle.self_assessment import DIMENSION_KEYS
from tests.api.conftest import Caller, body
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db


def _scores(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    scores = {key: {"dimension": key, "score": 2} for key in DIMENSION_KEYS}
    for key, change in changes.items():
        scores[key.replace("_", "-")].update(change)
    return list(scores.values())


@pytest.fixture
def world() -> CycleWorld:
    world = CycleWorld()
    world.pass_gate()
    world.pass_gate()
    return world


def test_a_board_member_records_a_score_citing_a_sign_off(world: CycleWorld) -> None:
    signoff = SignOff.objects.filter(cycle=world.cycle, visit__stage_key="needs").first()
    assert signoff is not None
    caller = Caller(world.governor)
    path = f"organisations/{world.organisation.pk}/self-assessments/"

    response = caller.post(
        path,
        {
            "assessed_on": "2026-03-02",
            "scores": _scores(assessing_needs={"score": 3, "evidence": [f"signoff:{signoff.pk}"]}),
        },
    )

    assert response.status_code == 201, response.content
    created = body(response)
    needs = next(s for s in created["scores"] if s["dimension"] == "assessing-needs")
    assert needs["score"] == 3 and needs["evidence"] == [f"signoff:{signoff.pk}"]
    assert needs["proposed_score"] == 2 and len(needs["proposed_lines"]) == 5
    listed = body(caller.get(path))["results"]
    assert [a["version"] for a in listed] == [1]


def test_three_or_more_without_evidence_is_a_problem_naming_the_rule(world: CycleWorld) -> None:
    response = Caller(world.governor).post(
        f"organisations/{world.organisation.pk}/self-assessments/",
        {"scores": _scores(quality={"score": 5, "comments": "Gut feel: we are good at this."})},
    )
    assert response.status_code == 400
    assert body(response)["code"] == "self_assessment.no_evidence"
    assert not SelfAssessment.objects.exists()


def test_the_proposal_is_read_line_by_line_and_only_by_the_board(world: CycleWorld) -> None:
    path = f"organisations/{world.organisation.pk}/self-assessments/proposal/"
    proposal = body(Caller(world.governor).get(path))
    needs = next(p for p in proposal if p["dimension"] == "assessing-needs")
    assert needs["score"] == 2
    assert needs["lines"][1] == "3 sign-offs that users were involved as agreed, and 0 dissents."
    assert Caller(world.lead).get(path).status_code == 403
    assert Caller(CycleWorld().governor).get(path).status_code == 404


def test_the_list_costs_the_same_however_many_assessments(world: CycleWorld) -> None:
    caller = Caller(world.governor)
    path = f"organisations/{world.organisation.pk}/self-assessments/"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert caller.get(path).status_code == 200
        return len(queries)

    caller.post(path, {"scores": _scores()})
    one = count()
    for _ in range(3):
        caller.post(path, {"scores": _scores()})
    assert count() == one
