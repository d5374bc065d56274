"""The foundation of the pages: sign-in on the design system, home pages for every demo account,
refusals as pages, forms whose errors reach the error summary."""

from __future__ import annotations

import pytest
from django.test import Client

from cycle.errors import Conflict, Forbidden, NotFound
from cycle.models import AuditEvent, CommissioningCycle
from processes.commissioning import process_for
from tests.web.pages import error_summary, h1_count, summary_links, text

DEMO = ["gillian.marsh", "pauline.dobson", "maggie.rowe", "catherine.holt", "david.achebe"]


def test_the_sign_in_page_is_the_services_own(db):
    response = Client().get("/accounts/login/")

    assert response.status_code == 200
    assert "web/account/sign_in.html" in [t.name for t in response.templates]
    assert "admin/login.html" not in [t.name for t in response.templates]
    assert h1_count(response) == 1
    assert 'href="#maincontent"' in response.content.decode()


def test_a_wrong_password_is_told_in_the_error_summary_and_keeps_the_username(demo):
    response = Client().post("/accounts/login/", {"username": "gillian.marsh", "password": "wrong"})

    assert response.status_code == 200
    assert error_summary(response) == [
        "The username or password is not right. Check them and try again. Both must be typed "
        "exactly, with capital letters where they have them."
    ]
    assert 'value="gillian.marsh"' in response.content.decode()


def test_an_empty_sign_in_links_each_error_to_its_field(db):
    response = Client().post("/accounts/login/", {"username": "", "password": ""})

    assert error_summary(response) == ["Enter your username", "Enter your password"]
    assert summary_links(response) == ["#id_username", "#id_password"]


def test_signing_in_as_a_demo_account_goes_to_the_home_page(demo):
    response = Client().post(
        "/accounts/login/", {"username": "pauline.dobson", "password": "representative-demo"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("username", DEMO)
def test_every_demo_account_has_a_home_page_with_one_heading(demo, client_as, username):
    response = client_as(username).get("/")

    assert response.status_code == 200
    assert h1_count(response) == 1
    assert "Sign out" in text(response)


def test_the_home_page_needs_a_signed_in_user(db):
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admin_and_the_flow_pages_still_answer(demo, client_as):
    assert Client().get("/admin/login/").status_code == 200
    assert client_as("gillian.marsh").get("/processes/").status_code in (200, 302)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Forbidden("Only the lead commissioner can do this.", code="forbidden.lead"), 403),
        (NotFound("There is no such cycle.", code="cycle.not_found"), 404),
        (Conflict("The cycle is completed; reopen a stage first.", code="cycle.completed"), 409),
    ],
)
def test_a_refusal_no_form_caught_becomes_a_page_with_the_reason(rf, error, status):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.cookie import CookieStorage

    from cycle.web.middleware import ServiceErrorMiddleware

    request = rf.get("/")
    request.user = AnonymousUser()
    request._messages = CookieStorage(request)
    response = ServiceErrorMiddleware(lambda r: None).process_exception(request, error)

    assert response.status_code == status
    assert error_summary(response) == [error.message]
    assert "Nothing has been changed." in text(response)


def test_a_cycle_one_cannot_see_is_not_found(demo, client_as):
    other = demo["meals-on-wheels"]

    response = client_as("pauline.dobson").get(f"/cycles/{other.pk}/")

    assert response.status_code == 404
    assert h1_count(response) == 1


def test_starting_a_cycle_runs_its_process_and_says_so(demo, client_as):
    from cycle.models import Organisation

    organisation = Organisation.objects.get(
        name="Northvale Health and Social Care Commissioning Consortium"
    )
    client = client_as("gillian.marsh")

    response = client.post(
        "/cycles/new/",
        {
            "title": "Carers' breaks 2027",
            "organisation": organisation.pk,
            "service_area": "Carers",
            "template_key": "default",
        },
        follow=True,
    )

    cycle = CommissioningCycle.objects.get(title="Carers' breaks 2027")
    assert response.redirect_chain[-1][0] == f"/cycles/{cycle.pk}/"
    assert process_for(cycle.pk) is not None
    assert (
        "You started “Carers' breaks 2027”. It is at its first stage: “Agree the involvement "
        "framework”." in text(response)
    )


