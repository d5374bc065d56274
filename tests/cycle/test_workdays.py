"""Working days across weekends, bank holidays of the three calendars and year ends.

The expected dates are the published UK bank holidays (gov.uk), not read back from the package.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cycle import workdays
from cycle.workdays import Region

EW = Region.ENGLAND_AND_WALES
SCOTLAND = Region.SCOTLAND
NI = Region.NORTHERN_IRELAND


@pytest.mark.parametrize(
    ("day", "region", "working"),
    [
        (date(2026, 12, 1), EW, True),  # a Tuesday
        (date(2026, 12, 5), EW, False),  # a Saturday
        (date(2026, 12, 6), EW, False),  # a Sunday
        (date(2026, 12, 25), EW, False),  # Christmas Day, a Friday
        (date(2026, 12, 28), EW, False),  # Boxing Day falls on Saturday: substitute Monday
        (date(2026, 12, 29), EW, True),
        (date(2027, 1, 1), EW, False),  # New Year's Day
        (date(2027, 1, 4), EW, True),
        (date(2027, 1, 4), SCOTLAND, False),  # 2 January falls on Saturday: substitute Monday
        (date(2026, 4, 6), EW, False),  # Easter Monday
        (date(2026, 4, 6), SCOTLAND, True),  # not a bank holiday in Scotland
        (date(2026, 4, 6), NI, False),
        (date(2026, 8, 3), SCOTLAND, False),  # Scotland's summer bank holiday
        (date(2026, 8, 3), EW, True),
        (date(2026, 8, 31), EW, False),  # the late summer bank holiday elsewhere
        (date(2026, 8, 31), SCOTLAND, True),
        (date(2026, 11, 30), SCOTLAND, False),  # St Andrew's Day
        (date(2026, 11, 30), EW, True),
        (date(2026, 3, 17), NI, False),  # St Patrick's Day
        (date(2026, 3, 17), EW, True),
        (date(2026, 7, 13), NI, False),  # Battle of the Boyne, 12 July a Sunday: substitute
        (date(2026, 7, 13), EW, True),
        (date(2022, 9, 19), EW, False),  # a one-off: the State Funeral of Queen Elizabeth II
    ],
)
def test_working_days_are_weekdays_that_are_not_bank_holidays_in_the_region(day, region, working):
    assert workdays.is_working_day(day, region) is working


def test_england_and_wales_is_the_default_calendar():
    assert workdays.is_working_day(date(2026, 4, 6)) is False  # Easter Monday
    assert workdays.is_working_day(date(2026, 8, 3)) is True  # only Scotland's holiday


def test_the_bank_holiday_is_named():
    assert workdays.bank_holiday(date(2026, 12, 25)) == "Christmas Day"
    assert workdays.bank_holiday(date(2026, 12, 1)) is None


@pytest.mark.parametrize(
    ("start", "days", "region", "expected"),
    [
        (date(2026, 12, 1), 0, EW, date(2026, 12, 1)),
        (date(2026, 12, 1), 1, EW, date(2026, 12, 2)),
        (date(2026, 12, 4), 1, EW, date(2026, 12, 7)),  # Friday to Monday
        (date(2026, 12, 5), 1, EW, date(2026, 12, 7)),  # from a Saturday
        (date(2026, 12, 4), 5, EW, date(2026, 12, 11)),  # a week
        # Christmas: Thursday 24th, then Friday 25th, the weekend and Monday 28th are off.
        (date(2026, 12, 24), 1, EW, date(2026, 12, 29)),
        # Across the year end: 31 December, then 1 January off.
        (date(2026, 12, 31), 1, EW, date(2027, 1, 4)),
        (date(2026, 12, 31), 1, SCOTLAND, date(2027, 1, 5)),  # and the 2 January substitute
        (date(2026, 12, 22), 5, EW, date(2026, 12, 31)),  # 23, 24, 29, 30, 31 December
        (date(2026, 12, 22), 6, EW, date(2027, 1, 4)),
        (date(2026, 12, 22), 6, SCOTLAND, date(2027, 1, 5)),
        # Easter: Good Friday everywhere, Easter Monday not in Scotland.
        (date(2026, 4, 2), 1, EW, date(2026, 4, 7)),
        (date(2026, 4, 2), 1, SCOTLAND, date(2026, 4, 6)),
        (date(2026, 4, 7), -1, EW, date(2026, 4, 2)),  # backwards past the holidays
        (date(2027, 1, 4), -1, EW, date(2026, 12, 31)),  # backwards across the year end
    ],
)
def test_adding_working_days_skips_weekends_and_bank_holidays(start, days, region, expected):
    assert workdays.add_working_days(start, days, region) == expected


@pytest.mark.parametrize(
    ("start", "end", "region", "expected"),
    [
        (date(2026, 12, 1), date(2026, 12, 1), EW, 0),
        (date(2026, 12, 2), date(2026, 12, 1), EW, 0),  # end before start
        (date(2026, 12, 4), date(2026, 12, 7), EW, 1),  # Friday to Monday
        (date(2026, 12, 4), date(2026, 12, 6), EW, 0),  # Friday to Sunday
        # Three weeks over Christmas: 21-24 and 29-31 December, 4-8 January.
        (date(2026, 12, 18), date(2027, 1, 8), EW, 12),
        (date(2026, 12, 18), date(2027, 1, 8), SCOTLAND, 11),
        (date(2026, 3, 16), date(2026, 3, 20), NI, 3),
        (date(2026, 3, 16), date(2026, 3, 20), EW, 4),
    ],
)
def test_counting_working_days_between_two_dates(start, end, region, expected):
    assert workdays.working_days_between(start, end, region) == expected


@pytest.mark.parametrize("start", [date(2026, 12, 18) + timedelta(days=n) for n in range(0, 30, 3)])
@pytest.mark.parametrize("days", [0, 1, 4, 9])
def test_counting_undoes_adding(start, days):
    assert workdays.working_days_between(start, workdays.add_working_days(start, days)) == days


def test_next_working_day_is_the_day_itself_or_the_first_after():
    assert workdays.next_working_day(date(2026, 12, 1)) == date(2026, 12, 1)
    assert workdays.next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)


def test_dates_are_counted_in_uk_time():
    # 23:30 UTC on 30 June is 00:30 on 1 July in British Summer Time.
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert workdays.uk_date(late) == date(2026, 7, 1)
    # In winter UK time is UTC.
    assert workdays.uk_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 12, 31)


def test_working_days_since_a_moment_ignore_the_time_of_day():
    friday_evening = datetime(2026, 12, 4, 17, 55, tzinfo=workdays.UK_TIME)
    monday_morning = datetime(2026, 12, 7, 8, 0, tzinfo=workdays.UK_TIME)
    assert workdays.working_days_since(friday_evening, monday_morning) == 1
    assert workdays.working_days_since(friday_evening, friday_evening + timedelta(hours=5)) == 0


def test_due_after_is_the_start_of_the_working_day():
    given = datetime(2026, 12, 23, 15, 0, tzinfo=UTC)  # Wednesday before Christmas
    due = workdays.due_after(given, 2)
    assert due == datetime(2026, 12, 29, 0, 0, tzinfo=workdays.UK_TIME)


def test_an_unknown_region_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown bank-holiday region 'wales'"):
        workdays.is_working_day(date(2026, 12, 1), "wales")


@pytest.mark.parametrize("days", [1, 2, 5, 20])
@pytest.mark.parametrize("now_day", [date(2026, 12, 29), date(2027, 1, 4), date(2026, 12, 27)])
def test_the_cutoff_for_a_query_agrees_with_counting(days, now_day):
    now = datetime(now_day.year, now_day.month, now_day.day, 9, 0, tzinfo=workdays.UK_TIME)
    cutoff = workdays.waited_since_before(now, days)
    just_before = cutoff - timedelta(minutes=1)
    assert workdays.working_days_since(just_before, now) >= days
    assert workdays.working_days_since(cutoff, now) < days
