"""Working days: weekdays that are not bank holidays in the organisation's part of the UK.

Reminders, escalations and response times are counted in working days, because a deadline that
lands on Boxing Day or a Saturday tells nobody anything. Bank holidays come from the ``holidays``
package. England and Wales share one calendar (the default); Scotland and Northern Ireland have
their own, chosen per organisation (``Organisation.bank_holidays``).

Counting is on calendar dates in the UK's time zone (Europe/London), whatever the time of day:
something asked for at 17:55 on a Friday has been waiting one working day on Monday evening.
Nothing here touches the database.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import holidays

UK_TIME = ZoneInfo("Europe/London")


class Region(StrEnum):
    """The bank-holiday calendars of the UK (England and Wales share one)."""

    ENGLAND_AND_WALES = "england-and-wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"


DEFAULT_REGION = Region.ENGLAND_AND_WALES

_SUBDIVISION = {
    Region.ENGLAND_AND_WALES: "ENG",
    Region.SCOTLAND: "SCT",
    Region.NORTHERN_IRELAND: "NIR",
}


@functools.cache
def _calendar(region: Region) -> holidays.HolidayBase:
    # The object fills in each year the first time a date in it is asked about.
    return holidays.country_holidays("GB", subdiv=_SUBDIVISION[region])


def _region(region: str | Region) -> Region:
    try:
        return Region(region)
    except ValueError:
        choices = ", ".join(item.value for item in Region)
        raise ValueError(
            f"unknown bank-holiday region {region!r}; choose one of: {choices}"
        ) from None


def bank_holiday(day: date, region: str | Region = DEFAULT_REGION) -> str | None:
    """The name of the bank holiday on ``day`` in ``region``, or None."""
    name = _calendar(_region(region)).get(day)
    return None if name is None else str(name)


def is_working_day(day: date, region: str | Region = DEFAULT_REGION) -> bool:
    """Monday to Friday, and not a bank holiday in ``region``."""
    return day.weekday() < 5 and day not in _calendar(_region(region))


def next_working_day(day: date, region: str | Region = DEFAULT_REGION) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, days: int, region: str | Region = DEFAULT_REGION) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself is not counted).

    ``add_working_days(d, 0)`` is ``d``. Negative counts go backwards the same way.
    """
    step = timedelta(days=1 if days >= 0 else -1)
    remaining = abs(days)
    day = start
    while remaining:
        day += step
        if is_working_day(day, region):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, region: str | Region = DEFAULT_REGION) -> int:
    """How many working days come after ``start`` up to and including ``end`` (0 if none)."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if is_working_day(day, region):
            count += 1
        day += timedelta(days=1)
    return count


def uk_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the UK (naive datetimes are taken as UK time)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UK_TIME).date()


def working_days_since(
    moment: datetime, now: datetime, region: str | Region = DEFAULT_REGION
) -> int:
    """Working days that have begun since ``moment``, as of ``now``."""
    return working_days_between(uk_date(moment), uk_date(now), region)


def due_after(moment: datetime, days: int, region: str | Region = DEFAULT_REGION) -> datetime:
    """The start (00:00 UK time) of the ``days``-th working day after ``moment``'s date.

    Something given at any time on a Friday, with five working days to answer, is due from the
    start of the following Friday (or later, past bank holidays).
    """
    day = add_working_days(uk_date(moment), days, region)
    return datetime.combine(day, time.min, tzinfo=UK_TIME)


def waited_since_before(
    now: datetime, days: int, region: str | Region = DEFAULT_REGION
) -> datetime:
    """The moment before which anything given has waited at least ``days`` working days by now.

    ``working_days_since(x, now) >= days`` exactly when ``x`` is earlier than the result, so a
    query can compare a column with it (``submitted_at__lt=...``).
    """
    if days <= 0:
        return datetime.combine(uk_date(now) + timedelta(days=1), time.min, tzinfo=UK_TIME)
    day = uk_date(now)
    counted = 0
    while True:
        if is_working_day(day, region):
            counted += 1
            if counted == days:
                return datetime.combine(day, time.min, tzinfo=UK_TIME)
        day -= timedelta(days=1)
