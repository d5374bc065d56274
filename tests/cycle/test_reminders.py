"""Reminders and escalations in working days: once per thing waiting and level, each on the
ledger with its notifications."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cycle import meetings, reminders, services, workdays
from cycle import tasks as cycle_tasks
from cycle.models import (
    AuditEvent,
    Notification,
    Organisation,
    Reminder,
    RoleBoundaryAgreement,
)
from roles.models import PanelMembership
from tests.factories import CycleWorld, user_with_role

pytestmark = pytest.mark.django_db

Level = Reminder.Level


def working_days_later(start: datetime, days: int, region: str = "england-and-wales") -> datetime:
    """Mid-morning of the working day ``days`` working days after ``start``'s date."""
    day = workdays.add_working_days(workdays.uk_date(start), days, region)
    return datetime.combine(day, time(10, 0), tzinfo=workdays.UK_TIME)


def run(world: CycleWorld, now: datetime) -> int:
    return reminders.reminders_send_for_cycle(cycle_id=world.id, now=now)


def sent(world: CycleWorld, **filters: object) -> list[tuple[str, str, int]]:
    return sorted(
        Reminder.objects.filter(cycle=world.cycle, **filters).values_list(
            "about", "level", "waiting_on_id"
        )
    )


def events(world: CycleWorld, action: str) -> list[dict]:
    return [
        json.loads(event.payload)
        for event in AuditEvent.objects.filter(cycle=world.cycle, action=action).order_by("seq")
    ]


@pytest.fixture
def agreed(world):
    """Boundaries agreed for the first stage; nobody has acknowledged them."""
    world.agree_boundaries()
    return world


def test_nothing_is_sent_before_the_organisations_reminder_days(agreed):
    start = timezone.now()
    assert run(agreed, working_days_later(start, 2)) == 0
    assert sent(agreed) == []


def test_an_acknowledgement_pending_reminds_the_member_then_escalates_once_per_level(agreed):
    world = agreed
    lead = user_with_role("Involvement lead")
    services.involvement_lead_name(actor=world.lead, cycle_id=world.id, lead=lead)
    for member in world.panel[1:]:
        services.boundaries_acknowledge(actor=member, cycle_id=world.id)
    waiting = world.panel[0]
    start = timezone.now()

    assert run(world, working_days_later(start, 3)) == 1
    assert sent(world) == [("acknowledgement", "reminder", waiting.pk)]
    [reminder] = Notification.objects.filter(kind=Notification.Kind.REMINDER)
    assert reminder.recipient_id == waiting.pk
    assert reminder.subject == (
        "Day services: a reminder to read your part in 'Agree the involvement framework' and "
        "say you have read it"
    )
    assert "That was 3 working days ago." in reminder.body
    [event] = events(world, "reminder.sent")
    assert event["working_days"] == 3 and event["told"] == [waiting.pk]

    # The same day again, and the next: nothing new.
    assert run(world, working_days_later(start, 3)) == 0
    assert run(world, working_days_later(start, 4)) == 0

    assert run(world, working_days_later(start, 5)) == 1
    [escalation] = Notification.objects.filter(kind=Notification.Kind.ESCALATION)
    assert escalation.recipient_id == lead.pk
    assert escalation.body.startswith(f"{waiting.username} was asked to acknowledge version 1")
    assert "You are told as the involvement lead" in escalation.body
    assert len(events(world, "reminder.escalated_to_lead")) == 1

    assert run(world, working_days_later(start, 10)) == 1
    board = Notification.objects.filter(kind=Notification.Kind.ESCALATION).exclude(recipient=lead)
    assert [row.recipient_id for row in board] == [world.governor.pk]
    assert len(events(world, "reminder.escalated_to_board")) == 1
    assert run(world, working_days_later(start, 30)) == 0


def test_a_late_run_sends_every_level_that_is_due(agreed):
    world = agreed
    start = timezone.now()
    assert run(world, working_days_later(start, 12)) == 9  # three members, three levels
    for member in world.panel:
        assert sorted(
            Reminder.objects.filter(waiting_on=member).values_list("level", flat=True)
        ) == ["board", "lead", "reminder"]


def test_acknowledged_but_not_signed_off_is_a_sign_off_reminder_restarted_by_a_budget_change(
    agreed,
):
    world = agreed
    world.disclose_budget("500000")
    world.acknowledge_all()
    world.meet_stage_conditions()
    world.attest(world.panel[:2])
    start = timezone.now()

    run(world, working_days_later(start, 3))
    assert sent(world) == [("signoff", "reminder", world.panel[2].pk)]
    text = Notification.objects.get(kind=Notification.Kind.REMINDER).subject
    assert text.endswith(
        "tell us if you took part in 'Agree the involvement framework' in the way that was agreed"
    )

    # A new budget: the sign-offs of everyone stop counting; the wait starts again.
    world.disclose_budget("400000")
    later = timezone.now()
    assert run(world, working_days_later(later, 2)) == 0
    run(world, working_days_later(later, 3))
    assert len(sent(world, about="signoff", level="reminder")) == 4


def test_a_member_who_recorded_dissent_is_not_reminded_to_sign_off(agreed):
    world = agreed
    world.disclose_budget()
    world.acknowledge_all()
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")
    run(world, working_days_later(timezone.now(), 3))
    assert world.panel[0].pk not in [member for _, _, member in sent(world)]


def test_before_boundaries_are_agreed_no_member_is_reminded(world):
    assert run(world, working_days_later(timezone.now(), 20)) == 0


