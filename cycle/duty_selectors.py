"""Reads of the duty to involve that need more than one query, or settings: consultations with
what the Gunning principles say of each, and the register of external pressures."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce

from roles.models import PanelMembership

from . import gunning, self_assessment, workdays
from .duty_models import (
    Consultation,
    CoverageGroup,
    CoverageGroupMember,
    ExternalPressure,
    ExternalPressureStage,
    SelfAssessment,
    SelfAssessmentEvidence,
    SelfAssessmentScore,
)
from .models import CommissioningCycle, Decision, InputResponse, SignOff, StageVisit, UserInput
from .stages import get_template


def min_weeks() -> int:
    """The length under which a consultation is flagged (``CONSULTATION_MIN_WEEKS``)."""
    return int(getattr(settings, "CONSULTATION_MIN_WEEKS", gunning.DEFAULT_MIN_WEEKS))


def consultation_facts(
    consultation: Consultation, decisions: tuple[datetime, ...], considered_at: datetime | None
) -> gunning.ConsultationFacts:
    """What the Gunning checks need to know about a consultation."""
    return gunning.ConsultationFacts(
        opens_on=consultation.opens_on,
        closes_on=consultation.closes_on,
        opened_at=consultation.opened_at,
        document=consultation.document,
        equality_assessment=consultation.equality_reference,
        decisions=decisions,
        considered_at=considered_at,
    )


@dataclass(frozen=True)
class ConsultationRow:
    consultation: Consultation
    findings: tuple[gunning.Finding, ...]

    @property
    def warnings(self) -> tuple[gunning.Finding, ...]:
        return tuple(f for f in self.findings if not f.blocking)

    @property
    def considered(self) -> bool:
        return not any(f.code == "gunning.not_considered" for f in self.findings)

    @property
    def working_days(self) -> int:
        """Working days from the day it opens to the day it closes (``cycle.workdays``)."""
        return workdays.working_days_between(
            self.consultation.opens_on, self.consultation.closes_on
        )

    @property
    def bank_holidays(self) -> tuple[str, ...]:
        """The bank holidays that fall while it is open, for those planning its length: its
        length is measured in calendar weeks, as consultations are published."""
        c = self.consultation
        days = (c.opens_on + timedelta(days=n) for n in range((c.closes_on - c.opens_on).days + 1))
        return tuple(
            f"{name} ({day:%d %b})" for day in days if (name := workdays.bank_holiday(day))
        )


def consultation_rows(cycle: CommissioningCycle) -> list[ConsultationRow]:
    """Every consultation of the cycle with what the Gunning checks say of it, in two queries."""
    consultations = list(
        Consultation.objects.filter(cycle=cycle)
        .select_related("consideration", "opened_by", "consideration__recorded_by")
        .order_by("opens_on", "id")
    )
    decided: dict[int, list[Any]] = {}
    for visit_id, decided_at in Decision.objects.filter(
        visit_id__in={c.visit_id for c in consultations}
    ).values_list("visit_id", "decided_at"):
        decided.setdefault(visit_id, []).append(decided_at)
    weeks = min_weeks()
    rows = []
    for consultation in consultations:
        consideration = getattr(consultation, "consideration", None)
        facts = consultation_facts(
            consultation,
            tuple(decided.get(consultation.visit_id, ())),
            consideration.recorded_at if consideration is not None else None,
        )
        rows.append(ConsultationRow(consultation, gunning.check(facts, weeks)))
    return rows


def pressures(cycle: CommissioningCycle) -> QuerySet[ExternalPressure]:
    """The cycle's external pressures, oldest first, with who recorded each and the stages each
    affects (three queries, however many there are)."""
    return (
        ExternalPressure.objects.filter(cycle=cycle)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("affected_stages", ExternalPressureStage.objects.order_by("id")))
        .order_by("recorded_at", "id")
    )


# --- The self-assessment ----------------------------------------------------------------------


def self_assessment_facts(organisation_id: int) -> dict[str, self_assessment.DimensionFacts]:
    """What the records of the organisation's cycles say about each stage of the tool, in four
    queries however many cycles and records there are."""
    reached: dict[str, set[int]] = defaultdict(set)
    involved: dict[str, set[int]] = defaultdict(set)
    counts: dict[str, Counter[str]] = defaultdict(Counter)

    def dims(template_key: str, stage_key: str) -> tuple[str, ...]:
        return self_assessment.dimensions_of(template_key, stage_key)

    for cycle_id, template_key, stage_key in StageVisit.objects.filter(
        cycle__organisation_id=organisation_id
    ).values_list("cycle_id", "cycle__template_key", "stage_key"):
        for dim in dims(template_key, stage_key):
            reached[dim].add(cycle_id)
    for cycle_id, template_key, stage_key, kind in SignOff.objects.filter(
        cycle__organisation_id=organisation_id, withdrawn=False, superseded_at__isnull=True
    ).values_list("cycle_id", "cycle__template_key", "visit__stage_key", "kind"):
        for dim in dims(template_key, stage_key):
            involved[dim].add(cycle_id)
            counts[dim]["attestations" if kind == SignOff.Kind.ATTEST else "dissents"] += 1
    for cycle_id, template_key, stage_key, status in UserInput.objects.filter(
        cycle__organisation_id=organisation_id
    ).values_list("cycle_id", "cycle__template_key", "stage_key", "status"):
        for dim in dims(template_key, stage_key):
            involved[dim].add(cycle_id)
            counts[dim]["inputs"] += 1
            if status == UserInput.Status.WE_DID:
                counts[dim]["inputs_we_did"] += 1
            elif status not in UserInput.ANSWERED:
                counts[dim]["inputs_unanswered"] += 1
    for cycle_id, template_key, stage_key, considered in Consultation.objects.filter(
        cycle__organisation_id=organisation_id
    ).values_list("cycle_id", "cycle__template_key", "stage_key", "consideration__id"):
        for dim in dims(template_key, stage_key):
            involved[dim].add(cycle_id)
            counts[dim]["consultations"] += 1
            if considered is not None:
                counts[dim]["consultations_considered"] += 1
    return {
        dim: self_assessment.DimensionFacts(
            cycles_reached=len(reached[dim]),
            cycles_involved=len(involved[dim] & reached[dim]),
            **counts[dim],
        )
        for dim in self_assessment.DIMENSION_KEYS
    }


def self_assessment_proposals(organisation_id: int) -> dict[str, self_assessment.Proposal]:
    """The score the records suggest for each stage of the tool, and why."""
    return {
        dim: self_assessment.propose(facts)
        for dim, facts in self_assessment_facts(organisation_id).items()
    }


@dataclass(frozen=True)
class EvidenceOption:
    """A record a score may cite: ``ref`` is how a form or the API names it."""

    ref: str
    label: str
    dimensions: tuple[str, ...]


def _stage_name(template_key: str, stage_key: str) -> str:
    try:
        return get_template(template_key).get(stage_key).name
    except KeyError:
        return stage_key


def evidence_options(organisation_id: int) -> list[EvidenceOption]:
    """Every record of the organisation's cycles a score may cite: users' sign-offs, answers to
    their input, consultations; in three queries."""
    options: list[EvidenceOption] = []
    for signoff in (
        SignOff.objects.filter(
            cycle__organisation_id=organisation_id,
            kind=SignOff.Kind.ATTEST,
            withdrawn=False,
            superseded_at__isnull=True,
        )
        .select_related("cycle", "visit", "member")
        .order_by("recorded_at", "id")
    ):
        stage = signoff.visit.stage_key
        who = signoff.member.get_full_name() or signoff.member.get_username()
        options.append(
            EvidenceOption(
                f"signoff:{signoff.pk}",
                f"Sign-off by {who}: {_stage_name(signoff.cycle.template_key, stage)}, "
                f"{signoff.cycle.title} ({signoff.recorded_at:%d %b %Y})",
                self_assessment.dimensions_of(signoff.cycle.template_key, stage),
            )
        )
    for response in (
        InputResponse.objects.filter(
            cycle__organisation_id=organisation_id, kind=InputResponse.Kind.WE_DID
        )
        .select_related("cycle", "user_input")
        .order_by("responded_at", "id")
    ):
        said = response.user_input.text
        said = said if len(said) <= 80 else said[:79] + "…"
        stage = response.user_input.stage_key
        options.append(
            EvidenceOption(
                f"response:{response.pk}",
                f"“We did” to “{said}”: {_stage_name(response.cycle.template_key, stage)}, "
                f"{response.cycle.title}",
                self_assessment.dimensions_of(response.cycle.template_key, stage),
            )
        )
    for consultation in (
        Consultation.objects.filter(cycle__organisation_id=organisation_id)
        .select_related("cycle", "consideration")
        .order_by("opens_on", "id")
    ):
        considered = (
            "responses considered"
            if getattr(consultation, "consideration", None) is not None
            else "responses not yet considered"
        )
        options.append(
            EvidenceOption(
                f"consultation:{consultation.pk}",
                f"Consultation “{consultation.title}”, {consultation.cycle.title} ({considered})",
                self_assessment.dimensions_of(
                    consultation.cycle.template_key, consultation.stage_key
                ),
            )
        )
    return options


def self_assessments(organisation_id: int) -> QuerySet[SelfAssessment]:
    """The organisation's self-assessments, oldest first, with their scores and evidence (four
    queries)."""
    return (
        SelfAssessment.objects.filter(organisation_id=organisation_id)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch(
                "scores",
                SelfAssessmentScore.objects.order_by("id").prefetch_related(
                    Prefetch("evidence", SelfAssessmentEvidence.objects.order_by("id"))
                ),
            )
        )
        .order_by("version")
    )


# --- Who is missing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    group: CoverageGroup
    panel: tuple[str, ...]
    """The names of active panel members who come from or speak for it."""
    respondents: int
    """How many respondents to the cycle's consultations came from it."""

    @property
    def missing(self) -> bool:
        return not self.panel and not self.respondents


def coverage(cycle: CommissioningCycle) -> list[CoverageRow]:
    """Each group the cycle should hear from, with who on the panel speaks for it and how many
    consultation respondents came from it (three queries). Someone who has left the panel no
    longer counts."""
    active = PanelMembership.objects.active().filter(cycle=cycle).values("member_id")
    groups = (
        CoverageGroup.objects.filter(cycle=cycle)
        .annotate(respondent_total=Coalesce(Sum("responses__respondents"), 0))
        .order_by("id")
    )
    names: dict[int, list[str]] = defaultdict(list)
    for group_id, first, last, username in (
        CoverageGroupMember.objects.filter(group__cycle=cycle, member_id__in=active)
        .order_by("member__first_name", "member__last_name", "id")
        .values_list("group_id", "member__first_name", "member__last_name", "member__username")
    ):
        names[group_id].append(f"{first} {last}".strip() or username)
    return [
        CoverageRow(group, tuple(names[group.pk]), int(group.respondent_total)) for group in groups
    ]


def missing_groups(cycle: CommissioningCycle) -> list[CoverageGroup]:
    """The groups nobody on the panel or among respondents speaks for."""
    return [row.group for row in coverage(cycle) if row.missing]
