"""Compliance for governance boards: how the involvement gates of each cycle were really passed.

Read-only selectors over the ledger and the gate records, for one cycle or for every cycle of an
organisation, in a fixed number of queries however many cycles, stages or events there are:

- gates passed normally, and gates passed by override with the override's reasons;
- dissents, and how each one ended;
- the time from the sign-off request (the stage opened, or its role boundaries agreed, whichever
  came later) to the moment a quorum of the panel had attested;
- budget changes after the first disclosure, and whether the panel had re-attested before the
  next advance;
- late involvement: the first act of any user representative came only after the cycle had left
  the review stage, the "much too late" pattern (001:L290);
- input still without an answer;
- role boundaries copied unchanged, from the stage's previous version (the ledger's
  ``unchanged_from_previous``) or from another stage's boundaries.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DateTimeField, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .actions import LedgerAction
from .models import (
    AuditEvent,
    BudgetDisclosure,
    CommissioningCycle,
    GateOverride,
    Organisation,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from .stages import TEMPLATES

INVOLVEMENT_ACTIONS = (
    LedgerAction.AGREEMENT_SIGNED,
    LedgerAction.BOUNDARIES_ACKNOWLEDGED,
    LedgerAction.SIGNOFF_ATTESTED,
    LedgerAction.SIGNOFF_DISSENTED,
    LedgerAction.DISSENT_WITHDRAWN,
    LedgerAction.INPUT_SUBMITTED,
)
"""Ledger actions that only a user representative takes: each one is involvement on record."""

REVIEW_STAGES = {
    "default": "review",
    "guide": "review-services",
    "self-assessment": "review-provision",
}
"""The stage of each template after which first involvement is "much too late" (001:L290)."""

BOUNDARY_TERMS = RoleBoundaryAgreement.TERMS


@dataclass(frozen=True)
class GatePassage:
    stage_key: str
    closed_at: datetime
    overridden: bool
    override_reason: str = ""
    overridden_by: str = ""
    unmet_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DissentRecord:
    stage_key: str
    member: str
    reasons: str
    recorded_at: datetime
    outcome: str
    """withdrawn, attested (replaced by an attestation), restated, open, overridden,
    stage-reopened, or member-left (the gate passed once the member had left the panel)."""
    ended_at: datetime | None


@dataclass(frozen=True)
class QuorumTiming:
    stage_key: str
    status: str
    """reached, waiting, not-requested (no role boundaries yet), overridden, or left (the stage was
    left to reopen an earlier one)."""
    requested_at: datetime | None
    quorum_at: datetime | None = None
    hours: float | None = None


@dataclass(frozen=True)
class BudgetChange:
    version: int
    changed_at: datetime
    stage_key: str
    previous_amount: Decimal | None
    amount: Decimal | None
    signoffs_voided: int
    outcome: str
    """re-attested, overridden (the next advance was by override), awaiting-advance, or
    superseded (changed again before the next advance)."""
    reattested_by: int
    """Panel members who attested against this version before the next advance."""
    next_advance_at: datetime | None = None


@dataclass(frozen=True)
class Involvement:
    review_stage: str
    late: bool
    first_at: datetime | None
    first_stage: str
    first_action: str
    review_left_at: datetime | None


@dataclass(frozen=True)
class OpenInput:
    input_id: int
    stage_key: str
    submitted_at: datetime
    status: str
    days_waiting: int
    overdue_flagged_at: datetime | None


@dataclass(frozen=True)
class CopiedBoundaries:
    stage_key: str
    version: int
    recorded_at: datetime
    copied_from: str
    """"previous-version" or the key of the stage whose boundaries were copied."""


@dataclass(frozen=True)
class CycleCompliance:
    cycle_id: int
    title: str
    organisation: str
    template: str
    stage: str
    status: str
    gates: tuple[GatePassage, ...]
    dissents: tuple[DissentRecord, ...]
    quorum: tuple[QuorumTiming, ...]
    budget_changes: tuple[BudgetChange, ...]
    involvement: Involvement
    unanswered_inputs: tuple[OpenInput, ...]
    copied_boundaries: tuple[CopiedBoundaries, ...]

    @property
    def gates_passed(self) -> int:
        return sum(1 for gate in self.gates if not gate.overridden)

    @property
    def gates_overridden(self) -> int:
        return sum(1 for gate in self.gates if gate.overridden)


@dataclass(frozen=True)
class OrganisationCompliance:
    organisation: str
    generated_at: datetime
    cycles: tuple[CycleCompliance, ...]
    totals: dict[str, Any] = field(default_factory=dict)
    organisation_id: int | None = None


def cycle_compliance(cycle: CommissioningCycle, now: datetime | None = None) -> CycleCompliance:
    """Compliance of one cycle."""
    [(_, result)] = _collect(Q(pk=cycle.pk), now or timezone.now())
    return result


def organisation_compliance(
    organisation: Organisation, now: datetime | None = None
) -> OrganisationCompliance:
    """Compliance of every cycle of one organisation, with totals for the board."""
    [report] = organisations_compliance([organisation], now)
    return report


def organisations_compliance(
    organisations: Iterable[Organisation], now: datetime | None = None
) -> list[OrganisationCompliance]:
    """Compliance of each of several organisations (a board oversees more than one), in the order
    given, read in the same nine queries as one organisation's, however many organisations and
    cycles there are."""
    now = now or timezone.now()
    organisations = list(organisations)
    ids = [organisation.pk for organisation in organisations]
    by_organisation: dict[int, list[CycleCompliance]] = defaultdict(list)
    if ids:
        for organisation_id, cycle in _collect(Q(organisation_id__in=ids), now):
            by_organisation[organisation_id].append(cycle)
    reports = []
    for organisation in organisations:
        cycles = tuple(by_organisation[organisation.pk])
        reports.append(
            OrganisationCompliance(
                organisation=organisation.name,
                generated_at=now,
                cycles=cycles,
                totals=_totals(cycles),
                organisation_id=organisation.pk,
            )
        )
    return reports


def as_json(report: OrganisationCompliance | CycleCompliance) -> str:
    """The report as JSON, with the per-cycle counts included."""

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(type(value).__name__)

    def cycle_dict(cycle: CycleCompliance) -> dict[str, Any]:
        return {
            **asdict(cycle),
            "gates_passed": cycle.gates_passed,
            "gates_overridden": cycle.gates_overridden,
        }

    if isinstance(report, CycleCompliance):
        data = cycle_dict(report)
    else:
        data = {
            "organisation": report.organisation,
            "generated_at": report.generated_at,
            "totals": report.totals,
            "cycles": [cycle_dict(cycle) for cycle in report.cycles],
        }
    return json.dumps(data, default=default, indent=2, ensure_ascii=False)


def _collect(cycles_q: Q, now: datetime) -> list[tuple[int, CycleCompliance]]:
    """Read everything once (nine queries), then work out each cycle's measures.
    Each cycle comes with the id of its organisation.

    The cycles are read first, and everything else by their ids: the planner then reads each
    table through its cycle index, so the cost follows these cycles' own records, not what other
    organisations hold (a join to the cycles by organisation let it scan whole tables). What the
    measures only count or pick (the attestation that completed a quorum, the members who
    attested again after a budget change, how a dissent ended) is worked out in the database."""
    cycles = _cycles(cycles_q)
    ids = [cycle["id"] for cycle in cycles]
    by_cycle = {name: _by_cycle(read(ids, now)) for name, read in _RECORDS.items()}
    return [
        (
            cycle["organisation_id"],
            _cycle(
                cycle, {name: table.get(cycle["id"], []) for name, table in by_cycle.items()}, now
            ),
        )
        for cycle in cycles
    ]


Rows = list[dict[str, Any]]


def _by_cycle(rows: Iterable[Any]) -> dict[int, Rows]:
    table: dict[int, Rows] = defaultdict(list)
    for row in rows:
        table[row["cycle_id"]].append(row)
    return table


def _cycles(cycles_q: Q) -> list[Any]:
    return list(
        CommissioningCycle.objects.filter(cycles_q)
        .order_by("id")
        .values(
            "id",
            "title",
            "organisation_id",
            "organisation__name",
            "template_key",
            "current_stage",
            "status",
        )
    )


def _visits(ids: list[int], now: datetime) -> Iterable[Any]:
    """Each stage visit, with when the stage's role boundaries in force as it closed (or now)
    were agreed, and the attestation that completed its quorum when its gate was passed
    (``StageVisit.quorum_signoff``) with when the boundaries that attestation named were agreed."""
    agreed = (
        RoleBoundaryAgreement.objects.filter(
            cycle_id=OuterRef("cycle_id"),
            stage_key=OuterRef("stage_key"),
            recorded_at__lte=Coalesce(OuterRef("closed_at"), Value(now, DateTimeField())),
        )
        .order_by("-recorded_at", "-id")
        .values("recorded_at")[:1]
    )
    return (
        StageVisit.objects.filter(cycle_id__in=ids)
        .annotate(agreed_at=Subquery(agreed))
        .order_by("id")
        .values(
            "id",
            "cycle_id",
            "stage_key",
            "opened_at",
            "closed_at",
            "closure",
            "agreed_at",
            "quorum_signoff__recorded_at",
            "quorum_signoff__boundary__recorded_at",
        )
    )


def _overrides(ids: list[int], now: datetime) -> Iterable[Any]:
    return (
        GateOverride.objects.filter(cycle_id__in=ids)
        .order_by("id")
        .values("id", "cycle_id", "visit_id", "by__username", "reason", "unmet_codes")
    )


def _dissents(ids: list[int], now: datetime) -> Iterable[Any]:
    """Each dissent, with the kind of the member's next sign-off on the same visit, if any."""
    following = (
        SignOff.objects.filter(
            visit_id=OuterRef("visit_id"), member_id=OuterRef("member_id"), id__gt=OuterRef("id")
        )
        .order_by("id")
        .values("kind")[:1]
    )
    return (
        SignOff.objects.filter(cycle_id__in=ids, kind=SignOff.Kind.DISSENT)
        .annotate(followed_by=Subquery(following))
        .order_by("id")
        .values(
            "cycle_id",
            "visit_id",
            "member__username",
            "reasons",
            "recorded_at",
            "superseded_at",
            "withdrawn",
            "followed_by",
        )
    )


