"""The commissioning domain: organisations, cycles, stage visits and the three gate records.

Gate records are append-only versions: a new role boundary agreement or budget disclosure is a new
row with the next version number, and a sign-off names the exact versions it attests to. A sign-off
given against an old version therefore stops counting by construction (``cycle.gates``). Writes go
through ``cycle.services``; nothing here has behaviour in ``save()``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .workdays import Region


class Organisation(models.Model):
    """A commissioning body (a CCG, ICB, council or trust).

    Its bank-holiday calendar decides which days count as working days (``cycle.workdays``), and
    its reminder settings when a pending sign-off or acknowledgement reminds the member, then
    escalates to the involvement lead, then to the governance board (``cycle.reminders``).
    """

    class BankHolidays(models.TextChoices):
        ENGLAND_AND_WALES = Region.ENGLAND_AND_WALES.value, _("England and Wales")
        SCOTLAND = Region.SCOTLAND.value, _("Scotland")
        NORTHERN_IRELAND = Region.NORTHERN_IRELAND.value, _("Northern Ireland")

    name = models.CharField(_("name"), max_length=200, unique=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="organisations",
        blank=True,
        help_text=_("Commissioners and decision-makers who work for this organisation."),
    )
    bank_holidays = models.CharField(
        _("bank holidays"),
        max_length=20,
        choices=BankHolidays.choices,
        default=BankHolidays.ENGLAND_AND_WALES,
        help_text=_("Whose bank holidays are not working days."),
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("remind the member after (working days)"), default=3
    )
    escalate_to_lead_days = models.PositiveSmallIntegerField(
        _("tell the involvement lead after (working days)"), default=5
    )
    escalate_to_board_days = models.PositiveSmallIntegerField(
        _("tell the governance board after (working days)"), default=10
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reminder_days__gte=1)
                & Q(escalate_to_lead_days__gt=F("reminder_days"))
                & Q(escalate_to_board_days__gt=F("escalate_to_lead_days")),
                name="reminders_before_escalations",
                violation_error_message=_(
                    "Remind the member after at least 1 working day, tell the involvement lead "
                    "later than that, and tell the governance board later still."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CycleQuerySet(models.QuerySet["CommissioningCycle"]):
    def active(self) -> CycleQuerySet:
        return self.filter(status=CommissioningCycle.Status.ACTIVE)


class CommissioningCycle(models.Model):
    """One programme of commissioning moving through the stages of a template."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")

    title = models.CharField(_("title"), max_length=200)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cycles")
    service_area = models.CharField(_("service area"), max_length=200, blank=True)
    lead_commissioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_cycles"
    )
    involvement_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="involvement_led_cycles",
        null=True,
        blank=True,
    )
    template_key = models.CharField(_("stage template"), max_length=40, default="default")
    followed_by_process = models.BooleanField(
        default=False,
        help_text=_("A workflow process follows this cycle; the services move both together."),
    )
    current_stage = models.CharField(_("current stage"), max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CycleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("lead_cycle", "Lead a commissioning cycle: record gate evidence and advance stages"),
            ("represent_on_cycle", "Sit on a cycle's panel as a user representative"),
            ("override_gate", "Override an involvement gate with written reasons"),
            ("audit_cycle", "Audit a cycle's gate records and ledger"),
            ("record_decision", "Record a decision as the decision-maker"),
        ]

    def __str__(self) -> str:
        return self.title


