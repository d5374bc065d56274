"""The API's views: each read goes through the selectors, each write through one service.

Every view under ``cycles/{id}/`` first finds the cycle among those the caller may see
(``cycles_visible_to``), so a cycle they may not see answers 404 exactly as a missing one does,
and nothing is written. The service then checks, again, whether they may do what they ask:
a refusal answers 403 with the service's code, and is on the ledger.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cycle import chain, ledger, selectors, services
from cycle.errors import Forbidden, NotFound
from cycle.models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    GateOverride,
    GateOverrideDeparture,
    InputResponse,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from cycle.stages import get_template
from processes import commissioning
from roles import api_tokens
from roles import services as role_services
from roles.models import (
    AgreementSignature,
    ApiToken,
    ConflictDeclaration,
    PanelMembership,
    WorkingAgreement,
)
from roles.permissions import AUDIT_PERM

from . import filters
from . import serializers as s
from .pagination import SequencePagination

MAX_ID = 2**63 - 1


def _cycles(user: Any) -> QuerySet[CommissioningCycle]:
    return selectors.cycles_visible_to(user).select_related(
        "organisation", "lead_commissioner", "involvement_lead"
    )


def cycle_detail(cycle: CommissioningCycle) -> dict[str, Any]:
    """The cycle with its gate state and current budget, as ``CycleDetailSerializer`` reads it."""
    gate = selectors.gate_state(cycle)
    cycle.gate_result = {  # type: ignore[attr-defined]
        "open": gate.open,
        "overridden": gate.overridden,
        "passable": gate.passable,
        "quorum": gate.quorum,
        "attesting": len(gate.attesting),
        "unmet": gate.unmet,
    }
    cycle.current_budget = selectors.current_budget(cycle)  # type: ignore[attr-defined]
    return dict(s.CycleDetailSerializer(cycle).data)


class CycleScopedMixin:
    """Finds ``cycle_id`` among the cycles the caller may see; 404 otherwise."""

    kwargs: dict[str, Any]
    request: Request

    def get_cycle(self) -> CommissioningCycle:
        cached: CommissioningCycle | None = getattr(self, "_cycle", None)
        if cached is not None:
            return cached
        cycle_id = int(self.kwargs["cycle_id"])
        cycle = (
            _cycles(self.request.user).filter(pk=cycle_id).first() if cycle_id <= MAX_ID else None
        )
        if cycle is None:
            raise NotFound(f"There is no commissioning cycle {cycle_id}.", code="cycle.not_found")
        self._cycle = cycle
        return cycle

    @property
    def cycle_id(self) -> int:
        return self.get_cycle().pk


class CycleListMixin(CycleScopedMixin):
    """A list of one kind of the cycle's records; ``model`` only tells the schema what it is."""

    model: type[Any]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.model._default_manager.none()
        return self.cycle_queryset(self.get_cycle())

    def cycle_queryset(self, cycle: CommissioningCycle) -> Any:
        raise NotImplementedError


class CycleRecordList(CycleListMixin, generics.ListCreateAPIView):
    """The cycle's records of one kind, and the one service that records another.

    A subclass says what it lists (``model``, ``serializer_class``, ``cycle_queryset``), the
    shape of a new one (``create_serializer``), the service that records it (``record``) and
    its place in the reference (``tag``). A new record answers 201 with the list's own
    representation of it (``created`` may read it again, with what the list fetches with it).
    """

    tag: str
    create_serializer: type[serializers.Serializer]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "create_serializer" in cls.__dict__:
            extend_schema_view(
                get=extend_schema(tags=[cls.tag]),
                post=extend_schema(
                    request=cls.create_serializer,
                    responses={201: cls.serializer_class},
                    tags=[cls.tag],
                ),
            )(cls)

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def created(self, record: Any) -> Any:
        return record

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _input(request, self.create_serializer)
        record = self.created(self.record(request.user, data))
        return Response(self.serializer_class(record).data, status=status.HTTP_201_CREATED)


def _object(queryset: QuerySet[Any], pk: Any, what: str, cycle: CommissioningCycle) -> Any:
    found = queryset.filter(pk=int(pk)).first() if int(pk) <= MAX_ID else None
    if found is None:
        raise NotFound(f"Cycle {cycle.pk} has no {what} {pk}.", code=f"{what}.not_found")
    return found