def _reattestations(ids: list[int], now: datetime) -> Iterable[Any]:
    """For each budget change (version 2 on) and member who attested against it, the first such
    attestation: whether the member re-attested before the next advance is one comparison."""
    return (
        SignOff.objects.filter(cycle_id__in=ids, kind=SignOff.Kind.ATTEST, budget__version__gte=2)
        .values("cycle_id", "budget_id", "member_id")
        .annotate(first_at=Min("recorded_at"))
        .order_by()
    )


def _budgets(ids: list[int], now: datetime) -> Iterable[Any]:
    return (
        BudgetDisclosure.objects.filter(cycle_id__in=ids)
        .order_by("version")
        .values("id", "cycle_id", "version", "amount", "disclosed_at", "signoffs_voided")
    )


def _boundaries(ids: list[int], now: datetime) -> Iterable[Any]:
    rows: Iterable[Any] = (
        RoleBoundaryAgreement.objects.filter(cycle_id__in=ids)
        .order_by("recorded_at", "id")
        .values(
            "cycle_id",
            "stage_key",
            "version",
            "recorded_at",
            "unchanged_from_previous",
            *BOUNDARY_TERMS,
        )
    )
    return rows


def _unanswered_inputs(ids: list[int], now: datetime) -> Iterable[Any]:
    return (
        UserInput.objects.filter(cycle_id__in=ids)
        .unanswered()
        .order_by("submitted_at", "id")
        .values("id", "cycle_id", "stage_key", "submitted_at", "status", "overdue_flagged_at")
    )