class StageVisit(models.Model):
    """One stay of a cycle in one stage: opened, then closed by advance, override or reopening."""

    class Closure(models.TextChoices):
        PASSED = "passed", _("Gate passed")
        OVERRIDDEN = "overridden", _("Gate overridden")
        REOPENED = "reopened", _("Left to reopen an earlier stage")

    cycle = models.ForeignKey(CommissioningCycle, on_delete=models.CASCADE, related_name="visits")
    stage_key = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_reason = models.TextField(blank=True, help_text=_("Why a stage was reopened."))
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    closure = models.CharField(max_length=20, choices=Closure.choices, blank=True)
    attesting = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "How many members' attestations counted when the stage was left through its gate."
        ),
    )
    quorum_signoff = models.ForeignKey(
        "SignOff",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
        help_text=_("The attestation that completed the quorum, when the gate was passed."),
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle"],
                condition=Q(closed_at__isnull=True),
                name="one_open_visit_per_cycle",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}:{self.stage_key}#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RoleBoundaryAgreement(models.Model):
    """What users and commissioners agreed about involvement in one stage (a version)."""

    class Influence(models.TextChoices):
        INFORM = "inform", _("Inform")
        CONSULT = "consult", _("Consult")
        INFLUENCE = "influence", _("Influence")
        CO_DECIDE = "co-decide", _("Co-decide")

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="boundary_agreements"
    )
    stage_key = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    purpose = models.TextField(_("purpose of involvement"))
    user_role = models.TextField(_("the users' role"))
    influence = models.CharField(_("level of influence"), max_length=20, choices=Influence.choices)
    decision_maker = models.TextField(_("who actually decides"))
    commissioner_authority = models.TextField(_("the commissioner's real authority"), blank=True)
    fixed_matters = models.TextField(_("what is fixed"), blank=True)
    open_matters = models.TextField(_("what can still change"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    unchanged_from_previous = models.BooleanField(
        default=False,
        help_text=_("This version agrees the same terms as the stage's version before it."),
    )

    TERMS = (
        "purpose",
        "user_role",
        "influence",
        "decision_maker",
        "commissioner_authority",
        "fixed_matters",
        "open_matters",
    )
    """The agreed terms, in the order pages and messages show them; a version that changes none
    of them is unchanged from the one before."""

    class Meta:
        ordering = ["cycle", "stage_key", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "stage_key", "version"], name="boundary_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage_key} boundaries v{self.version}"


class BoundaryAcknowledgement(models.Model):
    """A panel member's acknowledgement of one version of a stage's role boundaries."""

    agreement = models.ForeignKey(
        RoleBoundaryAgreement, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "member"], name="acknowledge_once")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} acknowledged {self.agreement}"


class BudgetDisclosure(models.Model):
    """A version of what the panel has been told about the budget: a figure, or why not."""

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="budget_disclosures"
    )
    version = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="GBP")
    constraints = models.TextField(_("constraints on the budget"), blank=True)
    withheld_reason = models.TextField(_("why the amount cannot be given"), blank=True)
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    disclosed_at = models.DateTimeField()
    signoffs_voided = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "Attestations of the open stage, given against the version before, that this "
            "version voided."
        ),
    )

    class Meta:
        ordering = ["cycle", "version"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "version"], name="budget_version_unique"),
            models.CheckConstraint(
                condition=(Q(amount__isnull=False) & Q(withheld_reason=""))
                | (Q(amount__isnull=True) & ~Q(withheld_reason="")),
                name="budget_amount_xor_withheld_reason",
            ),
        ]

    def __str__(self) -> str:
        if self.amount is None:
            return f"budget v{self.version}: withheld"
        return f"budget v{self.version}: {self.currency} {self.amount:,.2f}"


class SignOff(models.Model):
    """A representative's attestation that involvement happened as agreed, or their dissent.

    An attestation is not approval of any decision. It names the exact boundary and budget
    versions it attests to, so it stops counting when either changes.
    """

    class Kind(models.TextChoices):
        ATTEST = "attest", _("Attestation")
        DISSENT = "dissent", _("Dissent")

    visit = models.ForeignKey(StageVisit, on_delete=models.CASCADE, related_name="signoffs")
    cycle = models.ForeignKey(CommissioningCycle, on_delete=models.CASCADE, related_name="signoffs")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    boundary = models.ForeignKey(
        RoleBoundaryAgreement, on_delete=models.PROTECT, null=True, related_name="+"
    )
    budget = models.ForeignKey(
        BudgetDisclosure, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reasons = models.TextField(blank=True)
    recorded_at = models.DateTimeField()
    superseded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the member recorded a newer position or withdrew this one."),
    )
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "member"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_signoff_per_member",
            ),
            models.CheckConstraint(
                condition=Q(kind="attest") | ~Q(reasons=""), name="dissent_needs_reasons"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.member_id} on {self.visit}"


