"""Decision meetings: when and where the decision-maker decides, and when the panel got the papers.

Three services, each one transaction with the cycle locked and one ledger event: the lead
commissioner schedules a meeting in the current stage (:func:`meeting_schedule`) and records the
day its papers went to the panel (:func:`meeting_papers_issue`), which tells the panel, and may
move a meeting still to come or change its forum or decision-maker (:func:`meeting_change`). In the
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
from .i18n import gettext_lazy as _
from .models import CommissioningCycle, DecisionMeeting
from .service_support import lock_cycle, service


def _parse_date(value: date | str, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidRequest(
            _(
                "The %(field)s must be a date like 2026-12-31, not %(value)s.",
                field=field,
                value=repr(value),
            ),
            code=f"invalid.{field.replace(' ', '_')}",
        ) from None


def _valid_forum(forum: str | None) -> str:
    """Where the decision is made, as the meeting records it: said, and not too long."""
    forum = (forum or "").strip()
    if not forum:
        raise InvalidRequest(
            _(
                "Say where the decision is made.",
            ),
            code="invalid.forum",
        )
    if len(forum) > input_rules.SHORT_TEXT:
        raise InvalidRequest(
            _(
                "The forum must be at most %(limit)s characters.",
                limit=input_rules.SHORT_TEXT,
            ),
            code="invalid.too_long",
        )
    return forum


def _require_decision_maker(decision_maker: Any) -> None:
    """The person named to decide holds the decision-maker role."""
    if not decision_maker.has_perm(DECIDE_PERM):
        raise InvalidRequest(
            _(
                "%(name)s cannot make the decision: they do not hold the decision-maker role.",
                name=decision_maker.get_username(),
            ),
            code="invalid.decision_maker",
        )


@service(LedgerAction.MEETING_SCHEDULED)
def meeting_schedule(
    *, actor: Any, cycle_id: int, held_on: date | str, forum: str, decision_maker: Any
) -> DecisionMeeting:
    """Schedule a decision meeting in the current stage: its date, forum and decision-maker."""
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    if cycle.status != CommissioningCycle.Status.ACTIVE:
        raise Conflict(
            _(
                "The cycle is completed; reopen a stage first.",
            ),
            code="cycle.completed",
        )
    visit = selectors.open_visit(cycle)
    if visit is None:  # pragma: no cover - an active cycle always has an open visit
        raise Conflict(
            _(
                "The cycle has no open stage.",
            ),
            code="cycle.no_open_stage",
        )
    day = _parse_date(held_on, "meeting date")
    forum = _valid_forum(forum)
    _require_decision_maker(decision_maker)
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
            _(
                "Cycle %(pk)s has no decision meeting %(meeting_id)s.",
                pk=cycle.pk,
                meeting_id=meeting_id,
            ),
            code="meeting.not_found",
        )
    today = workdays.uk_date(timezone.now())
    day = today if issued_on is None else _parse_date(issued_on, "papers date")
    if day > today:
        raise InvalidRequest(
            _(
                "Papers can be recorded as sent only once they have been sent: the date is in "
                "the future.",
            ),
            code="invalid.papers_date",
        )
    if day > meeting.held_on:
        raise InvalidRequest(
            _(
                "The papers cannot have gone to the panel after the meeting.",
            ),
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


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


@service(LedgerAction.MEETING_CHANGED)
def meeting_change(
    *,
    actor: Any,
    cycle_id: int,
    meeting_id: int,
    held_on: date | str,
    forum: str,
    decision_maker: Any,
) -> DecisionMeeting:
    """Move a decision meeting of the current stage, or change its forum or decision-maker; tell
    the panel.

    Only a meeting still to come in the stage now open can change: one already held, or of a
    stage that has ended, is the record of what happened. Papers already sent keep their date, so
    a meeting moved later can give the panel the seven days they should have had.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Permission.LEAD, cycle)
    meeting = (
        DecisionMeeting.objects.filter(pk=meeting_id, cycle=cycle)
        .select_related("visit", "decision_maker")
        .first()
    )
    if meeting is None:
        raise NotFound(
            _(
                "Cycle %(pk)s has no decision meeting %(meeting_id)s.",
                pk=cycle.pk,
                meeting_id=meeting_id,
            ),
            code="meeting.not_found",
        )
    if cycle.status != CommissioningCycle.Status.ACTIVE or meeting.visit.closed_at is not None:
        raise Conflict(
            _(
                "This meeting belongs to a stage that has ended, so it cannot be changed.",
            ),
            code="meeting.stage_ended",
        )
    today = workdays.uk_date(timezone.now())
    if meeting.held_on < today:
        raise Conflict(
            _(
                "The meeting on %(day)s has been held, so it cannot be changed.",
                day=_day(meeting.held_on),
            ),
            code="meeting.held",
        )
    if meeting.award_decisions.exists():
        raise Conflict(
            _(
                "The award was decided at this meeting, so it cannot be changed.",
            ),
            code="meeting.decided",
        )
    day = _parse_date(held_on, "meeting date")
    if day < today:
        raise InvalidRequest(
            _(
                "A meeting can be moved only to today or a later day.",
            ),
            code="invalid.meeting_date",
        )
    if meeting.papers_issued_on is not None and day < meeting.papers_issued_on:
        raise InvalidRequest(
            _(
                "The papers went to the panel on %(day)s: the meeting cannot be before that.",
                day=_day(meeting.papers_issued_on),
            ),
            code="invalid.meeting_date",
        )
    forum = _valid_forum(forum)
    _require_decision_maker(decision_maker)
    if (day, forum, decision_maker.pk) == (
        meeting.held_on,
        meeting.forum,
        meeting.decision_maker_id,
    ):
        raise InvalidRequest(
            _(
                "Nothing has changed.",
            ),
            code="invalid.unchanged",
        )
    before = f"{meeting.forum} on {_day(meeting.held_on)}"
    previous = {
        "held_on": meeting.held_on.isoformat(),
        "forum": meeting.forum,
        "decision_maker": meeting.decision_maker.get_username(),
    }
    meeting.held_on = day
    meeting.forum = forum
    meeting.decision_maker = decision_maker
    meeting.save(update_fields=["held_on", "forum", "decision_maker"])
    ledger.append(
        actor=actor,
        action=LedgerAction.MEETING_CHANGED,
        cycle=cycle,
        stage_key=meeting.stage_key,
        obj=meeting,
        payload={
            "held_on": day.isoformat(),
            "forum": forum,
            "decision_maker": decision_maker.get_username(),
            "before": previous,
            "papers_issued_on": (
                meeting.papers_issued_on.isoformat() if meeting.papers_issued_on else None
            ),
            "panel_to_tell": sorted(selectors.active_member_ids(cycle)),
        },
    )
    notifications.meeting_changed(cycle=cycle, meeting=meeting, before=before)
    return meeting
