"""The Gunning principles as checks on a consultation, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from cycle.gunning import ConsultationFacts, check

OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
GOOD = ConsultationFacts(
    opens_on=date(2026, 3, 2),
    closes_on=date(2026, 5, 25),  # 12 weeks
    opened_at=OPENED,
    document="Day services: the options (consultation document, March 2026)",
    equality_assessment="EIA-2026-014",
    considered_at=datetime(2026, 6, 1, tzinfo=UTC),
)


def codes(facts: ConsultationFacts, **kwargs: int) -> list[tuple[str, int, bool]]:
    return [(f.code, f.principle, f.blocking) for f in check(facts, **kwargs)]


def test_a_consultation_that_keeps_every_principle_has_no_findings() -> None:
    assert codes(GOOD) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"decisions": (OPENED - timedelta(days=3),)},
            [("gunning.not_formative", 1, False)],
        ),
        (
            {"decisions": (OPENED - timedelta(minutes=5),)},
            [("gunning.not_formative", 1, False)],
        ),
        ({"document": " "}, [("gunning.no_document", 2, True)]),
        ({"equality_assessment": ""}, [("gunning.no_equality_assessment", 2, True)]),
        ({"closes_on": date(2026, 5, 24)}, [("gunning.short", 3, False)]),
        ({"considered_at": None}, [("gunning.not_considered", 4, True)]),
        (
            {"decisions": (datetime(2026, 5, 1, tzinfo=UTC),)},
            [("gunning.decided_before_considered", 4, False)],
        ),
    ],
    ids=[
        "decided-days-before",
        "decided-just-before",
        "no-document",
        "no-equality-assessment",
        "a-day-short-of-twelve-weeks",
        "responses-not-considered",
        "decided-while-responses-wait",
    ],
)
def test_each_principle_broken_shows_with_its_number(
    change: dict[str, object], expected: list[tuple[str, int, bool]]
) -> None:
    assert codes(replace(GOOD, **change)) == expected  # type: ignore[arg-type]


def test_a_decision_after_the_responses_were_considered_is_fine() -> None:
    assert codes(replace(GOOD, decisions=(datetime(2026, 6, 2, tzinfo=UTC),))) == []


def test_the_length_warning_is_configurable_and_says_how_long_it_ran() -> None:
    six_weeks = replace(GOOD, closes_on=date(2026, 4, 16))
    assert codes(six_weeks, min_weeks=6) == []
    (finding,) = check(six_weeks)
    assert finding.message.startswith("The consultation runs for 6 weeks and 3 days, less than")
    assert finding.principle_text == "Allow adequate time for consideration and response"