def _input(request: Request, serializer_class: type[Any]) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- cycles -----------------------------------------------------------------------------------


class CycleList(generics.ListCreateAPIView):
    """Cycles the caller may see, newest first; or start a cycle."""

    serializer_class = s.CycleSerializer

    def get_queryset(self) -> QuerySet[CommissioningCycle]:
        return _cycles(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request=s.CycleCreateSerializer, responses={201: s.CycleDetailSerializer}, tags=["cycles"]
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _input(request, s.CycleCreateSerializer)
        cycle = commissioning.start_cycle(
            actor=request.user,
            title=data["title"],
            organisation=data["organisation"],
            lead=data.get("lead") or request.user,
            template_key=data["template"],
            service_area=data["service_area"],
        )
        cycle = _cycles(request.user).get(pk=cycle.pk)
        return Response(cycle_detail(cycle), status=status.HTTP_201_CREATED)


class CycleDetail(CycleScopedMixin, APIView):
    @extend_schema(responses=s.CycleDetailSerializer, tags=["cycles"])
    def get(self, request: Request, cycle_id: int) -> Response:
        """The cycle, its current stage, its gate (every unmet condition) and budget."""
        return Response(cycle_detail(self.get_cycle()))


class StageList(CycleListMixin, generics.ListAPIView):
    """The stages of the cycle's template in order, each with its visits."""

    model = StageVisit
    serializer_class = s.StageSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> Any:
        visits: dict[str, list[StageVisit]] = {}
        for visit in StageVisit.objects.filter(cycle=cycle).select_related(
            "opened_by", "closed_by"
        ):
            visits.setdefault(visit.stage_key, []).append(visit)
        template = get_template(cycle.template_key)
        return [
            {
                "key": stage.key,
                "name": stage.name,
                "summary": stage.summary,
                "position": position,
                "current": stage.key == cycle.current_stage,
                "visits": visits.get(stage.key, []),
            }
            for position, stage in enumerate(template.stages, 1)
        ]

    @extend_schema(tags=["stages"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class VisitList(CycleListMixin, generics.ListAPIView):
    """Every stay of the cycle in a stage, oldest first: opened, then passed, overridden or left
    to reopen an earlier stage."""

    model = StageVisit
    serializer_class = s.VisitSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[StageVisit]:
        return (
            StageVisit.objects.filter(cycle=cycle)
            .select_related("opened_by", "closed_by")
            .order_by("id")
        )

    @extend_schema(tags=["stages"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _move(request: Request, cycle: CommissioningCycle, visit: StageVisit | None) -> Response:
    fresh = _cycles(request.user).filter(pk=cycle.pk).first() or cycle
    body = {
        "left": cycle.current_stage,
        "visit": s.VisitSerializer(visit).data if visit is not None else None,
        "cycle": cycle_detail(fresh),
    }
    return Response(body)


class Advance(CycleScopedMixin, APIView):
    @extend_schema(
        request=None,
        responses={
            200: s.CycleMoveSerializer,
            409: OpenApiResponse(
                description="The gate is closed: `code` is gate.closed and `unmet` lists every "
                "unmet condition (code and message). Nothing changed."
            ),
        },
        tags=["stages"],
    )
    def post(self, request: Request, cycle_id: int) -> Response:
        """Leave the current stage through its involvement gate (the lead commissioner)."""
        cycle = self.get_cycle()
        visit = commissioning.advance(actor=request.user, cycle_id=cycle.pk)
        return _move(request, cycle, visit)


class SignOffRequest(CycleScopedMixin, APIView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                name="SignoffRequested",
                fields={"asked": serializers.ListField(child=serializers.IntegerField())},
            )
        },
        tags=["sign-off"],
    )
    def post(self, request: Request, cycle_id: int) -> Response:
        """Ask the panel to sign off the current stage (the lead commissioner)."""
        cycle = self.get_cycle()
        asked = services.signoff_request(actor=request.user, cycle_id=cycle.pk)
        return Response({"asked": asked})


class Reopen(CycleScopedMixin, APIView):
    @extend_schema(
        request=s.ReopenSerializer, responses={200: s.CycleMoveSerializer}, tags=["stages"]
    )
    def post(self, request: Request, cycle_id: int) -> Response:
        """Go back to an earlier stage, with the reason; its gate must be met again."""
        cycle = self.get_cycle()
        data = _input(request, s.ReopenSerializer)
        visit = commissioning.reopen(
            actor=request.user, cycle_id=cycle.pk, stage_key=data["stage"], reason=data["reason"]
        )
        return _move(request, cycle, visit)


class InvolvementLead(CycleScopedMixin, APIView):
    @extend_schema(
        request=s.InvolvementLeadSerializer, responses=s.CycleDetailSerializer, tags=["cycles"]
    )
    def put(self, request: Request, cycle_id: int) -> Response:
        """Name the person responsible for involvement in the cycle."""
        data = _input(request, s.InvolvementLeadSerializer)
        services.involvement_lead_name(
            actor=request.user, cycle_id=self.cycle_id, lead=data["lead"]
        )
        return Response(cycle_detail(_cycles(request.user).get(pk=self.cycle_id)))


# --- gate records -----------------------------------------------------------------------------


class BoundaryList(CycleRecordList):
    """Every version of every stage's role boundaries, with who acknowledged each; or record a
    new version for the current stage (the lead commissioner)."""

    model = RoleBoundaryAgreement
    serializer_class = s.BoundarySerializer
    filterset_class = filters.BoundaryFilter

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[RoleBoundaryAgreement]:
        return (
            RoleBoundaryAgreement.objects.filter(cycle=cycle)
            .select_related("recorded_by")
            .prefetch_related(
                Prefetch(
                    "acknowledgements",
                    BoundaryAcknowledgement.objects.select_related("member"),
                )
            )
            .order_by("id")
        )

    tag = "gate records"
    create_serializer = s.BoundariesAgreeSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return services.boundaries_agree(actor=actor, cycle_id=self.cycle_id, **data)


class BoundaryAcknowledge(CycleScopedMixin, APIView):
    @extend_schema(request=None, responses=s.AcknowledgementSerializer, tags=["gate records"])
    def post(self, request: Request, cycle_id: int) -> Response:
        """Acknowledge the current stage's role boundaries, for oneself (a panel member)."""
        ack = services.boundaries_acknowledge(actor=request.user, cycle_id=self.cycle_id)
        return Response(s.AcknowledgementSerializer(ack).data)


class BudgetList(CycleRecordList):
    """Every version of the budget disclosure, oldest first; or disclose a new version (the lead
    commissioner). A new version voids every attestation given against the old one."""

    model = BudgetDisclosure
    serializer_class = s.BudgetSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[BudgetDisclosure]:
        return (
            BudgetDisclosure.objects.filter(cycle=cycle)
            .select_related("disclosed_by")
            .order_by("version")
        )

    tag = "gate records"
    create_serializer = s.BudgetDiscloseSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return services.budget_disclose(actor=actor, cycle_id=self.cycle_id, **data)


class SignOffList(CycleRecordList):
    """Every sign-off and dissent, with the versions each attested to; or record one's own
    (a panel member). An attestation is not approval of any decision."""

    model = SignOff
    serializer_class = s.SignOffSerializer
    filterset_class = filters.SignOffFilter

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[SignOff]:
        return (
            SignOff.objects.filter(cycle=cycle)
            .select_related("visit", "member", "boundary", "budget")
            .order_by("id")
        )

    tag = "gate records"
    create_serializer = s.SignOffRecordSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        dissent = data["reasons"] if data["kind"] == SignOff.Kind.DISSENT else None
        return commissioning.signoff(actor=actor, cycle_id=self.cycle_id, dissent=dissent)


class DissentWithdraw(CycleScopedMixin, APIView):
    @extend_schema(request=None, responses=s.SignOffSerializer, tags=["gate records"])
    def post(self, request: Request, cycle_id: int) -> Response:
        """Withdraw one's own open dissent on the current stage."""
        signoff = services.dissent_withdraw(actor=request.user, cycle_id=self.cycle_id)
        return Response(s.SignOffSerializer(signoff).data)


class OverrideList(CycleRecordList):
    """Every gate override, with its reasons and the conditions (and members) it departed from;
    or override the current gate (a governance board member), naming what it departs from."""

    model = GateOverride
    serializer_class = s.OverrideSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[GateOverride]:
        return (
            GateOverride.objects.filter(cycle=cycle)
            .select_related("visit", "by")
            .prefetch_related(
                Prefetch("departures", GateOverrideDeparture.objects.select_related("member"))
            )
            .order_by("id")
        )

    tag = "gate records"
    create_serializer = s.OverrideCreateSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return services.gate_override(
            actor=actor, cycle_id=self.cycle_id, reason=data["reason"], codes=data.get("codes")
        )


# --- decisions and the influence register -----------------------------------------------------


class DecisionList(CycleRecordList):
    """The decision-maker's decisions, in order; or record one. A decision is never the users'
    sign-off."""

    model = Decision
    serializer_class = s.DecisionSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[Decision]:
        return (
            Decision.objects.filter(cycle=cycle)
            .select_related("decided_by")
            .order_by("decided_at", "id")
        )

    tag = "decisions and input"
    create_serializer = s.DecisionRecordSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return services.decision_record(actor=actor, cycle_id=self.cycle_id, **data)


def _inputs(cycle: CommissioningCycle) -> QuerySet[UserInput]:
    return (
        UserInput.objects.filter(cycle=cycle)
        .select_related("submitted_by")
        .prefetch_related(
            Prefetch(
                "responses",
                InputResponse.objects.select_related("responded_by").order_by("responded_at", "id"),
            )
        )
        .order_by("submitted_at", "id")
    )


class InputList(CycleRecordList):
    """The influence register: every input from the panel with every response ("you said, we
    did"); or give input (a panel member)."""

    model = UserInput
    serializer_class = s.InputSerializer
    filterset_class = filters.InputFilter

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[UserInput]:
        return _inputs(cycle)

    tag = "decisions and input"
    create_serializer = s.InputSubmitSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return services.input_submit(actor=actor, cycle_id=self.cycle_id, **data)

    def created(self, record: Any) -> Any:
        return _inputs(self.get_cycle()).get(pk=record.pk)


class InputDetail(CycleScopedMixin, APIView):
    @extend_schema(responses=s.InputSerializer, tags=["decisions and input"])
    def get(self, request: Request, cycle_id: int, input_id: int) -> Response:
        """One input with every response to it."""
        cycle = self.get_cycle()
        return Response(s.InputSerializer(_object(_inputs(cycle), input_id, "input", cycle)).data)


class ResponseList(CycleRecordList):
    """Every response to one input, oldest first; or respond (the lead commissioner): we did,
    we couldn't (because …), or still considering. A newer response supersedes the last."""

    model = InputResponse
    serializer_class = s.ResponseSerializer

    def get_input(self) -> UserInput:
        cycle = self.get_cycle()
        found: UserInput = _object(
            UserInput.objects.filter(cycle=cycle), self.kwargs["input_id"], "input", cycle
        )
        return found

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[InputResponse]:
        return (
            InputResponse.objects.filter(user_input=self.get_input())
            .select_related("responded_by")
            .order_by("responded_at", "id")
        )

    tag = "decisions and input"
    create_serializer = s.InputRespondSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return services.input_respond(
            actor=actor,
            cycle_id=self.cycle_id,
            input_id=self.get_input().pk,
            kind=data["kind"],
            text=data["text"],
            decision_id=data.get("decision"),
        )


# --- the panel --------------------------------------------------------------------------------


def _memberships(cycle: CommissioningCycle) -> QuerySet[PanelMembership]:
    return (
        PanelMembership.objects.filter(cycle=cycle)
        .select_related("member")
        .order_by("joined_at", "id")
    )


class MembershipList(CycleRecordList):
    """The panel (with ``include_former``, its whole history); or add a user representative
    (the lead commissioner or the involvement lead)."""

    model = PanelMembership
    serializer_class = s.MembershipSerializer
    filterset_class = filters.MembershipFilter

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[PanelMembership]:
        return _memberships(cycle)

    tag = "panel"
    create_serializer = s.MembershipAddSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return role_services.membership_add(actor=actor, cycle_id=self.cycle_id, **data)


class MembershipDetail(CycleScopedMixin, APIView):
    def get_membership(self) -> PanelMembership:
        cycle = self.get_cycle()
        found: PanelMembership = _object(
            _memberships(cycle), self.kwargs["membership_id"], "membership", cycle
        )
        return found

    @extend_schema(responses=s.MembershipSerializer, tags=["panel"])
    def get(self, request: Request, cycle_id: int, membership_id: int) -> Response:
        """One place on the panel."""
        return Response(s.MembershipSerializer(self.get_membership()).data)

    @extend_schema(
        request=s.MembershipChangeSerializer, responses=s.MembershipSerializer, tags=["panel"]
    )
    def patch(self, request: Request, cycle_id: int, membership_id: int) -> Response:
        """Put an active member on the tender panel, or take them off it."""
        membership = self.get_membership()
        data = _input(request, s.MembershipChangeSerializer)
        changed = role_services.membership_set_tender_panel(
            actor=request.user,
            cycle_id=self.cycle_id,
            member=membership.member,
            tender_panel=data["tender_panel"],
        )
        return Response(s.MembershipSerializer(changed).data)


class MembershipRemove(MembershipDetail):
    @extend_schema(request=s.ReasonSerializer, responses=s.MembershipSerializer, tags=["panel"])
    def post(self, request: Request, cycle_id: int, membership_id: int) -> Response:
        """Take someone off the panel (or step down oneself), with the reason."""
        membership = self.get_membership()
        data = _input(request, s.ReasonSerializer)
        ended = role_services.membership_remove(
            actor=request.user,
            cycle_id=self.cycle_id,
            member=membership.member,
            reason=data["reason"],
        )
        return Response(s.MembershipSerializer(ended).data)


class MembershipLeave(CycleScopedMixin, APIView):
    @extend_schema(request=s.ReasonSerializer, responses=s.MembershipSerializer, tags=["panel"])
    def post(self, request: Request, cycle_id: int) -> Response:
        """Step down from the panel (a panel member, for themselves)."""
        data = _input(request, s.ReasonSerializer)
        ended = role_services.membership_leave(
            actor=request.user, cycle_id=self.cycle_id, reason=data["reason"]
        )
        return Response(s.MembershipSerializer(ended).data)


class AgreementList(CycleRecordList):
    """Every version of the panel's working agreement, with who signed each; or record a new
    version (the lead commissioner or the involvement lead): everyone signs it again."""

    model = WorkingAgreement
    serializer_class = s.WorkingAgreementSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[WorkingAgreement]:
        return (
            WorkingAgreement.objects.filter(cycle=cycle)
            .select_related("recorded_by")
            .prefetch_related(
                Prefetch("signatures", AgreementSignature.objects.select_related("member"))
            )
            .order_by("version")
        )

    tag = "panel"
    create_serializer = s.WorkingAgreementRecordSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return role_services.agreement_record(actor=actor, cycle_id=self.cycle_id, **data)


class AgreementSign(CycleScopedMixin, APIView):
    @extend_schema(request=None, responses=s.SignatureSerializer, tags=["panel"])
    def post(self, request: Request, cycle_id: int) -> Response:
        """Sign the current working agreement, for oneself (a panel member)."""
        signature = role_services.agreement_sign(actor=request.user, cycle_id=self.cycle_id)
        return Response(s.SignatureSerializer(signature).data)


class DeclarationList(CycleRecordList):
    """Every declaration of interests, in order; or declare one's own ('none' counts)."""

    model = ConflictDeclaration
    serializer_class = s.DeclarationSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[ConflictDeclaration]:
        return (
            ConflictDeclaration.objects.filter(cycle=cycle)
            .select_related("member")
            .order_by("declared_at", "id")
        )

    tag = "panel"
    create_serializer = s.DeclarationCreateSerializer

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return role_services.conflict_declare(actor=actor, cycle_id=self.cycle_id, **data)


# --- the ledger -------------------------------------------------------------------------------


class CycleAudit(CycleListMixin, generics.ListAPIView):
    """The cycle's ledger events in order of sequence number, refusals included (read-only)."""

    model = AuditEvent
    serializer_class = s.AuditEventSerializer
    pagination_class = SequencePagination
    filterset_class = filters.AuditFilter

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.filter(cycle=cycle).order_by("seq")

    @extend_schema(tags=["audit"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _verification(result: chain.Verification) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "checked": result.checked,
        "last_seq": result.last_seq,
        "last_hash": result.last_hash,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem,
        "description": result.describe(),
    }


class CycleAuditVerify(CycleScopedMixin, APIView):
    @extend_schema(responses=s.VerificationSerializer, tags=["audit"])
    def get(self, request: Request, cycle_id: int) -> Response:
        """Check the cycle's chain of events; names the first event that does not verify."""
        return Response(_verification(ledger.verify_cycle(self.get_cycle())))


EXPORT_FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_lines(events: QuerySet[AuditEvent], fmt: str) -> Iterator[str]:
    """The events as ``manage.py audit export`` writes them, which ``cycle.verify_export``
    checks without a database."""
    if fmt == "csv":
        writer = csv.writer(_Echo())
        yield writer.writerow(chain.EXPORT_FIELDS)
        for record in ledger.iter_records(events):
            yield writer.writerow(chain.csv_row(record))
    else:
        for record in ledger.iter_records(events):
            yield chain.jsonl_line(record)


class CycleAuditExport(CycleScopedMixin, APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as",
                str,
                enum=list(EXPORT_FORMATS),
                description="jsonl (default) or csv; both verify with "
                "`python -m cycle.verify_export --cycle FILE`.",
            )
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
        },
        tags=["audit"],
    )
    def get(self, request: Request, cycle_id: int) -> StreamingHttpResponse:
        """The cycle's whole chain of events as a file, to verify elsewhere."""
        fmt = request.query_params.get("as", "jsonl")
        if fmt not in EXPORT_FORMATS:
            raise ValidationError({"as": [f"Must be one of {', '.join(EXPORT_FORMATS)}."]})
        cycle = self.get_cycle()
        head_seq, _ = ledger.head()
        events = AuditEvent.objects.filter(cycle=cycle, seq__lte=head_seq)
        response = StreamingHttpResponse(
            export_lines(events, fmt), content_type=EXPORT_FORMATS[fmt]
        )
        response["Content-Disposition"] = f'attachment; filename="cycle-{cycle.pk}-ledger.{fmt}"'
        return response


class LedgerList(generics.ListAPIView):
    """Ledger events of every cycle the caller may see, in order of sequence number."""

    serializer_class = s.AuditEventSerializer
    pagination_class = SequencePagination
    filterset_class = filters.LedgerFilter

    def get_queryset(self) -> QuerySet[AuditEvent]:
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        if user.is_superuser:
            return AuditEvent.objects.order_by("seq")
        return AuditEvent.objects.filter(
            cycle__in=selectors.cycles_visible_to(user).values("pk")
        ).order_by("seq")

    @extend_schema(tags=["audit"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class LedgerVerify(APIView):
    @extend_schema(responses=s.VerificationSerializer, tags=["audit"])
    def get(self, request: Request) -> Response:
        """Check the whole ledger against its head (governance board members)."""
        if not request.user.has_perm(AUDIT_PERM):
            raise Forbidden(
                "Only governance board members can verify the whole ledger.",
                code="forbidden.audit",
            )
        return Response(_verification(ledger.verify_ledger()))


# --- tokens -----------------------------------------------------------------------------------


class TokenList(generics.ListCreateAPIView):
    """The caller's own API tokens (never the tokens themselves); or create one, shown once."""

    serializer_class = s.TokenSerializer

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return (
            ApiToken.objects.filter(user=self.request.user)
            .select_related("user")
            .order_by("-created_at", "-id")
        )

    @extend_schema(tags=["tokens"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.TokenCreateSerializer, responses={201: s.NewTokenSerializer}, tags=["tokens"]
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _input(request, s.TokenCreateSerializer)
        new = api_tokens.token_create(
            actor=request.user, name=data["name"], expires_in_days=data.get("expires_in_days")
        )
        body = dict(s.TokenSerializer(new.token).data) | {"token": new.secret}
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class TokenRevoke(APIView):
    @extend_schema(request=None, responses=s.TokenSerializer, tags=["tokens"])
    def post(self, request: Request, token_id: int) -> Response:
        """Revoke one of one's own tokens; it stops working at once."""
        if int(token_id) > MAX_ID:
            raise NotFound(f"There is no API token {token_id}.", code="token.not_found")
        token = api_tokens.token_revoke(actor=request.user, token_id=int(token_id))
        return Response(s.TokenSerializer(token).data)
