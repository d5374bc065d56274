"""Reads that need more than one query: gate snapshots, cycle views, visibility, the audit trail.

Each selector issues a fixed number of queries, whatever the cycle's history or panel size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db.models import (
    CharField,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce
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
    TenderState,
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
from .prepared import PreparedRead, as_date
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
    """Everything the gate of the cycle's current stage visit depends on, in one query (two or
    three more where the gate asks about a tender).

    ``visit`` is the cycle's open visit, if the caller has it already; without it, the read finds
    the open visit itself. Only active members count, and a member's sign-off counts only if it
    was given since they (last) joined the panel: whoever leaves stops counting at once, and
    whoever rejoins must attest again.
    """
    if visit is not None:
        facts = _GateFacts.read(
            _GATE_FACTS_OF_VISIT.rows(
                cycle_id=cycle.pk, visit_id=visit.pk, stage_key=visit.stage_key
            )
        )
        stage_key = visit.stage_key
    else:
        facts = _GateFacts.read(
            _GATE_FACTS_OF_OPEN_VISIT.rows(cycle_id=cycle.pk, current_stage=cycle.current_stage)
        )
        stage_key = facts.visit_stage_key or cycle.current_stage
    requires = get_template(cycle.template_key).gate_requires(stage_key)
    tender = None
    if requires & {Condition.AWARD_SETTLED, Condition.EVALUATION_SIGNED}:
        tender = tender_states([cycle.pk]).get(cycle.pk)
    return facts.snapshot(
        stage_key=stage_key,
        requires=requires,
        involvement_lead_named=cycle.involvement_lead_id is not None,
        tender=tender,
    )


# One query for a gate: each part of what the gate depends on is one branch of a UNION ALL, its
# rows labelled with the part's name and laid out in the same few columns (numbers, a text, two
# dates), with typed NULLs where a part has nothing to say (PostgreSQL types each column of a
# UNION from its branches).
_NO_NUMBER = Cast(Value(None), IntegerField())
_NO_TEXT = Cast(Value(None), CharField())
_NO_DATE = Cast(Value(None), DateField())


def _part(
    queryset: QuerySet[Any],
    name: str,
    *,
    a: Any = _NO_NUMBER,
    b: Any = _NO_NUMBER,
    c: Any = _NO_NUMBER,
    d: Any = _NO_NUMBER,
    text: Any = _NO_TEXT,
    day: Any = _NO_DATE,
    other_day: Any = _NO_DATE,
) -> QuerySet[Any]:
    """One branch of the gate's read: ``queryset``'s rows laid out as (part, a, b, c, d, text,
    day, other_day)."""
    return queryset.order_by().values(
        fact_part=Value(name),
        fact_a=a,
        fact_b=b,
        fact_c=c,
        fact_d=d,
        fact_text=text,
        fact_day=day,
        fact_other_day=other_day,
    )


def _latest(queryset: QuerySet[Any]) -> Subquery:
    return Subquery(queryset.order_by("-version").values("pk")[:1])


def _gate_facts_query(cycle_id: Any, visit_id: Any, stage_key: Any) -> QuerySet[Any]:
    """The rows :class:`_GateFacts` reads, for the visit ``visit_id`` of the cycle ``cycle_id`` at
    the stage ``stage_key`` (values, or expressions the database works out)."""
    active = PanelMembership.objects.active()
    changed_since = active.filter(
        cycle_id=OuterRef("cycle_id"),
        member_id=OuterRef("member_id"),
        joined_at__gt=OuterRef("recorded_at"),
    )
    latest_override = GateOverride.objects.filter(visit_id=visit_id).order_by("-id").values("pk")
    parts = [
        _part(
            active.filter(cycle_id=cycle_id),
            "member",
            a=F("member_id"),
            b=Cast("tender_panel", IntegerField()),
        ),
        _part(
            RoleBoundaryAgreement.objects.filter(
                pk=_latest(
                    RoleBoundaryAgreement.objects.filter(cycle_id=cycle_id, stage_key=stage_key)
                )
            ),
            "boundaries",
            a=F("version"),
            c=F("acknowledgements__member_id"),
        ),
        _part(
            BudgetDisclosure.objects.filter(
                pk=_latest(BudgetDisclosure.objects.filter(cycle_id=cycle_id))
            ),
            "budget",
            a=F("version"),
        ),
        # A sign-off counts if given since its member (last) joined, or if they are not active.
        _part(
            SignOff.objects.filter(
                visit_id=visit_id, superseded_at__isnull=True, withdrawn=False
            ).exclude(Exists(changed_since)),
            "signoff",
            a=F("member_id"),
            b=F("boundary__version"),
            c=F("budget__version"),
            d=F("id"),
            text=F("kind"),
        ),
        _part(
            GateOverrideDeparture.objects.filter(override_id=Subquery(latest_override[:1])),
            "override",
            a=F("override__boundary_version"),
            b=F("override__budget_version"),
            c=F("member_id"),
            text=F("code"),
        ),
        _part(
            WorkingAgreement.objects.filter(
                pk=_latest(WorkingAgreement.objects.filter(cycle_id=cycle_id))
            ),
            "agreement",
            a=F("version"),
            c=F("signatures__member_id"),
        ),
        _part(
            ConflictDeclaration.objects.filter(
                cycle_id=cycle_id,
                member_id__in=active.filter(cycle_id=cycle_id, tender_panel=True).values(
                    "member_id"
                ),
            ),
            "conflict",
            a=F("member_id"),
        ),
        _part(UserInput.objects.filter(cycle_id=cycle_id).unanswered(), "unanswered", a=F("id")),
        _part(
            DecisionMeeting.objects.filter(visit_id=visit_id),
            "meeting",
            a=F("id"),
            day=F("held_on"),
            other_day=F("papers_issued_on"),
        ),
        _part(
            DutyAssessment.objects.filter(
                pk=_latest(DutyAssessment.objects.filter(cycle_id=cycle_id))
            ),
            "duty",
            a=F("version"),
            b=F("proposal_version"),
        ),
        _part(
            ProposalChange.objects.filter(
                pk=_latest(ProposalChange.objects.filter(cycle_id=cycle_id))
            ),
            "proposal",
            a=F("version"),
        ),
        _part(
            Consultation.objects.filter(visit_id=visit_id, consideration__isnull=True),
            "unconsidered",
            a=F("id"),
        ),
    ]
    return parts[0].union(*parts[1:], all=True)


def _gate_facts_of_open_visit(cycle_id: int, current_stage: str) -> QuerySet[Any]:
    """:func:`_gate_facts_query` of the cycle's open visit, found by the same query, with the
    visit itself as one more part (at ``current_stage`` when the cycle has none open)."""
    open_visit = StageVisit.objects.filter(cycle_id=cycle_id, closed_at__isnull=True)
    visit_id = Subquery(open_visit.values("pk")[:1])
    stage_key = Coalesce(Subquery(open_visit.values("stage_key")[:1]), Value(current_stage))
    visit = _part(open_visit, "visit", a=F("id"), text=F("stage_key"))
    return visit.union(_gate_facts_query(cycle_id, visit_id, stage_key), all=True)


_GATE_FACTS_OF_VISIT = PreparedRead(_gate_facts_query, cycle_id=int, visit_id=int, stage_key=str)
_GATE_FACTS_OF_OPEN_VISIT = PreparedRead(_gate_facts_of_open_visit, cycle_id=int, current_stage=str)


@dataclass
class _GateFacts:
    """What the rows of the gate's read say, gathered part by part."""

    visit_stage_key: str | None = None
    members: set[int] = field(default_factory=set)
    tender_panel: set[int] = field(default_factory=set)
    boundary_version: int | None = None
    acknowledged: set[int] = field(default_factory=set)
    budget_version: int | None = None
    signoffs: list[tuple[int, SignOffPosition]] = field(default_factory=list)
    """(id, sign-off): they are given in the order they were recorded."""
    override_versions: tuple[int | None, int | None] | None = None
    departures: dict[str, set[int]] = field(default_factory=dict)
    agreement_version: int | None = None
    agreement_signed: set[int] = field(default_factory=set)
    conflicts_declared: set[int] = field(default_factory=set)
    unanswered_inputs: int = 0
    meetings: list[tuple[date, int, date | None]] = field(default_factory=list)
    """(held on, id, papers issued on) of each decision meeting of the visit."""
    assessed_for: int | None = None
    assessed: bool = False
    proposal_changes: int = 0
    unconsidered: int = 0

    @classmethod
    def read(cls, rows: list[tuple[Any, ...]]) -> _GateFacts:
        facts = cls()
        for part, a, b, c, d, text, day, other_day in rows:
            if part == "member":
                facts.members.add(a)
                if b:
                    facts.tender_panel.add(a)
            elif part == "boundaries":
                facts.boundary_version = a
                if c is not None:
                    facts.acknowledged.add(c)
            elif part == "budget":
                facts.budget_version = a
            elif part == "signoff":
                facts.signoffs.append((d, SignOffPosition(a, SignOffKind(text), b, c)))
            elif part == "override":
                facts.override_versions = (a, b)
                named = facts.departures.setdefault(text, set())
                if c is not None:
                    named.add(c)
            elif part == "agreement":
                facts.agreement_version = a
                if c is not None:
                    facts.agreement_signed.add(c)
            elif part == "conflict":
                facts.conflicts_declared.add(a)
            elif part == "unanswered":
                facts.unanswered_inputs += 1
            elif part == "meeting":
                facts.meetings.append((as_date(day), a, as_date(other_day)))  # type: ignore[arg-type]
            elif part == "duty":
                facts.assessed, facts.assessed_for = True, b
            elif part == "proposal":
                facts.proposal_changes = a
            elif part == "unconsidered":
                facts.unconsidered += 1
            elif part == "visit":
                facts.visit_stage_key = text
        return facts

    def snapshot(
        self,
        *,
        stage_key: str,
        requires: frozenset[Condition],
        involvement_lead_named: bool,
        tender: TenderState | None,
    ) -> StageSnapshot:
        """The gate's snapshot; what only some gates ask about is left empty where not asked."""
        override = None
        if self.override_versions is not None:
            override = OverrideRecord(
                boundary_version=self.override_versions[0],
                budget_version=self.override_versions[1],
                departures=tuple(
                    Departure(code, frozenset(named)) for code, named in self.departures.items()
                ),
            )
        duty = DutyAssessmentState.MISSING
        if Condition.DUTY_ASSESSED in requires:
            duty = DutyAssessmentState.of(
                self.assessed_for if self.assessed else None, self.proposal_changes
            )
        return StageSnapshot(
            stage_key=stage_key,
            active_members=frozenset(self.members),
            boundary_version=self.boundary_version,
            acknowledged_by=frozenset(self.acknowledged),
            budget_version=self.budget_version,
            signoffs=tuple(signoff for _, signoff in sorted(self.signoffs, key=itemgetter(0))),
            requires=requires,
            agreement_version=self.agreement_version,
            agreement_signed_by=frozenset(self.agreement_signed),
            involvement_lead_named=involvement_lead_named,
            tender_panel=frozenset(self.tender_panel),
            conflicts_declared_by=frozenset(
                self.conflicts_declared if Condition.CONFLICTS_DECLARED in requires else ()
            ),
            override=override,
            unanswered_inputs=(
                self.unanswered_inputs if Condition.INPUT_ANSWERED in requires else 0
            ),
            decision_meetings=tuple(
                MeetingPapers(held_on, issued_on) for held_on, _, issued_on in sorted(self.meetings)
            )
            if Condition.DECISION_PAPERS in requires
            else (),
            duty_assessment=duty,
            unconsidered_consultations=self.unconsidered,
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
    return CommissioningCycle.objects.filter(taking_part(user.pk))


def taking_part(user_id: Any) -> Q:
    """The cycles the user ``user_id`` takes part in or oversees, whoever their role lets them
    see (:func:`cycles_visible_to` asks that first): as lead commissioner, involvement lead or
    active panel member, through an organisation they work for or one their boards oversee."""
    panels = PanelMembership.objects.active().filter(member_id=user_id).values("cycle_id")
    staff_of = Organisation.staff.through.objects.filter(user_id=user_id).values("organisation_id")
    overseen = GovernanceBoard.organisations.through.objects.filter(
        governanceboard__members=user_id
    ).values("organisation_id")
    return (
        Q(lead_commissioner_id=user_id)
        | Q(involvement_lead_id=user_id)
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
