"""The notice of intention to award, generated from the records.

What it carries follows the regime's schedules for direct award C (Sch 3) and the competitive
and most suitable provider processes (Sch 10): a statement of the process, the contract's title
and reference, each provider's name and address, the services and their CPV code, the approximate
lifetime value, the decision-makers, the reasons with reference to the key criteria, the
conflicts of interest declared and how they were managed; and for the competitive process, whether
a framework is concluded. Nothing here is typed in for the notice: every line comes from a record,
so the notice cannot say what the records do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from roles.models import ConflictDeclaration, PanelMembership

from .models import AwardDecision, Bid, BidComment, BidInterest, Tender
from .routes import ROUTE_LABELS, Route

REQUIRED = (
    "process",
    "title",
    "reference",
    "providers",
    "services",
    "cpv_code",
    "lifetime_value",
    "decision_makers",
    "reasons",
    "conflicts",
)


@dataclass(frozen=True)
class DeclaredConflict:
    person: str
    role: str
    interest: str
    details: str
    managed: str


@dataclass(frozen=True)
class NoticeContents:
    process: str
    title: str
    reference: str
    providers: tuple[dict[str, str], ...]
    services: str
    cpv_code: str
    lifetime_value: str
    decision_makers: tuple[str, ...]
    reasons: tuple[dict[str, str], ...]
    conflicts: tuple[DeclaredConflict, ...]
    conflicts_managed: str
    framework: str | None
    user_panel_weight: str
    missing: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "title": self.title,
            "reference": self.reference,
            "providers": [dict(p) for p in self.providers],
            "services": self.services,
            "cpv_code": self.cpv_code,
            "lifetime_value": self.lifetime_value,
            "decision_makers": list(self.decision_makers),
            "reasons": [dict(r) for r in self.reasons],
            "conflicts": [c.__dict__ for c in self.conflicts],
            "conflicts_managed": self.conflicts_managed,
            "framework": self.framework,
            "user_panel_weight": self.user_panel_weight,
        }


def _name(user: Any) -> str:
    full = user.get_full_name().strip()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def build(tender_id: int) -> NoticeContents:
    """The notice for the tender's current decision (a fixed number of queries)."""
    tender = Tender.objects.select_related("route_assessment", "cycle").get(pk=tender_id)
    decision = (
        AwardDecision.objects.filter(tender=tender, superseded_at__isnull=True)
        .select_related("meeting__decision_maker", "decided_by")
        .first()
    )
    route = Route(tender.route_assessment.route)
    providers: list[dict[str, str]] = []
    decision_makers: list[str] = []
    reasons: list[dict[str, str]] = []
    if decision is not None:
        for award in decision.lots.select_related("lot", "bid"):
            if award.bid is not None:
                providers.append(
                    {"lot": award.lot.name, "name": award.bid.bidder, "address": award.bid.address}
                )
        meeting = decision.meeting
        decision_makers.append(f"{_name(meeting.decision_maker)}, {meeting.forum}")
        if decision.decided_by_id != meeting.decision_maker_id:
            decision_makers.append(_name(decision.decided_by))
        reasons = [
            {"criterion": str(key.label), "reasons": getattr(decision, field_name)}
            for key, field_name in AwardDecision.REASON_FIELDS.items()
        ]
    conflicts = _conflicts(tender)
    contents = NoticeContents(
        process=(
            "This is a notice of intention to award a contract under the "
            f"{ROUTE_LABELS[route].lower()} of the Provider Selection Regime."
        ),
        title=tender.title,
        reference=tender.reference,
        providers=tuple(providers),
        services=tender.services,
        cpv_code=tender.cpv_code,
        lifetime_value=f"£{tender.lifetime_value:,.0f}",
        decision_makers=tuple(decision_makers),
        reasons=tuple(reasons),
        conflicts=tuple(conflicts),
        conflicts_managed=decision.conflicts_managed if decision else "",
        framework=(
            (
                "A framework agreement is concluded."
                if tender.route_assessment.framework
                else "No framework agreement is concluded."
            )
            if route is Route.COMPETITIVE
            else None
        ),
        user_panel_weight=f"{tender.user_panel_weight.normalize():f}%",
    )
    missing = tuple(
        name for name in REQUIRED if name != "conflicts" and not getattr(contents, name)
    )
    if reasons and any(not r["reasons"] for r in reasons):
        missing += ("reasons",)
    return NoticeContents(**{**contents.__dict__, "missing": missing})


def _conflicts(tender: Tender) -> list[DeclaredConflict]:
    """Every interest declared on the cycle or in a bid, and how it was managed."""
    cycle = tender.cycle
    bids = list(Bid.objects.filter(tender=tender).select_related("lot"))
    memberships = {
        m.member_id: m for m in PanelMembership.objects.filter(cycle=cycle).order_by("joined_at")
    }
    commented = set(
        BidComment.objects.filter(bid__tender=tender, recused=True).values_list(
            "author_id", "bid_id"
        )
    )
    out: list[DeclaredConflict] = []
    for declared in (
        ConflictDeclaration.objects.filter(cycle=cycle)
        .exclude(interest=ConflictDeclaration.Interest.NONE)
        .select_related("member")
    ):
        membership = memberships.get(declared.member_id)
        on_tender_panel = (
            membership is not None and membership.tender_panel and membership.left_at is None
        )
        if declared.interest == ConflictDeclaration.Interest.PLANS_TO_BID:
            managed = "Taken off the tender panel: took no part in evaluating the bids."
        elif not on_tender_panel:
            managed = "Not on the tender panel: took no part in scoring."
        else:
            named = [b for b in bids if b.bidder.casefold() in declared.details.casefold()]
            managed = _recused_line(named, declared.member_id, commented)
        out.append(
            DeclaredConflict(
                person=_name(declared.member),
                role="User panel member",
                interest=str(declared.get_interest_display()),
                details=declared.details,
                managed=managed,
            )
        )
    for interest in BidInterest.objects.filter(bid__tender=tender).select_related(
        "person", "bid__lot"
    ):
        out.append(
            DeclaredConflict(
                person=_name(interest.person),
                role="Commissioner" if interest.side == "commissioners" else "User panel member",
                interest=str(interest.get_interest_display()),
                details=interest.details,
                managed=_recused_line([interest.bid], interest.person_id, commented),
            )
        )
    return out


def _recused_line(bids: list[Bid], person_id: int, commented: set[tuple[int, int]]) -> str:
    if not bids:
        return "Declared; it concerns none of the bidders, so they scored every bid."
    parts = []
    for bid in bids:
        views = " and gave their views on it" if (person_id, bid.pk) in commented else ""
        parts.append(f"did not score the bid by {bid.bidder} for {bid.lot.name}{views}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