def _ledger_events(ids: list[int], now: datetime) -> Iterable[Any]:
    """Of the ledger, only what is not a column: each cycle's first act of involvement (found
    through the ledger's index on cycle and number, cycle by cycle), and the stage each budget
    disclosure was made in."""
    first_of_cycle = (
        AuditEvent.objects.filter(
            cycle_id=OuterRef("id"),
            outcome=AuditEvent.Outcome.DONE,
            action__in=INVOLVEMENT_ACTIONS,
        )
        .order_by("seq")
        .values("seq")[:1]
    )
    first_involvement = (
        CommissioningCycle.objects.filter(id__in=ids)
        .annotate(first=Subquery(first_of_cycle))
        .filter(first__isnull=False)
        .values("first")
    )
    fields = ("seq", "cycle_id", "at", "action", "stage_key", "object_id")
    disclosures = AuditEvent.objects.filter(
        cycle_id__in=ids, outcome=AuditEvent.Outcome.DONE, action=LedgerAction.BUDGET_DISCLOSED
    )
    firsts = AuditEvent.objects.filter(seq__in=first_involvement)
    # A union, not one filter with OR: each half is read through its own index, where the OR
    # had PostgreSQL scan the whole ledger, every organisation's.
    events: Iterable[Any] = (
        disclosures.order_by()
        .values(*fields)
        .union(firsts.order_by().values(*fields))
        .order_by("seq")
    )
    return events


