"""Every page answers every kind of user with one heading and no server error."""

from __future__ import annotations

import pytest

from tests.web.pages import h1_count

PAGES = [
    "",
    "boundaries/",
    "boundaries/record/",
    "budget/",
    "budget/record/",
    "panel/",
    "panel/add/",
    "panel/remove/",
    "panel/lead/",
    "agreement/",
    "agreement/record/",
    "sign-offs/",
    "sign-off/ask/",
    "sign-off/",
    "inputs/",
    "inputs/new/",
    "decisions/",
    "decisions/record/",
    "interests/",
    "reopen/",
    "meetings/",
    "meetings/new/",
    "procurement/",
    "procurement/notice/",
    "pressures/",
    "pressures/record/",
    "procurement/route/",
    "procurement/tender/",
    "procurement/bids/new/",
    "procurement/meeting/",
    "procurement/award/",
    "procurement/notice/publish/",
    "procurement/representations/new/",
    "procurement/contract/",
    "coverage/",
    "coverage/add/",
]
PEOPLE = ["gillian.marsh", "pauline.dobson", "maggie.rowe", "catherine.holt", "david.achebe"]


@pytest.mark.parametrize("username", PEOPLE)
def test_every_page_of_a_cycle_renders_for_everyone_who_can_see_it(demo, client_as, username):
    cycle = demo["day-services"]
    client = client_as(username)
    for page in PAGES:
        response = client.get(f"/cycles/{cycle.pk}/{page}")
        assert response.status_code == 200, (page, response.status_code)
        assert h1_count(response) == 1, page
    for meeting in cycle.decision_meetings.all():
        for page in ("change/", "papers/"):
            response = client.get(f"/cycles/{cycle.pk}/meetings/{meeting.pk}/{page}")
            assert response.status_code == 200, (page, response.status_code)
            assert h1_count(response) == 1, page
    assert cycle.decision_meetings.exists()
    first_input = cycle.inputs.order_by("id").first()
    response = client.get(f"/cycles/{cycle.pk}/inputs/{first_input.pk}/answer/")
    assert response.status_code == 200
    assert h1_count(response) == 1
