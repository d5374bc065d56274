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

from cycle import duty_selectors, duty_services
from cycle.duty_models import ExternalPressure
from cycle.models import CommissioningCycle
from roles.permissions import on_panel

from .serializers import Username
from .views import CycleListMixin, CycleScopedMixin, _input

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


class PressureList(CycleListMixin, generics.ListCreateAPIView):
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

    @extend_schema(tags=["duty to involve"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=PressureRecordSerializer,
        responses={201: PressureSerializer},
        tags=["duty to involve"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _input(request, PressureRecordSerializer)
        pressure = duty_services.pressure_record(actor=request.user, cycle_id=self.cycle_id, **data)
        return Response(PressureSerializer(pressure).data, status=status.HTTP_201_CREATED)


class PressureDisclose(CycleScopedMixin, APIView):
    @extend_schema(request=None, responses={200: PressureSerializer}, tags=["duty to involve"])
    def post(self, request: Request, cycle_id: int, pressure_id: int) -> Response:
        """Tell the panel about a pressure that could not be told when it was recorded (the lead
        commissioner)."""
        pressure = duty_services.pressure_disclose(
            actor=request.user, cycle_id=self.cycle_id, pressure_id=pressure_id
        )
        return Response(PressureSerializer(pressure).data)
