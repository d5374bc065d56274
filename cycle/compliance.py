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
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Min, Q
from django.utils import timezone

from roles.models import PanelMembership

from .actions import LedgerAction
from .gates import quorum_for
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
    """Read everything once (nine queries), then work out each cycle's measures in Python.
    Each cycle comes with the id of its organisation.

    The cycles are read first, and everything else by their ids: the planner then reads each
    table through its cycle index, so the cost follows these cycles' own records, not what other
    organisations hold (a join to the cycles by organisation let it scan whole tables)."""
    cycles = list(
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
    related = {"cycle_id__in": [cycle["id"] for cycle in cycles]}
    by_cycle: dict[str, dict[int, list[dict[str, Any]]]] = {}

    def grouped(name: str, rows: Any) -> None:
        table: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            table[row["cycle_id"]].append(row)
        by_cycle[name] = table

    grouped(
        "visits",
        StageVisit.objects.filter(**related)
        .order_by("id")
        .values("id", "cycle_id", "stage_key", "opened_at", "closed_at", "closure"),
    )
    grouped(
        "overrides",
        GateOverride.objects.filter(**related)
        .order_by("id")
        .values("id", "cycle_id", "visit_id", "by__username", "reason", "unmet_codes"),
    )
    grouped(
        "signoffs",
        SignOff.objects.filter(**related)
        .order_by("id")
        .values(
            "id",
            "cycle_id",
            "visit_id",
            "member_id",
            "member__username",
            "kind",
            "reasons",
            "recorded_at",
            "superseded_at",
            "withdrawn",
            "budget_id",
            "boundary_id",
        ),
    )
    grouped(
        "budgets",
        BudgetDisclosure.objects.filter(**related)
        .order_by("version")
        .values("id", "cycle_id", "version", "amount", "disclosed_at"),
    )
    grouped(
        "boundaries",
        RoleBoundaryAgreement.objects.filter(**related)
        .order_by("recorded_at", "id")
        .values("id", "cycle_id", "stage_key", "version", "recorded_at", *BOUNDARY_TERMS),
    )
    grouped(
        "members",
        PanelMembership.objects.filter(**related).values("cycle_id", "joined_at", "left_at"),
    )
    grouped(
        "inputs",
        UserInput.objects.filter(**related)
        .unanswered()
        .order_by("submitted_at", "id")
        .values("id", "cycle_id", "stage_key", "submitted_at", "status", "overdue_flagged_at"),
    )
    first_involvement = (
        AuditEvent.objects.filter(
            **related, outcome=AuditEvent.Outcome.DONE, action__in=INVOLVEMENT_ACTIONS
        )
        .values("cycle_id")
        .annotate(first=Min("seq"))
        .values("first")
    )
    grouped(
        "events",
        AuditEvent.objects.filter(**related, outcome=AuditEvent.Outcome.DONE)
        .filter(
            Q(
                action__in=(
                    LedgerAction.STAGE_ADVANCED,
                    LedgerAction.BOUNDARIES_AGREED,
                    LedgerAction.BUDGET_DISCLOSED,
                )
            )
            | Q(seq__in=first_involvement)
        )
        .order_by("seq")
        .values("cycle_id", "seq", "at", "action", "stage_key", "object_id", "payload"),
    )
    return [
        (
            cycle["organisation_id"],
            _cycle(
                cycle, {name: table.get(cycle["id"], []) for name, table in by_cycle.items()}, now
            ),
        )
        for cycle in cycles
    ]


class LedgerPayloadMissing(KeyError):
    """An event's payload lacks a key compliance reads: a writer has drifted from the services."""


def recorded(payload: Mapping[str, Any], key: str) -> Any:
    """``payload[key]``, failing loudly, never read as zero, when a writer left the key out."""
    try:
        return payload[key]
    except KeyError:
        raise LedgerPayloadMissing(
            f"a ledger payload has no {key!r}, which compliance reads; keys: {sorted(payload)}"
        ) from None


def _cycle(
    cycle: Mapping[str, Any], rows: dict[str, list[dict[str, Any]]], now: datetime
) -> CycleCompliance:
    events = rows["events"]
    advanced = {
        event["object_id"]: json.loads(event["payload"])
        for event in events
        if event["action"] == LedgerAction.STAGE_ADVANCED
    }
    return CycleCompliance(
        cycle_id=cycle["id"],
        title=cycle["title"],
        organisation=cycle["organisation__name"],
        template=cycle["template_key"],
        stage=cycle["current_stage"],
        status=cycle["status"],
        gates=_gates(rows["visits"], rows["overrides"]),
        dissents=_dissents(rows["visits"], rows["signoffs"]),
        quorum=_quorum(rows, advanced, now),
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
        copied_boundaries=_copied_boundaries(rows["boundaries"], events),
    )


def _gates(
    visits: list[dict[str, Any]], overrides: list[dict[str, Any]]
) -> tuple[GatePassage, ...]:
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


def _dissents(
    visits: list[dict[str, Any]], signoffs: list[dict[str, Any]]
) -> tuple[DissentRecord, ...]:
    visit_by_id = {visit["id"]: visit for visit in visits}
    later: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for row in signoffs:
        later[(row["visit_id"], row["member_id"])].append(row)
    records = []
    for row in signoffs:
        if row["kind"] != SignOff.Kind.DISSENT:
            continue
        visit = visit_by_id[row["visit_id"]]
        ended_at = row["superseded_at"]
        if row["withdrawn"]:
            outcome = "withdrawn"
        elif row["superseded_at"] is not None:
            following = [
                other
                for other in later[(row["visit_id"], row["member_id"])]
                if other["id"] > row["id"]
            ]
            attested = following and following[0]["kind"] == SignOff.Kind.ATTEST
            outcome = "attested" if attested else "restated"
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


def _active_at(members: list[dict[str, Any]], moment: datetime) -> int:
    return sum(
        1
        for row in members
        if row["joined_at"] <= moment and (row["left_at"] is None or row["left_at"] > moment)
    )


def _hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 2)