def test_starting_a_cycle_without_a_name_loses_nothing_else(demo, client_as):
    from cycle.models import Organisation

    organisation = Organisation.objects.get(
        name="Northvale Health and Social Care Commissioning Consortium"
    )
    before = CommissioningCycle.objects.count()

    response = client_as("gillian.marsh").post(
        "/cycles/new/",
        {"title": "", "organisation": organisation.pk, "service_area": "Carers"},
    )

    assert response.status_code == 200
    assert error_summary(response) == [
        "Enter a name for the cycle",
        "Choose the stages the cycle goes through",
    ]
    assert summary_links(response) == ["#id_title", "#id_template_key_0"]
    assert 'value="Carers"' in response.content.decode()
    assert CommissioningCycle.objects.count() == before


def test_a_closed_gate_is_the_error_summary_each_condition_linked_to_its_page(demo, client_as):
    cycle = demo["day-services"]
    refusals = AuditEvent.objects.filter(outcome="refused").count()

    response = client_as("gillian.marsh").post(f"/cycles/{cycle.pk}/")

    assert response.status_code == 200
    assert response.context["form"].error_codes() == [
        "boundaries.unacknowledged",
        "signoff.quorum",
        "input.unanswered",
    ]
    assert error_summary(response)[0] == (
        "3 members of the panel have not acknowledged version 1 of the role boundaries."
    )
    assert summary_links(response) == [
        f"/cycles/{cycle.pk}/boundaries/",
        f"/cycles/{cycle.pk}/sign-off/ask/",
        f"/cycles/{cycle.pk}/inputs/",
    ]
    cycle.refresh_from_db()
    assert cycle.current_stage == "monitoring"
    assert AuditEvent.objects.filter(outcome="refused").count() == refusals + 1


def test_someone_who_does_not_lead_the_cycle_cannot_move_it_on(demo, client_as):
    cycle = demo["day-services"]

    response = client_as("pauline.dobson").post(f"/cycles/{cycle.pk}/")

    assert response.status_code == 200
    assert response.context["form"].error_codes() == ["forbidden.lead"]
    cycle.refresh_from_db()
    assert cycle.current_stage == "monitoring"


def test_the_checklist_shows_every_unmet_condition_of_the_gate(demo, client_as):
    from cycle import selectors as cycle_selectors
    from cycle.gates import evaluate
    from cycle.web import selectors

    for cycle in CommissioningCycle.objects.all():
        snapshot = cycle_selectors.gate_snapshots([cycle])[cycle.pk]
        result = evaluate(snapshot)
        shown = [code for item in selectors.checklist(snapshot, result) for code in item.codes]
        assert sorted(shown) == sorted(result.codes), cycle.title


def test_a_new_cycles_checklist_marks_nothing_done_that_has_not_happened(demo, client_as):
    from cycle.models import Organisation
    from processes import commissioning
    from tests.factories import fresh

    lead = fresh(demo["day-services"].lead_commissioner)
    cycle = commissioning.start_cycle(
        actor=lead,
        title="New",
        organisation=Organisation.objects.get(staff=lead),
        lead=lead,
    )

    response = client_as("gillian.marsh").get(f"/cycles/{cycle.pk}/")

    statuses = {item.key: item.status for item in response.context["checklist"]}
    assert statuses == {
        "panel": "Not done",
        "lead": "Not done",
        "agreement": "Cannot start yet",
        "boundaries": "Not done",
        "budget": "Not done",
        "signoff": "Cannot start yet",
        "dissent": "Cannot start yet",
    }
