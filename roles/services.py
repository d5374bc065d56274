"""Changes to who takes part in a cycle and on what terms. Every write is one service.

Joining and leaving the panel grant and revoke the guardian object permission that lets a member
act on the cycle. Leaving ends the member's part in quorum at once, by construction: the gate counts
only active members, and only the sign-offs they gave since they (last) joined
(``cycle.selectors.gate_snapshot``).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cycle import input_rules, ledger, notifications, records, workflow
from cycle.actions import LedgerAction
from cycle.errors import Conflict, InvalidRequest
from cycle.i18n import gettext_lazy as _
from cycle.models import CommissioningCycle, SignOff
from cycle.service_support import lock_cycle, not_on_panel, require_on_panel, service

from .models import AgreementSignature, ConflictDeclaration, PanelMembership, WorkingAgreement
from .permissions import REPRESENT_PERM, Action, panel_bar, require


def _active_membership(cycle: CommissioningCycle, member: Any) -> PanelMembership | None:
    if not getattr(member, "is_authenticated", False):
        return None  # someone signed out is on no panel
    return PanelMembership.objects.active().filter(cycle=cycle, member=member).first()


@service(LedgerAction.PANEL_JOINED)
def membership_add(
    *,
    actor: Any,
    cycle_id: int,
    member: Any,
    represents: str = "",
    tier: str = PanelMembership.Tier.REFERENCE_GROUP,
    tender_panel: bool = False,
) -> PanelMembership:
    """Add a user representative to the cycle's panel from now on.

    A member who joins part-way through a stage counts towards its quorum at once, so the gate
    stays closed until they have acknowledged the stage's current role boundaries.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Action.MANAGE_PANEL, cycle)
    if not member.has_perm(REPRESENT_PERM):
        raise InvalidRequest(
            _(
                "%(name)s does not hold the user representative role.",
                name=member.get_username(),
            ),
            code="invalid.not_representative",
        )
    bar = panel_bar(member, cycle)
    if bar is not None:
        raise bar
    if tier not in PanelMembership.Tier.values:
        raise InvalidRequest(
            _(
                "Tier must be one of %(choices)s.",
                choices=", ".join(PanelMembership.Tier.values),
            ),
            code="invalid.tier",
        )
    if _active_membership(cycle, member) is not None:
        raise Conflict(
            _(
                "%(name)s is already on the panel.",
                name=member.get_username(),
            ),
            code="panel.already_member",
        )
    membership = PanelMembership.objects.create(
        **records.membership_row(
            cycle=cycle,
            member=member,
            represents=input_rules.text(
                represents, "represents", limit=input_rules.SHORT_TEXT, required=False
            ),
            tier=tier,
            tender_panel=tender_panel,
            stage_key=cycle.current_stage,
            at=timezone.now(),
        )
    )
    assign_perm(REPRESENT_PERM, member, cycle)
    ledger.append(
        actor=actor,
        action=LedgerAction.PANEL_JOINED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=membership,
        payload=records.panel_joined(
            member=member.get_username(),
            represents=membership.represents,
            tier=tier,
            tender_panel=tender_panel,
        ),
    )
    notifications.member_joined(cycle=cycle, membership=membership)
    # A member who joins mid-stage is asked for their sign-off at once.
    asked = workflow.following(cycle).panel_changed(cycle=cycle, ask=[member.pk])
    if asked:
        notifications.signoff_requested(cycle=cycle, member_ids=asked)
    return membership


def _has_open_dissent(cycle: CommissioningCycle, member: Any) -> bool:
    return SignOff.objects.filter(
        cycle=cycle,
        member=member,
        visit__closed_at__isnull=True,
        kind=SignOff.Kind.DISSENT,
        superseded_at__isnull=True,
    ).exists()


