"""Who is missing, through the API."""

from __future__ import annotations

import pytest

from tests.api.conftest import Caller, body
from tests.factories import CycleWorld

pytestmark = pytest.mark.django_db


def test_the_lead_adds_a_group_and_records_who_speaks_for_it() -> None:
    world = CycleWorld()
    caller = Caller(world.lead)

    added = caller.post(f"cycles/{world.id}/coverage/", {"name": "Travellers", "kind": "equality"})
    assert added.status_code == 201, added.content
    group = body(added)
    assert group["missing"] is True and group["panel"] == []

    recorded = caller.put(
        f"cycles/{world.id}/coverage/{group['id']}/", {"members": [world.panel[1].username]}
    )
    assert recorded.status_code == 200, recorded.content
    assert body(recorded)["missing"] is False
    (listed,) = body(caller.get(f"cycles/{world.id}/coverage/"))["results"]
    assert listed["name"] == "Travellers" and len(listed["panel"]) == 1


def test_respondents_for_another_cycles_consultation_are_a_problem() -> None:
    world = CycleWorld()
    caller = Caller(world.lead)
    group = body(caller.post(f"cycles/{world.id}/coverage/", {"name": "Age", "kind": "equality"}))
    response = caller.put(
        f"cycles/{world.id}/coverage/{group['id']}/", {"respondents": {"424242": 3}}
    )
    assert response.status_code == 400
    assert body(response)["code"] == "invalid.respondents"
    response = caller.put(f"cycles/{world.id}/coverage/{group['id']}/", {"respondents": {"x": 3}})
    assert response.status_code == 400
