"""The standstill after a notice of intention (reg 12), counted in England's working days.

Pure: dates in, dates out (``cycle.workdays`` knows the bank holidays). The standstill starts the
day after the notice; representations may be made until midnight at the end of the 8th working
day. A representation holds the award until the decision has been reviewed; if the authority
decides to proceed, it waits a further 5 working days before awarding the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cycle import workdays
from cycle.i18n import gettext_lazy as _

STANDSTILL_WORKING_DAYS = 8
AFTER_REVIEW_WORKING_DAYS = 5


def standstill_ends(published_on: date, region: str = workdays.DEFAULT_REGION) -> date:
    """The last day on which representations may be made."""
    return workdays.add_working_days(published_on, STANDSTILL_WORKING_DAYS, region)


def wait_after_review(reviewed_on: date, region: str = workdays.DEFAULT_REGION) -> date:
    """The last day of the wait after a review decided to proceed."""
    return workdays.add_working_days(reviewed_on, AFTER_REVIEW_WORKING_DAYS, region)


@dataclass(frozen=True)
class RepresentationState:
    received_on: date
    reviewed: bool
    proceed: bool
    waits_until: date | None


@dataclass(frozen=True)
class StandstillState:
    """Whether the contract may be awarded on ``today``, and if not, until when or why."""

    may_award: bool
    code: str
    message: str
    earliest_award: date | None


def standstill_state(
    *,
    ends_on: date,
    representations: tuple[RepresentationState, ...],
    abandoned: bool,
    today: date,
) -> StandstillState:
    """Where the standstill stands on ``today``."""
    if abandoned:
        return StandstillState(
            False, "standstill.abandoned", _("The award was abandoned after review."), None
        )
    if any(not r.reviewed for r in representations):
        return StandstillState(
            False,
            "standstill.under_review",
            _(
                "A representation was made: the decision is under review, and the contract "
                "cannot be awarded until the review decides to proceed and 5 more working days "
                "pass."
            ),
            None,
        )
    last = ends_on
    for r in representations:
        if r.waits_until is not None and r.waits_until > last:
            last = r.waits_until
    earliest = last + timedelta(days=1)
    if today < earliest:
        return StandstillState(
            False,
            "standstill.running",
            _(
                "The standstill runs until the end of %(last)s; the contract can be awarded from "
                "%(earliest)s.",
                last=f"{last.day} {last:%B %Y}",
                earliest=f"{earliest.day} {earliest:%B %Y}",
            ),
            earliest,
        )
    return StandstillState(True, "standstill.over", _("The standstill is over."), earliest)
