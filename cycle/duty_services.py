"""Every change to the records of the duty to involve, one function each: duty assessments,
proposal changes, consultations and the consideration of their responses, and the register of
external pressures.

As in ``cycle.services``: each service locks the cycle row, re-checks permission, validates,
writes and appends one ledger event in one transaction (``service_support.service``); a refusal
is recorded in the ledger too.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.utils import timezone

from roles.permissions import Action, require

from . import (
    duty_selectors,
    gunning,
    ledger,
    notifications,
    records,
    selectors,
    self_assessment,
    services,
)
from .actions import LedgerAction
from .duty import Activity, BodyType, DutyQuestions, Wording, assess
from .duty_models import (
    Consultation,
    ConsultationConsideration,
    CoverageGroup,
    CoverageGroupMember,
    CoverageGroupResponses,
    DutyAssessment,
    ExternalPressure,
    ExternalPressureStage,
    ProposalChange,
    SelfAssessment,
    SelfAssessmentEvidence,
    SelfAssessmentScore,
)
from .duty_selectors import consultation_facts, min_weeks
from .errors import Conflict, InvalidRequest, NotFound
from .i18n import gettext_lazy as _
from .models import (
    CommissioningCycle,
    Decision,
    InputResponse,
    Organisation,
    SignOff,
    StageVisit,
)
from .service_support import lock_cycle, service
from .stages import get_template

TEXT_LIMIT = 10_000


def _text(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidRequest(
            _(
                "%(field)s must not be empty.",
                field=field,
            ),
            code=f"invalid.{field}",
        )
    if len(text) > TEXT_LIMIT:
        raise InvalidRequest(
            _(
                "%(field)s must be at most %(limit)s characters.",
                field=field,
                limit=TEXT_LIMIT,
            ),
            code="invalid.too_long",
        )
    return text


def _choice(value: str, enum: type[StrEnum], field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidRequest(
            _(
                "%(field)s must be one of %(choices)s.",
                field=field,
                choices=", ".join(e.value for e in enum),
            ),
            code=f"invalid.{field}",
        ) from None


def _open_visit(cycle: CommissioningCycle) -> StageVisit:
    visit = selectors.open_visit(cycle)
    if cycle.status != CommissioningCycle.Status.ACTIVE or visit is None:
        raise Conflict(
            _(
                "The cycle is completed; reopen a stage first.",
            ),
            code="cycle.completed",
        )
    return visit


@service(LedgerAction.DUTY_ASSESSED)
def duty_assess(
    *,
    actor: Any,
    cycle_id: int,
    proposal: str,
    body_type: str,
    activity: str,
    wording: str = Wording.CURRENT,
    responsible: bool = True,
    affects_other_services: bool = False,
    affects_delivery: bool = False,
    affects_range: bool = False,
    already_involved: bool = False,
    substantial: bool = False,
    urgent_safety_risk: bool = False,
) -> DutyAssessment:
    """Record whether the duty to involve applies to the cycle's proposal, as a new version.

    The result is the rule's (:func:`cycle.duty.assess`), never typed in; the assessment takes
    every proposal change recorded so far into account, so it is current until the next one.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    visit = _open_visit(cycle)
    questions = DutyQuestions(
        body_type=_choice(body_type, BodyType, "body_type"),
        activity=_choice(activity, Activity, "activity"),
        wording=_choice(wording, Wording, "wording"),
        responsible=bool(responsible),
        affects_other_services=bool(affects_other_services),
        affects_delivery=bool(affects_delivery),
        affects_range=bool(affects_range),
        already_involved=bool(already_involved),
        substantial=bool(substantial),
        urgent_safety_risk=bool(urgent_safety_risk),
    )
    proposal = _text(proposal, "proposal")
    result = assess(questions)
    previous = DutyAssessment.objects.filter(cycle=cycle).order_by("-version").first()
    assessment = DutyAssessment.objects.create(
        **records.duty_assessment_row(
            cycle=cycle,
            previous=previous,
            stage_key=visit.stage_key,
            proposal=proposal,
            proposal_version=ProposalChange.objects.filter(cycle=cycle).count(),
            questions=questions,
            result=result,
            recorded_by=actor,
            at=timezone.now(),
        )
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.DUTY_ASSESSED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=assessment,
        payload=records.duty_assessed(
            version=assessment.version,
            proposal_version=assessment.proposal_version,
            questions=questions,
            result=result,
        ),
    )
    return assessment