class GateOverride(models.Model):
    """A governance board member's recorded departure from a gate, with reasons. Never hidden."""

    visit = models.ForeignKey(StageVisit, on_delete=models.CASCADE, related_name="overrides")
    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="overrides"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    unmet_codes = models.CharField(
        max_length=400, help_text=_("The conditions that were unmet when the override was made.")
    )
    boundary_version = models.PositiveIntegerField(null=True)
    budget_version = models.PositiveIntegerField(null=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"override of {self.visit} by {self.by_id}"


class GateOverrideDeparture(models.Model):
    """One condition an override departs from, for one member it was unmet for at the time.

    The gate stays closed for any unmet condition, or any member, the override did not name
    (``cycle.gates.override_covers``).
    """

    override = models.ForeignKey(GateOverride, on_delete=models.CASCADE, related_name="departures")
    code = models.CharField(max_length=60)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["override", "code", "member"]
        constraints = [
            models.UniqueConstraint(fields=["override", "code", "member"], name="departure_once")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.member_id}) in {self.override}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise LedgerImmutableError("the audit ledger is append-only: rows cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError("the audit ledger is append-only: rows cannot be deleted")


class LedgerImmutableError(Exception):
    """Raised on any attempt to change or remove a ledger row."""


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained ledger. Written only by ``cycle.ledger``.

    ``hash`` is the SHA-256 of the canonical form of the entry, which includes ``prev_hash`` (the
    previous entry of the whole ledger) and ``cycle_prev_hash`` (the previous entry of the same
    cycle), so both the whole ledger and one cycle's events can be verified on their own.
    """

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.DONE)
    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.PROTECT, null=True, related_name="audit_events"
    )
    stage_key = models.CharField(max_length=40, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    payload = models.TextField(help_text=_("Canonical JSON: sorted keys, no spaces."))
    prev_hash = models.CharField(max_length=64)
    cycle_prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["cycle", "seq"], name="audit_cycle_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise LedgerImmutableError(f"ledger event #{self.seq} cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError(f"ledger event #{self.seq} cannot be deleted")


class LedgerHead(models.Model):
    """The single row that serialises ledger appends: the last sequence number and hash."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"ledger head #{self.seq}"


class Decision(models.Model):
    """A decision recorded by the decision-maker, kept apart from users' sign-off.

    Users inform and influence; they are never shown as having made a decision (003:L174).
    """

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="decisions"
    )
    visit = models.ForeignKey(StageVisit, on_delete=models.PROTECT, related_name="decisions")
    stage_key = models.CharField(max_length=40)
    summary = models.TextField(_("what was decided"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    forum = models.CharField(_("where it was decided"), max_length=200, blank=True)
    decided_at = models.DateTimeField()
    veto_used = models.BooleanField(default=False)
    veto_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(veto_used=False) | ~Q(veto_reason=""), name="veto_needs_reason"
            )
        ]

    def __str__(self) -> str:
        return f"decision on {self.stage_key}: {self.summary[:40]}"


# The influence register: "you said, we did" (001:L649-654, 000:L995, 002:L84).


class UserInputQuerySet(models.QuerySet["UserInput"]):
    def unanswered(self) -> UserInputQuerySet:
        """Input with no answer yet; "still considering" is not an answer."""
        return self.exclude(status__in=UserInput.ANSWERED)