_RECORDS: dict[str, Callable[[list[int], datetime], Iterable[Any]]] = {
    "visits": _visits,
    "overrides": _overrides,
    "dissents": _dissents,
    "reattestations": _reattestations,
    "budgets": _budgets,
    "boundaries": _boundaries,
    "inputs": _unanswered_inputs,
    "events": _ledger_events,
}
"""What compliance reads, one query each, every one by the cycles' ids."""


def _cycle(cycle: Mapping[str, Any], rows: dict[str, Rows], now: datetime) -> CycleCompliance:
    events = rows["events"]
    return CycleCompliance(
        cycle_id=cycle["id"],
        title=cycle["title"],
        organisation=cycle["organisation__name"],
        template=cycle["template_key"],
        stage=cycle["current_stage"],
        status=cycle["status"],
        gates=_gates(rows["visits"], rows["overrides"]),
        dissents=_dissent_records(rows["visits"], rows["dissents"]),
        quorum=_quorum(rows, now),
        budget_changes=_budget_changes(rows, events),
        involvement=_involvement(cycle["template_key"], rows["visits"], events),
        unanswered_inputs=tuple(
            OpenInput(
                input_id=row["id"],
                stage_key=row["stage_key"],
                submitted_at=row["submitted_at"],
                status=row["status"],
                days_waiting=(now - row["submitted_at"]).days,
                overdue_flagged_at=row["overdue_flagged_at"],
            )
            for row in rows["inputs"]
        ),
        copied_boundaries=_copied_boundaries(rows["boundaries"]),
    )


def _gates(visits: Rows, overrides: Rows) -> tuple[GatePassage, ...]:
    last_override = {row["visit_id"]: row for row in overrides}
    passages = []
    for visit in visits:
        if visit["closure"] == StageVisit.Closure.PASSED:
            passages.append(GatePassage(visit["stage_key"], visit["closed_at"], overridden=False))
        elif visit["closure"] == StageVisit.Closure.OVERRIDDEN:
            override = last_override.get(visit["id"], {})
            passages.append(
                GatePassage(
                    visit["stage_key"],
                    visit["closed_at"],
                    overridden=True,
                    override_reason=override.get("reason", ""),
                    overridden_by=override.get("by__username", ""),
                    unmet_codes=tuple(
                        code for code in override.get("unmet_codes", "").split(",") if code
                    ),
                )
            )
    return tuple(passages)