@service(LedgerAction.PROPOSAL_CHANGED)
def proposal_change_record(*, actor: Any, cycle_id: int, summary: str) -> ProposalChange:
    """Record that the cycle's proposal changed: the duty must be assessed again before the gates
    that ask for a current assessment can open."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    visit = _open_visit(cycle)
    summary = _text(summary, "summary")
    previous = ProposalChange.objects.filter(cycle=cycle).order_by("-version").first()
    change = ProposalChange.objects.create(
        cycle=cycle,
        version=(previous.version + 1) if previous else 1,
        stage_key=visit.stage_key,
        summary=summary,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PROPOSAL_CHANGED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=change,
        payload={"version": change.version, "summary": summary},
    )
    return change


def _decisions_of(visit: StageVisit) -> tuple[datetime, ...]:
    return tuple(Decision.objects.filter(visit=visit).values_list("decided_at", flat=True))


@service(LedgerAction.CONSULTATION_OPENED)
def consultation_open(
    *,
    actor: Any,
    cycle_id: int,
    title: str,
    document: str,
    opens_on: date,
    closes_on: date,
    equality_kind: str,
    equality_reference: str,
    options: str = "",
) -> Consultation:
    """Open a consultation in the current stage, with its document and equality assessment.

    No document or no equality assessment (nor a recorded screening-out) refuses the opening
    (Gunning 2); a consultation shorter than the configured length, or opened after the stage's
    decision, opens with a warning that names the principle it breaks (the ledger keeps it).
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    visit = _open_visit(cycle)
    title = _text(title, "title")[:200]
    kind = _choice(equality_kind, Consultation.EqualityKind, "equality_kind")
    if not isinstance(opens_on, date) or not isinstance(closes_on, date):
        raise InvalidRequest(
            _(
                "Give the dates it opens and closes.",
            ),
            code="invalid.dates",
        )
    if closes_on <= opens_on:
        raise InvalidRequest(
            _(
                "The consultation must close after the day it opens.",
            ),
            code="invalid.closes_on",
        )
    consultation = Consultation(
        cycle=cycle,
        visit=visit,
        stage_key=visit.stage_key,
        title=title,
        document=(document or "").strip(),
        options=(options or "").strip(),
        equality_kind=kind,
        equality_reference=(equality_reference or "").strip(),
        opens_on=opens_on,
        closes_on=closes_on,
        opened_by=actor,
        opened_at=timezone.now(),
    )
    findings = gunning.check(
        consultation_facts(consultation, _decisions_of(visit), None), min_weeks()
    )
    for finding in findings:
        if finding.blocking and finding.code != "gunning.not_considered":
            field = "document" if finding.code == "gunning.no_document" else "equality_reference"
            raise InvalidRequest(finding.message, code=f"invalid.{field}")
    consultation.save()
    warnings = [f.code for f in findings if not f.blocking]
    ledger.append(
        actor=actor,
        action=LedgerAction.CONSULTATION_OPENED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=consultation,
        payload={
            "title": title,
            "opens_on": opens_on.isoformat(),
            "closes_on": closes_on.isoformat(),
            "weeks": round(gunning.weeks_between(opens_on, closes_on), 1),
            "equality": kind.value,
            "warnings": warnings,
        },
    )
    return consultation


