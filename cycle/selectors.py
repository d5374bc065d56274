"""Reads that need more than one query: gate snapshots, cycle views, visibility, the audit trail.

Each selector issues a fixed number of queries, whatever the cycle's history or panel size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from roles.models import (
    AgreementSignature,
    ConflictDeclaration,
    GovernanceBoard,
    PanelMembership,
    WorkingAgreement,
)
from roles.permissions import AUDIT_PERM, VIEW_PERM

from . import ledger, workdays
from .gates import (
    Condition,
    Departure,
    DutyAssessmentState,
    GateResult,
    MeetingPapers,
    OverrideRecord,
    SignOffKind,
    SignOffPosition,
    StageSnapshot,
    evaluate,
)
from .models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Consultation,
    DecisionMeeting,
    DutyAssessment,
    GateOverride,
    GateOverrideDeparture,
    Organisation,
    ProposalChange,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from .procurement.selectors import tender_states
from .stages import StageState, get_template


def open_visit(cycle: CommissioningCycle) -> StageVisit | None:
    return StageVisit.objects.filter(cycle=cycle, closed_at__isnull=True).first()


def current_boundaries(cycle: CommissioningCycle, stage_key: str) -> RoleBoundaryAgreement | None:
    return (
        RoleBoundaryAgreement.objects.filter(cycle=cycle, stage_key=stage_key)
        .order_by("-version")
        .first()
    )


def current_budget(cycle: CommissioningCycle) -> BudgetDisclosure | None:
    return BudgetDisclosure.objects.filter(cycle=cycle).order_by("-version").first()


def active_member_ids(cycle: CommissioningCycle) -> set[int]:
    return set(
        PanelMembership.objects.active().filter(cycle=cycle).values_list("member_id", flat=True)
    )


def gate_snapshot(cycle: CommissioningCycle, visit: StageVisit | None = None) -> StageSnapshot:
    """Everything the gate of the cycle's current stage visit depends on, in constant queries.

    Only active members count, and a member's sign-off counts only if it was given since they
    (last) joined the panel: whoever leaves stops counting at once, and whoever rejoins must
    attest again.
    """
    visit = visit if visit is not None else open_visit(cycle)
    stage_key = visit.stage_key if visit is not None else cycle.current_stage
    requires = get_template(cycle.template_key).gate_requires(stage_key)

    members: set[int] = set()
    joined_at: dict[int, Any] = {}
    tender_panel: set[int] = set()
    for member_id, on_tender_panel, joined in (
        PanelMembership.objects.active()
        .filter(cycle=cycle)
        .values_list("member_id", "tender_panel", "joined_at")
    ):
        members.add(member_id)
        joined_at[member_id] = joined
        if on_tender_panel:
            tender_panel.add(member_id)

    # The current boundaries and who acknowledged them, in one query.
    latest_boundaries = (
        RoleBoundaryAgreement.objects.filter(cycle=cycle, stage_key=stage_key)
        .order_by("-version")
        .values("pk")[:1]
    )
    boundary_rows = list(
        RoleBoundaryAgreement.objects.filter(pk=Subquery(latest_boundaries)).values_list(
            "version", "acknowledgements__member_id"
        )
    )
    boundary_version = boundary_rows[0][0] if boundary_rows else None
    acknowledged = frozenset(member for _, member in boundary_rows if member is not None)
    budget = current_budget(cycle)

    signoffs: tuple[SignOffPosition, ...] = ()
    override: OverrideRecord | None = None
    if visit is not None:
        signoffs = tuple(
            SignOffPosition(
                member_id=row["member_id"],
                kind=SignOffKind(row["kind"]),
                boundary_version=row["boundary__version"],
                budget_version=row["budget__version"],
            )
            for row in SignOff.objects.filter(
                visit=visit, superseded_at__isnull=True, withdrawn=False
            ).values("member_id", "kind", "boundary__version", "budget__version", "recorded_at")
            if row["member_id"] not in joined_at
            or row["recorded_at"] >= joined_at[row["member_id"]]
        )
        override = _override_record(visit)

    # The current working agreement binds at every stage: its version and signers, in one query.
    latest_agreement = (
        WorkingAgreement.objects.filter(cycle=cycle).order_by("-version").values("pk")[:1]
    )
    agreement_rows = list(
        WorkingAgreement.objects.filter(pk=Subquery(latest_agreement)).values_list(
            "version", "signatures__member_id"
        )
    )
    agreement_version = agreement_rows[0][0] if agreement_rows else None
    agreement_signed = frozenset(member for _, member in agreement_rows if member is not None)
    conflicts_declared: frozenset[int] = frozenset()
    if Condition.CONFLICTS_DECLARED in requires and tender_panel:
        conflicts_declared = frozenset(
            ConflictDeclaration.objects.filter(cycle=cycle, member_id__in=tender_panel).values_list(
                "member_id", flat=True
            )
        )
    unanswered_inputs = 0
    if Condition.INPUT_ANSWERED in requires:
        unanswered_inputs = UserInput.objects.filter(cycle=cycle).unanswered().count()
    decision_meetings: tuple[MeetingPapers, ...] = ()
    if Condition.DECISION_PAPERS in requires and visit is not None:
        decision_meetings = tuple(
            MeetingPapers(held_on, issued_on)
            for held_on, issued_on in DecisionMeeting.objects.filter(visit=visit)
            .order_by("held_on", "id")
            .values_list("held_on", "papers_issued_on")
        )

    duty = DutyAssessmentState.MISSING
    if Condition.DUTY_ASSESSED in requires:
        duty = duty_assessment_states([cycle.pk])[cycle.pk]
    unconsidered = 0
    if visit is not None:
        unconsidered = Consultation.objects.filter(visit=visit, consideration__isnull=True).count()
    tender = None
    if requires & {Condition.AWARD_SETTLED, Condition.EVALUATION_SIGNED}:
        tender = tender_states([cycle.pk]).get(cycle.pk)

    return StageSnapshot(
        stage_key=stage_key,
        active_members=frozenset(members),
        boundary_version=boundary_version,
        acknowledged_by=acknowledged,
        budget_version=budget.version if budget is not None else None,
        signoffs=signoffs,
        requires=requires,
        agreement_version=agreement_version,
        agreement_signed_by=agreement_signed,
        involvement_lead_named=cycle.involvement_lead_id is not None,
        tender_panel=frozenset(tender_panel),
        conflicts_declared_by=conflicts_declared,
        override=override,
        unanswered_inputs=unanswered_inputs,
        decision_meetings=decision_meetings,
        duty_assessment=duty,
        unconsidered_consultations=unconsidered,
        tender=tender,
    )


def duty_assessment_states(cycle_ids: list[int]) -> dict[int, DutyAssessmentState]:
    """Whether each cycle's duty to involve is assessed for its proposal as it stands, in two
    queries whatever the number of cycles."""
    assessed_for: dict[int, tuple[int, int]] = {}  # cycle -> (version, proposal_version)
    for cycle_id, version, proposal_version in DutyAssessment.objects.filter(
        cycle_id__in=cycle_ids
    ).values_list("cycle_id", "version", "proposal_version"):
        if version > assessed_for.get(cycle_id, (0, 0))[0]:
            assessed_for[cycle_id] = (version, proposal_version)
    changes: dict[int, int] = {}
    for cycle_id, version in ProposalChange.objects.filter(cycle_id__in=cycle_ids).values_list(
        "cycle_id", "version"
    ):
        changes[cycle_id] = max(version, changes.get(cycle_id, 0))
    return {
        pk: DutyAssessmentState.of(
            assessed_for[pk][1] if pk in assessed_for else None, changes.get(pk, 0)
        )
        for pk in cycle_ids
    }


def _override_record(visit: StageVisit) -> OverrideRecord | None:
    """The latest override on the visit with what it departs from, in one query."""
    latest = GateOverride.objects.filter(visit=visit).order_by("-id").values("pk")[:1]
    rows = list(
        GateOverrideDeparture.objects.filter(override_id=Subquery(latest)).values_list(
            "code", "member_id", "override__boundary_version", "override__budget_version"
        )
    )
    if not rows:
        return None
    members: dict[str, set[int]] = {}
    for code, member_id, _, _ in rows:
        members.setdefault(code, set())
        if member_id is not None:
            members[code].add(member_id)
    return OverrideRecord(
        boundary_version=rows[0][2],
        budget_version=rows[0][3],
        departures=tuple(Departure(code, frozenset(ids)) for code, ids in members.items()),
    )


def gate_state(cycle: CommissioningCycle) -> GateResult:
    return evaluate(gate_snapshot(cycle))


def cycle_summary(cycle: CommissioningCycle) -> dict[str, Any]:
    """The cycle as ``cycle show --json`` prints it."""
    template = get_template(cycle.template_key)
    result = gate_state(cycle)
    visits = list(StageVisit.objects.filter(cycle=cycle).order_by("id"))
    budget = current_budget(cycle)
    return {
        "id": cycle.pk,
        "title": cycle.title,
        "organisation": cycle.organisation.name,
        "template": template.key,
        "stage": cycle.current_stage,
        "stage_name": template.get(cycle.current_stage).name,
        "status": cycle.status,
        "gate": {
            "open": result.open,
            "overridden": result.overridden,
            "quorum": result.quorum,
            "attesting": len(result.attesting),
            "unmet": [{"code": item.code, "message": item.message} for item in result.unmet],
        },
        "budget": None
        if budget is None
        else {
            "version": budget.version,
            "amount": None if budget.amount is None else str(budget.amount),
            "currency": budget.currency,
            "withheld_reason": budget.withheld_reason,
        },
        "stages": [
            {
                "key": stage.key,
                "name": stage.name,
                "position": index,
                "visits": [
                    {
                        "opened_at": visit.opened_at.isoformat(),
                        "closed_at": visit.closed_at.isoformat() if visit.closed_at else None,
                        "closure": visit.closure or None,
                        "reason": visit.opened_reason or None,
                    }
                    for visit in visits
                    if visit.stage_key == stage.key
                ],
            }
            for index, stage in enumerate(template.stages, 1)
        ],
    }


def cycles_visible_to(user: Any) -> QuerySet[CommissioningCycle]:
    """Cycles a user may see, in one query however much data there is.

    Those they take part in (as lead commissioner, involvement lead or active panel member), those
    of the organisations they work for, and those of the organisations their governance boards
    oversee. Only users whose role lets them see cycles at all see any; former panel members no
    longer do.
    """
    if not user.is_authenticated or not user.is_active:
        return CommissioningCycle.objects.none()
    if user.is_superuser:
        return CommissioningCycle.objects.all()
    if not user.has_perm(VIEW_PERM):
        return CommissioningCycle.objects.none()
    panels = PanelMembership.objects.active().filter(member_id=user.pk).values("cycle_id")
    staff_of = Organisation.staff.through.objects.filter(user_id=user.pk).values("organisation_id")
    overseen = GovernanceBoard.organisations.through.objects.filter(
        governanceboard__members=user.pk
    ).values("organisation_id")
    return CommissioningCycle.objects.filter(
        Q(lead_commissioner_id=user.pk)
        | Q(involvement_lead_id=user.pk)
        | Q(pk__in=panels)
        | Q(organisation_id__in=staff_of)
        | Q(organisation_id__in=overseen)
    )


def input_response_due(submitted_at: datetime, region: str = workdays.DEFAULT_REGION) -> datetime:
    """When input must have an answer: the start of the ``INPUT_RESPONSE_DAYS``-th working day
    after the day it was given, in the organisation's bank-holiday ``region``."""
    return workdays.due_after(submitted_at, settings.INPUT_RESPONSE_DAYS, region)


