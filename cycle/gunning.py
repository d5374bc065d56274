"""The Gunning principles as checks on one consultation, as a pure rule.

R v Brent LBC ex p Gunning (1985), restated by the Supreme Court in 2014 (law-and-peers §A4):

1. consult while proposals are still at a formative stage;
2. give sufficient reasons for intelligent consideration: the consultation document, with an
   equality impact assessment (or a recorded screening-out) published with it;
3. allow adequate time: no statutory length exists, 12 weeks is widely accepted;
4. take the responses conscientiously into account, with evidence: an analysis of them and a
   statement of how they were considered.

:func:`check` returns a :class:`Finding` for each principle a consultation breaks or has yet to
meet. A *blocking* finding refuses the opening (no document, no equality assessment) or keeps the
stage's gate closed (responses not yet considered, ``consultation.unconsidered`` in
``cycle.gates``); the others are warnings, shown with the principle they break, that a governance
board reads. No ORM here: ``cycle.duty_services`` builds the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .i18n import gettext_lazy as _
from .i18n import ngettext_lazy

DEFAULT_MIN_WEEKS = 12
"""The length under which a consultation is flagged, unless ``CONSULTATION_MIN_WEEKS`` says
otherwise."""

PRINCIPLES = {
    1: "Consult while proposals are still at a formative stage",
    2: "Give sufficient reasons for intelligent consideration",
    3: "Allow adequate time for consideration and response",
    4: "Take the responses conscientiously into account",
}


@dataclass(frozen=True)
class ConsultationFacts:
    """What the checks need to know about one consultation, as plain values."""

    opens_on: date
    closes_on: date
    opened_at: datetime
    """When the consultation was recorded as opening."""
    document: str
    equality_assessment: str
    """The equality impact assessment's reference, or the reasons it was screened out."""
    decisions: tuple[datetime, ...] = ()
    """When each decision of the consultation's stage was recorded."""
    considered_at: datetime | None = None
    """When the analysis of responses and how they were considered was recorded."""


@dataclass(frozen=True)
class Finding:
    code: str
    principle: int
    message: str
    blocking: bool = False

    @property
    def principle_text(self) -> str:
        return PRINCIPLES[self.principle]


def weeks_between(opens_on: date, closes_on: date) -> float:
    return (closes_on - opens_on).days / 7


def check(facts: ConsultationFacts, min_weeks: int = DEFAULT_MIN_WEEKS) -> tuple[Finding, ...]:
    """Every principle the consultation breaks, or has yet to meet, in the principles' order."""
    findings: list[Finding] = []
    early = [
        decided
        for decided in facts.decisions
        if decided < facts.opened_at or decided.date() < facts.opens_on
    ]
    if early:
        findings.append(
            Finding(
                "gunning.not_formative",
                1,
                _(
                    "The consultation opened after the stage's decision was recorded, so the "
                    "proposals were no longer formative.",
                ),
            )
        )
    if not facts.document.strip():
        findings.append(
            Finding(
                "gunning.no_document",
                2,
                _(
                    "No consultation document is attached: people need the proposals and the "
                    "reasons for them to respond.",
                ),
                blocking=True,
            )
        )
    if not facts.equality_assessment.strip():
        findings.append(
            Finding(
                "gunning.no_equality_assessment",
                2,
                _(
                    "No equality impact assessment is attached, nor a recorded screening-out: "
                    "it must be published with the consultation.",
                ),
                blocking=True,
            )
        )
    weeks = weeks_between(facts.opens_on, facts.closes_on)
    if weeks < min_weeks:
        findings.append(
            Finding(
                "gunning.short",
                3,
                _(
                    "The consultation runs for %(weeks)s, less than the %(min_weeks)s weeks "
                    "widely accepted as adequate time.",
                    weeks=_weeks(weeks),
                    min_weeks=min_weeks,
                ),
            )
        )
    if facts.considered_at is None:
        findings.append(
            Finding(
                "gunning.not_considered",
                4,
                _(
                    "No analysis of the responses, nor a statement of how they were "
                    "considered, has been recorded yet.",
                ),
                blocking=True,
            )
        )
    decided_first = [
        decided
        for decided in facts.decisions
        if decided not in early and (facts.considered_at is None or decided < facts.considered_at)
    ]
    if decided_first:
        findings.append(
            Finding(
                "gunning.decided_before_considered",
                4,
                _(
                    "A decision was recorded before the responses were analysed and considered.",
                ),
            )
        )
    return tuple(findings)


def _weeks(weeks: float) -> str:
    whole = int(weeks)
    days = round((weeks - whole) * 7)
    text = ngettext_lazy("%(count)d week", "%(count)d weeks", whole, count=whole)
    if not days:
        return text
    return _(
        "%(weeks)s and %(days)s",
        weeks=text,
        days=ngettext_lazy("%(count)d day", "%(count)d days", days, count=days),
    )