@service(LedgerAction.CONSULTATION_CONSIDERED)
def consultation_consider(
    *,
    actor: Any,
    cycle_id: int,
    consultation_id: int,
    responses: int,
    analysis: str,
    statement: str,
) -> ConsultationConsideration:
    """Record the analysis of a consultation's responses and how they were considered (Gunning
    4): until then the gate of the stage it was opened in stays closed."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    _open_visit(cycle)
    consultation = Consultation.objects.filter(cycle=cycle, pk=consultation_id).first()
    if consultation is None:
        raise NotFound(
            _(
                "There is no consultation %(consultation_id)s in this cycle.",
                consultation_id=consultation_id,
            ),
            code="consultation.not_found",
        )
    if ConsultationConsideration.objects.filter(consultation=consultation).exists():
        raise Conflict(
            _(
                "The responses to this consultation have already been considered.",
            ),
            code="consultation.already_considered",
        )
    if not isinstance(responses, int) or isinstance(responses, bool) or responses < 0:
        raise InvalidRequest(
            _(
                "Give the number of responses.",
            ),
            code="invalid.responses",
        )
    consideration = ConsultationConsideration.objects.create(
        consultation=consultation,
        responses=responses,
        analysis=_text(analysis, "analysis"),
        statement=_text(statement, "statement"),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.CONSULTATION_CONSIDERED,
        cycle=cycle,
        stage_key=consultation.stage_key,
        obj=consideration,
        payload={
            "consultation": consultation.pk,
            "responses": responses,
            "before_closing": timezone.localdate() < consultation.closes_on,
        },
    )
    return consideration


# --- External pressures ---------------------------------------------------------------------


@service(LedgerAction.PRESSURE_RECORDED)
def pressure_record(
    *,
    actor: Any,
    cycle_id: int,
    category: str,
    title: str,
    implication: str,
    description: str = "",
    disclosed: bool = True,
    withheld_reason: str = "",
    affects: list[str] | tuple[str, ...] = (),
    reopen: bool = False,
) -> ExternalPressure:
    """Record an external pressure on the cycle, and tell the panel.

    ``implication`` says in plain words what it means for people who use services. A pressure
    the panel cannot be told yet needs the reason (``withheld_reason``); the panel is then told
    that there is one, and why they cannot hear more. With ``reopen``, the earliest stage it
    ``affects`` that the cycle has already left is reopened (``cycle.services.stage_reopen``),
    with the pressure as the reason.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    kind = _choice(category, ExternalPressure.Category, "category")
    title = _text(title, "title")
    if len(title) > 200:
        raise InvalidRequest(
            _(
                "title must be at most 200 characters.",
            ),
            code="invalid.too_long",
        )
    implication = _text(implication, "implication")
    description = (description or "").strip()
    if len(description) > TEXT_LIMIT:
        raise InvalidRequest(
            _(
                "description must be at most %(limit)s characters.",
                limit=TEXT_LIMIT,
            ),
            code="invalid.too_long",
        )
    disclosed = bool(disclosed)
    withheld_reason = (withheld_reason or "").strip()
    if disclosed:
        withheld_reason = ""
    elif not withheld_reason:
        raise InvalidRequest(
            _(
                "Say why the panel cannot be told about this pressure yet.",
            ),
            code="invalid.withheld_reason",
        )
    template = get_template(cycle.template_key)
    unknown = [key for key in affects if key not in template.keys]
    if unknown:
        raise InvalidRequest(
            _(
                "%(unknown)s is not a stage of this cycle; stages are: %(stages)s.",
                unknown=", ".join(map(repr, unknown)),
                stages=", ".join(template.keys),
            ),
            code="invalid.affects",
        )
    affected = [key for key in template.keys if key in set(affects)]
    to_reopen = ""
    if reopen:
        to_reopen = _stage_to_reopen(cycle, affected)
    now = timezone.now()
    pressure = ExternalPressure.objects.create(
        cycle=cycle,
        stage_key=cycle.current_stage,
        category=kind,
        title=title,
        description=description,
        implication=implication,
        disclosed=disclosed,
        withheld_reason=withheld_reason,
        disclosed_at=now if disclosed else None,
        reopened_stage=to_reopen,
        recorded_by=actor,
        recorded_at=now,
    )
    ExternalPressureStage.objects.bulk_create(
        ExternalPressureStage(pressure=pressure, stage_key=key) for key in affected
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.PRESSURE_RECORDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=pressure,
        payload={
            "category": kind.value,
            "title": title,
            "disclosed": disclosed,
            "affects": affected,
            "reopens": to_reopen or None,
            "panel_to_tell": sorted(selectors.active_member_ids(cycle)),
        },
    )
    notifications.pressure_recorded(cycle=cycle, pressure=pressure, affected=affected)
    if to_reopen:
        services.stage_reopen(
            actor=actor,
            cycle_id=cycle.pk,
            stage_key=to_reopen,
            reason=f"A new external pressure affects this stage: {title}. "
            f"What it means for people who use services: {implication}",
        )
    return pressure