def _quorum(
    rows: dict[str, list[dict[str, Any]]], advanced: dict[str, dict[str, Any]], now: datetime
) -> tuple[QuorumTiming, ...]:
    boundaries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    agreed_at = {}  # a sign-off names the cycle's boundaries it was given against
    for row in rows["boundaries"]:
        boundaries[row["stage_key"]].append(row)
        agreed_at[row["id"]] = row["recorded_at"]
    signoffs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows["signoffs"]:
        if row["kind"] == SignOff.Kind.ATTEST:
            signoffs[row["visit_id"]].append(row)

    timings = []
    for visit in rows["visits"]:
        until = visit["closed_at"] or now
        agreed = [row for row in boundaries[visit["stage_key"]] if row["recorded_at"] <= until]
        requested = max(visit["opened_at"], agreed[-1]["recorded_at"]) if agreed else None
        stage = visit["stage_key"]
        if visit["closure"] == StageVisit.Closure.PASSED:
            advance = advanced.get(str(visit["id"]))
            attesting = set(recorded(advance, "attesting")) if advance is not None else set()
            latest: dict[int, dict[str, Any]] = {}
            for row in signoffs[visit["id"]]:
                if row["member_id"] in attesting and row["recorded_at"] <= visit["closed_at"]:
                    latest[row["member_id"]] = row
            times = sorted(latest.values(), key=lambda row: row["recorded_at"])
            if not times:
                timings.append(QuorumTiming(stage, "reached", requested))
                continue
            needed = quorum_for(_active_at(rows["members"], visit["closed_at"]))
            completing = times[min(needed, len(times)) - 1]
            requested = max(visit["opened_at"], agreed_at[completing["boundary_id"]])
            reached = completing["recorded_at"]
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


def _budget_changes(
    rows: dict[str, list[dict[str, Any]]], events: list[dict[str, Any]]
) -> tuple[BudgetChange, ...]:
    disclosed = {
        event["object_id"]: event
        for event in events
        if event["action"] == LedgerAction.BUDGET_DISCLOSED
    }
    advances = [
        visit
        for visit in rows["visits"]
        if visit["closure"] in (StageVisit.Closure.PASSED, StageVisit.Closure.OVERRIDDEN)
    ]
    budgets = rows["budgets"]
    changes = []
    for index, budget in enumerate(budgets):
        if budget["version"] < 2:
            continue
        changed_at = budget["disclosed_at"]
        event = disclosed.get(str(budget["id"]))
        payload = json.loads(event["payload"]) if event else {}
        following = next((v for v in advances if v["closed_at"] >= changed_at), None)
        next_change = budgets[index + 1]["disclosed_at"] if index + 1 < len(budgets) else None
        cutoff = following["closed_at"] if following else None
        reattested_by = len(
            {
                row["member_id"]
                for row in rows["signoffs"]
                if row["kind"] == SignOff.Kind.ATTEST
                and row["budget_id"] == budget["id"]
                and (cutoff is None or row["recorded_at"] <= cutoff)
            }
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
                stage_key=event["stage_key"] if event else "",
                previous_amount=budgets[index - 1]["amount"],
                amount=budget["amount"],
                signoffs_voided=int(recorded(payload, "signoffs_voided")) if event else 0,
                outcome=outcome,
                reattested_by=reattested_by,
                next_advance_at=cutoff,
            )
        )
    return tuple(changes)


def _involvement(
    template_key: str, visits: list[dict[str, Any]], events: list[dict[str, Any]]
) -> Involvement:
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


def _copied_boundaries(
    boundaries: list[dict[str, Any]], events: list[dict[str, Any]]
) -> tuple[CopiedBoundaries, ...]:
    unchanged = {
        event["object_id"]
        for event in events
        if event["action"] == LedgerAction.BOUNDARIES_AGREED
        and recorded(json.loads(event["payload"]), "unchanged_from_previous")
    }
    copied = []
    for index, row in enumerate(boundaries):
        source = ""
        if str(row["id"]) in unchanged:
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
