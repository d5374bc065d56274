"""The API of the register of external pressures, the self-assessment and who is missing.

As in ``cycle.api.duty``: the cycle (or organisation) is found among those the caller may see
(404 otherwise), every read goes through a query of fixed cost, every write through one service
in ``cycle.duty_services``, which checks again who is asking.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cycle import duty_selectors, duty_services, selectors, self_assessment
from cycle.duty_models import (
    CoverageGroup,
    ExternalPressure,
    SelfAssessment,
    SelfAssessmentScore,
)
from cycle.errors import InvalidRequest, NotFound
from cycle.models import CommissioningCycle, Organisation
from roles.permissions import Action, on_panel, require

from .serializers import Username
from .views import MAX_ID, CycleRecordList, CycleScopedMixin, _input

# --- External pressures -------------------------------------------------------------------------

HIDDEN_FROM_PANEL = ("title", "description", "implication", "affects", "reopened_stage")


class PressureSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)
    affects = serializers.SerializerMethodField(
        help_text="The stages it affects, in the order of the cycle."
    )

    class Meta:
        model = ExternalPressure
        fields = [
            "id",
            "stage_key",
            "category",
            "title",
            "description",
            "implication",
            "affects",
            "disclosed",
            "withheld_reason",
            "disclosed_at",
            "reopened_stage",
            "recorded_by",
            "recorded_at",
        ]

    def get_affects(self, pressure: ExternalPressure) -> list[str]:
        return [stage.stage_key for stage in pressure.affected_stages.all()]

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        if self.context.get("panel_member") and not instance.disclosed:
            # A panel member is told there is a pressure and why it cannot be told, nothing more.
            for name in HIDDEN_FROM_PANEL:
                data[name] = [] if name == "affects" else ""
        return data


class PressureRecordSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ExternalPressure.Category.values)
    title = serializers.CharField(max_length=200)
    implication = serializers.CharField(
        max_length=duty_services.TEXT_LIMIT,
        help_text="What it means for people who use services, in plain words.",
    )
    description = serializers.CharField(
        max_length=duty_services.TEXT_LIMIT, allow_blank=True, default=""
    )
    disclosed = serializers.BooleanField(default=True, help_text="Whether the panel is told now.")
    withheld_reason = serializers.CharField(
        max_length=duty_services.TEXT_LIMIT, allow_blank=True, default=""
    )
    affects = serializers.ListField(child=serializers.CharField(max_length=40), default=list)
    reopen = serializers.BooleanField(
        default=False,
        help_text="Reopen the earliest stage it affects that the cycle has already left.",
    )


class PressureList(CycleRecordList):
    """The cycle's external pressures, oldest first; or record one (the lead commissioner), which
    tells the panel and may reopen the earliest stage it affects. A panel member reads a pressure
    not yet told to the panel only as its kind and the reason."""

    model = ExternalPressure
    serializer_class = PressureSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> Any:
        return duty_selectors.pressures(cycle)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["panel_member"] = on_panel(self.request.user, self.get_cycle())
        return context

    tag = "duty to involve"
    create_serializer = PressureRecordSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return duty_services.pressure_record(actor=actor, cycle_id=self.cycle_id, **data)


class PressureDisclose(CycleScopedMixin, APIView):
    @extend_schema(request=None, responses={200: PressureSerializer}, tags=["duty to involve"])
    def post(self, request: Request, cycle_id: int, pressure_id: int) -> Response:
        """Tell the panel about a pressure that could not be told when it was recorded (the lead
        commissioner)."""
        pressure = duty_services.pressure_disclose(
            actor=request.user, cycle_id=self.cycle_id, pressure_id=pressure_id
        )
        return Response(PressureSerializer(pressure).data)


# --- The self-assessment ------------------------------------------------------------------------


class OrganisationScopedMixin:
    """Finds ``organisation_id`` among the organisations whose cycles the caller may see, or
    whose cycles their board oversees; 404 otherwise. What they may do there is the service's
    (and :meth:`require_audit`'s) to say."""

    kwargs: dict[str, Any]
    request: Request

    def get_organisation(self) -> Organisation:
        cached: Organisation | None = getattr(self, "_organisation", None)
        if cached is not None:
            return cached
        pk = int(self.kwargs["organisation_id"])
        user = self.request.user
        visible = pk <= MAX_ID and (
            selectors.cycles_visible_to(user).filter(organisation_id=pk).exists()
            or selectors.organisations_overseen_by(user).filter(pk=pk).exists()
        )
        organisation = Organisation.objects.filter(pk=pk).first() if visible else None
        if organisation is None:
            raise NotFound(f"There is no organisation {pk}.", code="organisation.not_found")
        self._organisation = organisation
        return organisation

    def require_audit(self) -> Organisation:
        organisation = self.get_organisation()
        require(self.request.user, Action.AUDIT, organisation=organisation)
        return organisation


def evidence_ref(evidence: Any) -> str:
    """How a cited record is named: ``signoff:ID``, ``response:ID`` or ``consultation:ID``."""
    for kind in duty_services.EVIDENCE_KINDS:
        pk = getattr(evidence, f"{kind}_id")
        if pk is not None:
            return f"{kind}:{pk}"
    return ""  # pragma: no cover - a check constraint says one of them is set


class ScoreSerializer(serializers.ModelSerializer):
    evidence = serializers.SerializerMethodField(
        help_text="The records the score cites: signoff:ID, response:ID or consultation:ID."
    )

    class Meta:
        model = SelfAssessmentScore
        fields = ["dimension", "score", "comments", "evidence", "proposed_score", "proposed_lines"]

    def get_evidence(self, score: SelfAssessmentScore) -> list[str]:
        return [evidence_ref(evidence) for evidence in score.evidence.all()]


class SelfAssessmentSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)
    scores = ScoreSerializer(many=True, read_only=True)

    class Meta:
        model = SelfAssessment
        fields = [
            "id",
            "version",
            "assessed_on",
            "contact_name",
            "recorded_by",
            "recorded_at",
            "scores",
        ]


class ScoreInputSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=list(self_assessment.DIMENSION_KEYS))
    score = serializers.IntegerField(min_value=1, max_value=5)
    comments = serializers.CharField(
        max_length=duty_services.TEXT_LIMIT, allow_blank=True, default=""
    )
    evidence = serializers.ListField(
        child=serializers.CharField(max_length=40),
        default=list,
        help_text="Records the score cites: signoff:ID, response:ID or consultation:ID. A score "
        "of 3 or more needs at least one.",
    )


class SelfAssessmentRecordSerializer(serializers.Serializer):
    assessed_on = serializers.DateField(required=False)
    contact_name = serializers.CharField(max_length=200, allow_blank=True, default="")
    scores = ScoreInputSerializer(many=True)


class ProposalSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    name = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    lines = serializers.ListField(child=serializers.CharField())


class SelfAssessmentList(OrganisationScopedMixin, generics.ListCreateAPIView):
    """The organisation's self-assessments, oldest first, each score beside the records'
    suggestion; or record one (a governance board member overseeing it). A score of 3 or more
    citing no record is refused (``self_assessment.no_evidence``)."""

    serializer_class = SelfAssessmentSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SelfAssessment.objects.none()
        return duty_selectors.self_assessments(self.require_audit().pk)

    @extend_schema(tags=["self-assessment"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=SelfAssessmentRecordSerializer,
        responses={201: SelfAssessmentSerializer},
        tags=["self-assessment"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        organisation = self.get_organisation()
        data = _input(request, SelfAssessmentRecordSerializer)
        recorded = duty_services.self_assessment_record(
            actor=request.user,
            organisation_id=organisation.pk,
            scores=[dict(score) for score in data["scores"]],
            assessed_on=data.get("assessed_on"),
            contact_name=data.get("contact_name", ""),
        )
        (created,) = [
            a for a in duty_selectors.self_assessments(organisation.pk) if a.pk == recorded.pk
        ]
        return Response(SelfAssessmentSerializer(created).data, status=status.HTTP_201_CREATED)


class SelfAssessmentProposal(OrganisationScopedMixin, APIView):
    @extend_schema(responses={200: ProposalSerializer(many=True)}, tags=["self-assessment"])
    def get(self, request: Request, organisation_id: int) -> Response:
        """The score the records suggest for each stage of the tool, and why, line by line (a
        governance board member overseeing the organisation)."""
        organisation = self.require_audit()
        proposals = duty_selectors.self_assessment_proposals(organisation.pk)
        return Response(
            [
                {
                    "dimension": d.key,
                    "name": d.name,
                    "score": proposals[d.key].score,
                    "lines": list(proposals[d.key].lines),
                }
                for d in self_assessment.DIMENSIONS
            ]
        )


# --- Who is missing -----------------------------------------------------------------------------


class CoverageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="group.pk")
    name = serializers.CharField(source="group.name")
    kind = serializers.CharField(source="group.kind")
    panel = serializers.ListField(
        child=serializers.CharField(), help_text="Panel members who speak for the group."
    )
    respondents = serializers.IntegerField(
        help_text="Respondents to the cycle's consultations who came from the group."
    )
    missing = serializers.BooleanField(
        help_text="Nobody on the panel or among respondents speaks for it (never holds the gate)."
    )


class CoverageGroupAddSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=CoverageGroup.Kind.values)


class CoverageRecordSerializer(serializers.Serializer):
    members = serializers.ListField(
        child=Username(), default=list, help_text="Panel members who speak for the group."
    )
    respondents = serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        default=dict,
        help_text="Respondents from the group, by consultation id.",
    )


def _row(cycle: CommissioningCycle, group_id: int) -> Any:
    return next(row for row in duty_selectors.coverage(cycle) if row.group.pk == group_id)


class CoverageList(CycleRecordList):
    """The groups the cycle should hear from and who speaks for each; or add a group (the lead
    commissioner or the involvement lead)."""

    model = CoverageGroup
    serializer_class = CoverageSerializer
    tag = "duty to involve"
    create_serializer = CoverageGroupAddSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> Any:
        return duty_selectors.coverage(cycle)

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return duty_services.coverage_group_add(actor=actor, cycle_id=self.cycle_id, **data)

    def created(self, record: Any) -> Any:
        return _row(self.get_cycle(), record.pk)


class CoverageRecord(CycleScopedMixin, APIView):
    @extend_schema(
        request=CoverageRecordSerializer,
        responses={200: CoverageSerializer},
        tags=["duty to involve"],
    )
    def put(self, request: Request, cycle_id: int, group_id: int) -> Response:
        """Record who on the panel speaks for the group and how many respondents to each
        consultation came from it, replacing what was recorded before (the lead commissioner or
        the involvement lead)."""
        data = _input(request, CoverageRecordSerializer)
        try:
            respondents = {int(k): v for k, v in data["respondents"].items()}
        except ValueError:
            raise InvalidRequest(
                "Respondents are counted by consultation id.", code="invalid.respondents"
            ) from None
        group = duty_services.coverage_record(
            actor=request.user,
            cycle_id=self.cycle_id,
            group_id=group_id,
            member_ids=[member.pk for member in data["members"]],
            respondents=respondents,
        )
        return Response(CoverageSerializer(_row(self.get_cycle(), group.pk)).data)