class UserInput(models.Model):
    """What a representative, or the panel as a whole, told the commissioners in one stage visit.

    Each input waits for the lead commissioner's response (:class:`InputResponse`). ``status``
    holds the kind of the current response, and ``answered_at`` when it was given, as real columns
    so that gates, governance boards and reports can query them; every response is kept.
    """

    class Source(models.TextChoices):
        REPRESENTATIVE = "representative", _("A representative")
        PANEL = "panel", _("The panel as a whole")

    class Method(models.TextChoices):
        MEETING = "meeting", _("Panel meeting")
        WRITTEN = "written", _("Written comments")
        WORKSHOP = "workshop", _("Workshop or event")
        SURVEY = "survey", _("Survey or questionnaire")
        VISIT = "visit", _("Visit to a service")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting a response")
        CONSIDERING = "considering", _("Still considering")
        WE_DID = "we-did", _("We did")
        WE_COULD_NOT = "we-could-not", _("We couldn't, because …")

    ANSWERED = (Status.WE_DID, Status.WE_COULD_NOT)

    cycle = models.ForeignKey(CommissioningCycle, on_delete=models.CASCADE, related_name="inputs")
    visit = models.ForeignKey(StageVisit, on_delete=models.PROTECT, related_name="inputs")
    stage_key = models.CharField(max_length=40)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(
        _("on whose behalf"), max_length=20, choices=Source.choices, default=Source.REPRESENTATIVE
    )
    method = models.CharField(
        _("how it was given"), max_length=20, choices=Method.choices, default=Method.MEETING
    )
    text = models.TextField(_("what they said"))
    attachment_reference = models.CharField(
        _("attachment reference"),
        max_length=500,
        blank=True,
        help_text=_("A document reference or link; the document itself is kept elsewhere."),
    )
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING)
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the current answer was given; empty until then.")
    )
    overdue_flagged_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the input was flagged as waiting too long for an answer."),
    )

    objects = UserInputQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "id"]
        indexes = [
            models.Index(fields=["cycle", "status"], name="input_cycle_status"),
            models.Index(fields=["status", "submitted_at"], name="input_status_submitted"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status__in=["we-did", "we-could-not"]) & Q(answered_at__isnull=False))
                | (Q(status__in=["awaiting", "considering"]) & Q(answered_at__isnull=True)),
                name="input_answered_at_matches_status",
            )
        ]

    def __str__(self) -> str:
        return f"input #{self.pk} on {self.stage_key}: {self.text[:40]}"

    @property
    def is_answered(self) -> bool:
        return self.status in self.ANSWERED


class InputResponse(models.Model):
    """The lead commissioner's response to one input: what was done, why not, or still open.

    A newer response supersedes the current one (``superseded_at``) and never erases it. The
    response is also the feedback given to the people who gave the input.
    """

    class Kind(models.TextChoices):
        WE_DID = "we-did", _("We did")
        WE_COULD_NOT = "we-could-not", _("We couldn't, because …")
        CONSIDERING = "considering", _("Still considering")

    user_input = models.ForeignKey(UserInput, on_delete=models.CASCADE, related_name="responses")
    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="input_responses"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField(
        _("what was done, or why not"),
        blank=True,
        help_text=_("Required unless still considering."),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="input_responses",
        help_text=_("The decision the input touched."),
    )
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["responded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user_input"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_response_per_input",
            ),
            models.CheckConstraint(
                condition=Q(kind="considering") | ~Q(text=""), name="answer_needs_text"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to input #{self.user_input_id}"


# Telling people: notifications and their outbox (``cycle.notifications``, ``cycle.outbox``).


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def undelivered(self) -> NotificationQuerySet:
        """Waiting in the outbox: not delivered yet and not given up on."""
        return self.filter(delivered_at__isnull=True, failed_at__isnull=True)


class Notification(models.Model):
    """Something a person is told, in the app and, if they chose it, by e-mail.

    Services write it in the same transaction as the change it tells of (the outbox): when the
    change is committed, so is the notification, whatever the broker is doing. Every notification
    is shown in the app; one whose channel is e-mail waits in the outbox until ``delivered_at`` is
    set by ``cycle.outbox.deliver``. ``idempotency_key`` names the change and the recipient, so the
    same thing is never told twice to the same person.
    """

    class Kind(models.TextChoices):
        SIGNOFF_REQUESTED = "signoff.requested", _("Sign-off asked for")
        BUDGET_CHANGED = "budget.changed", _("Budget changed")
        BOUNDARIES_CHANGED = "boundaries.changed", _("Role boundaries changed")
        INPUT_ANSWERED = "input.answered", _("Input answered")
        INPUT_OVERDUE = "input.overdue", _("Input waiting too long for an answer")
        DISSENT_RECORDED = "dissent.recorded", _("Dissent recorded")
        GATE_OVERRIDDEN = "gate.overridden", _("Gate overridden")
        MEMBER_JOINED = "panel.joined", _("Member joined the panel")
        MEMBER_LEFT = "panel.left", _("Member left the panel")
        STAGE_REOPENED = "stage.reopened", _("Stage reopened")
        PRESSURE_RECORDED = "pressure.recorded", _("External pressure recorded")
        REMINDER = "reminder", _("Reminder")
        ESCALATION = "escalation", _("Escalation")
        PAPERS_ISSUED = "papers.issued", _("Decision papers issued")
        MEETING_SOON = "meeting.soon", _("Decision meeting soon")
        MEETING_CHANGED = "meeting.changed", _("Decision meeting changed")
        DELIVERY_FAILED = "delivery.failed", _("A notification could not be delivered")
        LEDGER_UNVERIFIED = "ledger.unverified", _("The ledger did not verify")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail and in the app")
        IN_APP = "in-app", _("In the app only")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    cycle = models.ForeignKey(
        CommissioningCycle,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("what changed"))
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When it was sent by e-mail (or shown, if in-app).")
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        help_text=_("Not tried again before this (backoff after a failure).")
    )
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When delivery was given up after too many failures.")
    )
    idempotency_key = models.CharField(max_length=120, unique=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
                name="notification_outbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.subject}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How a person wants to be told: by e-mail as well as in the app, or in the app only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    channel = models.CharField(
        max_length=10, choices=Notification.Channel.choices, default=Notification.Channel.EMAIL
    )
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.channel}"


