"""Reads the pages need, each in a fixed number of queries whatever the number of cycles,
members or events (``tests/web/test_query_counts.py`` holds them to it).

Gate state comes from ``cycle.selectors.gate_snapshots`` and ``cycle.gates.evaluate``: the pages
show the engine's own verdict, never one of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists
from django.utils import timezone

from cycle import selectors
from cycle.duty_models import DutyAssessment, ProposalChange
from cycle.duty_selectors import consultation_rows as consultation_rows
from cycle.gates import PAPERS_NOTICE_DAYS, Condition, GateResult, StageSnapshot, evaluate
from cycle.models import (
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    DecisionMeeting,
    InputResponse,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from cycle.stages import StageDefinition, get_template
from cycle.workdays import due_after, uk_date
from processes.models import PreparedInstances
from roles.backends import holding, model_permissions_known
from roles.models import AgreementSignature, ConflictDeclaration, PanelMembership, WorkingAgreement
from roles.permissions import VIEW_PERM

# Who each unmet condition waits on, in the words of the people who use the pages.
WAITING_ON = {
    "panel.empty": "the involvement lead",
    "boundaries.missing": "the lead commissioner",
    "boundaries.unacknowledged": "the panel",
    "budget.missing": "the lead commissioner",
    "signoff.stale": "the panel",
    "signoff.quorum": "the panel",
    "signoff.dissent": "a panel member who disagrees, or the governance board",
    "agreement.unsigned": "the panel",
    "lead.missing": "the lead commissioner",
    "conflicts.undeclared": "the tender panel",
    "input.unanswered": "the lead commissioner",
    "duty.missing": "the lead commissioner",
    "duty.stale": "the lead commissioner",
    "consultation.unconsidered": "the lead commissioner",
    "award.undecided": "the decision-maker",
    "notice.unpublished": "the lead commissioner",
    "standstill.running": "the end of the standstill",
    "standstill.under_review": "the decision-maker",
    "evaluation.unsigned": "the tender panel",
}


@dataclass(frozen=True)
class CycleRow:
    """One cycle in a list: where it stands and what it waits on."""

    cycle: CommissioningCycle
    stage: StageDefinition
    stage_number: int
    stage_count: int
    gate: GateResult
    completed: bool

    @property
    def waiting_on(self) -> list[tuple[str, str]]:
        """(who, what) for each unmet condition; the lead commissioner when the gate is open."""
        if self.completed:
            return []
        if self.gate.passable:
            return [("the lead commissioner", "The gate is open: the cycle can move on.")]
        return [
            (WAITING_ON.get(item.code, "the lead commissioner"), item.message)
            for item in self.gate.unmet
        ]


def cycle_rows(cycles: list[CommissioningCycle]) -> list[CycleRow]:
    """Rows for a list of cycles (already fetched with their organisation)."""
    snapshots = selectors.gate_snapshots(cycles)
    rows = []
    for cycle in cycles:
        template = get_template(cycle.template_key)
        rows.append(
            CycleRow(
                cycle=cycle,
                stage=template.get(cycle.current_stage),
                stage_number=template.position(cycle.current_stage),
                stage_count=len(template.stages),
                gate=evaluate(snapshots[cycle.pk]),
                completed=cycle.status == CommissioningCycle.Status.COMPLETED,
            )
        )
    return rows


def _page_cycle(cycle_id: int, user_id: int | None = None, asking: bool = False) -> Any:
    """The cycle with what every page of it shows; only if the user ``user_id`` takes part in it
    (``selectors.taking_part``), and, ``asking``, holds the model permission to see cycles."""
    cycles = CommissioningCycle.objects.select_related(
        "organisation", "lead_commissioner", "involvement_lead"
    ).filter(pk=cycle_id)
    if user_id is not None:
        cycles = cycles.filter(selectors.taking_part(user_id))
    if asking:
        cycles = cycles.filter(Exists(holding(user_id, VIEW_PERM)))
    return cycles


# Built once per database, run with each request's ids (cycle.prepared): every page of a cycle
# reads its cycle one of these three ways.
_ANY_CYCLE = PreparedInstances(_page_cycle, cycle_id=int)
_CYCLE_TAKEN_PART_IN = PreparedInstances(_page_cycle, cycle_id=int, user_id=int)
_CYCLE_IF_PERMITTED = PreparedInstances(
    lambda **ids: _page_cycle(**ids, asking=True), cycle_id=int, user_id=int
)
_LARGEST_ID = 2**63 - 1


def page_cycle(user: Any, cycle_id: int) -> CommissioningCycle | None:
    """The cycle ``cycle_id``, with its organisation and leads, if ``user`` may see it (exactly
    ``selectors.cycles_visible_to``), else None; in one query. A user whose model permissions are
    not yet known is asked for the one to see cycles in that same query (and the first check that
    needs the rest of them reads them, as it would have)."""
    if not user.is_authenticated or not user.is_active or not 0 < cycle_id <= _LARGEST_ID:
        return None
    if user.is_superuser:
        found = _ANY_CYCLE.instances(cycle_id=cycle_id)
    elif not model_permissions_known(user):
        found = _CYCLE_IF_PERMITTED.instances(cycle_id=cycle_id, user_id=user.pk)
    elif user.has_perm(VIEW_PERM):
        found = _CYCLE_TAKEN_PART_IN.instances(cycle_id=cycle_id, user_id=user.pk)
    else:
        found = []
    return found[0] if found else None


def visible_cycles(user: Any) -> list[CommissioningCycle]:
    return list(
        selectors.cycles_visible_to(user)
        .select_related("organisation", "lead_commissioner", "involvement_lead")
        .order_by("title", "id")
    )


@dataclass(frozen=True)
class TimelineStage:
    """One stage of a cycle's template, with what happened in it."""

    stage: StageDefinition
    number: int
    state: str  # "done", "overridden", "current", "reopened", "to do"
    visits: tuple[StageVisit, ...] = ()

    @property
    def label(self) -> str:
        return {
            "done": "Done",
            "overridden": "Passed by a governance decision",
            "current": "Now",
            "completed": "Done",
            "to do": "Not started",
        }[self.state]

    @property
    def reopen_reasons(self) -> list[str]:
        return [visit.opened_reason for visit in self.visits if visit.opened_reason]


