"""Who takes part in a cycle, on what terms: panel membership, working agreements, declared
interests and governance boards. Writes go through ``roles.services``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MembershipQuerySet(models.QuerySet["PanelMembership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(left_at__isnull=True)


class PanelMembership(models.Model):
    """A user representative's place on a cycle's panel, from joining to leaving."""

    class Tier(models.TextChoices):
        DECISION_FORUM = "decision-forum", _("Decision forum (steering group)")
        REFERENCE_GROUP = "reference-group", _("Reference group (working group)")

    cycle = models.ForeignKey(
        "cycle.CommissioningCycle", on_delete=models.CASCADE, related_name="memberships"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_memberships"
    )
    represents = models.CharField(
        _("whom the member represents"),
        max_length=200,
        blank=True,
        help_text=_("Their constituency or group, e.g. 'carers' or 'day service users'."),
    )
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.REFERENCE_GROUP)
    tender_panel = models.BooleanField(_("sits on the tender panel"), default=False)
    joined_at = models.DateTimeField()
    joined_stage = models.CharField(max_length=40)
    left_at = models.DateTimeField(null=True, blank=True)
    left_reason = models.TextField(blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "member"],
                condition=Q(left_at__isnull=True),
                name="one_active_membership",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on cycle {self.cycle_id}"


class WorkingAgreement(models.Model):
    """The terms the panel works on (seed 004 L58-68, L214), versioned per cycle."""

    cycle = models.ForeignKey(
        "cycle.CommissioningCycle", on_delete=models.CASCADE, related_name="working_agreements"
    )
    version = models.PositiveIntegerField()
    task = models.TextField(_("the panel's task"))
    responsibilities = models.TextField(_("responsibilities"))
    support = models.TextField(_("support offered"))
    expenses = models.TextField(_("expenses"), default=_("Expenses paid on the day."))
    ground_rules = models.TextField(
        _("ground rules"),
        default=_(
            "Respect; listening; prompt reimbursement; attendance; confidentiality; "
            "equal opportunities; how to complain."
        ),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["cycle", "version"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "version"], name="agreement_version_unique")
        ]

    def __str__(self) -> str:
        return f"working agreement v{self.version}"


class AgreementSignature(models.Model):
    agreement = models.ForeignKey(
        WorkingAgreement, on_delete=models.CASCADE, related_name="signatures"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agreement", "member"], name="sign_once")]

    def __str__(self) -> str:
        return f"{self.member_id} signed {self.agreement}"


class ConflictDeclaration(models.Model):
    """A declaration of interests by a panel or tender-panel member; 'none' is a declaration."""

    class Interest(models.TextChoices):
        NONE = "none", _("No interests to declare")
        USES_SERVICE = "uses-service", _("Uses a service being commissioned")
        EMPLOYMENT = "employment", _("Employed by or paid by a provider")
        BIDDER_LINK = "bidder-link", _("Link to a bidder")
        PLANS_TO_BID = "plans-to-bid", _("Plans to bid")
        OTHER = "other", _("Other")

    cycle = models.ForeignKey(
        "cycle.CommissioningCycle", on_delete=models.CASCADE, related_name="conflict_declarations"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    interest = models.CharField(max_length=20, choices=Interest.choices)
    details = models.TextField(blank=True, help_text=_("Which service, provider or bidder."))
    declared_at = models.DateTimeField()

    class Meta:
        ordering = ["declared_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interest="none") | ~Q(details=""), name="interest_needs_details"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.interest}"


class GovernanceBoard(models.Model):
    """A board that audits the cycles of the organisations it oversees."""

    name = models.CharField(max_length=200, unique=True)
    organisations = models.ManyToManyField("cycle.Organisation", related_name="governance_boards")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="governance_boards")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A token a script presents to the API as ``Authorization: Bearer <token>``.

    Only the SHA-256 of the token is stored (tokens are long and random, so a plain hash is
    enough); the token itself is shown once, when it is created. Created and revoked only through
    ``roles.api_tokens``, each on the ledger.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("what the token is for"), max_length=100)
    prefix = models.CharField(
        max_length=12, help_text=_("The first characters of the token, to tell tokens apart.")
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
