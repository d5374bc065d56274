"""What the API reads and returns. Input serializers check shape only: the services decide.

Output serializers read only what the views' querysets fetched (``select_related`` and
``prefetch_related`` there), so a page costs the same number of queries however long it is.
People are named by username.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cycle.models import (
    AuditEvent,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    GateOverride,
    InputResponse,
    Organisation,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from cycle.stages import get_template
from roles.models import ApiToken, ConflictDeclaration, PanelMembership, WorkingAgreement

User = get_user_model()


@extend_schema_field(OpenApiTypes.STR)
class Username(serializers.SlugRelatedField):
    """A person, by username."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "username")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", User._default_manager.filter(is_active=True))
        super().__init__(**kwargs)


def _text(**kwargs: Any) -> serializers.CharField:
    """Free text whose emptiness and length the service judges (``cycle.input_rules``), so its
    own code reaches the caller."""
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("trim_whitespace", False)
    return serializers.CharField(**kwargs)


# --- cycles and stages ------------------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name"]


class StageRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    position = serializers.IntegerField()


def stage_ref(cycle: CommissioningCycle) -> dict[str, Any]:
    template = get_template(cycle.template_key)
    stage = template.get(cycle.current_stage)
    return {"key": stage.key, "name": stage.name, "position": template.position(stage.key)}


class CycleSerializer(serializers.ModelSerializer):
    organisation = OrganisationSerializer()
    lead_commissioner = Username(read_only=True)
    involvement_lead = Username(read_only=True, allow_null=True)
    template = serializers.CharField(source="template_key")
    stage = serializers.SerializerMethodField()

    class Meta:
        model = CommissioningCycle
        fields = [
            "id",
            "title",
            "organisation",
            "service_area",
            "template",
            "stage",
            "status",
            "lead_commissioner",
            "involvement_lead",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(StageRefSerializer)
    def get_stage(self, cycle: CommissioningCycle) -> dict[str, Any]:
        return stage_ref(cycle)


class UnmetSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class GateSerializer(serializers.Serializer):
    open = serializers.BooleanField(help_text="Every condition holds.")
    overridden = serializers.BooleanField(help_text="A governance board override stands.")
    passable = serializers.BooleanField(help_text="The stage may be left: open or overridden.")
    quorum = serializers.IntegerField(help_text="Attestations needed: a majority of the panel.")
    attesting = serializers.IntegerField(help_text="Current attestations that count.")
    unmet = UnmetSerializer(many=True)


class BudgetSerializer(serializers.ModelSerializer):
    disclosed_by = Username(read_only=True)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, coerce_to_string=True
    )

    class Meta:
        model = BudgetDisclosure
        fields = [
            "id",
            "version",
            "amount",
            "currency",
            "constraints",
            "withheld_reason",
            "disclosed_by",
            "disclosed_at",
        ]


class CycleDetailSerializer(CycleSerializer):
    gate = GateSerializer(source="gate_result")
    budget = BudgetSerializer(source="current_budget", allow_null=True)

    class Meta(CycleSerializer.Meta):
        fields = [*CycleSerializer.Meta.fields, "gate", "budget"]


class CycleCreateSerializer(serializers.Serializer):
    title = _text()
    organisation = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Organisation.objects.all(),
        help_text="The commissioning organisation, by name.",
    )
    lead = Username(help_text="The lead commissioner (default: the caller).", required=False)
    template = serializers.CharField(default="default", max_length=40)
    service_area = _text(default="")


class VisitSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="stage_key")
    opened_by = Username(read_only=True)
    closed_by = Username(read_only=True, allow_null=True)
    closure = serializers.CharField(allow_blank=True)

    class Meta:
        model = StageVisit
        fields = [
            "id",
            "stage",
            "position",
            "opened_at",
            "opened_by",
            "opened_reason",
            "closed_at",
            "closed_by",
            "closure",
        ]


class StageSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()
    position = serializers.IntegerField()
    current = serializers.BooleanField()
    visits = VisitSerializer(many=True)


class CycleMoveSerializer(serializers.Serializer):
    """What an advance or reopening did: the stage left, the cycle now, and its gate."""

    left = serializers.CharField(help_text="The stage the cycle left.")
    visit = VisitSerializer(allow_null=True, help_text="The stage visit opened (none at the end).")
    cycle = CycleDetailSerializer()


class ReopenSerializer(serializers.Serializer):
    stage = serializers.CharField(max_length=40)
    reason = _text()


class InvolvementLeadSerializer(serializers.Serializer):
    lead = Username(help_text="Who is responsible for involvement in this cycle.")


# --- gate records -----------------------------------------------------------------------------


class BoundarySerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="stage_key")
    recorded_by = Username(read_only=True)
    acknowledged_by = serializers.SerializerMethodField()

    class Meta:
        model = RoleBoundaryAgreement
        fields = [
            "id",
            "stage",
            "version",
            *RoleBoundaryAgreement.TERMS,
            "recorded_by",
            "recorded_at",
            "acknowledged_by",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_acknowledged_by(self, agreement: RoleBoundaryAgreement) -> list[str]:
        return sorted(a.member.username for a in agreement.acknowledgements.all())


@extend_schema_field({"type": "string", "enum": list(RoleBoundaryAgreement.Influence.values)})
class InfluenceField(serializers.CharField):
    """The level of influence, judged by the service (``invalid.influence``), not here."""


class BoundariesAgreeSerializer(serializers.Serializer):
    purpose = _text()
    user_role = _text()
    influence = InfluenceField(
        help_text="One of: " + ", ".join(RoleBoundaryAgreement.Influence.values) + "."
    )
    decision_maker = _text()
    commissioner_authority = _text(default="")
    fixed_matters = _text(default="")
    open_matters = _text(default="")


class AcknowledgementSerializer(serializers.Serializer):
    boundary = serializers.IntegerField(source="agreement_id")
    version = serializers.IntegerField(source="agreement.version")
    member = Username(read_only=True)
    acknowledged_at = serializers.DateTimeField()


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$",
        "example": "950000.50",
    }
)
class AmountField(serializers.Field):
    """An amount as written (a string, or a whole number): ``cycle.input_rules.amount`` judges
    it in the service, so the API refuses ``1_000``, ``1e6`` or ``NaN`` with the service's code."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return None if value is None else str(value)


class BudgetDiscloseSerializer(serializers.Serializer):
    amount = AmountField(required=False, allow_null=True)
    currency = serializers.CharField(
        default="GBP", allow_blank=True, help_text="An ISO 4217 code, such as GBP."
    )
    constraints = _text(default="")
    withheld_reason = _text(default="")


class SignOffSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="visit.stage_key")
    member = Username(read_only=True)
    boundary_version = serializers.IntegerField(source="boundary.version", allow_null=True)
    budget_version = serializers.IntegerField(source="budget.version", allow_null=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = SignOff
        fields = [
            "id",
            "stage",
            "visit",
            "member",
            "kind",
            "boundary_version",
            "budget_version",
            "reasons",
            "recorded_at",
            "superseded_at",
            "withdrawn",
            "current",
        ]

    def get_current(self, signoff: SignOff) -> bool:
        return signoff.superseded_at is None


class SignOffRecordSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=SignOff.Kind.choices,
        help_text="attest: involvement happened as agreed (not approval of any decision); "
        "dissent: it did not, with reasons.",
    )
    reasons = _text(default="", help_text="Required for a dissent.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == SignOff.Kind.ATTEST and attrs["reasons"].strip():
            raise serializers.ValidationError(
                {"reasons": ["An attestation takes no reasons; record a dissent instead."]}
            )
        return attrs


class DepartureSerializer(serializers.Serializer):
    code = serializers.CharField()
    members = serializers.ListField(
        child=serializers.CharField(), help_text="Whom the condition was unmet for, if anyone."
    )


class OverrideSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="visit.stage_key")
    by = Username(read_only=True)
    unmet_codes = serializers.SerializerMethodField()
    departs_from = serializers.SerializerMethodField()

    class Meta:
        model = GateOverride
        fields = [
            "id",
            "stage",
            "visit",
            "by",
            "reason",
            "unmet_codes",
            "departs_from",
            "boundary_version",
            "budget_version",
            "recorded_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_unmet_codes(self, override: GateOverride) -> list[str]:
        return [code for code in override.unmet_codes.split(",") if code]

    @extend_schema_field(DepartureSerializer(many=True))
    def get_departs_from(self, override: GateOverride) -> list[dict[str, Any]]:
        members: dict[str, list[str]] = {}
        for departure in override.departures.all():
            names = members.setdefault(departure.code, [])
            if departure.member is not None:
                names.append(departure.member.username)
        return [{"code": code, "members": sorted(names)} for code, names in members.items()]


class OverrideCreateSerializer(serializers.Serializer):
    reason = _text(help_text="Why the body departs from the gate; it stays on the record.")
    codes = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        allow_null=True,
        max_length=20,
        help_text="The unmet conditions the override departs from (default: every one unmet). "
        "Only quorum, dissent, stale or missing acknowledgements and an unsigned agreement can "
        "be waived, never the records themselves.",
    )


# --- decisions and the influence register -----------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="stage_key")
    decided_by = Username(read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "stage",
            "visit",
            "summary",
            "decided_by",
            "forum",
            "decided_at",
            "veto_used",
            "veto_reason",
        ]


class DecisionRecordSerializer(serializers.Serializer):
    summary = _text()
    forum = _text(default="")
    veto_used = serializers.BooleanField(default=False)
    veto_reason = _text(default="")


class ResponseSerializer(serializers.ModelSerializer):
    input = serializers.IntegerField(source="user_input_id")
    responded_by = Username(read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = InputResponse
        fields = [
            "id",
            "input",
            "kind",
            "text",
            "decision",
            "responded_by",
            "responded_at",
            "superseded_at",
            "current",
        ]

    def get_current(self, response: InputResponse) -> bool:
        return response.superseded_at is None


class InputSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="stage_key")
    submitted_by = Username(read_only=True)
    responses = ResponseSerializer(many=True, read_only=True)

    class Meta:
        model = UserInput
        fields = [
            "id",
            "stage",
            "visit",
            "submitted_by",
            "source",
            "method",
            "text",
            "attachment_reference",
            "submitted_at",
            "status",
            "answered_at",
            "overdue_flagged_at",
            "responses",
        ]


class InputSubmitSerializer(serializers.Serializer):
    text = _text()
    source = serializers.ChoiceField(
        choices=UserInput.Source.choices, default=UserInput.Source.REPRESENTATIVE
    )
    method = serializers.ChoiceField(
        choices=UserInput.Method.choices, default=UserInput.Method.MEETING
    )
    attachment_reference = _text(default="")


class InputRespondSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InputResponse.Kind.choices)
    text = _text(default="", help_text="What was done, or why not; optional while considering.")
    decision = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )


# --- the panel --------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    member = Username(read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = PanelMembership
        fields = [
            "id",
            "member",
            "represents",
            "tier",
            "tender_panel",
            "joined_at",
            "joined_stage",
            "left_at",
            "left_reason",
            "active",
        ]

    def get_active(self, membership: PanelMembership) -> bool:
        return membership.left_at is None


class MembershipAddSerializer(serializers.Serializer):
    member = Username(help_text="A user representative, by username.")
    represents = _text(default="")
    tier = serializers.ChoiceField(
        choices=PanelMembership.Tier.choices, default=PanelMembership.Tier.REFERENCE_GROUP
    )
    tender_panel = serializers.BooleanField(default=False)


class MembershipChangeSerializer(serializers.Serializer):
    tender_panel = serializers.BooleanField()


class ReasonSerializer(serializers.Serializer):
    reason = _text(default="")


class WorkingAgreementSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)
    signed_by = serializers.SerializerMethodField()

    class Meta:
        model = WorkingAgreement
        fields = [
            "id",
            "version",
            "task",
            "responsibilities",
            "support",
            "expenses",
            "ground_rules",
            "recorded_by",
            "recorded_at",
            "signed_by",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_signed_by(self, agreement: WorkingAgreement) -> list[str]:
        return sorted(s.member.username for s in agreement.signatures.all())


class WorkingAgreementRecordSerializer(serializers.Serializer):
    task = _text()
    responsibilities = _text()
    support = _text()
    expenses = _text(default="", help_text="Default: expenses paid on the day.")
    ground_rules = _text(default="", help_text="Default: the ground rules of seed 004.")


class SignatureSerializer(serializers.Serializer):
    agreement = serializers.IntegerField(source="agreement_id")
    version = serializers.IntegerField(source="agreement.version")
    member = Username(read_only=True)
    signed_at = serializers.DateTimeField()


class DeclarationSerializer(serializers.ModelSerializer):
    member = Username(read_only=True)

    class Meta:
        model = ConflictDeclaration
        fields = ["id", "member", "interest", "details", "declared_at"]


class DeclarationCreateSerializer(serializers.Serializer):
    interest = serializers.ChoiceField(choices=ConflictDeclaration.Interest.choices)
    details = _text(default="", help_text="Which service, provider or bidder (unless none).")


# --- the ledger -------------------------------------------------------------------------------


class AuditEventSerializer(serializers.ModelSerializer):
    cycle = serializers.IntegerField(source="cycle_id", allow_null=True)
    actor = serializers.CharField(source="actor_name")
    stage = serializers.CharField(source="stage_key")
    payload = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "at",
            "actor",
            "action",
            "outcome",
            "cycle",
            "stage",
            "object_type",
            "object_id",
            "payload",
            "prev_hash",
            "cycle_prev_hash",
            "hash",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, event: AuditEvent) -> Any:
        return json.loads(event.payload)


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField(help_text="Events checked.")
    last_seq = serializers.IntegerField(allow_null=True)
    last_hash = serializers.CharField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)
    description = serializers.CharField(source="describe")


# --- tokens -----------------------------------------------------------------------------------


class TokenSerializer(serializers.ModelSerializer):
    user = Username(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "user", "created_at", "expires_at", "revoked_at"]


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="The token itself. Shown this once only.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class TokenCreateSerializer(serializers.Serializer):
    name = _text(help_text="What the token is for, e.g. 'board papers export'.")
    expires_in_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=3650
    )