def timeline(cycle: CommissioningCycle) -> list[TimelineStage]:
    """The stages of the cycle's template, each with its state, from one query."""
    template = get_template(cycle.template_key)
    visits: dict[str, list[StageVisit]] = {}
    for visit in StageVisit.objects.filter(cycle=cycle).order_by("id"):
        visits.setdefault(visit.stage_key, []).append(visit)
    completed = cycle.status == CommissioningCycle.Status.COMPLETED
    stages = []
    for number, stage in enumerate(template.stages, 1):
        stage_visits = tuple(visits.get(stage.key, ()))
        last = stage_visits[-1] if stage_visits else None
        if last is None:
            state = "to do"
        elif last.is_open:
            state = "current"
        elif last.closure == StageVisit.Closure.OVERRIDDEN:
            state = "overridden"
        elif last.closure == StageVisit.Closure.PASSED:
            state = "done"
        else:  # left to reopen an earlier stage: to be done again
            state = "to do"
        if completed and stage.key == cycle.current_stage and state == "current":
            state = "done"
        stages.append(TimelineStage(stage, number, state, stage_visits))
    return stages


@dataclass(frozen=True)
class ChecklistItem:
    """One condition of the gate, as a line of the design system's task list."""

    key: str
    name: str
    done: bool
    url_name: str
    messages: tuple[str, ...] = ()
    codes: tuple[str, ...] = field(default=())
    waits_for: str = ""
    """Why it cannot be started yet (it needs a panel, or the records to sign off against)."""

    @property
    def status(self) -> str:
        if self.waits_for:
            return "Cannot start yet"
        return "Done" if self.done else "Not done"


