"""Decision meetings: when and where the decision-maker decides, and when the panel got the papers.

Two services, each one transaction with the cycle locked and one ledger event: the lead
commissioner schedules a meeting in the current stage (:func:`meeting_schedule`) and records the
day its papers went to the panel (:func:`meeting_papers_issue`), which tells the panel. In the
decision stage the gate checks every meeting of the stage: papers not sent, or sent less than
seven days before the meeting (seed 001 L705), are unmet conditions (``papers.not_issued``,
``papers.late``) that a governance board member may accept with reasons. The panel is reminded
of the meeting shortly before it (``cycle.reminders``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from roles.permissions import DECIDE_PERM, require
from roles.permissions import Action as Permission

from . import input_rules, ledger, notifications, selectors, workdays
from .actions import LedgerAction
from .errors import Conflict, InvalidRequest, NotFound
from .models import CommissioningCycle, DecisionMeeting
from .service_support import lock_cycle, service


def _parse_date(value: date | str, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidRequest(
            f"The {field} must be a date like 2026-12-31, not {value!r}.",
            code=f"invalid.{field.replace(' ', '_')}",
        ) from None


@service(LedgerAction.MEETING_SCHEDULED)
def meeting_schedule(
    *, actor: Any, cycle_id: int, held_on: date | str, forum: str, decision_maker: Any
) -> DecisionMeeting:
    """Schedule a decision meeting in the current stage: its date, forum and decision-maker."""
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    if cycle.status != CommissioningCycle.Status.ACTIVE:
        raise Conflict("The cycle is completed; reopen a stage first.", code="cycle.completed")
    visit = selectors.open_visit(cycle)
    if visit is None:  # pragma: no cover - an active cycle always has an open visit
        raise Conflict("The cycle has no open stage.", code="cycle.no_open_stage")
    day = _parse_date(held_on, "meeting date")
    forum = (forum or "").strip()
    if not forum:
        raise InvalidRequest("Say where the decision is made.", code="invalid.forum")
    if len(forum) > input_rules.SHORT_TEXT:
        raise InvalidRequest(
            f"The forum must be at most {input_rules.SHORT_TEXT} characters.",
            code="invalid.too_long",
        )
    if not decision_maker.has_perm(DECIDE_PERM):
        raise InvalidRequest(
            f"{decision_maker.get_username()} cannot make the decision: they do not hold the "
            "decision-maker role.",
            code="invalid.decision_maker",
        )
    meeting = DecisionMeeting.objects.create(
        cycle=cycle,
        visit=visit,
        stage_key=visit.stage_key,
        held_on=day,
        forum=forum,
        decision_maker=decision_maker,
        scheduled_by=actor,
        scheduled_at=timezone.now(),
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.MEETING_SCHEDULED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=meeting,
        payload={
            "held_on": day.isoformat(),
            "forum": forum,
            "decision_maker": decision_maker.get_username(),
        },
    )
    return meeting


@service(LedgerAction.MEETING_PAPERS_ISSUED)
def meeting_papers_issue(
    *, actor: Any, cycle_id: int, meeting_id: int, issued_on: date | str | None = None
) -> DecisionMeeting:
    """Record the day the meeting's papers went to the panel (today unless given); tell them.

    Papers sent again (revised, say) replace the earlier date: the panel had the papers they
    decide on only from then. Both events stay on the ledger.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    meeting = DecisionMeeting.objects.filter(pk=meeting_id, cycle=cycle).first()
    if meeting is None:
        raise NotFound(
            f"Cycle {cycle.pk} has no decision meeting {meeting_id}.", code="meeting.not_found"
        )
    today = workdays.uk_date(timezone.now())
    day = today if issued_on is None else _parse_date(issued_on, "papers date")
    if day > today:
        raise InvalidRequest(
            "Papers can be recorded as sent only once they have been sent: the date is in the "
            "future.",
            code="invalid.papers_date",
        )
    if day > meeting.held_on:
        raise InvalidRequest(
            "The papers cannot have gone to the panel after the meeting.",
            code="invalid.papers_date",
        )
    previous = meeting.papers_issued_on
    meeting.papers_issued_on = day
    meeting.save(update_fields=["papers_issued_on"])
    notice = (meeting.held_on - day).days
    ledger.append(
        actor=actor,
        action=LedgerAction.MEETING_PAPERS_ISSUED,
        cycle=cycle,
        stage_key=meeting.stage_key,
        obj=meeting,
        payload={
            "held_on": meeting.held_on.isoformat(),
            "issued_on": day.isoformat(),
            "previously_issued_on": previous.isoformat() if previous else None,
            "days_notice": notice,
            "panel_to_tell": sorted(selectors.active_member_ids(cycle)),
        },
    )
    notifications.papers_issued(cycle=cycle, meeting=meeting)
    return meeting
