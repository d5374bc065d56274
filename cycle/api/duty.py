"""The API of the duty to involve: duty assessments, proposal changes and consultations.

As everywhere in the API: the cycle is found among those the caller may see (404 otherwise), every
read goes through a query of fixed cost, every write through one service in
``cycle.duty_services``, which checks again who is asking.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cycle import duty, duty_services
from cycle.duty_models import (
    Consultation,
    ConsultationConsideration,
    DutyAssessment,
    ProposalChange,
)
from cycle.duty_selectors import consultation_rows
from cycle.models import CommissioningCycle

from .serializers import Username
from .views import CycleRecordList, CycleScopedMixin, _input


class DutyAssessmentSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)

    class Meta:
        model = DutyAssessment
        fields = [
            "id",
            "version",
            "stage_key",
            "proposal",
            "proposal_version",
            "body_type",
            "wording",
            "activity",
            "responsible",
            "affects_other_services",
            "affects_delivery",
            "affects_range",
            "already_involved",
            "substantial",
            "urgent_safety_risk",
            "outcome",
            "limb",
            "statute",
            "scrutiny",
            "rules",
            "recorded_by",
            "recorded_at",
        ]


class DutyAssessSerializer(serializers.Serializer):
    proposal = serializers.CharField(max_length=duty_services.TEXT_LIMIT)
    body_type = serializers.ChoiceField(choices=[b.value for b in duty.BodyType])
    activity = serializers.ChoiceField(choices=[a.value for a in duty.Activity])
    wording = serializers.ChoiceField(
        choices=[w.value for w in duty.Wording], default=duty.Wording.CURRENT.value
    )
    responsible = serializers.BooleanField(default=True)
    affects_other_services = serializers.BooleanField(default=False)
    affects_delivery = serializers.BooleanField(default=False)
    affects_range = serializers.BooleanField(default=False)
    already_involved = serializers.BooleanField(default=False)
    substantial = serializers.BooleanField(default=False)
    urgent_safety_risk = serializers.BooleanField(default=False)


class ProposalChangeSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)

    class Meta:
        model = ProposalChange
        fields = ["id", "version", "stage_key", "summary", "recorded_by", "recorded_at"]


class ProposalChangeRecordSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=duty_services.TEXT_LIMIT)


class DutyAssessmentList(CycleRecordList):
    """Every version of the cycle's duty assessment, oldest first; or record a new one (the lead
    commissioner). The result is the rule's, from the answers given."""

    model = DutyAssessment
    serializer_class = DutyAssessmentSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[DutyAssessment]:
        return (
            DutyAssessment.objects.filter(cycle=cycle)
            .select_related("recorded_by")
            .order_by("version")
        )

    tag = "duty to involve"
    create_serializer = DutyAssessSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return duty_services.duty_assess(actor=actor, cycle_id=self.cycle_id, **data)


class ProposalChangeList(CycleRecordList):
    """Every recorded change to the cycle's proposal; or record one (the lead commissioner),
    after which the duty must be assessed again."""

    model = ProposalChange
    serializer_class = ProposalChangeSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[ProposalChange]:
        return (
            ProposalChange.objects.filter(cycle=cycle)
            .select_related("recorded_by")
            .order_by("version")
        )

    tag = "duty to involve"
    create_serializer = ProposalChangeRecordSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return duty_services.proposal_change_record(actor=actor, cycle_id=self.cycle_id, **data)


class ConsiderationSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)

    class Meta:
        model = ConsultationConsideration
        fields = ["responses", "analysis", "statement", "recorded_by", "recorded_at"]


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    principle = serializers.IntegerField(help_text="The Gunning principle, 1 to 4.")
    message = serializers.CharField()
    blocking = serializers.BooleanField(
        help_text="It refuses the opening or keeps the stage's gate closed; otherwise a warning."
    )


class ConsultationSerializer(serializers.ModelSerializer):
    opened_by = Username(read_only=True)
    consideration = ConsiderationSerializer(read_only=True, allow_null=True)
    findings = FindingSerializer(many=True, read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "stage_key",
            "title",
            "document",
            "options",
            "equality_kind",
            "equality_reference",
            "opens_on",
            "closes_on",
            "opened_by",
            "opened_at",
            "consideration",
            "findings",
        ]

    def to_representation(self, instance: Any) -> Any:
        if not hasattr(instance, "consideration"):
            instance.consideration = None
        return super().to_representation(instance)


class ConsultationOpenSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    document = serializers.CharField(max_length=duty_services.TEXT_LIMIT, allow_blank=True)
    options = serializers.CharField(
        max_length=duty_services.TEXT_LIMIT, allow_blank=True, default=""
    )
    equality_kind = serializers.ChoiceField(choices=Consultation.EqualityKind.values)
    equality_reference = serializers.CharField(
        max_length=duty_services.TEXT_LIMIT, allow_blank=True
    )
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()


class ConsultationConsiderSerializer(serializers.Serializer):
    responses = serializers.IntegerField(min_value=0)
    analysis = serializers.CharField(max_length=duty_services.TEXT_LIMIT)
    statement = serializers.CharField(max_length=duty_services.TEXT_LIMIT)


def _with_findings(cycle: CommissioningCycle) -> list[Consultation]:
    """The cycle's consultations, each with its Gunning findings (``findings``)."""
    rows = consultation_rows(cycle)
    for row in rows:
        row.consultation.findings = list(row.findings)  # type: ignore[attr-defined]
    return [row.consultation for row in rows]


class ConsultationList(CycleRecordList):
    """Every consultation of the cycle with what the Gunning principles say of it; or open one
    in the current stage (the lead commissioner). No document or equality assessment refuses it;
    a short consultation, or one opened after the stage's decision, opens with a warning."""

    model = Consultation
    serializer_class = ConsultationSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> list[Consultation]:
        return _with_findings(cycle)

    tag = "duty to involve"
    create_serializer = ConsultationOpenSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return duty_services.consultation_open(actor=actor, cycle_id=self.cycle_id, **data)

    def created(self, record: Any) -> Any:
        (found,) = [c for c in _with_findings(self.get_cycle()) if c.pk == record.pk]
        return found


class ConsultationConsider(CycleScopedMixin, APIView):
    @extend_schema(
        request=ConsultationConsiderSerializer,
        responses={201: ConsiderationSerializer},
        tags=["duty to involve"],
    )
    def post(self, request: Request, cycle_id: int, consultation_id: int) -> Response:
        """Record the analysis of the responses and how they were considered (the lead
        commissioner); until then the gate of the consultation's stage stays closed."""
        data = _input(request, ConsultationConsiderSerializer)
        consideration = duty_services.consultation_consider(
            actor=request.user,
            cycle_id=self.cycle_id,
            consultation_id=consultation_id,
            **data,
        )
        return Response(ConsiderationSerializer(consideration).data, status=status.HTTP_201_CREATED)