# The gate's conditions in the order a commissioner meets them: (key, name, codes, page).
CHECKLIST = (
    ("panel", "People on the panel", ("panel.empty",), "web:panel"),
    ("lead", "An involvement lead named", ("lead.missing",), "web:panel"),
    ("agreement", "Working agreement signed by everyone", ("agreement.unsigned",), "web:agreement"),
    (
        "boundaries",
        "Role boundaries agreed and acknowledged",
        ("boundaries.missing", "boundaries.unacknowledged"),
        "web:boundaries",
    ),
    ("budget", "Budget told to the panel", ("budget.missing",), "web:budget"),
    (
        "duty",
        "Duty to involve assessed for the proposal as it stands",
        ("duty.missing", "duty.stale"),
        "web:duty",
    ),
    (
        "consultations",
        "Responses to every consultation considered",
        ("consultation.unconsidered",),
        "web:consultations",
    ),
    (
        "conflicts",
        "Interests declared by the tender panel",
        ("conflicts.undeclared",),
        "web:panel",
    ),
    ("inputs", "Every input answered", ("input.unanswered",), "web:inputs"),
    (
        "papers",
        "Papers sent to the panel at least 7 days before each decision meeting",
        ("papers.not_issued", "papers.late"),
        "web:meetings",
    ),
    (
        "award",
        "Award decided, and its standstill over",
        ("award.undecided", "notice.unpublished", "standstill.running", "standstill.under_review"),
        "web:procurement",
    ),
    (
        "evaluation",
        "Most of the tender panel say they took part in evaluation as agreed",
        ("evaluation.unsigned",),
        "web:signoffs",
    ),
    (
        "signoff",
        "Most of the panel say they were involved as agreed",
        ("signoff.stale", "signoff.quorum"),
        "web:signoff-request",
    ),
    ("dissent", "No open dissent", ("signoff.dissent",), "web:signoffs"),
)

_NEEDS_PANEL = {"agreement", "conflicts", "signoff", "dissent"}

_CONDITION_OF = {
    "lead": Condition.INVOLVEMENT_LEAD,
    "agreement": Condition.WORKING_AGREEMENT,
    "conflicts": Condition.CONFLICTS_DECLARED,
    "inputs": Condition.INPUT_ANSWERED,
    "duty": Condition.DUTY_ASSESSED,
    "award": Condition.AWARD_SETTLED,
    "papers": Condition.DECISION_PAPERS,
    "evaluation": Condition.EVALUATION_SIGNED,
}
_ONLY_WHEN_UNMET = {"consultations"}
"""Checklist items shown only while unmet: a stage needs no consultation of its own."""
_ONLY_WITH_TENDER = {"award", "evaluation"}
"""Checklist items about the award: a cycle without a tender awards nothing here."""


def checklist(snapshot: StageSnapshot, result: GateResult) -> list[ChecklistItem]:
    """The current gate as a checklist: every condition this stage asks for, met or not."""
    unmet = {item.code: item.message for item in result.unmet}
    items = []
    for key, name, codes, url_name in CHECKLIST:
        condition = _CONDITION_OF.get(key)
        missing = tuple(code for code in codes if code in unmet)
        if condition is not None and condition not in snapshot.requires and not missing:
            continue
        if key in _ONLY_WHEN_UNMET and not missing:
            continue
        if key in _ONLY_WITH_TENDER and snapshot.tender is None and not missing:
            continue
        waits_for = ""
        if key in _NEEDS_PANEL and "panel.empty" in unmet:
            waits_for = "This needs people on the panel first."
        elif (
            key == "signoff"
            and not missing
            and ("boundaries.missing" in unmet or "budget.missing" in unmet)
        ):
            waits_for = "The panel signs off once the role boundaries and the budget are recorded."
        items.append(
            ChecklistItem(
                key=key,
                name=name,
                done=not missing and not waits_for,
                url_name=url_name,
                messages=tuple(unmet[code] for code in missing)
                or ((waits_for,) if waits_for else ()),
                codes=missing,
                waits_for=waits_for,
            )
        )
    known = {code for _, _, codes, _ in CHECKLIST for code in codes}
    other = tuple(item for item in result.unmet if item.code not in known)
    if other:
        items.append(
            ChecklistItem(
                key="other",
                name="Other conditions",
                done=False,
                url_name="web:cycle",
                messages=tuple(item.message for item in other),
                codes=tuple(item.code for item in other),
            )
        )
    return items