def _dissent_records(visits: Rows, dissents: Rows) -> tuple[DissentRecord, ...]:
    visit_by_id = {visit["id"]: visit for visit in visits}
    records = []
    for row in dissents:
        visit = visit_by_id[row["visit_id"]]
        ended_at = row["superseded_at"]
        if row["withdrawn"]:
            outcome = "withdrawn"
        elif row["superseded_at"] is not None:
            outcome = "attested" if row["followed_by"] == SignOff.Kind.ATTEST else "restated"
        else:
            ended_at = visit["closed_at"]
            outcome = {
                None: "open",
                StageVisit.Closure.OVERRIDDEN: "overridden",
                StageVisit.Closure.REOPENED: "stage-reopened",
                StageVisit.Closure.PASSED: "member-left",
            }[visit["closure"] or None]
        records.append(
            DissentRecord(
                stage_key=visit["stage_key"],
                member=row["member__username"],
                reasons=row["reasons"],
                recorded_at=row["recorded_at"],
                outcome=outcome,
                ended_at=ended_at,
            )
        )
    return tuple(records)


def _hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 2)


def _quorum(rows: dict[str, Rows], now: datetime) -> tuple[QuorumTiming, ...]:
    timings = []
    for visit in rows["visits"]:
        agreed_at = visit["agreed_at"]
        requested = max(visit["opened_at"], agreed_at) if agreed_at is not None else None
        stage = visit["stage_key"]
        if visit["closure"] == StageVisit.Closure.PASSED:
            reached = visit["quorum_signoff__recorded_at"]
            if reached is None:
                timings.append(QuorumTiming(stage, "reached", requested))
                continue
            # Asked for when the boundaries the completing attestation named were agreed.
            requested = max(visit["opened_at"], visit["quorum_signoff__boundary__recorded_at"])
            timings.append(
                QuorumTiming(stage, "reached", requested, reached, _hours(requested, reached))
            )
        elif visit["closure"] == StageVisit.Closure.OVERRIDDEN:
            timings.append(QuorumTiming(stage, "overridden", requested))
        elif visit["closure"] == StageVisit.Closure.REOPENED:
            timings.append(QuorumTiming(stage, "left", requested))
        elif requested is None:
            timings.append(QuorumTiming(stage, "not-requested", None))
        else:
            timings.append(QuorumTiming(stage, "waiting", requested, None, _hours(requested, now)))
    return tuple(timings)


def _budget_changes(rows: dict[str, Rows], events: Rows) -> tuple[BudgetChange, ...]:
    disclosed_in = {
        event["object_id"]: event["stage_key"]
        for event in events
        if event["action"] == LedgerAction.BUDGET_DISCLOSED
    }
    advances = [
        visit
        for visit in rows["visits"]
        if visit["closure"] in (StageVisit.Closure.PASSED, StageVisit.Closure.OVERRIDDEN)
    ]
    attested_against: dict[int, list[datetime]] = defaultdict(list)
    for row in rows["reattestations"]:
        attested_against[row["budget_id"]].append(row["first_at"])
    budgets = rows["budgets"]
    changes = []
    for index, budget in enumerate(budgets):
        if budget["version"] < 2:
            continue
        changed_at = budget["disclosed_at"]
        following = next((v for v in advances if v["closed_at"] >= changed_at), None)
        next_change = budgets[index + 1]["disclosed_at"] if index + 1 < len(budgets) else None
        cutoff = following["closed_at"] if following else None
        reattested_by = sum(
            1 for first_at in attested_against[budget["id"]] if cutoff is None or first_at <= cutoff
        )
        if next_change is not None and (cutoff is None or next_change < cutoff):
            outcome = "superseded"
        elif following is None:
            outcome = "awaiting-advance"
        elif following["closure"] == StageVisit.Closure.PASSED:
            outcome = "re-attested"
        else:
            outcome = "overridden"
        changes.append(
            BudgetChange(
                version=budget["version"],
                changed_at=changed_at,
                stage_key=disclosed_in.get(str(budget["id"]), ""),
                previous_amount=budgets[index - 1]["amount"],
                amount=budget["amount"],
                signoffs_voided=budget["signoffs_voided"],
                outcome=outcome,
                reattested_by=reattested_by,
                next_advance_at=cutoff,
            )
        )
    return tuple(changes)


