"""Procurement records: the route, the tender and its evaluation, the decision and its notice.

Every row is written by ``cycle.procurement.services``; nothing here has behaviour in ``save()``.
What a governance board or the regime's annual summary queries is a real column: each answer to
the route questions, each score, each key criterion's reasons, the standstill's end.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cycle.models import CommissioningCycle, DecisionMeeting
from roles.models import ConflictDeclaration

from .evaluation import SCORE_MAX, ScoringSide
from .routes import ROUTE_LABELS


class KeyCriterion(models.TextChoices):
    """The five key criteria of the Provider Selection Regime (reg 5)."""

    QUALITY = "quality", _("Quality and innovation")
    VALUE = "value", _("Value")
    INTEGRATION = "integration", _("Integration, collaboration and service sustainability")
    ACCESS = "access", _("Improving access, reducing health inequalities and facilitating choice")
    SOCIAL_VALUE = "social-value", _("Social value")


class Side(models.TextChoices):
    """Who a scorer scores for: the commissioners, or the users' panel."""

    COMMISSIONERS = ScoringSide.COMMISSIONERS.value, _("Commissioners")
    USER_PANEL = ScoringSide.USER_PANEL.value, _("User panel")


class RouteAssessment(models.Model):
    """One recorded set of answers to the regime's questions, and the route they led to.

    A version per cycle: answering again (because the proposal changed) is a new row, and the
    tender names the version it followed.
    """

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="route_assessments"
    )
    version = models.PositiveIntegerField()
    framework = models.BooleanField(null=True)
    existing_provider = models.BooleanField(null=True)
    only_existing_provider_capable = models.BooleanField(null=True)
    patient_choice = models.BooleanField(null=True)
    contract_expiring = models.BooleanField(null=True)
    provider_performing = models.BooleanField(null=True)
    materially_different = models.BooleanField(null=True)
    change_by_authority = models.BooleanField(null=True)
    existing_lifetime_value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    proposed_lifetime_value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    use_direct_award_c = models.BooleanField(null=True)
    most_suitable_identifiable = models.BooleanField(null=True)
    route = models.CharField(
        _("process"),
        max_length=30,
        choices=[(route.value, label) for route, label in ROUTE_LABELS.items()],
    )
    mandatory = models.BooleanField(
        default=False, help_text=_("The regulations left no choice of process.")
    )
    reasons = models.TextField(
        _("the reasoning"), help_text=_("One line per step: code, message and regulation.")
    )
    rationale = models.TextField(_("why these answers"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["cycle", "version"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "version"], name="route_version_unique")
        ]

    def __str__(self) -> str:
        return f"route v{self.version}: {self.route}"

    @property
    def route_label(self) -> str:
        return self.get_route_display()


class Tender(models.Model):
    """The contract being awarded: its lots, its criteria, and the weight of the user panel."""

    cycle = models.OneToOneField(
        CommissioningCycle, on_delete=models.CASCADE, related_name="tender"
    )
    route_assessment = models.ForeignKey(
        RouteAssessment, on_delete=models.PROTECT, related_name="tenders"
    )
    title = models.CharField(_("title"), max_length=200)
    reference = models.CharField(_("reference"), max_length=60)
    services = models.TextField(_("the services"))
    cpv_code = models.CharField(_("CPV code"), max_length=20)
    lifetime_value = models.DecimalField(
        _("approximate lifetime value"), max_digits=14, decimal_places=2
    )
    user_panel_weight = models.DecimalField(
        _("weight of the user panel's scores (%)"), max_digits=5, decimal_places=2
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user_panel_weight__gte=0) & Q(user_panel_weight__lte=100),
                name="user_panel_weight_is_a_percentage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"