def fix_pages() -> dict[str, str]:
    """Each gate code to the URL name of the page that fixes it."""
    return {code: url_name for _, _, codes, url_name in CHECKLIST for code in codes}


# --- A cycle's gate records -----------------------------------------------------------------

_BOUNDARY_LABELS = {
    "purpose": "Why users are involved",
    "user_role": "What users do",
    "influence": "How much users can change",
    "decision_maker": "Who decides",
    "commissioner_authority": "What the commissioner can decide",
    "fixed_matters": "What is fixed",
    "open_matters": "What can still change",
}
BOUNDARY_TERMS = tuple((name, _BOUNDARY_LABELS[name]) for name in RoleBoundaryAgreement.TERMS)


@dataclass(frozen=True)
class TermChange:
    """One term of two versions side by side."""

    name: str
    label: str
    before: str
    now: str

    @property
    def changed(self) -> bool:
        return self.before != self.now


def _term(agreement: Any, name: str) -> str:
    if agreement is None:
        return ""
    if name == "influence":
        return str(agreement.get_influence_display())
    return str(getattr(agreement, name))


def boundary_changes(before: Any, now: Any) -> list[TermChange]:
    """Each term of the role boundaries, before and now (``before`` may be None)."""
    return [
        TermChange(name, label, _term(before, name), _term(now, name))
        for name, label in BOUNDARY_TERMS
    ]


@dataclass(frozen=True)
class BoundaryVersion:
    agreement: Any
    previous: Any
    acknowledged_by: tuple[Any, ...]

    @property
    def changes(self) -> list[TermChange]:
        return [
            change for change in boundary_changes(self.previous, self.agreement) if change.changed
        ]


def boundary_history(cycle: CommissioningCycle, stage_key: str) -> list[BoundaryVersion]:
    """Every version of a stage's role boundaries, newest first, with what each changed and
    who acknowledged it (two queries)."""
    agreements = list(
        RoleBoundaryAgreement.objects.filter(cycle=cycle, stage_key=stage_key)
        .select_related("recorded_by")
        .order_by("version")
    )
    acknowledged: dict[int, list[Any]] = {}
    for acknowledgement in BoundaryAcknowledgement.objects.filter(
        agreement__in=agreements
    ).select_related("member"):
        acknowledged.setdefault(acknowledgement.agreement_id, []).append(acknowledgement.member)
    versions = []
    previous = None
    for agreement in agreements:
        versions.append(
            BoundaryVersion(agreement, previous, tuple(acknowledged.get(agreement.pk, ())))
        )
        previous = agreement
    return list(reversed(versions))


def budget_history(cycle: CommissioningCycle) -> list[tuple[Any, Any]]:
    """Every budget disclosure, newest first, each with the one before it (one query)."""
    disclosures = list(
        BudgetDisclosure.objects.filter(cycle=cycle)
        .select_related("disclosed_by")
        .order_by("version")
    )
    pairs = [
        (disclosure, disclosures[index - 1] if index else None)
        for index, disclosure in enumerate(disclosures)
    ]
    return list(reversed(pairs))


@dataclass(frozen=True)
class MemberRow:
    """A panel member with where they stand on the current stage."""

    membership: Any
    acknowledged: bool
    position: str  # "attested", "stale", "dissent", "none"
    dissent_reasons: str
    signed_agreement: bool
    declared: bool


