"""``manage.py cycle sweep``, ``notifications``, ``meeting`` and ``papers``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cycle import workdays
from cycle.models import DecisionMeeting, Notification, Reminder
from tests.cycle.test_cli import cli, keep_test_connection  # noqa: F401 (an autouse fixture)
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


def test_sweep_delivers_what_waits_and_sends_what_is_due(world):
    world.agree_boundaries()
    # Build the history: boundaries agreed, and the panel joined, ten working days ago.
    long_ago = workdays.waited_since_before(timezone.now(), 10) - timedelta(hours=1)
    world.cycle.boundary_agreements.update(recorded_at=long_ago)
    world.cycle.memberships.update(joined_at=long_ago)
    waiting = Notification.objects.undelivered().count()
    assert waiting > 0
    mail.outbox.clear()

    run = cli("sweep")

    assert run.code == 0, run.err
    assert Reminder.objects.filter(cycle=world.cycle).count() == 9  # 3 members, 3 levels
    assert not Notification.objects.undelivered().exists()
    delivered = len(mail.outbox)
    assert delivered >= waiting + 9
    assert run.out.strip() == (
        f"Input flagged overdue: 0. Reminders and escalations: 9 in 1 cycles. "
        f"Notifications delivered: {delivered}; waiting to retry: 0; given up: 0. "
        "Workflow timers: 0 timer(s) fired, 0 process(es) started, 0 condition(s) fired."
    )
    assert (
        cli("sweep")
        .out.strip()
        .startswith(
            "Input flagged overdue: 0. Reminders and escalations: 0 in 1 cycles. "
            "Notifications delivered: 0;"
        )
    )


def test_notifications_lists_the_users_own_newest_first_and_marks_them_read(world):
    member = world.panel[0]
    world.disclose_budget("100")
    world.disclose_budget("80")

    run = cli("notifications", "--as", member.username)
    lines = run.out.splitlines()
    assert lines[0].endswith("Day services: The budget went down from £100 to £80.")
    assert all(line.startswith("* ") for line in lines)

    cli("notifications", "--as", member.username, "--read")
    listing = json.loads(cli("notifications", "--as", member.username, "--json").out)
    assert [row["unread"] for row in listing] == [False] * len(lines)
    assert Notification.objects.filter(recipient=world.panel[1], read_at__isnull=True).exists()


def test_a_meeting_and_its_papers_from_the_command_line(world):
    decider = user_with_role("Decision-maker")
    held_on = workdays.uk_date(timezone.now()) + timedelta(days=5)
    run = cli(
        "meeting",
        world.id,
        "--date",
        held_on.isoformat(),
        "--forum",
        "Cabinet",
        "--decision-maker",
        decider.username,
        "--as",
        world.lead.username,
    )
    assert run.code == 0, run.err
    meeting = DecisionMeeting.objects.get()
    assert run.out.strip() == f"Decision meeting {meeting.pk}: Cabinet, {held_on}."

    run = cli("papers", world.id, "--meeting", meeting.pk, "--as", world.lead.username)
    assert run.out.strip().endswith("5 days before the meeting.")

    bad = cli(
        "meeting",
        world.id,
        "--date",
        "soon",
        "--forum",
        "Cabinet",
        "--decision-maker",
        decider.username,
        "--as",
        world.lead.username,
    )
    assert bad.code == 1
    assert bad.err.startswith("error: invalid.meeting_date: ")
    assert DecisionMeeting.objects.count() == 1
