"""The notifications page, its settings page and the home page's list, through the test client."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cycle import notifications
from cycle.models import Notification
from roles import services as role_services
from tests.cycle.test_notifications import given_up
from tests.factories import user_with_role
from tests.web.pages import error_summary, h1_count, text

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_what_the_member_was_told_newest_first_with_unread_marks(world):
    member = world.panel[0]
    world.disclose_budget("1200000")
    world.disclose_budget("900000")

    response = signed_in(member).get("/notifications/")

    assert response.status_code == 200
    assert h1_count(response) == 1
    page = text(response)
    assert "You have 3 unread notifications." in page  # joining, and the two budgets
    newest = page.index("The budget went down from £1,200,000 to £900,000.")
    assert newest < page.index("The budget is £1,200,000.")
    assert page.count("New") >= 3
    assert f'href="/cycles/{world.id}/"' in response.content.decode()


def test_marking_all_read_says_how_many_and_removes_the_marks(world):
    member = world.panel[0]
    world.disclose_budget()
    client = signed_in(member)

    response = client.post("/notifications/", follow=True)

    assert "You marked 2 notifications as read." in text(response)
    assert "You have read all your notifications." in text(response)
    assert notifications.unread_count(member) == 0
    assert notifications.unread_count(world.panel[1]) == 2  # nobody else's


def test_a_former_member_sees_what_they_were_told_but_no_link_to_the_cycle(world):
    member = world.panel[2]
    role_services.membership_leave(actor=member, cycle_id=world.id, reason="Moving away.")
    response = signed_in(member).get("/notifications/")
    assert "you are no longer on the panel" in text(response)
    assert f'href="/cycles/{world.id}/"' not in response.content.decode()


def test_choosing_the_app_only_is_saved_and_said(world):
    member = world.panel[0]
    client = signed_in(member)
    assert 'value="email" checked' in client.get("/notifications/settings/").content.decode()

    response = client.post("/notifications/settings/", {"channel": "in-app"}, follow=True)

    assert "You will be told only when you sign in. We will not e-mail you." in text(response)
    assert notifications.channel_for(member) == "in-app"
    world.disclose_budget()
    assert Notification.objects.get(recipient=member, kind="budget.changed").channel == "in-app"


def test_no_choice_is_an_error_in_the_summary(world):
    response = signed_in(world.panel[0]).post("/notifications/settings/", {})
    assert error_summary(response) == ["Choose how you want to be told"]


def test_the_home_page_shows_the_latest_notifications(world):
    member = world.panel[0]
    world.disclose_budget("500000")
    response = signed_in(member).get("/")
    page = text(response)
    assert "Notifications 2 new" in page
    assert "The budget is £500,000." in page
    assert "See all your notifications" in page


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_costs_the_same_queries_however_many_notifications(world):
    member = world.panel[0]
    client = signed_in(member)
    client.get("/notifications/")  # warm the session and permission caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/notifications/").status_code == 200
        return len(queries)

    few = count()
    for amount in range(100, 120):
        world.disclose_budget(str(amount))
    many = count()
    print(f"\nnotifications page: {few} queries with 1 notification, {many} with 21")
    assert many == few


def test_the_lead_is_shown_the_emails_that_could_not_be_delivered_and_tries_one_again(
    world, settings, django_capture_on_commit_callbacks
):
    lead = user_with_role("Involvement lead")
    row = given_up(world, settings, lead=lead)
    member = world.panel[0]
    client = signed_in(lead)

    listing = text(client.get("/notifications/"))
    assert "Some e-mails from the cycles you lead could not be delivered." in listing
    page = client.get("/notifications/undelivered/")
    assert h1_count(page) == 1
    words = text(page)
    assert row.subject in words
    assert f"{member.email}" in words
    assert "ConnectionRefusedError: the mail server refused the connection" in words
    assert "after 1 try" in words

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/notifications/undelivered/", {"notification": row.pk}, follow=True)
    assert f"We will try again to e-mail {member.username} at {member.email}." in text(response)
    assert "Every e-mail from the cycles you lead has been delivered" in text(response)
    row.refresh_from_db()
    assert row.delivered_at is not None


def test_nobody_else_can_try_again_and_is_told_why(world, settings):
    row = given_up(world, settings, lead=user_with_role("Involvement lead"))
    member = world.panel[0]
    client = signed_in(member)

    assert "could not be delivered" not in text(client.get("/notifications/"))
    assert row.subject not in text(client.get("/notifications/undelivered/"))
    response = client.post("/notifications/undelivered/", {"notification": row.pk})
    assert response.status_code == 200
    assert error_summary(response) == ["There is no e-mail like that for you to try again."]
    row.refresh_from_db()
    assert row.failed_at is not None
