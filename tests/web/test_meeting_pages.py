"""The decision meeting pages: scheduling one, checking the answers, recording when the papers
went (with the warning when that leaves the panel under 7 days), moving a meeting, the gate's
link to them, and the meetings coming up on the cycle page and a representative's home page.

The decision meeting tables of docs/permissions.md are tried here too, cell by cell, through the
services and through these pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cycle import meetings, workdays
from cycle.models import AuditEvent, DecisionMeeting, Notification
from tests.factories import CycleWorld, fresh, user_with_role
from tests.roles.cast import Cast, build_cast
from tests.roles.test_permission_matrix import Cell, Try, _ledger_counts, read_matrix, try_service
from tests.web.pages import h1_count, text

TABLES = {
    "own": "## Decision meetings, on their own cycle",
    "other": "## Decision meetings, on another organisation's cycle",
}
MATRIX = read_matrix(TABLES)


def today() -> date:
    return workdays.uk_date(timezone.now())


def ddmmyyyy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(fresh(user))
    return client


@pytest.fixture
def decision(db: Any) -> CycleWorld:
    world = CycleWorld()
    world.walk_to("decision")
    world.meet_gate()
    world.decider = user_with_role("Decision-maker")  # type: ignore[attr-defined]
    world.organisation.staff.add(world.decider)  # type: ignore[attr-defined]
    return world


def schedule(world: Any, held_on: date, issued_on: date | None = None) -> DecisionMeeting:
    meeting = meetings.meeting_schedule(
        actor=world.lead,
        cycle_id=world.id,
        held_on=held_on,
        forum="Cabinet of the council",
        decision_maker=world.decider,
    )
    if issued_on is not None:
        meeting = meetings.meeting_papers_issue(
            actor=world.lead, cycle_id=world.id, meeting_id=meeting.pk, issued_on=issued_on
        )
    return meeting


def page(name: str, world: Any, *args: Any) -> str:
    return reverse(f"web:{name}", args=[world.id, *args])


# --- scheduling, with a check of the answers -----------------------------------------------------


def test_the_lead_schedules_a_meeting_after_checking_the_answers(decision):
    world = decision
    client = signed_in(world.lead)
    held_on = today() + timedelta(days=20)
    answers = {
        "held_on": ddmmyyyy(held_on),
        "forum": "Cabinet of the council",
        "decision_maker": world.decider.pk,
    }

    check = client.post(page("meeting-new", world), answers)

    assert check.status_code == 200
    assert h1_count(check) == 1
    shown = text(check)
    assert "Check your answers" in shown
    assert words(held_on) in shown and "Cabinet of the council" in shown
    assert world.decider.get_username() in shown or world.decider.get_full_name() in shown
    assert not DecisionMeeting.objects.filter(cycle=world.cycle).exists(), "nothing yet"

    again = client.post(page("meeting-new", world), {**answers, "change": "1"})
    assert again.status_code == 200 and "Schedule a decision meeting" in text(again)
    assert not DecisionMeeting.objects.filter(cycle=world.cycle).exists()

    done = client.post(page("meeting-new", world), {**answers, "confirm": "1"}, follow=True)

    [meeting] = DecisionMeeting.objects.filter(cycle=world.cycle)
    assert (meeting.held_on, meeting.forum, meeting.decision_maker_id) == (
        held_on,
        "Cabinet of the council",
        world.decider.pk,
    )
    assert done.redirect_chain[-1][0] == page("meetings", world)
    shown = text(done)
    assert f"You scheduled the decision meeting on {words(held_on)}" in shown
    assert "Papers not sent" in shown
    assert AuditEvent.objects.filter(action="meeting.scheduled", object_id=str(meeting.pk)).exists()


def test_a_schedule_with_nothing_filled_in_is_refused_with_an_error_summary(decision):
    world = decision
    response = signed_in(world.lead).post(page("meeting-new", world), {"confirm": "1"})

    assert response.status_code == 200
    summary = response.context["error_summary"]
    messages = [item.message for item in summary]
    assert "Enter the date" in messages
    assert "Say where the decision is made" in messages
    assert "Choose who decides" in messages
    assert all(item.href.startswith("#") for item in summary)
    assert "<title>Error: Schedule a decision meeting" in response.content.decode()
    assert not DecisionMeeting.objects.filter(cycle=world.cycle).exists()


def test_someone_who_is_not_the_lead_is_refused_on_the_form_and_nothing_is_scheduled(decision):
    world = decision
    response = signed_in(world.governor).post(
        page("meeting-new", world),
        {
            "held_on": ddmmyyyy(today() + timedelta(days=9)),
            "forum": "Cabinet",
            "decision_maker": world.decider.pk,
            "confirm": "1",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].error_codes() == ["forbidden.lead"]
    assert not DecisionMeeting.objects.filter(cycle=world.cycle).exists()


# --- the papers, and the warning -------------------------------------------------------------------


def test_papers_sent_less_than_7_days_before_are_warned_of_before_and_after_recording(decision):
    world = decision
    held_on = today() + timedelta(days=3)
    meeting = schedule(world, held_on)
    client = signed_in(world.lead)
    url = page("meeting-papers", world, meeting.pk)

    check = client.post(url, {"issued_on": ddmmyyyy(today())})

    assert "Check your answers" in text(check)
    assert "That is only 3 days before the meeting" in text(check)
    assert DecisionMeeting.objects.get(pk=meeting.pk).papers_issued_on is None

    done = client.post(url, {"issued_on": ddmmyyyy(today()), "confirm": "1"}, follow=True)

    assert DecisionMeeting.objects.get(pk=meeting.pk).papers_issued_on == today()
    shown = text(done)
    assert f"went to the panel on {words(today())}. The panel has been told." in shown
    assert "That is only 3 days before the meeting" in shown
    assert "Papers sent late" in shown
    assert "The panel had the papers only 3 days before the meeting" in shown
    told = Notification.objects.filter(kind=Notification.Kind.PAPERS_ISSUED, cycle=world.cycle)
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(m.pk for m in world.panel)


def test_papers_in_good_time_are_recorded_without_a_warning(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=10))
    url = page("meeting-papers", world, meeting.pk)
    client = signed_in(world.lead)

    check = client.post(url, {"issued_on": ddmmyyyy(today())})
    assert "Check your answers" in text(check)
    assert "Less than 7 days" not in text(check)
    done = client.post(url, {"issued_on": ddmmyyyy(today()), "confirm": "1"}, follow=True)

    assert "That is only" not in text(done)
    assert "Papers sent late" not in text(done)
    assert "10 days before the meeting" in text(done)


def test_papers_dated_in_the_future_are_refused_on_the_field(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=10))

    response = signed_in(world.lead).post(
        page("meeting-papers", world, meeting.pk),
        {"issued_on": ddmmyyyy(today() + timedelta(days=1)), "confirm": "1"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["issued_on"]
    assert response.context["error_summary"][0].href == "#id_issued_on"
    assert DecisionMeeting.objects.get(pk=meeting.pk).papers_issued_on is None


def test_a_meeting_of_another_cycle_is_not_found(decision):
    world = decision
    other = CycleWorld()
    elsewhere = meetings.meeting_schedule(
        actor=other.lead,
        cycle_id=other.id,
        held_on=today() + timedelta(days=9),
        forum="Board",
        decision_maker=world.decider,
    )
    client = signed_in(world.lead)
    assert client.get(page("meeting-papers", world, elsewhere.pk)).status_code == 404
    assert client.get(page("meeting-change", world, elsewhere.pk)).status_code == 404
    assert client.get(page("meetings", other)).status_code == 404


# --- the gate links to the page that fixes it, and moving the meeting fixes it --------------------


def test_the_gate_checklist_links_late_papers_to_the_meetings_page_and_moving_it_fixes_them(
    decision,
):
    world = decision
    meeting = schedule(world, today() + timedelta(days=3), issued_on=today())
    client = signed_in(world.lead)

    cycle_page = client.get(page("cycle", world))
    [item] = [i for i in cycle_page.context["checklist"] if i.key == "papers"]
    assert not item.done and item.codes == ("papers.late",)
    body = cycle_page.content.decode()
    assert f'href="{page("meetings", world)}" aria-describedby="check-papers-status' in body

    refused = client.post(page("cycle", world), {})
    links = {i.message: i.href for i in refused.context["error_summary"]}
    [late] = [message for message in links if "had them on" in message]
    assert links[late] == page("meetings", world)

    later = today() + timedelta(days=8)
    url = page("meeting-change", world, meeting.pk)
    form = client.get(url)
    assert form.context["form"].initial["forum"] == "Cabinet of the council"
    data = {"held_on": ddmmyyyy(later), "forum": "Cabinet", "decision_maker": world.decider.pk}
    check = client.post(url, data)
    assert "Check your answers" in text(check) and "Less than 7 days" not in text(check)
    done = client.post(url, {**data, "confirm": "1"}, follow=True)

    assert f"It is now Cabinet on {words(later)}. The panel has been told." in text(done)
    cycle_page = client.get(page("cycle", world))
    [item] = [i for i in cycle_page.context["checklist"] if i.key == "papers"]
    assert item.done
    told = Notification.objects.filter(kind=Notification.Kind.MEETING_CHANGED, cycle=world.cycle)
    assert told.count() == len(world.panel)


def test_moving_a_meeting_to_a_day_still_too_soon_after_the_papers_is_warned_of(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=2), issued_on=today())
    data = {
        "held_on": ddmmyyyy(today() + timedelta(days=5)),
        "forum": "Cabinet of the council",
        "decision_maker": world.decider.pk,
    }

    check = signed_in(world.lead).post(page("meeting-change", world, meeting.pk), data)

    assert "That is only 5 days before this date" in text(check)


def test_a_meeting_cannot_move_before_its_papers_and_nothing_changes(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=9), issued_on=today())

    response = signed_in(world.lead).post(
        page("meeting-change", world, meeting.pk),
        {
            "held_on": ddmmyyyy(today() - timedelta(days=1)),
            "forum": "Cabinet",
            "decision_maker": world.decider.pk,
            "confirm": "1",
        },
    )

    assert response.context["form"].error_codes() == ["invalid.meeting_date"]
    assert DecisionMeeting.objects.get(pk=meeting.pk).held_on == today() + timedelta(days=9)


# --- what is coming, for the panel ---------------------------------------------------------------


def test_a_representative_sees_the_meeting_coming_on_their_home_and_cycle_pages(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=12))
    past = meetings.meeting_schedule(
        actor=world.lead,
        cycle_id=world.id,
        held_on=today(),
        forum="Last week's board",
        decision_maker=world.decider,
    )
    DecisionMeeting.objects.filter(pk=past.pk).update(held_on=today() - timedelta(days=7))
    client = signed_in(world.panel[0])
    when = f"{meeting.held_on:%A} {meeting.held_on.day} {meeting.held_on:%B %Y}"

    home = text(client.get(reverse("web:home")))
    assert "Decision meetings coming up" in home
    assert f"{when}: Cabinet of the council" in home
    assert "The papers have not gone out yet." in home
    assert "Last week's board" not in home

    cycle_page = client.get(page("cycle", world))
    assert f"{when}: Cabinet of the council" in text(cycle_page)
    assert page("meetings", world) in cycle_page.content.decode()

    listing = client.get(page("meetings", world))
    shown = text(listing)
    assert "Coming up" in shown and "Held" in shown and "Last week's board" in shown
    assert "Schedule a decision meeting" not in shown
    assert page("meeting-change", world, meeting.pk) not in listing.content.decode()


def test_the_staff_cycle_page_shows_meetings_coming_and_the_lead_gets_the_links(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=12), issued_on=today())
    client = signed_in(world.lead)

    shown = text(client.get(page("cycle", world)))
    assert "Decision meetings coming up" in shown
    assert "The papers went out on" in shown

    listing = client.get(page("meetings", world)).content.decode()
    assert page("meeting-change", world, meeting.pk) in listing
    assert page("meeting-papers", world, meeting.pk) in listing
    assert page("meeting-new", world) in listing


def test_nobody_on_a_panel_sees_no_meetings_section_on_home(decision):
    world = decision
    schedule(world, today() + timedelta(days=12))
    assert "Decision meetings coming up" not in text(signed_in(world.lead).get(reverse("web:home")))


# --- the permission tables, through the services and the pages -----------------------------------


def _scheduled(t: Cast) -> DecisionMeeting:
    return meetings.meeting_schedule(
        actor=t.lead,
        cycle_id=t.id,
        held_on=today() + timedelta(days=14),
        forum="Partnership board",
        decision_maker=t.decision_maker,
    )


def _the_meeting(t: Cast) -> int:
    return DecisionMeeting.objects.get(cycle=t.cycle).pk


TRIES: dict[str, Try] = {
    "meeting_schedule": (
        lambda t: None,
        lambda a, t: meetings.meeting_schedule(
            actor=a,
            cycle_id=t.id,
            held_on=today() + timedelta(days=14),
            forum="Partnership board",
            decision_maker=t.decision_maker,
        ),
    ),
    "meeting_papers_issue": (
        _scheduled,
        lambda a, t: meetings.meeting_papers_issue(
            actor=a, cycle_id=t.id, meeting_id=_the_meeting(t)
        ),
    ),
    "meeting_change": (
        _scheduled,
        lambda a, t: meetings.meeting_change(
            actor=a,
            cycle_id=t.id,
            meeting_id=_the_meeting(t),
            held_on=today() + timedelta(days=21),
            forum="Partnership board",
            decision_maker=t.decision_maker,
        ),
    ),
}

Form = Callable[[Any, Cast], tuple[str, dict[str, Any]]]
FORMS: dict[str, Form] = {
    "meeting_schedule": lambda a, t: (
        reverse("web:meeting-new", args=[t.id]),
        {
            "held_on": ddmmyyyy(today() + timedelta(days=14)),
            "forum": "Partnership board",
            "decision_maker": t.decision_maker.pk,
            "confirm": "1",
        },
    ),
    "meeting_papers_issue": lambda a, t: (
        reverse("web:meeting-papers", args=[t.id, _the_meeting(t)]),
        {"issued_on": ddmmyyyy(today()), "confirm": "1"},
    ),
    "meeting_change": lambda a, t: (
        reverse("web:meeting-change", args=[t.id, _the_meeting(t)]),
        {
            "held_on": ddmmyyyy(today() + timedelta(days=21)),
            "forum": "Partnership board",
            "decision_maker": t.decision_maker.pk,
            "confirm": "1",
        },
    ),
}


@pytest.fixture(scope="module")
def casts(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Cast, Cast]]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_cast("north"), build_cast("south")
        transaction.set_rollback(True)


def test_every_meeting_service_has_a_row_in_both_tables_and_a_page() -> None:
    acted = {"meeting_schedule", "meeting_papers_issue", "meeting_change"}
    for scope in TABLES:
        assert {cell.service for cell in MATRIX if cell.scope == scope} == acted
    assert set(TRIES) == set(FORMS) == acted


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_meeting_matrix_cell_holds(cell: Cell, casts: tuple[Cast, Cast]) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    actor = fresh(getattr(own, cell.role))
    refused, done = try_service(TRIES, cell.service, actor, target)

    assert refused is not cell.allowed, cell.id
    if not refused:
        assert done == 1, "exactly one event"


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_meeting_matrix_cell_holds_through_the_pages(
    cell: Cell, casts: tuple[Cast, Cast]
) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    actor = getattr(own, cell.role)
    prepare, _ = TRIES[cell.service]
    prepare(target)
    before = _ledger_counts()
    url, data = FORMS[cell.service](fresh(actor), target)

    response = signed_in(actor).post(url, data)
    after = _ledger_counts()

    went_ahead = response.status_code == 302 and "/accounts/login/" not in response["Location"]
    assert went_ahead is cell.allowed, (cell.id, response.status_code)
    if cell.allowed:
        assert after == (before[0] + 1, before[1]), "one change, no refusal"
    else:
        assert after[0] == before[0], "nothing done"
        assert after[1] - before[1] <= 1