def _involvement(template_key: str, visits: Rows, events: Rows) -> Involvement:
    template = TEMPLATES[template_key]
    review = REVIEW_STAGES.get(template_key, template.stages[min(2, len(template.stages) - 1)].key)
    review_left_at = next(
        (
            visit["closed_at"]
            for visit in visits
            if visit["stage_key"] == review
            and visit["closure"] in (StageVisit.Closure.PASSED, StageVisit.Closure.OVERRIDDEN)
        ),
        None,
    )
    first = next((event for event in events if event["action"] in INVOLVEMENT_ACTIONS), None)
    late = review_left_at is not None and (first is None or first["at"] > review_left_at)
    return Involvement(
        review_stage=review,
        late=late,
        first_at=first["at"] if first else None,
        first_stage=first["stage_key"] if first else "",
        first_action=first["action"] if first else "",
        review_left_at=review_left_at,
    )


def _copied_boundaries(boundaries: Rows) -> tuple[CopiedBoundaries, ...]:
    copied = []
    for index, row in enumerate(boundaries):
        source = ""
        if row["unchanged_from_previous"]:
            source = "previous-version"
        else:
            other = next(
                (
                    earlier
                    for earlier in reversed(boundaries[:index])
                    if earlier["stage_key"] != row["stage_key"]
                ),
                None,
            )
            if other is not None and all(other[term] == row[term] for term in BOUNDARY_TERMS):
                source = other["stage_key"]
        if source:
            copied.append(
                CopiedBoundaries(row["stage_key"], row["version"], row["recorded_at"], source)
            )
    return tuple(copied)


def _totals(cycles: tuple[CycleCompliance, ...]) -> dict[str, Any]:
    dissent_outcomes: dict[str, int] = defaultdict(int)
    budget_outcomes: dict[str, int] = defaultdict(int)
    waits: list[float] = []
    for cycle in cycles:
        for dissent in cycle.dissents:
            dissent_outcomes[dissent.outcome] += 1
        for change in cycle.budget_changes:
            budget_outcomes[change.outcome] += 1
        waits.extend(
            timing.hours
            for timing in cycle.quorum
            if timing.status == "reached" and timing.hours is not None
        )
    return {
        "cycles": len(cycles),
        "gates_passed": sum(cycle.gates_passed for cycle in cycles),
        "gates_overridden": sum(cycle.gates_overridden for cycle in cycles),
        "dissents": sum(dissent_outcomes.values()),
        "dissent_outcomes": dict(sorted(dissent_outcomes.items())),
        "quorum_reached": len(waits),
        "quorum_median_hours": round(statistics.median(waits), 2) if waits else None,
        "quorum_longest_hours": max(waits) if waits else None,
        "budget_changes": sum(budget_outcomes.values()),
        "budget_change_outcomes": dict(sorted(budget_outcomes.items())),
        "late_involvement": sum(1 for cycle in cycles if cycle.involvement.late),
        "unanswered_inputs": sum(len(cycle.unanswered_inputs) for cycle in cycles),
        "overdue_inputs": sum(
            1
            for cycle in cycles
            for item in cycle.unanswered_inputs
            if item.overdue_flagged_at is not None
        ),
        "copied_boundaries": sum(len(cycle.copied_boundaries) for cycle in cycles),
    }