class Reminder(models.Model):
    """A reminder or escalation sent about something left waiting: once per thing and level.

    ``subject_key`` names what was waiting (a version of the role boundaries to acknowledge, a
    stage's sign-off against given versions, an input, a meeting) and ``waiting_on`` who must act
    (the member; for input, the lead commissioner). Each row has its ledger event
    (``cycle.reminders``).
    """

    class About(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledging the role boundaries")
        SIGNOFF = "signoff", _("Signing off the stage")
        INPUT = "input", _("Answering input")
        MEETING = "meeting", _("A decision meeting coming up")

    class Level(models.TextChoices):
        REMINDER = "reminder", _("Reminded")
        LEAD = "lead", _("Escalated to the involvement lead")
        BOARD = "board", _("Escalated to the governance board")

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="reminders"
    )
    about = models.CharField(max_length=20, choices=About.choices)
    subject_key = models.CharField(max_length=80)
    waiting_on = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    waiting_since = models.DateTimeField()
    working_days = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["about", "subject_key", "waiting_on", "level"], name="remind_once_per_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} about {self.about} {self.subject_key} for {self.waiting_on_id}"


class DecisionMeeting(models.Model):
    """A meeting where the decision-maker decides, and when its papers went to the panel.

    Papers that reach the panel less than seven days before the meeting leave people no time to
    prepare (seed 001 L705): the decision stage's gate flags it (``papers.late``), and a
    governance board member may accept it with reasons.
    """

    cycle = models.ForeignKey(
        CommissioningCycle, on_delete=models.CASCADE, related_name="decision_meetings"
    )
    visit = models.ForeignKey(StageVisit, on_delete=models.PROTECT, related_name="meetings")
    stage_key = models.CharField(max_length=40)
    held_on = models.DateField(_("date of the meeting"))
    forum = models.CharField(_("where it is decided"), max_length=200)
    decision_maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    papers_issued_on = models.DateField(
        _("date the papers went to the panel"), null=True, blank=True
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scheduled_at = models.DateTimeField()

    class Meta:
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"{self.forum} on {self.held_on}"


# The duty to involve (``cycle.duty_models``), registered with the app here.
from .duty_models import Consultation as Consultation  # noqa: E402
from .duty_models import ConsultationConsideration as ConsultationConsideration  # noqa: E402
from .duty_models import CoverageGroup as CoverageGroup  # noqa: E402
from .duty_models import CoverageGroupMember as CoverageGroupMember  # noqa: E402
from .duty_models import CoverageGroupResponses as CoverageGroupResponses  # noqa: E402
from .duty_models import DutyAssessment as DutyAssessment  # noqa: E402
from .duty_models import ExternalPressure as ExternalPressure  # noqa: E402
from .duty_models import ExternalPressureStage as ExternalPressureStage  # noqa: E402
from .duty_models import ProposalChange as ProposalChange  # noqa: E402
from .duty_models import SelfAssessment as SelfAssessment  # noqa: E402
from .duty_models import SelfAssessmentEvidence as SelfAssessmentEvidence  # noqa: E402
from .duty_models import SelfAssessmentScore as SelfAssessmentScore  # noqa: E402