def panel_rows(cycle: CommissioningCycle) -> list[MemberRow]:
    """The active panel with each member's acknowledgement, sign-off, agreement signature and
    declarations on the current stage (a fixed number of queries)."""
    snapshot = selectors.gate_snapshots([cycle])[cycle.pk]
    memberships = list(
        PanelMembership.objects.active()
        .filter(cycle=cycle)
        .select_related("member")
        .order_by("joined_at", "id")
    )
    visit = selectors.open_visit(cycle)
    dissents: dict[int, str] = {}
    if visit is not None:
        for member_id, reasons in SignOff.objects.filter(
            visit=visit, superseded_at__isnull=True, withdrawn=False, kind=SignOff.Kind.DISSENT
        ).values_list("member_id", "reasons"):
            dissents[member_id] = reasons
    agreement = WorkingAgreement.objects.filter(cycle=cycle).order_by("-version").first()
    signed = (
        set(
            AgreementSignature.objects.filter(agreement=agreement).values_list(
                "member_id", flat=True
            )
        )
        if agreement is not None
        else set()
    )
    declared = set(
        ConflictDeclaration.objects.filter(cycle=cycle).values_list("member_id", flat=True)
    )
    result = evaluate(snapshot)
    positions = {}
    for signoff in snapshot.signoffs:
        if signoff.kind == "dissent":
            positions[signoff.member_id] = "dissent"
        elif signoff.member_id in result.attesting:
            positions[signoff.member_id] = "attested"
        else:
            positions[signoff.member_id] = "stale"
    return [
        MemberRow(
            membership=membership,
            acknowledged=membership.member_id in snapshot.acknowledged_by,
            position=positions.get(membership.member_id, "none"),
            dissent_reasons=dissents.get(membership.member_id, ""),
            signed_agreement=membership.member_id in signed,
            declared=membership.member_id in declared,
        )
        for membership in memberships
    ]


def former_members(cycle: CommissioningCycle) -> list[Any]:
    return list(
        PanelMembership.objects.filter(cycle=cycle, left_at__isnull=False)
        .select_related("member")
        .order_by("left_at")
    )


@dataclass(frozen=True)
class InputRow:
    """One input with every response given to it, the current one last."""

    user_input: Any
    responses: tuple[Any, ...]

    @property
    def current(self) -> Any:
        return self.responses[-1] if self.responses else None


def inputs(cycle: CommissioningCycle, *, submitted_by: Any = None) -> list[InputRow]:
    """The cycle's input (or one member's), each with its responses (two queries)."""
    found = UserInput.objects.filter(cycle=cycle).select_related("submitted_by")
    if submitted_by is not None:
        found = found.filter(submitted_by=submitted_by)
    rows = list(found.order_by("-submitted_at", "-id"))
    responses: dict[int, list[Any]] = {}
    for response in (
        InputResponse.objects.filter(user_input__in=rows)
        .select_related("decision", "responded_by")
        .order_by("responded_at", "id")
    ):
        responses.setdefault(response.user_input_id, []).append(response)
    return [InputRow(row, tuple(responses.get(row.pk, ()))) for row in rows]


def decisions(cycle: CommissioningCycle) -> list[Any]:
    return list(
        Decision.objects.filter(cycle=cycle)
        .select_related("decided_by")
        .order_by("-decided_at", "-id")
    )


# --- What a representative is asked, and what changed since they last said so --------------


ASK_TEXT = {
    "re-attest": "Something changed since you last told us how it went. Please check, and tell us "
    "again.",
    "declare": "You help choose who runs the service. Tell us about any links you have to the "
    "people who bid.",
}


@dataclass(frozen=True)
class Ask:
    """One thing a panel member is asked to do, and by when."""

    cycle: CommissioningCycle
    kind: str  # "acknowledge", "attest", "re-attest", "sign-agreement", "declare"
    text: str
    url_name: str
    due: Any  # a datetime, or None


def _due(moment: Any, cycle: CommissioningCycle) -> Any:
    if moment is None:
        return None
    organisation = cycle.organisation
    return due_after(moment, organisation.reminder_days, organisation.bank_holidays)