def _end_membership(
    *, actor: Any, cycle: CommissioningCycle, membership: PanelMembership, reason: str
) -> PanelMembership:
    member = membership.member
    open_dissent = _has_open_dissent(cycle, member)
    membership.left_at = timezone.now()
    membership.left_reason = input_rules.text(reason, "reason for leaving", required=False)
    membership.save(update_fields=["left_at", "left_reason"])
    remove_perm(REPRESENT_PERM, member, cycle)
    ledger.append(
        actor=actor,
        action=LedgerAction.PANEL_LEFT,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=membership,
        payload=records.panel_left(
            member=member.get_username(),
            reason=membership.left_reason,
            stepped_down=actor.pk == member.pk,
            had_open_dissent=open_dissent,
        ),
    )
    notifications.member_left(cycle=cycle, membership=membership)
    workflow.following(cycle).panel_changed(cycle=cycle, ask=[])
    return membership


@service(LedgerAction.PANEL_LEFT)
def membership_remove(
    *, actor: Any, cycle_id: int, member: Any, reason: str = ""
) -> PanelMembership:
    """End someone's place on the panel. Their sign-offs stop counting for open stages.

    A member with an open dissent on the current stage cannot be removed by someone else: the
    dissent must be withdrawn, or the gate overridden, first. Members may always step down
    themselves (:func:`membership_leave`).
    """
    cycle = lock_cycle(cycle_id)
    if actor.pk != member.pk:
        require(actor, Action.MANAGE_PANEL, cycle)
    membership = _active_membership(cycle, member)
    if membership is None:
        raise Conflict(
            _(
                "%(name)s is not on the panel.",
                name=member.get_username(),
            ),
            code="panel.not_member",
        )
    if actor.pk != member.pk and _has_open_dissent(cycle, member):
        raise Conflict(
            _(
                "%(name)s has recorded dissent on this stage. Removing them would silence it: "
                "the dissent must be withdrawn by them, or the gate overridden by a governance "
                "board member, first.",
                name=member.get_username(),
            ),
            code="panel.dissent_open",
        )
    return _end_membership(actor=actor, cycle=cycle, membership=membership, reason=reason)


@service(LedgerAction.PANEL_LEFT)
def membership_leave(*, actor: Any, cycle_id: int, reason: str = "") -> PanelMembership:
    """A member steps down from the panel. Their sign-offs stop counting for open stages."""
    cycle = lock_cycle(cycle_id)
    membership = _active_membership(cycle, actor)
    if membership is None:
        raise not_on_panel()
    return _end_membership(actor=actor, cycle=cycle, membership=membership, reason=reason)


@service(LedgerAction.TENDER_PANEL_JOINED, LedgerAction.TENDER_PANEL_LEFT)
def membership_set_tender_panel(
    *, actor: Any, cycle_id: int, member: Any, tender_panel: bool
) -> PanelMembership:
    """Put an active panel member on the tender panel, or take them off it.

    A member put on the tender panel must declare their interests before procurement starts.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Action.MANAGE_PANEL, cycle)
    membership = _active_membership(cycle, member)
    if membership is None:
        raise Conflict(
            _(
                "%(name)s is not on the panel.",
                name=member.get_username(),
            ),
            code="panel.not_member",
        )
    if membership.tender_panel == tender_panel:
        return membership
    if tender_panel and _plans_to_bid(cycle, member):
        raise Conflict(
            _(
                "%(name)s has declared that they plan to bid, so cannot sit on the tender panel.",
                name=member.get_username(),
            ),
            code="panel.plans_to_bid",
        )
    membership.tender_panel = tender_panel
    membership.save(update_fields=["tender_panel"])
    ledger.append(
        actor=actor,
        action=LedgerAction.TENDER_PANEL_JOINED if tender_panel else LedgerAction.TENDER_PANEL_LEFT,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=membership,
        payload=records.tender_panel_changed(
            member=member.get_username(), tender_panel=tender_panel
        ),
    )
    return membership


@service(LedgerAction.AGREEMENT_RECORDED)
def agreement_record(
    *,
    actor: Any,
    cycle_id: int,
    task: str,
    responsibilities: str,
    support: str,
    expenses: str = "",
    ground_rules: str = "",
) -> WorkingAgreement:
    """Record a new version of the panel's working agreement; every member signs it again.

    Expenses and ground rules default to seed 004's: expenses paid on the day; respect,
    listening, prompt reimbursement, attendance, confidentiality, equal opportunities, complaints.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Action.MANAGE_PANEL, cycle)
    fields = {"task": task, "responsibilities": responsibilities, "support": support}
    for name, value in fields.items():
        if not (value or "").strip():
            raise InvalidRequest(
                _(
                    "The working agreement needs its %(name)s.",
                    name=name,
                ),
                code=f"invalid.{name}",
            )
        fields[name] = input_rules.text(value, name.replace("_", " "))
    previous = WorkingAgreement.objects.filter(cycle=cycle).order_by("-version").first()
    extra = {
        k: input_rules.text(v, k.replace("_", " "))
        for k, v in {"expenses": expenses, "ground_rules": ground_rules}.items()
        if (v or "").strip()
    }
    agreement = WorkingAgreement.objects.create(
        **records.working_agreement_row(
            cycle=cycle,
            previous=previous,
            **fields,
            **extra,
            recorded_by=actor,
            at=timezone.now(),
        )
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.AGREEMENT_RECORDED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=agreement,
        payload=records.agreement_recorded(
            version=agreement.version,
            task=agreement.task,
            responsibilities=agreement.responsibilities,
            support=agreement.support,
            expenses=agreement.expenses,
            ground_rules=agreement.ground_rules,
        ),
    )
    return agreement


