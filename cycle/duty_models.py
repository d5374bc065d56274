"""Records of the duty to involve: duty assessments, the proposal changes that call for new ones,
and consultations with the analysis of their responses.

A duty assessment is recorded for a cycle, and again whenever its proposal changes: each
assessment stores the answers given (:class:`cycle.duty.DutyQuestions`) and the result the rule
gave (:func:`cycle.duty.assess`), as columns a governance board can query. An assessment is
*current* while no proposal change has been recorded after it (``proposal_version`` counts the
changes it took into account); the ``needs`` gate asks for a current one. Writes go through
``cycle.duty_services``. These models are imported by ``cycle.models``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .duty import Activity, BodyType, Limb, Outcome, Wording
from .models import CommissioningCycle, StageVisit


class ProposalChange(models.Model):
    """A change to what the cycle proposes, which calls for the duty to be assessed again."""

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="proposal_changes"
    )
    version = models.PositiveIntegerField(help_text=_("1 for the first change, and so on."))
    stage_key = models.CharField(max_length=40)
    summary = models.TextField(_("what changed in the proposal"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["cycle", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "version"], name="proposal_change_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"proposal change {self.version}: {self.summary[:40]}"


class DutyAssessment(models.Model):
    """Whether the duty to involve applies to the cycle's proposal, and why (a version)."""

    class BodyTypes(models.TextChoices):
        ICB = BodyType.ICB.value, _("Integrated care board")
        NHS_ENGLAND = BodyType.NHS_ENGLAND.value, _("NHS England")
        NHS_TRUST = BodyType.NHS_TRUST.value, _("NHS trust")
        FOUNDATION_TRUST = BodyType.FOUNDATION_TRUST.value, _("NHS foundation trust")
        SHA = BodyType.STRATEGIC_HEALTH_AUTHORITY.value, _("Strategic health authority")
        PCT = BodyType.PRIMARY_CARE_TRUST.value, _("Primary care trust")
        WELSH_NHS_TRUST = BodyType.WELSH_NHS_TRUST.value, _("NHS trust in Wales")
        LOCAL_AUTHORITY = BodyType.LOCAL_AUTHORITY.value, _("Local authority")
        OTHER = BodyType.OTHER.value, _("Another kind of body")

    class Wordings(models.TextChoices):
        CURRENT = Wording.CURRENT.value, _("The duties as they stand today")
        Y2008 = Wording.Y2008.value, _("The 2008 wording of section 242(1B)")

    class Activities(models.TextChoices):
        PLANNING = Activity.PLANNING.value, _("Planning how services are provided")
        PROPOSALS = Activity.PROPOSALS.value, _("Developing proposals for change")
        DECISION = Activity.DECISION.value, _("A decision about how services operate")
        CONTRACTUAL = Activity.CONTRACTUAL.value, _("Only a change of contract or staff")

    class Outcomes(models.TextChoices):
        REQUIRED = Outcome.REQUIRED.value, _("Duty to involve applies")
        NOT_REQUIRED = Outcome.NOT_REQUIRED.value, _("Duty to involve does not apply")
        OUT_OF_SCOPE = Outcome.OUT_OF_SCOPE.value, _("Outside the duty")

    class Limbs(models.TextChoices):
        PLANNING = Limb.PLANNING.value, _("(a) planning")
        PROPOSALS = Limb.PROPOSALS.value, _("(b) proposals for change")
        DECISIONS = Limb.DECISIONS.value, _("(c) decisions")

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="duty_assessments"
    )
    version = models.PositiveIntegerField()
    stage_key = models.CharField(max_length=40)
    proposal = models.TextField(_("the proposal assessed"))
    proposal_version = models.PositiveIntegerField(
        default=0, help_text=_("How many proposal changes this assessment took into account.")
    )
    # The answers.
    body_type = models.CharField(_("kind of body"), max_length=20, choices=BodyTypes.choices)
    wording = models.CharField(
        _("wording of the law"), max_length=10, choices=Wordings.choices, default=Wording.CURRENT
    )
    activity = models.CharField(_("activity"), max_length=20, choices=Activities.choices)
    responsible = models.BooleanField(_("responsible for the services"))
    affects_other_services = models.BooleanField(default=False)
    affects_delivery = models.BooleanField(_("changes how services are delivered"))
    affects_range = models.BooleanField(_("changes the range of services"))
    already_involved = models.BooleanField(default=False)
    substantial = models.BooleanField(_("substantial development or variation"))
    urgent_safety_risk = models.BooleanField(default=False)
    # The result.
    outcome = models.CharField(max_length=20, choices=Outcomes.choices)
    limb = models.CharField(max_length=1, choices=Limbs.choices, blank=True)
    statute = models.CharField(max_length=60, blank=True)
    scrutiny = models.BooleanField(_("overview and scrutiny committee to be consulted"))
    rules = models.JSONField(
        default=list, help_text=_("The rules that led to the result: code and text of each.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["cycle", "version"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "version"], name="duty_version_unique"),
            models.CheckConstraint(
                condition=models.Q(outcome="required") | models.Q(limb=""),
                name="duty_limb_only_when_required",
            ),
        ]

    def __str__(self) -> str:
        return f"duty assessment v{self.version}: {self.outcome}"


class Consultation(models.Model):
    """A consultation on the cycle's proposals, opened in one stage visit.

    It opens with its document and an equality impact assessment (or the recorded reasons it was
    screened out), and the stage's gate stays closed until an analysis of the responses and a
    statement of how they were considered are recorded (:class:`ConsultationConsideration`). The
    Gunning principles are checked by ``cycle.gunning``.
    """

    class EqualityKind(models.TextChoices):
        ASSESSMENT = "assessment", _("Equality impact assessment")
        SCREENED_OUT = "screened-out", _("Screened out, with the reasons")

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="consultations"
    )
    visit = models.ForeignKey(StageVisit, on_delete=models.PROTECT, related_name="consultations")
    stage_key = models.CharField(max_length=40)
    title = models.CharField(_("title"), max_length=200)
    document = models.TextField(_("the consultation document"))
    options = models.TextField(_("the options still open"), blank=True)
    equality_kind = models.CharField(max_length=20, choices=EqualityKind.choices)
    equality_reference = models.TextField(
        _("the equality impact assessment, or why it was screened out")
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["opens_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__gt=models.F("opens_on")),
                name="consultation_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=~models.Q(equality_reference=""), name="consultation_has_equality"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ConsultationConsideration(models.Model):
    """The analysis of a consultation's responses and how they were taken into account."""

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="consideration"
    )
    responses = models.PositiveIntegerField(_("number of responses"))
    analysis = models.TextField(_("analysis of the responses"))
    statement = models.TextField(_("how the responses were considered"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"consideration of {self.consultation}"


class ExternalPressure(models.Model):
    """A pressure from outside the cycle that bears on it (seed 003: "make them overt").

    Each says in plain words what it means for the people who use services, and whether the panel
    was told (or why it could not be yet). Recording one can reopen the earliest stage it affects
    that is already behind the cycle (``cycle.duty_services.pressure_record``).
    """

    class Category(models.TextChoices):
        REGULATION = "regulation", _("Regulation")
        LEGISLATION = "legislation", _("Legislation")
        NATIONAL_PRIORITY = "national-priority", _("A national priority")
        LOCAL_PRIORITY = "local-priority", _("A local priority")
        BUDGET = "budget", _("Budget")
        POLITICAL_CONTROL = "political-control", _("A change of political control")
        LOCAL_CIRCUMSTANCE = "local-circumstance", _("Local circumstances")

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="external_pressures"
    )
    stage_key = models.CharField(max_length=40, help_text=_("The stage it was recorded in."))
    category = models.CharField(_("kind of pressure"), max_length=30, choices=Category.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what it is"), blank=True)
    implication = models.TextField(_("what it means for people who use services"))
    disclosed = models.BooleanField(_("told to the panel"))
    withheld_reason = models.TextField(_("why the panel cannot be told yet"), blank=True)
    disclosed_at = models.DateTimeField(null=True, blank=True)
    reopened_stage = models.CharField(
        max_length=40, blank=True, help_text=_("The stage its recording reopened, if any.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(disclosed=True) | ~models.Q(withheld_reason=""),
                name="pressure_withheld_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(implication=""), name="pressure_has_implication"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ExternalPressureStage(models.Model):
    """A stage an external pressure affects."""

    pressure = models.ForeignKey(
        ExternalPressure, on_delete=models.CASCADE, related_name="affected_stages"
    )
    stage_key = models.CharField(max_length=40)

    class Meta:
        ordering = ["pressure", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pressure", "stage_key"], name="pressure_stage_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pressure} affects {self.stage_key}"


class SelfAssessment(models.Model):
    """A governance board's self-assessment of an organisation (seed 001, Appendix I): one score
    per stage of the tool (:class:`SelfAssessmentScore`), as a new version each time, so that
    assessments can be compared over time."""

    organisation = models.ForeignKey(
        "cycle.Organisation", on_delete=models.CASCADE, related_name="self_assessments"
    )
    version = models.PositiveIntegerField()
    assessed_on = models.DateField(_("assessed on"))
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["organisation", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "version"], name="self_assessment_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"self-assessment {self.version} of {self.organisation_id}"


class SelfAssessmentScore(models.Model):
    """The board's score for one stage of the tool, beside the score the records suggested."""

    assessment = models.ForeignKey(SelfAssessment, on_delete=models.CASCADE, related_name="scores")
    dimension = models.CharField(max_length=30)
    score = models.PositiveSmallIntegerField()
    comments = models.TextField(_("comments"), blank=True)
    proposed_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("What the records suggested; empty when they could not.")
    )
    proposed_lines = models.JSONField(
        default=list, help_text=_("Why the records suggested it, line by line.")
    )

    class Meta:
        ordering = ["assessment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "dimension"], name="self_assessment_dimension_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="self_assessment_score_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}: {self.score}"


class SelfAssessmentEvidence(models.Model):
    """A record the system holds that a score cites: a sign-off, an answer to input, or a
    consultation. Exactly one of them."""

    score = models.ForeignKey(
        SelfAssessmentScore, on_delete=models.CASCADE, related_name="evidence"
    )
    signoff = models.ForeignKey(
        "cycle.SignOff", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    response = models.ForeignKey(
        "cycle.InputResponse", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["score", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        signoff__isnull=False, response__isnull=True, consultation__isnull=True
                    )
                    | models.Q(
                        signoff__isnull=True, response__isnull=False, consultation__isnull=True
                    )
                    | models.Q(
                        signoff__isnull=True, response__isnull=True, consultation__isnull=False
                    )
                ),
                name="self_assessment_evidence_one_record",
            )
        ]

    def __str__(self) -> str:
        return f"evidence for {self.score}"


class CoverageGroup(models.Model):
    """A group of people the cycle should hear from, set locally: an easy-to-overlook group
    (seed 002, L722-745) or an equality strand (seed 001, L469).

    Who on the panel comes from or speaks for it (:class:`CoverageGroupMember`) and how many of a
    consultation's respondents came from it (:class:`CoverageGroupResponses`) say whether it is
    heard. A group nobody on the panel or among respondents speaks for is flagged on the cycle's
    page; it never holds the gate on its own.
    """

    class Kind(models.TextChoices):
        OVERLOOKED = "easy-to-overlook", _("A group that is easy to overlook")
        EQUALITY = "equality", _("An equality strand")

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="coverage_groups"
    )
    name = models.CharField(_("name of the group"), max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["cycle", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "name"], name="coverage_group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CoverageGroupMember(models.Model):
    """A panel member who comes from, or speaks for, a group."""

    group = models.ForeignKey(CoverageGroup, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["group", "id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "member"], name="coverage_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.group}"


class CoverageGroupResponses(models.Model):
    """How many of a consultation's respondents came from a group."""

    group = models.ForeignKey(CoverageGroup, on_delete=models.CASCADE, related_name="responses")
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    respondents = models.PositiveIntegerField()

    class Meta:
        ordering = ["group", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "consultation"], name="coverage_responses_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.respondents} from {self.group}"