def _stage_to_reopen(cycle: CommissioningCycle, affected: list[str]) -> str:
    """The earliest affected stage the cycle has left (the current one too, once completed)."""
    template = get_template(cycle.template_key)
    current = template.position(cycle.current_stage)
    completed = cycle.status == CommissioningCycle.Status.COMPLETED
    behind = [
        key
        for key in affected
        if template.position(key) < current or (completed and template.position(key) == current)
    ]
    if not behind:
        raise Conflict(
            _(
                "Only a stage the cycle has already left can be reopened; choose an earlier "
                "stage the pressure affects, or record it without reopening.",
            ),
            code="reopen.not_earlier",
        )
    return behind[0]


@service(LedgerAction.PRESSURE_DISCLOSED)
def pressure_disclose(*, actor: Any, cycle_id: int, pressure_id: int) -> ExternalPressure:
    """Tell the panel about a pressure that could not be told when it was recorded."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    pressure = ExternalPressure.objects.filter(cycle=cycle, pk=pressure_id).first()
    if pressure is None:
        raise NotFound(
            _(
                "There is no external pressure %(pressure_id)s in this cycle.",
                pressure_id=pressure_id,
            ),
            code="pressure.not_found",
        )
    if pressure.disclosed:
        raise Conflict(
            _(
                "The panel has already been told about this pressure.",
            ),
            code="pressure.already_disclosed",
        )
    pressure.disclosed = True
    pressure.disclosed_at = timezone.now()
    pressure.save(update_fields=["disclosed", "disclosed_at"])
    affected = list(pressure.affected_stages.values_list("stage_key", flat=True))
    ledger.append(
        actor=actor,
        action=LedgerAction.PRESSURE_DISCLOSED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=pressure,
        payload={
            "pressure": pressure.pk,
            "panel_to_tell": sorted(selectors.active_member_ids(cycle)),
        },
    )
    notifications.pressure_recorded(
        cycle=cycle, pressure=pressure, affected=affected, disclosed_now=True
    )
    return pressure


# --- The self-assessment ----------------------------------------------------------------------

EVIDENCE_KINDS = ("signoff", "response", "consultation")


def _parse_refs(refs: Any, dimension: str) -> list[tuple[str, int]]:
    if isinstance(refs, str) or not isinstance(refs, list | tuple):
        raise InvalidRequest(
            _(
                "%(dimension)s: evidence must be a list of records, like “signoff:12”.",
                dimension=dimension,
            ),
            code="invalid.evidence",
        )
    parsed = []
    for ref in refs:
        kind, _colon, number = str(ref).partition(":")
        if kind not in EVIDENCE_KINDS or not number.isdigit() or len(number) > 18:
            raise InvalidRequest(
                _(
                    "%(dimension)s: %(ref)s is not a record; name one as signoff:ID, "
                    "response:ID or consultation:ID.",
                    dimension=dimension,
                    ref=repr(ref),
                ),
                code="invalid.evidence",
            )
        parsed.append((kind, int(number)))
    return list(dict.fromkeys(parsed))


def _citable(organisation_id: int, wanted: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which of the wanted records are the organisation's and may be cited (three queries)."""
    ids = {kind: {pk for k, pk in wanted if k == kind} for kind in EVIDENCE_KINDS}
    found: set[tuple[str, int]] = set()
    found |= {
        ("signoff", pk)
        for pk in SignOff.objects.filter(
            pk__in=ids["signoff"],
            cycle__organisation_id=organisation_id,
            kind=SignOff.Kind.ATTEST,
            withdrawn=False,
        ).values_list("pk", flat=True)
    }
    found |= {
        ("response", pk)
        for pk in InputResponse.objects.filter(
            pk__in=ids["response"],
            cycle__organisation_id=organisation_id,
            kind=InputResponse.Kind.WE_DID,
        ).values_list("pk", flat=True)
    }
    found |= {
        ("consultation", pk)
        for pk in Consultation.objects.filter(
            pk__in=ids["consultation"], cycle__organisation_id=organisation_id
        ).values_list("pk", flat=True)
    }
    return found