def asks(member: Any) -> list[Ask]:
    """What the member is asked to do on every cycle whose panel they sit on, soonest due first
    (a fixed number of queries, however many cycles)."""
    memberships = list(
        PanelMembership.objects.active()
        .filter(member=member, cycle__status=CommissioningCycle.Status.ACTIVE)
        .select_related("cycle__organisation")
    )
    cycles = [membership.cycle for membership in memberships]
    if not cycles:
        return []
    snapshots = selectors.gate_snapshots(cycles)
    ids = [cycle.pk for cycle in cycles]
    opened = dict(
        StageVisit.objects.filter(cycle_id__in=ids, closed_at__isnull=True).values_list(
            "cycle_id", "opened_at"
        )
    )
    boundary_at: dict[int, Any] = {}
    for cycle_id, stage_key, version, recorded_at in RoleBoundaryAgreement.objects.filter(
        cycle_id__in=ids
    ).values_list("cycle_id", "stage_key", "version", "recorded_at"):
        if (
            version == snapshots[cycle_id].boundary_version
            and stage_key == snapshots[cycle_id].stage_key
        ):
            boundary_at[cycle_id] = recorded_at
    budget_at: dict[int, Any] = {}
    for cycle_id, version, disclosed_at in BudgetDisclosure.objects.filter(
        cycle_id__in=ids
    ).values_list("cycle_id", "version", "disclosed_at"):
        if version == snapshots[cycle_id].budget_version:
            budget_at[cycle_id] = disclosed_at
    agreements: dict[int, tuple[int, int, Any]] = {}
    for agreement_id, cycle_id, version, recorded_at in WorkingAgreement.objects.filter(
        cycle_id__in=ids
    ).values_list("id", "cycle_id", "version", "recorded_at"):
        if version > agreements.get(cycle_id, (0, 0, None))[0]:
            agreements[cycle_id] = (version, agreement_id, recorded_at)
    signed = set(
        AgreementSignature.objects.filter(
            member=member, agreement_id__in=[entry[1] for entry in agreements.values()]
        ).values_list("agreement_id", flat=True)
    )
    declared = set(
        ConflictDeclaration.objects.filter(member=member, cycle_id__in=ids).values_list(
            "cycle_id", flat=True
        )
    )
    found: list[Ask] = []
    for membership in memberships:
        cycle = membership.cycle
        snapshot = snapshots[cycle.pk]
        result = evaluate(snapshot)
        mine = [s for s in snapshot.signoffs if s.member_id == member.pk]
        if snapshot.boundary_version is not None and member.pk not in snapshot.acknowledged_by:
            found.append(
                Ask(
                    cycle,
                    "acknowledge",
                    "Read what your part is in this stage, and say you have read it.",
                    "web:boundaries",
                    _due(boundary_at.get(cycle.pk), cycle),
                )
            )
        dissenting = any(s.kind == "dissent" for s in mine)
        if (
            not dissenting
            and member.pk not in result.attesting
            and snapshot.budget_version
            and snapshot.boundary_version
        ):
            if mine:
                text = ASK_TEXT["re-attest"]
                kind = "re-attest"
            else:
                text = "Tell us if you took part in the way that was agreed."
                kind = "attest"
            moments = [
                m
                for m in (opened.get(cycle.pk), boundary_at.get(cycle.pk), budget_at.get(cycle.pk))
                if m
            ]
            found.append(
                Ask(
                    cycle, kind, text, "web:signoff", _due(max(moments) if moments else None, cycle)
                )
            )
        agreement = agreements.get(cycle.pk)
        if agreement is not None and agreement[1] not in signed:
            found.append(
                Ask(
                    cycle,
                    "sign-agreement",
                    "Read the working agreement and sign it.",
                    "web:agreement",
                    _due(agreement[2], cycle),
                )
            )
        if membership.tender_panel and cycle.pk not in declared:
            found.append(
                Ask(
                    cycle,
                    "declare",
                    ASK_TEXT["declare"],
                    "web:interests",
                    _due(membership.joined_at, cycle),
                )
            )
    found.sort(key=lambda ask: (ask.due is None, ask.due or 0, ask.cycle.pk))
    return found


@dataclass(frozen=True)
class MemberView:
    """A panel member's own standing on a cycle: what they last acknowledged and attested to."""

    acknowledged_version: int | None
    acknowledged: Any  # the agreement they last acknowledged on this stage, or None
    attested_budget: Any  # the budget disclosure of their latest attestation, or None
    position: Any  # their current SignOff on the open stage, or None
    dissents: tuple[Any, ...]
    declarations: tuple[Any, ...]