def overdue_input_ids(now: datetime | None = None) -> list[int]:
    """Unanswered input that has waited ``INPUT_RESPONSE_DAYS`` working days, not yet flagged."""
    from django.db.models import Q

    now = now if now is not None else timezone.now()
    waited = Q()
    for region in workdays.Region:
        cutoff = workdays.waited_since_before(now, settings.INPUT_RESPONSE_DAYS, region)
        waited |= Q(cycle__organisation__bank_holidays=region.value, submitted_at__lt=cutoff)
    return list(
        UserInput.objects.unanswered()
        .filter(waited, overdue_flagged_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def gate_snapshots(cycles: list[CommissioningCycle]) -> dict[int, StageSnapshot]:
    """:func:`gate_snapshot` of each cycle's open visit, for many cycles in a fixed number of
    queries (lists of cycles call this; a parity test holds it to :func:`gate_snapshot`)."""
    from collections import defaultdict

    if not cycles:
        return {}
    ids = [cycle.pk for cycle in cycles]
    by_id = {cycle.pk: cycle for cycle in cycles}
    visits = {
        visit.cycle_id: visit
        for visit in StageVisit.objects.filter(cycle_id__in=ids, closed_at__isnull=True)
    }
    stage_of = {
        pk: (visits[pk].stage_key if pk in visits else cycle.current_stage)
        for pk, cycle in by_id.items()
    }
    requires = {
        pk: get_template(cycle.template_key).gate_requires(stage_of[pk])
        for pk, cycle in by_id.items()
    }

    members: defaultdict[int, set[int]] = defaultdict(set)
    joined_at: defaultdict[int, dict[int, Any]] = defaultdict(dict)
    tender_panel: defaultdict[int, set[int]] = defaultdict(set)
    for cycle_id, member_id, on_tender_panel, joined in (
        PanelMembership.objects.active()
        .filter(cycle_id__in=ids)
        .values_list("cycle_id", "member_id", "tender_panel", "joined_at")
    ):
        members[cycle_id].add(member_id)
        joined_at[cycle_id][member_id] = joined
        if on_tender_panel:
            tender_panel[cycle_id].add(member_id)

    boundaries: dict[int, tuple[int, int]] = {}  # cycle -> (version, agreement id)
    for agreement_id, cycle_id, stage_key, version in RoleBoundaryAgreement.objects.filter(
        cycle_id__in=ids
    ).values_list("id", "cycle_id", "stage_key", "version"):
        if stage_key == stage_of[cycle_id] and version > boundaries.get(cycle_id, (0, 0))[0]:
            boundaries[cycle_id] = (version, agreement_id)
    acknowledged: defaultdict[int, set[int]] = defaultdict(set)
    agreement_cycle = {agreement_id: cycle_id for cycle_id, (_, agreement_id) in boundaries.items()}
    for agreement_id, member_id in BoundaryAcknowledgement.objects.filter(
        agreement_id__in=list(agreement_cycle)
    ).values_list("agreement_id", "member_id"):
        acknowledged[agreement_cycle[agreement_id]].add(member_id)

    budgets: dict[int, int] = {}
    for cycle_id, version in BudgetDisclosure.objects.filter(cycle_id__in=ids).values_list(
        "cycle_id", "version"
    ):
        budgets[cycle_id] = max(version, budgets.get(cycle_id, 0))

    visit_cycle = {visit.pk: cycle_id for cycle_id, visit in visits.items()}
    signoffs: defaultdict[int, list[SignOffPosition]] = defaultdict(list)
    for row in SignOff.objects.filter(
        visit_id__in=list(visit_cycle), superseded_at__isnull=True, withdrawn=False
    ).values(
        "visit_id", "member_id", "kind", "boundary__version", "budget__version", "recorded_at"
    ):
        cycle_id = visit_cycle[row["visit_id"]]
        member_joined = joined_at[cycle_id].get(row["member_id"])
        if member_joined is not None and row["recorded_at"] < member_joined:
            continue
        signoffs[cycle_id].append(
            SignOffPosition(
                member_id=row["member_id"],
                kind=SignOffKind(row["kind"]),
                boundary_version=row["boundary__version"],
                budget_version=row["budget__version"],
            )
        )
    # The latest override of each open visit, with what it departs from.
    latest_override: dict[int, int] = {}
    for override_id, visit_id in (
        GateOverride.objects.filter(visit_id__in=list(visit_cycle))
        .order_by("id")
        .values_list("id", "visit_id")
    ):
        latest_override[visit_cycle[visit_id]] = override_id
    departures: defaultdict[int, dict[str, set[int]]] = defaultdict(dict)
    override_versions: dict[int, tuple[int | None, int | None]] = {}
    override_cycle = {override_id: cycle_id for cycle_id, override_id in latest_override.items()}
    for (
        override_id,
        code,
        member_id,
        boundary_version,
        budget_version,
    ) in GateOverrideDeparture.objects.filter(override_id__in=list(override_cycle)).values_list(
        "override_id",
        "code",
        "member_id",
        "override__boundary_version",
        "override__budget_version",
    ):
        cycle_id = override_cycle[override_id]
        override_versions[cycle_id] = (boundary_version, budget_version)
        named = departures[cycle_id].setdefault(code, set())
        if member_id is not None:
            named.add(member_id)
    overrides = {
        cycle_id: OverrideRecord(
            boundary_version=versions[0],
            budget_version=versions[1],
            departures=tuple(
                Departure(code, frozenset(named)) for code, named in departures[cycle_id].items()
            ),
        )
        for cycle_id, versions in override_versions.items()
    }

    # The current working agreement binds at every stage once it is on record.
    agreement_versions: dict[int, int] = {}
    agreement_signed: defaultdict[int, set[int]] = defaultdict(set)
    latest: dict[int, tuple[int, int]] = {}
    for agreement_id, cycle_id, version in WorkingAgreement.objects.filter(
        cycle_id__in=ids
    ).values_list("id", "cycle_id", "version"):
        if version > latest.get(cycle_id, (0, 0))[0]:
            latest[cycle_id] = (version, agreement_id)
    agreement_versions = {cycle_id: version for cycle_id, (version, _) in latest.items()}
    working_cycle = {agreement_id: cycle_id for cycle_id, (_, agreement_id) in latest.items()}
    if working_cycle:
        for agreement_id, member_id in AgreementSignature.objects.filter(
            agreement_id__in=list(working_cycle)
        ).values_list("agreement_id", "member_id"):
            agreement_signed[working_cycle[agreement_id]].add(member_id)
    needs_conflicts = [
        pk for pk in ids if Condition.CONFLICTS_DECLARED in requires[pk] and tender_panel[pk]
    ]
    declared: defaultdict[int, set[int]] = defaultdict(set)
    if needs_conflicts:
        for cycle_id, member_id in ConflictDeclaration.objects.filter(
            cycle_id__in=needs_conflicts
        ).values_list("cycle_id", "member_id"):
            if member_id in tender_panel[cycle_id]:
                declared[cycle_id].add(member_id)
    needs_answers = [pk for pk in ids if Condition.INPUT_ANSWERED in requires[pk]]
    unanswered: dict[int, int] = {}
    if needs_answers:
        from django.db.models import Count

        unanswered = dict(
            UserInput.objects.filter(cycle_id__in=needs_answers)
            .unanswered()
            .values("cycle_id")
            .annotate(count=Count("id"))
            .values_list("cycle_id", "count")
        )

    needs_papers = [
        visits[pk].pk for pk in ids if Condition.DECISION_PAPERS in requires[pk] and pk in visits
    ]
    meetings: defaultdict[int, list[MeetingPapers]] = defaultdict(list)
    if needs_papers:
        for cycle_id, held_on, issued_on in (
            DecisionMeeting.objects.filter(visit_id__in=needs_papers)
            .order_by("held_on", "id")
            .values_list("cycle_id", "held_on", "papers_issued_on")
        ):
            meetings[cycle_id].append(MeetingPapers(held_on, issued_on))
    needs_duty = [pk for pk in ids if Condition.DUTY_ASSESSED in requires[pk]]
    duty = duty_assessment_states(needs_duty) if needs_duty else {}
    needs_award = [
        pk for pk in ids if requires[pk] & {Condition.AWARD_SETTLED, Condition.EVALUATION_SIGNED}
    ]
    tenders = tender_states(needs_award) if needs_award else {}
    unconsidered: dict[int, int] = {}
    for cycle_id in Consultation.objects.filter(
        visit_id__in=list(visit_cycle), consideration__isnull=True
    ).values_list("cycle_id", flat=True):
        unconsidered[cycle_id] = unconsidered.get(cycle_id, 0) + 1

    snapshots = {}
    for pk, cycle in by_id.items():
        boundary = boundaries.get(pk)
        snapshots[pk] = StageSnapshot(
            stage_key=stage_of[pk],
            active_members=frozenset(members[pk]),
            boundary_version=boundary[0] if boundary else None,
            acknowledged_by=frozenset(acknowledged[pk]),
            budget_version=budgets.get(pk),
            signoffs=tuple(signoffs[pk]),
            requires=requires[pk],
            agreement_version=agreement_versions.get(pk),
            agreement_signed_by=frozenset(agreement_signed[pk]),
            involvement_lead_named=cycle.involvement_lead_id is not None,
            tender_panel=frozenset(tender_panel[pk]),
            conflicts_declared_by=frozenset(declared[pk]),
            override=overrides.get(pk),
            unanswered_inputs=unanswered.get(pk, 0),
            decision_meetings=tuple(meetings[pk]),
            duty_assessment=duty.get(pk, DutyAssessmentState.MISSING),
            unconsidered_consultations=unconsidered.get(pk, 0),
            tender=tenders.get(pk),
        )
    return snapshots


def stage_states(cycle: CommissioningCycle) -> dict[str, StageState]:
    """Where the cycle stands with each stage of its template, for the live BPMN diagram.

    A stage before the current one was passed, or passed by an override (with the codes the
    override departed from); the current one shows its gate, open or closed with every unmet
    code; later ones are not reached (even if visited before a reopening). A completed cycle
    shows each stage as its last visit ended. Two queries for the history, however long, plus
    the constant cost of the current gate.
    """
    template = get_template(cycle.template_key)
    latest: dict[str, Any] = {}
    visits: dict[str, int] = {}
    for visit in (
        StageVisit.objects.filter(cycle=cycle).order_by("id").values("id", "stage_key", "closure")
    ):
        latest[visit["stage_key"]] = visit
        visits[visit["stage_key"]] = visits.get(visit["stage_key"], 0) + 1
    waived: dict[int, tuple[str, ...]] = {}
    for visit_id, codes in (
        GateOverride.objects.filter(cycle=cycle)
        .order_by("id")
        .values_list("visit_id", "unmet_codes")
    ):
        waived[visit_id] = tuple(code for code in codes.split(",") if code)
    active = cycle.status == CommissioningCycle.Status.ACTIVE
    current = template.position(cycle.current_stage)
    gate = gate_state(cycle) if active else None
    states: dict[str, StageState] = {}
    for position, stage in enumerate(template.stages, start=1):
        row = latest.get(stage.key)
        count = visits.get(stage.key, 0)
        if gate is not None and position == current:
            state = StageState(
                stage.key,
                StageState.CURRENT,
                gate_open=gate.open,
                unmet=gate.codes,
                override_stands=gate.overridden,
                visits=count,
            )
        elif row is None or (active and position > current):
            state = StageState(stage.key, StageState.NOT_REACHED, visits=count)
        elif row["closure"] == StageVisit.Closure.OVERRIDDEN:
            state = StageState(
                stage.key, StageState.OVERRIDDEN, unmet=waived.get(row["id"], ()), visits=count
            )
        elif row["closure"] == StageVisit.Closure.PASSED:
            state = StageState(stage.key, StageState.PASSED, visits=count)
        else:
            state = StageState(stage.key, StageState.NOT_REACHED, visits=count)
        states[stage.key] = state
    return states


def open_dissents(cycle: CommissioningCycle) -> list[SignOff]:
    """The dissents that stand on the cycle's current stage visit, oldest first, with who
    recorded them, in one query."""
    return list(
        SignOff.objects.filter(
            cycle=cycle,
            visit__closed_at__isnull=True,
            kind=SignOff.Kind.DISSENT,
            superseded_at__isnull=True,
            withdrawn=False,
        )
        .select_related("member")
        .order_by("recorded_at", "id")
    )


# Governance boards: what a board member audits (docs/permissions.md: "a cycle of an organisation
# their board oversees").


def organisations_overseen_by(user: Any) -> QuerySet[Organisation]:
    """The organisations a governance board member audits, by name: those their boards oversee.

    Nobody else audits anything: the audit permission and a seat on a board that oversees the
    organisation must both hold, as for ``roles.permissions.Action.AUDIT``.
    """
    if not user.is_authenticated or not user.is_active or not user.has_perm(AUDIT_PERM):
        return Organisation.objects.none()
    boards = GovernanceBoard.organisations.through.objects.filter(
        governanceboard__members=user.pk
    ).values("organisation_id")
    return Organisation.objects.filter(pk__in=boards).order_by("name")


def cycles_audited_by(user: Any) -> QuerySet[CommissioningCycle]:
    """The cycles whose records and ledger a governance board member may read, in one query."""
    return CommissioningCycle.objects.filter(
        organisation_id__in=organisations_overseen_by(user).values("pk")
    )


AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """What the audit trail is narrowed to; empty values do not narrow it."""

    action: str = ""
    outcome: str = ""
    actor: str = ""
    """The username of whoever acted, exactly (case does not matter)."""
    stage_key: str = ""
    period_from: date | None = None
    period_to: date | None = None
    """Both days included."""
    cycle_id: int | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    outcome: str
    cycle_id: int | None
    cycle_title: str
    organisation: str
    stage_key: str
    details: tuple[tuple[str, str], ...]
    """The event's payload, key by key, each value as text (empty ones left out)."""
    hash: str


@dataclass(frozen=True)
class AuditTrailPage:
    """One page of the audit trail, newest first, and where the pages either side start."""

    entries: tuple[AuditEntry, ...]
    older_before: int | None
    """Show older events with ``before=`` this sequence number; None when there are none."""
    newer_after: int | None
    """Show newer events with ``after=`` this sequence number; None when there are none."""


def _detail(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    if value is None:
        return "none"
    return str(value)


def audit_events_audited_by(user: Any, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The ledger events of the cycles ``user`` audits, narrowed by ``filters``."""
    filters = filters or AuditFilters()
    events = AuditEvent.objects.filter(cycle_id__in=cycles_audited_by(user).values("pk"))
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.actor:
        events = events.filter(actor_name__iexact=filters.actor)
    if filters.stage_key:
        events = events.filter(stage_key=filters.stage_key)
    if filters.period_from is not None:
        start = timezone.make_aware(datetime.combine(filters.period_from, time.min))
        events = events.filter(at__gte=start)
    if filters.period_to is not None:
        end = timezone.make_aware(datetime.combine(filters.period_to + timedelta(days=1), time.min))
        events = events.filter(at__lt=end)
    if filters.cycle_id is not None:
        events = events.filter(cycle_id=filters.cycle_id)
    if filters.organisation_id is not None:
        events = events.filter(cycle__organisation_id=filters.organisation_id)
    return events


def audit_trail(
    user: Any,
    filters: AuditFilters | None = None,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = AUDIT_PAGE_SIZE,
) -> AuditTrailPage:
    """A page of the audit trail of the cycles ``user`` audits, newest first, paged by sequence
    number (``before`` or ``after`` a given event), in two queries however long the ledger."""
    events = audit_events_audited_by(user, filters)
    columns = (
        "seq",
        "at",
        "actor_name",
        "action",
        "outcome",
        "cycle_id",
        "cycle__title",
        "cycle__organisation__name",
        "stage_key",
        "payload",
        "hash",
    )
    if after is not None:
        rows = list(events.filter(seq__gt=after).order_by("seq").values(*columns)[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        more_older = bool(rows) and events.filter(seq__lt=rows[-1]["seq"]).exists()
    else:
        page = events.filter(seq__lt=before) if before is not None else events
        rows = list(page.order_by("-seq").values(*columns)[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = (
            before is not None and bool(rows) and events.filter(seq__gt=rows[0]["seq"]).exists()
        )
    entries = tuple(
        AuditEntry(
            seq=row["seq"],
            at=row["at"],
            actor=row["actor_name"],
            action=row["action"],
            outcome=row["outcome"],
            cycle_id=row["cycle_id"],
            cycle_title=row["cycle__title"] or "",
            organisation=row["cycle__organisation__name"] or "",
            stage_key=row["stage_key"],
            details=tuple(
                (key, _detail(value))
                for key, value in json.loads(row["payload"] or "{}").items()
                if value != ""
            ),
            hash=row["hash"],
        )
        for row in rows
    )
    return AuditTrailPage(
        entries=entries,
        older_before=entries[-1].seq if entries and more_older else None,
        newer_after=entries[0].seq if entries and more_newer else None,
    )


def audit_actions(user: Any) -> list[str]:
    """The actions that occur in the events ``user`` audits, for choosing one, in one query."""
    return list(
        audit_events_audited_by(user).order_by("action").values_list("action", flat=True).distinct()
    )


@dataclass(frozen=True)
class LedgerVerdict:
    """What verifying the ledger found, as a board member may be told it."""

    ok: bool
    checked: int
    head_seq: int | None
    head_hash: str
    problem: str
    """Empty when verified; otherwise the first event that does not verify and why."""


def ledger_verdict(user: Any, cycle: CommissioningCycle | None = None) -> LedgerVerdict:
    """Verify the whole ledger (or one cycle's chain) and say what was found.

    The whole ledger is checked, every organisation's events included, since one broken link
    anywhere breaks the chain; a failure in an event of a cycle ``user`` does not audit is named
    by its number only, without its action or cycle.
    """
    result = ledger.verify_cycle(cycle) if cycle is not None else ledger.verify_ledger()
    problem = ""
    if not result.ok:
        visible = (
            result.cycle_id is not None
            and cycles_audited_by(user).filter(pk=result.cycle_id).exists()
        )
        if visible or not result.action:
            problem = result.describe()
        else:
            problem = (
                f"event #{result.first_bad_seq} (outside the organisations you oversee): "
                f"{result.problem}"
            )
    return LedgerVerdict(
        ok=result.ok,
        checked=result.checked,
        head_seq=result.last_seq,
        head_hash=result.last_hash,
        problem=problem,
    )
