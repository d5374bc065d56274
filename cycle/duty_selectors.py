"""Reads of the duty to involve that need more than one query, or settings: consultations with
what the Gunning principles say of each, and the register of external pressures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from . import gunning
from .duty_models import Consultation, ExternalPressure, ExternalPressureStage
from .models import CommissioningCycle, Decision


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