def test_a_newcomer_waits_from_when_they_joined(agreed):
    world = agreed
    world.acknowledge_all()
    start = timezone.now()
    newcomer = world.panel[0].__class__.objects.create(username="newcomer", email="n@example.org")
    newcomer.groups.add(*world.panel[0].groups.all())
    from roles import services as role_services

    role_services.membership_add(actor=world.lead, cycle_id=world.id, member=newcomer)
    PanelMembership.objects.filter(member=newcomer).update(joined_at=working_days_later(start, 4))
    assert run(world, working_days_later(start, 5)) == 0
    assert run(world, working_days_later(start, 7)) == 1
    assert sent(world) == [("acknowledgement", "reminder", newcomer.pk)]


def test_working_days_follow_the_organisations_bank_holidays(world):
    # Easter 2026: Good Friday everywhere, Easter Monday (6 April) not in Scotland.
    world.agree_boundaries()
    given = datetime(2026, 4, 1, 14, 0, tzinfo=UTC)  # a Wednesday
    RoleBoundaryAgreement.objects.filter(cycle=world.cycle).update(recorded_at=given)
    PanelMembership.objects.filter(cycle=world.cycle).update(joined_at=given)
    tuesday = datetime(2026, 4, 7, 10, 0, tzinfo=UTC)  # Thu 2, (Fri, Mon off), Tue 7

    assert run(world, tuesday) == 0
    Organisation.objects.filter(pk=world.organisation.pk).update(bank_holidays="scotland")
    assert run(world, tuesday) == 3  # Thu 2, Mon 6, Tue 7: three working days in Scotland
    assert {r.working_days for r in Reminder.objects.all()} == {3}


def test_the_organisation_sets_when_reminders_and_escalations_come(agreed):
    Organisation.objects.filter(pk=agreed.organisation.pk).update(
        reminder_days=1, escalate_to_lead_days=2, escalate_to_board_days=4
    )
    start = timezone.now()
    assert run(agreed, working_days_later(start, 2)) == 6
    assert {level for _, level, _ in sent(agreed)} == {"reminder", "lead"}


def test_reminders_must_come_before_escalations(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=world.organisation.pk).update(
            reminder_days=5, escalate_to_lead_days=5
        )


# Input waiting for an answer


def test_input_unanswered_escalates_to_the_lead_commissioner_then_the_board(world, settings):
    settings.INPUT_RESPONSE_DAYS = 20
    settings.INPUT_ESCALATE_TO_BOARD_DAYS = 30
    user_input = services.input_submit(actor=world.panel[0], cycle_id=world.id, text="Saturdays.")
    start = user_input.submitted_at

    assert (
        services.input_flag_overdue(input_id=user_input.pk, now=working_days_later(start, 19))
        is False
    )
    assert (
        services.input_flag_overdue(input_id=user_input.pk, now=working_days_later(start, 20))
        is True
    )
    [overdue] = Notification.objects.filter(kind=Notification.Kind.INPUT_OVERDUE)
    assert overdue.recipient_id == world.lead.pk
    assert overdue.body.startswith(f"{world.panel[0].username} said: “Saturdays.”")

    assert run(world, working_days_later(start, 29)) == 0
    assert run(world, working_days_later(start, 30)) == 1
    assert sent(world) == [("input", "board", world.lead.pk)]
    [board] = Notification.objects.filter(kind=Notification.Kind.ESCALATION)
    assert board.recipient_id == world.governor.pk
    assert "answer the input “Saturdays.”" in board.body

    # Answered input is no longer waiting.
    services.input_respond(
        actor=world.lead, cycle_id=world.id, input_id=user_input.pk, kind="we-did", text="Done."
    )
    assert run(world, working_days_later(start, 60)) == 0


# Decision meetings


def test_the_panel_is_reminded_of_a_decision_meeting_shortly_before_it(world, settings):
    settings.MEETING_REMINDER_DAYS = 2
    decider = user_with_role("Decision-maker")
    today = workdays.uk_date(timezone.now())
    held_on = workdays.add_working_days(today, 5)
    meeting = meetings.meeting_schedule(
        actor=world.lead,
        cycle_id=world.id,
        held_on=held_on,
        forum="Cabinet",
        decision_maker=decider,
    )
    three_before = datetime.combine(
        workdays.add_working_days(held_on, -3), time(9), tzinfo=workdays.UK_TIME
    )
    two_before = datetime.combine(
        workdays.add_working_days(held_on, -2), time(9), tzinfo=workdays.UK_TIME
    )

    assert run(world, three_before) == 0
    assert run(world, two_before) == 1
    assert run(world, two_before + timedelta(days=1)) == 0
    rows = Notification.objects.filter(kind=Notification.Kind.MEETING_SOON)
    assert sorted(row.recipient_id for row in rows) == sorted(m.pk for m in world.panel)
    assert "The papers have not been sent to the panel yet." in rows[0].body
    [event] = events(world, "reminder.sent")
    assert event["about"] == "meeting" and event["held_on"] == held_on.isoformat()
    assert meeting.pk


def test_the_daily_task_covers_every_active_cycle(world):
    world.agree_boundaries()
    other = CycleWorld(title="Meals on wheels")
    other.agree_boundaries()
    result = cycle_tasks.send_reminders.delay().get()
    assert result == {"cycles": 2, "sent": 0}


def test_sending_the_same_reminder_twice_is_refused_by_the_database(agreed):
    run(agreed, working_days_later(timezone.now(), 3))
    first = Reminder.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            cycle=first.cycle,
            about=first.about,
            subject_key=first.subject_key,
            waiting_on=first.waiting_on,
            level=first.level,
            waiting_since=first.waiting_since,
            working_days=3,
            sent_at=first.sent_at,
        )
