"""Changes to who takes part in a cycle and on what terms. Every write is one service.

Joining and leaving the panel grant and revoke the guardian object permission that lets a member
act on the cycle; leaving ends the member's part in quorum at once, by construction.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cycle import ledger, selectors
from cycle.errors import Conflict, Forbidden, InvalidRequest
from cycle.models import CommissioningCycle
from cycle.service_support import lock_cycle, service

from .models import AgreementSignature, ConflictDeclaration, PanelMembership, WorkingAgreement
from .permissions import REPRESENT_PERM, Action, require


def _not_decision_side(cycle: CommissioningCycle, member: Any) -> None:
    if (
        member.pk in (cycle.lead_commissioner_id,)
        or cycle.organisation.staff.filter(pk=member.pk).exists()
    ):
        raise Forbidden(
            f"{member.get_username()} works for the commissioning organisation and cannot sit on "
            "the user panel of its cycle.",
            code="forbidden.commissioner_on_panel",
        )


@service
def membership_add(
    *,
    actor: Any,
    cycle_id: int,
    member: Any,
    represents: str = "",
    tier: str = PanelMembership.Tier.REFERENCE_GROUP,
    tender_panel: bool = False,
) -> PanelMembership:
    """Add a user representative to the cycle's panel from now on."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.MANAGE_PANEL, cycle)
    if not member.has_perm(REPRESENT_PERM):
        raise InvalidRequest(
            f"{member.get_username()} does not hold the user representative role.",
            code="invalid.not_representative",
        )
    _not_decision_side(cycle, member)
    if tier not in PanelMembership.Tier.values:
        raise InvalidRequest(
            f"Tier must be one of {', '.join(PanelMembership.Tier.values)}.", code="invalid.tier"
        )
    if PanelMembership.objects.active().filter(cycle=cycle, member=member).exists():
        raise Conflict(
            f"{member.get_username()} is already on the panel.", code="panel.already_member"
        )
    membership = PanelMembership.objects.create(
        cycle=cycle,
        member=member,
        represents=represents.strip(),
        tier=tier,
        tender_panel=tender_panel,
        joined_at=timezone.now(),
        joined_stage=cycle.current_stage,
    )
    assign_perm(REPRESENT_PERM, member, cycle)
    ledger.append(
        actor=actor,
        action="panel.joined",
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=membership,
        payload={
            "member": member.get_username(),
            "represents": membership.represents,
            "tier": tier,
            "tender_panel": tender_panel,
        },
    )
    return membership


@service
def membership_remove(
    *, actor: Any, cycle_id: int, member: Any, reason: str = ""
) -> PanelMembership:
    """End a member's place on the panel. Their sign-offs stop counting for open stages."""
    cycle = lock_cycle(cycle_id)
    if actor.pk != member.pk:  # a member may always step down themselves
        require(actor, Action.MANAGE_PANEL, cycle)
    membership = PanelMembership.objects.active().filter(cycle=cycle, member=member).first()
    if membership is None:
        raise Conflict(f"{member.get_username()} is not on the panel.", code="panel.not_member")
    membership.left_at = timezone.now()
    membership.left_reason = reason.strip()
    membership.save(update_fields=["left_at", "left_reason"])
    remove_perm(REPRESENT_PERM, member, cycle)
    ledger.append(
        actor=actor,
        action="panel.left",
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=membership,
        payload={"member": member.get_username(), "reason": membership.left_reason},
    )
    return membership


@service
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
    """Record a new version of the panel's working agreement; every member signs it again."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.MANAGE_PANEL, cycle)
    fields = {"task": task, "responsibilities": responsibilities, "support": support}
    for name, value in fields.items():
        if not value.strip():
            raise InvalidRequest(f"The working agreement needs its {name}.", code=f"invalid.{name}")
    previous = WorkingAgreement.objects.filter(cycle=cycle).order_by("-version").first()
    extra = {
        k: v.strip()
        for k, v in {"expenses": expenses, "ground_rules": ground_rules}.items()
        if v.strip()
    }
    agreement = WorkingAgreement.objects.create(
        cycle=cycle,
        version=(previous.version + 1) if previous else 1,
        recorded_by=actor,
        recorded_at=timezone.now(),
        **{k: v.strip() for k, v in fields.items()},
        **extra,
    )
    ledger.append(
        actor=actor,
        action="agreement.recorded",
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=agreement,
        payload={"version": agreement.version},
    )
    return agreement


@service
def agreement_sign(*, actor: Any, cycle_id: int) -> AgreementSignature:
    """A panel member signs the current working agreement."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    if actor.pk not in selectors.active_member_ids(cycle):
        raise Forbidden(
            "You are not an active member of this cycle's panel.", code="forbidden.not_on_panel"
        )
    agreement = WorkingAgreement.objects.filter(cycle=cycle).order_by("-version").first()
    if agreement is None:
        raise Conflict("There is no working agreement to sign yet.", code="agreement.missing")
    signature, created = AgreementSignature.objects.get_or_create(
        agreement=agreement, member=actor, defaults={"signed_at": timezone.now()}
    )
    if created:
        ledger.append(
            actor=actor,
            action="agreement.signed",
            cycle=cycle,
            stage_key=cycle.current_stage,
            obj=signature,
            payload={"version": agreement.version},
        )
    return signature


@service
def conflict_declare(
    *, actor: Any, cycle_id: int, interest: str, details: str = ""
) -> ConflictDeclaration:
    """A panel member declares their interests ('none' is a declaration)."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    if actor.pk not in selectors.active_member_ids(cycle):
        raise Forbidden(
            "You are not an active member of this cycle's panel.", code="forbidden.not_on_panel"
        )
    if interest not in ConflictDeclaration.Interest.values:
        raise InvalidRequest(
            f"Interest must be one of {', '.join(ConflictDeclaration.Interest.values)}.",
            code="invalid.interest",
        )
    details = details.strip()
    if interest != ConflictDeclaration.Interest.NONE and not details:
        raise InvalidRequest(
            "Say which service, provider or bidder the interest concerns.", code="invalid.details"
        )
    declaration = ConflictDeclaration.objects.create(
        cycle=cycle, member=actor, interest=interest, details=details, declared_at=timezone.now()
    )
    ledger.append(
        actor=actor,
        action="conflict.declared",
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=declaration,
        payload={"interest": interest, "details": details},
    )
    return declaration
