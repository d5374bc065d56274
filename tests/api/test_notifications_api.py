"""The caller's own notifications through the API: the list (paged, newest first, ``unread``),
marking one or all read, and the delivery preference; someone else's are never reached."""

from __future__ import annotations

from typing import Any

import pytest

from cycle import notifications
from cycle.models import Notification, NotificationPreference
from tests.api.conftest import Caller, body
from tests.factories import CycleWorld


@pytest.fixture
def world(db: Any) -> CycleWorld:
    world = CycleWorld(panel_size=2)
    world.disclose_budget("1200000")
    world.disclose_budget("900000")
    return world


def mine(user: Any) -> Any:
    return Notification.objects.filter(recipient=user)


def test_a_member_lists_their_own_notifications_newest_first_and_paged(world):
    member, other = world.panel
    caller = Caller(member)

    listed = body(caller.get("notifications/", page_size=1))

    assert listed["count"] == mine(member).count() >= 2
    assert len(listed["results"]) == 1 and listed["next"]
    [first] = listed["results"]
    newest = mine(member).order_by("-created_at", "-id").first()
    assert first["id"] == newest.pk
    assert first["subject"] == newest.subject and first["body"] == newest.body
    assert first["cycle"] == world.id and first["cycle_title"] == "Day services"
    assert first["read"] is False and first["read_at"] is None
    everyone = {n["id"] for n in body(caller.get("notifications/", page_size=100))["results"]}
    assert everyone == set(mine(member).values_list("pk", flat=True))
    assert everyone.isdisjoint(mine(other).values_list("pk", flat=True))


def test_unread_filters_and_marking_one_read_takes_it_out_of_the_unread(world):
    member = world.panel[0]
    caller = Caller(member)
    target = mine(member).order_by("id").first()

    marked = caller.post(f"notifications/{target.pk}/read/")

    assert marked.status_code == 200
    assert body(marked)["id"] == target.pk and body(marked)["read"] is True
    target.refresh_from_db()
    assert target.read_at is not None
    unread = {n["id"] for n in body(caller.get("notifications/", unread="true"))["results"]}
    read = {n["id"] for n in body(caller.get("notifications/", unread="false"))["results"]}
    assert target.pk not in unread and read == {target.pk}
    assert unread == set(mine(member).filter(read_at__isnull=True).values_list("pk", flat=True))
    again = body(caller.post(f"notifications/{target.pk}/read/"))
    assert again["read_at"] == body(marked)["read_at"], "already read: it stays as it was"


def test_a_nonsense_unread_filter_is_a_problem_not_everything(world):
    response = Caller(world.panel[0]).get("notifications/", unread="perhaps")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")


def test_someone_elses_notification_is_not_found_and_stays_unread(world):
    member, other = world.panel
    theirs = mine(other).first()

    response = Caller(member).post(f"notifications/{theirs.pk}/read/")

    assert response.status_code == 404
    assert body(response)["code"] == "notification.not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert Caller(member).post("notifications/99999999999999999999/read/").status_code == 404


def test_marking_all_read_marks_only_the_callers_own(world):
    member, other = world.panel
    unread_before = mine(member).filter(read_at__isnull=True).count()

    response = Caller(member).post("notifications/read/")

    assert body(response) == {"marked": unread_before, "unread": 0}
    assert not mine(member).filter(read_at__isnull=True).exists()
    assert mine(other).filter(read_at__isnull=True).exists()
    assert body(Caller(member).post("notifications/read/")) == {"marked": 0, "unread": 0}


def test_the_delivery_preference_is_read_and_changed(world):
    member = world.panel[0]
    caller = Caller(member)
    assert body(caller.get("notifications/preference/")) == {"channel": "email"}

    changed = caller.put("notifications/preference/", {"channel": "in-app"})

    assert changed.status_code == 200 and body(changed) == {"channel": "in-app"}
    assert NotificationPreference.objects.get(user=member).channel == "in-app"
    assert notifications.channel_for(member) == "in-app"
    assert body(caller.get("notifications/preference/")) == {"channel": "in-app"}
    world.disclose_budget("800000")
    latest = mine(member).order_by("-id").first()
    assert latest.channel == "in-app"


def test_a_preference_that_is_not_a_choice_is_refused_and_nothing_changes(world):
    member = world.panel[0]
    caller = Caller(member)

    refused = caller.put("notifications/preference/", {"channel": "carrier pigeon"})
    empty = caller.put("notifications/preference/", {})

    assert refused.status_code == 400 and empty.status_code == 400
    assert refused["Content-Type"].startswith("application/problem+json")
    assert not NotificationPreference.objects.filter(user=member).exists()


def test_without_a_token_there_are_no_notifications(world):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/notifications/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/problem+json")