class Lot(models.Model):
    """A part of the tender awarded on its own: an area of the locality, or all of it."""

    class Kind(models.TextChoices):
        GEOGRAPHIC = "geographic", _("Geographic lot")
        LOCALITY_WIDE = "locality-wide", _("Locality-wide lot")

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="lots")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    area = models.CharField(_("area covered"), max_length=200, blank=True)

    class Meta:
        ordering = ["tender", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "name"], name="lot_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    """A weighted evaluation criterion; every tender has the five key criteria among them."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=20, choices=KeyCriterion.choices, blank=True)
    name = models.CharField(_("name"), max_length=200)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["tender", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender", "key"], condition=~Q(key=""), name="key_criterion_once"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight}%)"


class Bid(models.Model):
    """A provider's bid for one lot."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="bids")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="bids")
    bidder = models.CharField(_("provider"), max_length=200)
    address = models.TextField(_("provider's address"))
    submitted_on = models.DateField(_("date received"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["lot__position", "bidder", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "bidder"], name="one_bid_per_bidder_per_lot")
        ]

    def __str__(self) -> str:
        return f"{self.bidder} for {self.lot}"


class BidInterest(models.Model):
    """A scorer's declared interest in one bid: they may not score it, though they may comment."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="interests")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=20, choices=Side.choices)
    interest = models.CharField(max_length=20, choices=ConflictDeclaration.Interest.choices)
    details = models.TextField()
    declared_at = models.DateTimeField()

    class Meta:
        ordering = ["declared_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "person"], name="bid_interest_once"),
            models.CheckConstraint(condition=~Q(interest="none"), name="bid_interest_not_none"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.interest} in {self.bid}"


class Score(models.Model):
    """One scorer's score of one bid against one criterion; a new score supersedes the old."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    scorer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=20, choices=Side.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(_("why this score"), blank=True)
    recorded_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bid", "criterion", "scorer"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_score",
            ),
            models.CheckConstraint(condition=Q(score__lte=SCORE_MAX), name="score_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.scorer_id} gave {self.score} to {self.bid_id}/{self.criterion_id}"


class BidComment(models.Model):
    """Views on a bid from someone on the panel, scorer or not (a recused member's voice)."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=20, choices=Side.choices)
    recused = models.BooleanField(
        default=False, help_text=_("The author was recused from scoring this bid.")
    )
    text = models.TextField(_("views"))
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"comment by {self.author_id} on {self.bid_id}"


class Moderation(models.Model):
    """The agreed score of one side for a bid and criterion after moderation, with the reason."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="moderations")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="moderations")
    side = models.CharField(max_length=20, choices=Side.choices)
    score = models.DecimalField(max_digits=4, decimal_places=2)
    reason = models.TextField(_("why the scores were moderated"))
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    moderated_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["moderated_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bid", "criterion", "side"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_moderation",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=SCORE_MAX), name="moderation_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} moderated {self.bid_id}/{self.criterion_id} to {self.score}"


class AwardDecision(models.Model):
    """The decision-maker's decision on the tender, with reasons against each key criterion."""

    class Outcome(models.TextChoices):
        AWARD = "award", _("Award")
        NO_AWARD = "no-award", _("No award")

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="decisions")
    meeting = models.ForeignKey(
        DecisionMeeting, on_delete=models.PROTECT, related_name="award_decisions"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    summary = models.TextField(_("what was decided"))
    reasons_quality = models.TextField(_("quality and innovation"))
    reasons_value = models.TextField(_("value"))
    reasons_integration = models.TextField(_("integration, collaboration and sustainability"))
    reasons_access = models.TextField(_("access, inequalities and choice"))
    reasons_social_value = models.TextField(_("social value"))
    conflicts_managed = models.TextField(
        _("how declared conflicts were managed"),
        blank=True,
        help_text=_("Added to the recusals the system recorded."),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    REASON_FIELDS = {
        KeyCriterion.QUALITY: "reasons_quality",
        KeyCriterion.VALUE: "reasons_value",
        KeyCriterion.INTEGRATION: "reasons_integration",
        KeyCriterion.ACCESS: "reasons_access",
        KeyCriterion.SOCIAL_VALUE: "reasons_social_value",
    }

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_award_decision",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome} on {self.tender}"


class LotAward(models.Model):
    """What the decision gave one lot: a bid, or no award."""

    decision = models.ForeignKey(AwardDecision, on_delete=models.CASCADE, related_name="lots")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["lot__position"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "lot"], name="one_award_per_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.lot}: {self.bid or 'no award'}"


class IntentionNotice(models.Model):
    """The notice of intention to award, as published, and the standstill it starts."""

    decision = models.OneToOneField(AwardDecision, on_delete=models.PROTECT, related_name="notice")
    published_on = models.DateField()
    standstill_ends_on = models.DateField(
        help_text=_("The last day representations may be made (8 working days after).")
    )
    contents = models.TextField(help_text=_("The notice as published: canonical JSON."))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()
    contract_awarded_on = models.DateField(null=True, blank=True)
    abandoned = models.BooleanField(
        default=False, help_text=_("The authority abandoned the award after review.")
    )

    def __str__(self) -> str:
        return f"notice of {self.published_on}"


class Representation(models.Model):
    """A provider's representation during the standstill, and the review of the decision."""

    class Outcome(models.TextChoices):
        PROCEED = "proceed", _("Proceed with the decision")
        ABANDON = "abandon", _("Abandon the award")

    notice = models.ForeignKey(
        IntentionNotice, on_delete=models.CASCADE, related_name="representations"
    )
    provider = models.CharField(max_length=200)
    received_on = models.DateField()
    summary = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    review_reasons = models.TextField(blank=True)
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    waits_until = models.DateField(
        null=True,
        blank=True,
        help_text=_("After a decision to proceed: 5 working days before the contract is awarded."),
    )

    class Meta:
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"representation by {self.provider}"
