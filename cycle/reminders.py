"""Reminders and escalations, counted in working days (``cycle.workdays``).

A member who has not acknowledged the current role boundaries, or not signed off the stage
against the current boundaries and budget, is reminded after the organisation's
``reminder_days``; at ``escalate_to_lead_days`` the involvement lead is told, at
``escalate_to_board_days`` the governance board. Input unanswered for ``INPUT_RESPONSE_DAYS``
working days is flagged to the lead commissioner (``services.input_flag_overdue``), and at
``INPUT_ESCALATE_TO_BOARD_DAYS`` escalated to the board. The panel is reminded of a decision
meeting ``MEETING_REMINDER_DAYS`` working days before it.

Each reminder or escalation is sent once per thing waiting and level (a :class:`Reminder` row),
with one ledger event and its notifications, in one transaction under the cycle's lock; so the
job can run twice, late, or at the same time as itself. A new version of the boundaries or the
budget starts the wait again, since it is a new thing to acknowledge or sign off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from roles.models import PanelMembership

from . import ledger, notifications, selectors, workdays
from .actions import LedgerAction
from .models import (
    BoundaryAcknowledgement,
    CommissioningCycle,
    DecisionMeeting,
    Notification,
    Reminder,
    SignOff,
    UserInput,
)
from .outbox import Message, write
from .service_support import lock_cycle, service

About = Reminder.About
Level = Reminder.Level


ACTION_FOR_LEVEL = {
    Level.REMINDER: LedgerAction.REMINDER_SENT,
    Level.LEAD: LedgerAction.REMINDER_ESCALATED_TO_LEAD,
    Level.BOARD: LedgerAction.REMINDER_ESCALATED_TO_BOARD,
}


@dataclass(frozen=True)
class Waiting:
    """Something one person has to do, and since when."""

    about: str
    subject_key: str
    waiting_on: int
    since: datetime
    what: str
    """What they have to do, in words that follow "to" ("acknowledge version 2 of …"), as the
    involvement lead and the board are told it."""
    asked: str = ""
    """The same in the words of the representative's own pages, for their reminder ("read your
    part in …"); ``what`` when empty."""


ASK_TO_READ = "read your part in '{stage}' and say you have read it"
ASK_HOW_IT_WENT = "tell us if you took part in '{stage}' in the way that was agreed"
"""What a member's reminder asks, in the words of their pages."""


def waiting_in(cycle: CommissioningCycle) -> list[Waiting]:
    """Acknowledgements and sign-offs the cycle's open stage waits for (a fixed number of
    queries, whatever the panel size)."""
    visit = selectors.open_visit(cycle)
    if visit is None or cycle.status != CommissioningCycle.Status.ACTIVE:
        return []
    stage = notifications.stage_name(cycle, visit.stage_key)
    boundaries = selectors.current_boundaries(cycle, visit.stage_key)
    if boundaries is None:
        return []  # nothing to acknowledge or attest to yet: the commissioner is the one to act
    budget = selectors.current_budget(cycle)
    joined = dict(
        PanelMembership.objects.active().filter(cycle=cycle).values_list("member_id", "joined_at")
    )
    acknowledged = set(
        BoundaryAcknowledgement.objects.filter(agreement=boundaries).values_list(
            "member_id", flat=True
        )
    )
    answered = set()
    for member_id, kind, boundary_id, budget_id, recorded_at in SignOff.objects.filter(
        visit=visit, superseded_at__isnull=True, withdrawn=False
    ).values_list("member_id", "kind", "boundary_id", "budget_id", "recorded_at"):
        if member_id in joined and recorded_at < joined[member_id]:
            continue  # given before they (last) joined: it does not count
        current = boundary_id == boundaries.pk and budget is not None and budget_id == budget.pk
        if kind == SignOff.Kind.DISSENT or current:
            answered.add(member_id)
    items = []
    for member_id, joined_at in sorted(joined.items()):
        if member_id not in acknowledged:
            items.append(
                Waiting(
                    about=About.ACKNOWLEDGEMENT,
                    subject_key=f"boundaries:{boundaries.pk}",
                    waiting_on=member_id,
                    since=max(boundaries.recorded_at, joined_at),
                    what=f"acknowledge version {boundaries.version} of the role boundaries "
                    f"for '{stage}'",
                    asked=ASK_TO_READ.format(stage=stage),
                )
            )
        elif budget is not None and member_id not in answered:
            items.append(
                Waiting(
                    about=About.SIGNOFF,
                    subject_key=f"signoff:{visit.pk}:{boundaries.pk}:{budget.pk}",
                    waiting_on=member_id,
                    since=max(
                        visit.opened_at, boundaries.recorded_at, budget.disclosed_at, joined_at
                    ),
                    what=f"sign off '{stage}' against the current role boundaries and budget",
                    asked=ASK_HOW_IT_WENT.format(stage=stage),
                )
            )
    return items


def unanswered_input_in(cycle: CommissioningCycle) -> list[Waiting]:
    return [
        Waiting(
            about=About.INPUT,
            subject_key=f"input:{pk}",
            waiting_on=cycle.lead_commissioner_id,
            since=submitted_at,
            what=f"answer the input \u201c{_short(text)}\u201d",
        )
        for pk, submitted_at, text in UserInput.objects.filter(cycle=cycle)
        .unanswered()
        .order_by("id")
        .values_list("id", "submitted_at", "text")
    ]


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def due_levels(item: Waiting, cycle: CommissioningCycle, now: datetime) -> list[tuple[str, int]]:
    """The levels due for ``item`` by ``now``, each with the working days waited."""
    organisation = cycle.organisation
    waited = workdays.working_days_since(item.since, now, organisation.bank_holidays)
    if item.about == About.INPUT:
        # The lead commissioner hears at INPUT_RESPONSE_DAYS (services.input_flag_overdue).
        thresholds = [(Level.BOARD, settings.INPUT_ESCALATE_TO_BOARD_DAYS)]
    else:
        thresholds = [
            (Level.REMINDER, organisation.reminder_days),
            (Level.LEAD, organisation.escalate_to_lead_days),
            (Level.BOARD, organisation.escalate_to_board_days),
        ]
    return [(level, waited) for level, days in thresholds if waited >= days]