@service(LedgerAction.AGREEMENT_SIGNED)
def agreement_sign(*, actor: Any, cycle_id: int) -> AgreementSignature:
    """A panel member signs the current working agreement, for themselves only."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    require_on_panel(cycle, actor)
    agreement = WorkingAgreement.objects.filter(cycle=cycle).order_by("-version").first()
    if agreement is None:
        raise Conflict(
            _(
                "There is no working agreement to sign yet.",
            ),
            code="agreement.missing",
        )
    signature, created = AgreementSignature.objects.get_or_create(
        agreement=agreement, member=actor, defaults={"signed_at": timezone.now()}
    )
    if created:
        ledger.append(
            actor=actor,
            action=LedgerAction.AGREEMENT_SIGNED,
            cycle=cycle,
            stage_key=cycle.current_stage,
            obj=signature,
            payload=records.agreement_signed(version=agreement.version),
        )
    return signature


def _plans_to_bid(cycle: CommissioningCycle, member: Any) -> bool:
    return ConflictDeclaration.objects.filter(
        cycle=cycle, member=member, interest=ConflictDeclaration.Interest.PLANS_TO_BID
    ).exists()


@service(LedgerAction.CONFLICT_DECLARED)
def conflict_declare(
    *, actor: Any, cycle_id: int, interest: str, details: str = ""
) -> ConflictDeclaration:
    """A panel member declares their interests, for themselves only ('none' is a declaration).

    Declarations add up: a later 'none' does not cancel an interest declared earlier, so tender
    scoring keeps every declared interest in view (``roles.selectors.scoring_recusals``). A
    member who plans to bid is taken off the tender panel at once: a bidder does not evaluate bids.
    """
    cycle = lock_cycle(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    require_on_panel(cycle, actor)
    if interest not in ConflictDeclaration.Interest.values:
        raise InvalidRequest(
            _(
                "Interest must be one of %(choices)s.",
                choices=", ".join(ConflictDeclaration.Interest.values),
            ),
            code="invalid.interest",
        )
    details = input_rules.text(details, "details", required=False)
    if interest != ConflictDeclaration.Interest.NONE and not details:
        raise InvalidRequest(
            _(
                "Say which service, provider or bidder the interest concerns.",
            ),
            code="invalid.details",
        )
    declaration = ConflictDeclaration.objects.create(
        **records.conflict_declaration_row(
            cycle=cycle, member=actor, interest=interest, details=details, at=timezone.now()
        )
    )
    off_tender_panel = False
    if interest == ConflictDeclaration.Interest.PLANS_TO_BID:
        off_tender_panel = (
            PanelMembership.objects.active()
            .filter(cycle=cycle, member=actor, tender_panel=True)
            .update(tender_panel=False)
            > 0
        )
    ledger.append(
        actor=actor,
        action=LedgerAction.CONFLICT_DECLARED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=declaration,
        payload=records.conflict_declared(
            interest=interest, details=details, left_tender_panel=off_tender_panel
        ),
    )
    return declaration