@service(LedgerAction.SELF_ASSESSMENT_RECORDED)
def self_assessment_record(
    *,
    actor: Any,
    organisation_id: int,
    scores: list[dict[str, Any]],
    assessed_on: date | None = None,
    contact_name: str = "",
) -> SelfAssessment:
    """Record a governance board's self-assessment of an organisation, as a new version.

    ``scores`` holds one entry for each of the tool's eight stages: ``dimension``, ``score`` (1
    to 5), ``comments`` and ``evidence``, a list of records the system holds (``signoff:ID``,
    ``response:ID``, ``consultation:ID``). A score of 3 or more with no evidence is refused:
    comments alone are not evidence. Beside each score the records' own suggestion is kept, with
    its reasons (``cycle.self_assessment.propose``).
    """
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound(
            _(
                "There is no organisation %(organisation_id)s.",
                organisation_id=organisation_id,
            ),
            code="organisation.not_found",
        )
    require(actor, Action.AUDIT, organisation=organisation)
    if not isinstance(scores, list | tuple):
        raise InvalidRequest(
            _(
                "Give a score for each stage.",
            ),
            code="invalid.scores",
        )
    given: dict[str, dict[str, Any]] = {}
    for entry in scores:
        dimension = str(entry.get("dimension", "")) if isinstance(entry, dict) else ""
        if dimension not in self_assessment.BY_KEY:
            raise InvalidRequest(
                _(
                    "%(dimension)s is not a stage of the self-assessment; they are: %(choices)s.",
                    dimension=repr(dimension),
                    choices=", ".join(self_assessment.DIMENSION_KEYS),
                ),
                code="invalid.dimension",
            )
        if dimension in given:
            raise InvalidRequest(
                _(
                    "%(dimension)s is scored twice.",
                    dimension=dimension,
                ),
                code="invalid.dimension",
            )
        given[dimension] = entry
    missing = [key for key in self_assessment.DIMENSION_KEYS if key not in given]
    if missing:
        raise InvalidRequest(
            _(
                "Give a score for every stage; missing: %(missing)s.",
                missing=", ".join(missing),
            ),
            code="invalid.scores",
        )
    cited: dict[str, list[tuple[str, int]]] = {}
    checked: list[tuple[str, int, str]] = []
    for dimension in self_assessment.DIMENSION_KEYS:
        entry = given[dimension]
        name = self_assessment.BY_KEY[dimension].name
        score = entry.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidRequest(
                _(
                    "%(name)s: the score must be 1 to 5.",
                    name=name,
                ),
                code="invalid.score",
            )
        comments = (entry.get("comments") or "").strip()
        if len(comments) > TEXT_LIMIT:
            raise InvalidRequest(
                _(
                    "%(name)s: comments must be at most %(limit)s characters.",
                    name=name,
                    limit=TEXT_LIMIT,
                ),
                code="invalid.too_long",
            )
        cited[dimension] = _parse_refs(entry.get("evidence", []), name)
        if score >= self_assessment.EVIDENCE_FROM and not cited[dimension]:
            raise InvalidRequest(
                _(
                    "%(name)s: a score of %(score)s needs evidence from the records: a "
                    "sign-off, an answer to input (“we did”) or a consultation. Comments alone "
                    "are not evidence.",
                    name=name,
                    score=score,
                ),
                code="self_assessment.no_evidence",
            )
        checked.append((dimension, score, comments))
    wanted = {ref for refs in cited.values() for ref in refs}
    unknown = sorted(wanted - _citable(organisation.pk, wanted))
    if unknown:
        kind, pk = unknown[0]
        raise InvalidRequest(
            _(
                "%(kind)s:%(pk)s is not a record of this organisation that can be cited: a "
                "user's sign-off, a “we did” answer to input, or a consultation.",
                kind=kind,
                pk=pk,
            ),
            code="invalid.evidence",
        )
    proposals = duty_selectors.self_assessment_proposals(organisation.pk)
    previous = SelfAssessment.objects.filter(organisation=organisation).order_by("-version").first()
    assessment = SelfAssessment.objects.create(
        organisation=organisation,
        version=(previous.version + 1) if previous else 1,
        assessed_on=assessed_on or timezone.localdate(),
        contact_name=(contact_name or "").strip()[:200],
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    rows = SelfAssessmentScore.objects.bulk_create(
        SelfAssessmentScore(
            assessment=assessment,
            dimension=dimension,
            score=score,
            comments=comments,
            proposed_score=proposals[dimension].score,
            proposed_lines=list(proposals[dimension].lines),
        )
        for dimension, score, comments in checked
    )
    by_dimension = {row.dimension: row for row in rows}
    SelfAssessmentEvidence.objects.bulk_create(
        SelfAssessmentEvidence(score=by_dimension[dimension], **{f"{kind}_id": pk})
        for dimension, refs in cited.items()
        for kind, pk in refs
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.SELF_ASSESSMENT_RECORDED,
        obj=assessment,
        payload={
            "organisation": organisation.pk,
            "version": assessment.version,
            "scores": {dimension: score for dimension, score, _ in checked},
            "proposed": {dimension: proposals[dimension].score for dimension, _, _ in checked},
            "evidence": {
                dimension: [f"{k}:{pk}" for k, pk in refs] for dimension, refs in cited.items()
            },
        },
    )
    return assessment


# --- Who is missing ---------------------------------------------------------------------------


@service(LedgerAction.COVERAGE_GROUP_ADDED)
def coverage_group_add(*, actor: Any, cycle_id: int, name: str, kind: str) -> CoverageGroup:
    """Add a group the cycle should hear from: an easy-to-overlook group or an equality strand,
    named as the area names it."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.MANAGE_PANEL, cycle)
    name = _text(name, "name")
    if len(name) > 200:
        raise InvalidRequest(
            _(
                "name must be at most 200 characters.",
            ),
            code="invalid.too_long",
        )
    group_kind = _choice(kind, CoverageGroup.Kind, "kind")
    if CoverageGroup.objects.filter(cycle=cycle, name__iexact=name).exists():
        raise Conflict(
            _(
                "The group “%(name)s” is already on the list.",
                name=name,
            ),
            code="coverage.duplicate",
        )
    group = CoverageGroup.objects.create(
        cycle=cycle, name=name, kind=group_kind, created_by=actor, created_at=timezone.now()
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.COVERAGE_GROUP_ADDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=group,
        payload={"name": name, "kind": group_kind.value},
    )
    return group


@service(LedgerAction.COVERAGE_RECORDED)
def coverage_record(
    *,
    actor: Any,
    cycle_id: int,
    group_id: int,
    member_ids: list[int] | tuple[int, ...] = (),
    respondents: dict[int, int] | None = None,
) -> CoverageGroup:
    """Record who on the panel comes from or speaks for a group, and how many respondents to each
    consultation came from it; this replaces what was recorded for the group before."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.MANAGE_PANEL, cycle)
    group = CoverageGroup.objects.filter(cycle=cycle, pk=group_id).first()
    if group is None:
        raise NotFound(
            _(
                "There is no group %(group_id)s in this cycle.",
                group_id=group_id,
            ),
            code="coverage.not_found",
        )
    members = {int(pk) for pk in member_ids}
    strangers = members - selectors.active_member_ids(cycle)
    if strangers:
        raise InvalidRequest(
            _(
                "Only people on the panel now can be recorded as speaking for a group.",
            ),
            code="invalid.members",
        )
    counts = {int(k): v for k, v in (respondents or {}).items()}
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in counts.values()):
        raise InvalidRequest(
            _(
                "Give the number of respondents as a whole number.",
            ),
            code="invalid.respondents",
        )
    known = set(
        Consultation.objects.filter(cycle=cycle, pk__in=counts).values_list("pk", flat=True)
    )
    if set(counts) - known:
        raise InvalidRequest(
            _(
                "Respondents can only be counted for this cycle's consultations.",
            ),
            code="invalid.respondents",
        )
    CoverageGroupMember.objects.filter(group=group).delete()
    CoverageGroupMember.objects.bulk_create(
        CoverageGroupMember(group=group, member_id=pk) for pk in sorted(members)
    )
    CoverageGroupResponses.objects.filter(group=group).delete()
    CoverageGroupResponses.objects.bulk_create(
        CoverageGroupResponses(group=group, consultation_id=pk, respondents=n)
        for pk, n in sorted(counts.items())
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.COVERAGE_RECORDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=group,
        payload={
            "group": group.pk,
            "members": sorted(members),
            "respondents": {str(pk): n for pk, n in sorted(counts.items())},
        },
    )
    return group