def member_view(cycle: CommissioningCycle, member: Any) -> MemberView:
    acknowledgement = (
        BoundaryAcknowledgement.objects.filter(
            member=member, agreement__cycle=cycle, agreement__stage_key=cycle.current_stage
        )
        .select_related("agreement")
        .order_by("-agreement__version")
        .first()
    )
    signoffs = list(
        SignOff.objects.filter(cycle=cycle, member=member)
        .select_related("budget", "visit")
        .order_by("id")
    )
    attested = [s for s in signoffs if s.kind == SignOff.Kind.ATTEST]
    open_position = next(
        (s for s in reversed(signoffs) if s.superseded_at is None and s.visit.closed_at is None),
        None,
    )
    return MemberView(
        acknowledged_version=acknowledgement.agreement.version if acknowledgement else None,
        acknowledged=acknowledgement.agreement if acknowledgement else None,
        attested_budget=attested[-1].budget if attested else None,
        position=open_position,
        dissents=tuple(s for s in signoffs if s.kind == SignOff.Kind.DISSENT),
        declarations=tuple(
            ConflictDeclaration.objects.filter(cycle=cycle, member=member).order_by("declared_at")
        ),
    )


def reopen_reasons(cycle: CommissioningCycle) -> list[StageVisit]:
    """Every time a stage was opened again, with the reason given (one query)."""
    return list(
        StageVisit.objects.filter(cycle=cycle).exclude(opened_reason="").order_by("-opened_at")
    )


# The duty to involve ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyPage:
    """The cycle's duty assessments, newest first, and the changes to its proposal."""

    history: list[DutyAssessment]
    changes: list[ProposalChange]

    @property
    def current(self) -> DutyAssessment | None:
        return self.history[0] if self.history else None

    @property
    def stale(self) -> bool:
        current = self.current
        return current is not None and current.proposal_version < len(self.changes)


def duty_page(cycle: CommissioningCycle) -> DutyPage:
    """In two queries."""
    return DutyPage(
        history=list(DutyAssessment.objects.filter(cycle=cycle).order_by("-version")),
        changes=list(ProposalChange.objects.filter(cycle=cycle).order_by("version")),
    )


# --- Decision meetings ------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingLine:
    """A decision meeting as the pages show it: when, where, who decides, and the papers."""

    meeting: DecisionMeeting
    today: Any

    @property
    def notice_days(self) -> int | None:
        """How many days before the meeting the panel had the papers (None: not sent)."""
        issued = self.meeting.papers_issued_on
        return None if issued is None else (self.meeting.held_on - issued).days

    @property
    def papers_late(self) -> bool:
        return self.notice_days is not None and self.notice_days < PAPERS_NOTICE_DAYS

    @property
    def upcoming(self) -> bool:
        return bool(self.meeting.held_on >= self.today)

    @property
    def in_open_stage(self) -> bool:
        return self.meeting.visit.closed_at is None

    @property
    def changeable(self) -> bool:
        return self.upcoming and self.in_open_stage


def _meetings() -> Any:
    return DecisionMeeting.objects.select_related("decision_maker", "visit", "cycle")


def meeting_lines(cycle: CommissioningCycle) -> list[MeetingLine]:
    """Every decision meeting of the cycle, soonest first (one query)."""
    today = uk_date(timezone.now())
    return [MeetingLine(m, today) for m in _meetings().filter(cycle=cycle).order_by("held_on")]


def meeting_line(cycle: CommissioningCycle, meeting_id: int) -> MeetingLine | None:
    meeting = _meetings().filter(cycle=cycle, pk=meeting_id).first()
    return None if meeting is None else MeetingLine(meeting, uk_date(timezone.now()))


def upcoming_meetings(cycle_ids: Any) -> list[MeetingLine]:
    """The decision meetings still to come on these cycles, soonest first (one query)."""
    today = uk_date(timezone.now())
    coming = _meetings().filter(
        cycle_id__in=cycle_ids, held_on__gte=today, cycle__status=CommissioningCycle.Status.ACTIVE
    )
    return [MeetingLine(m, today) for m in coming.order_by("held_on", "id")]
