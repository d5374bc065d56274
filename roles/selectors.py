"""Reads about who takes part in a cycle, each in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from cycle.models import CommissioningCycle

from .models import ConflictDeclaration, PanelMembership


@dataclass(frozen=True)
class DeclaredInterest:
    """One interest a tender-panel member declared (never 'none')."""

    interest: str
    details: str


def panel(cycle: CommissioningCycle, *, include_former: bool = False) -> list[PanelMembership]:
    """The cycle's panel, oldest member first; with ``include_former``, its whole history."""
    memberships = PanelMembership.objects.filter(cycle=cycle).select_related("member")
    if not include_former:
        memberships = memberships.active()
    return list(memberships.order_by("joined_at", "id"))


def scoring_recusals(cycle: CommissioningCycle) -> dict[int, tuple[DeclaredInterest, ...]]:
    """The interests each active tender-panel member has declared, by member id.

    Tender scoring reads this to recuse members from scoring a service they use or a bidder they
    are linked to (seed 004 L517: users did not score the services they used, though they could
    give their views). Every interest ever declared on the cycle counts, whatever was declared
    after it; members who declared only 'none' are left out.
    """
    tender_panel = PanelMembership.objects.active().filter(cycle=cycle, tender_panel=True)
    interests: defaultdict[int, list[DeclaredInterest]] = defaultdict(list)
    for member_id, interest, details in (
        ConflictDeclaration.objects.filter(
            cycle=cycle, member_id__in=tender_panel.values("member_id")
        )
        .exclude(interest=ConflictDeclaration.Interest.NONE)
        .order_by("declared_at", "id")
        .values_list("member_id", "interest", "details")
    ):
        interests[member_id].append(DeclaredInterest(interest=interest, details=details))
    return {member_id: tuple(items) for member_id, items in interests.items()}