def _recipients(cycle: CommissioningCycle, item: Waiting, level: str) -> set[int]:
    if level == Level.REMINDER:
        return {item.waiting_on}
    if level == Level.LEAD:
        return {notifications.involvement_lead_id(cycle)}
    return notifications.board_member_ids(cycle)


def _message(
    cycle: CommissioningCycle, item: Waiting, level: str, waited: int, name: str
) -> Message:
    days = f"{waited} working day{'s' if waited != 1 else ''}"
    if level == Level.REMINDER:
        asked = item.asked or item.what
        return Message(
            subject=f"{cycle.title}: a reminder to {asked}",
            body=(
                f"We asked you to {asked}. That was {days} ago. Please sign in and do it. If "
                "something is in the way, tell your involvement lead."
            ),
        )
    who = "the involvement lead" if level == Level.LEAD else "the governance board"
    return Message(
        subject=f"{cycle.title}: {name} has not yet been able to {item.what}",
        body=(
            f"{name} was asked to {item.what} {days} ago, and it is still waiting. "
            f"You are told as {who}: please find out what is in the way."
        ),
    )


@service(*ACTION_FOR_LEVEL.values())
def reminders_send_for_cycle(*, cycle_id: int, now: datetime | None = None) -> int:
    """Send what is due for one cycle: reminders, escalations, the meeting reminder. Returns how
    many reminders or escalations were sent (a ledger event each)."""
    cycle = lock_cycle(cycle_id)
    now = now if now is not None else timezone.now()
    items = waiting_in(cycle) + unanswered_input_in(cycle)
    sent_before = set(
        Reminder.objects.filter(cycle=cycle).values_list(
            "about", "subject_key", "waiting_on_id", "level"
        )
    )
    names: dict[int, str] = {}
    sent = 0
    for item in items:
        for level, waited in due_levels(item, cycle, now):
            if (item.about, item.subject_key, item.waiting_on, level) in sent_before:
                continue
            if item.waiting_on not in names:
                names[item.waiting_on] = notifications.person(item.waiting_on)
            _send(cycle, item, level, waited, names[item.waiting_on], now)
            sent += 1
    sent += _remind_of_meetings(cycle, now, sent_before)
    return sent


def _send(
    cycle: CommissioningCycle, item: Waiting, level: str, waited: int, name: str, now: datetime
) -> Reminder:
    reminder = Reminder.objects.create(
        cycle=cycle,
        about=item.about,
        subject_key=item.subject_key,
        waiting_on_id=item.waiting_on,
        level=level,
        waiting_since=item.since,
        working_days=waited,
        sent_at=now,
    )
    recipients = _recipients(cycle, item, level)
    ledger.append(
        actor=None,
        action=ACTION_FOR_LEVEL[Level(level)],
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=reminder,
        payload={
            "about": item.about,
            "subject": item.subject_key,
            "waiting_on": name,
            "waiting_since": item.since,
            "working_days": waited,
            "told": sorted(recipients),
        },
    )
    write(
        kind=Notification.Kind.REMINDER
        if level == Level.REMINDER
        else Notification.Kind.ESCALATION,
        cycle=cycle,
        recipient_ids=recipients,
        message=_message(cycle, item, level, waited, name),
        key=f"reminder:{reminder.pk}",
    )
    return reminder


def _remind_of_meetings(
    cycle: CommissioningCycle, now: datetime, sent_before: set[tuple[Any, ...]]
) -> int:
    """Remind the panel of a decision meeting ``MEETING_REMINDER_DAYS`` working days before."""
    region = cycle.organisation.bank_holidays
    today = workdays.uk_date(now)
    horizon = workdays.add_working_days(today, settings.MEETING_REMINDER_DAYS, region)
    members = sorted(selectors.active_member_ids(cycle))
    sent = 0
    for meeting in DecisionMeeting.objects.filter(
        cycle=cycle, held_on__gte=today, held_on__lte=horizon
    ).order_by("held_on", "id"):
        key = f"meeting:{meeting.pk}"
        due = [m for m in members if (About.MEETING, key, m, Level.REMINDER) not in sent_before]
        if not due:
            continue
        for member_id in due:
            Reminder.objects.create(
                cycle=cycle,
                about=About.MEETING,
                subject_key=key,
                waiting_on_id=member_id,
                level=Level.REMINDER,
                waiting_since=now,
                working_days=workdays.working_days_between(today, meeting.held_on, region),
                sent_at=now,
            )
        ledger.append(
            actor=None,
            action=LedgerAction.REMINDER_SENT,
            cycle=cycle,
            stage_key=cycle.current_stage,
            obj=meeting,
            payload={"about": About.MEETING, "held_on": meeting.held_on.isoformat(), "told": due},
        )
        notifications.meeting_soon(cycle=cycle, meeting=meeting, member_ids=due)
        sent += 1
    return sent


def send_all(now: datetime | None = None) -> dict[str, int]:
    """Reminders and escalations for every active cycle, each cycle in its own transaction."""
    cycles = list(CommissioningCycle.objects.active().order_by("id").values_list("id", flat=True))
    sent = sum(reminders_send_for_cycle(cycle_id=pk, now=now) for pk in cycles)
    return {"cycles": len(cycles), "sent": sent}
