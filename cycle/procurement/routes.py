"""Which Provider Selection Regime process a contract must, or may, be awarded through.

A pure function over the answers to the regime's questions (the Health Care Services (Provider
Selection Regime) Regulations 2023, SI 2023/1348, reg 6): no ORM here. :func:`decide_route`
walks the questions in the order the regulations ask them and returns the process with every
reason that led there, each with a stable code, a plain-English message and the regulation it
rests on. A question that matters and has no answer yet is listed in ``unanswered`` and no route
is chosen, so a route is never guessed.

The order:

1. A framework agreement is concluded only through the competitive process (reg 6(8), reg 18).
2. **Direct award A** (reg 6(3)) is mandatory when there is an existing provider and only it can
   provide the services, because of their nature.
3. **Direct award B** (reg 6(4)) is mandatory when patients choose their provider and every
   provider that meets the requirements is offered a contract.
4. **Direct award C** (reg 6(5)) may be used when A and B do not apply, the existing contract is
   expiring, the existing provider is performing sufficiently, and the considerable change
   threshold is not met. The authority chooses whether to use it.
5. Otherwise, the **most suitable provider** process (reg 6(6)) when the authority can identify
   the most suitable provider without running a competition, else the **competitive process**
   (reg 6(7)).

The considerable change threshold (reg 6(10) and 6(11)): the proposed arrangements change
considerably when the threshold is met (reg 6(10)), and it is met (reg 6(11)) when either

- (a) the proposed arrangements are materially different in character from the existing contract
  as it was when entered into, or
- (b) both: the difference is attributable to a decision of the relevant authority, *and* the
  lifetime value of the proposed arrangements is at least £500,000 higher *and* at least 25%
  higher than the lifetime value of the existing contract when it was entered into.

Both figures of limb (b) must be reached: a rise of £600,000 on a £4 million contract (15%) does
not meet it, nor does a rise of 40% that comes to £100,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum

from ..i18n import gettext_lazy as _

CONSIDERABLE_CHANGE_AMOUNT = Decimal("500000")
"""Reg 6(11)(b)(ii): the new lifetime value is at least this much higher than the existing
contract's, when the authority's decision causes the difference, and also the share below."""

CONSIDERABLE_CHANGE_SHARE = Decimal("0.25")
"""Reg 6(11)(b)(ii): ...and at least this share (25%) higher than the existing contract's lifetime
value when that contract was entered into."""


class Route(StrEnum):
    """The five processes of the Provider Selection Regime."""

    DIRECT_AWARD_A = "direct-award-a"
    DIRECT_AWARD_B = "direct-award-b"
    DIRECT_AWARD_C = "direct-award-c"
    MOST_SUITABLE_PROVIDER = "most-suitable-provider"
    COMPETITIVE = "competitive"

    @property
    def label(self) -> str:
        return ROUTE_LABELS[self]

    @property
    def needs_key_criteria(self) -> bool:
        """Whether the decision must be made, and recorded, against the five key criteria."""
        return self in _ASSESSED

    @property
    def has_standstill(self) -> bool:
        """Whether a notice of intention and a standstill period come before the award."""
        return self in _ASSESSED


ROUTE_LABELS = {
    Route.DIRECT_AWARD_A: "Direct award process A",
    Route.DIRECT_AWARD_B: "Direct award process B",
    Route.DIRECT_AWARD_C: "Direct award process C",
    Route.MOST_SUITABLE_PROVIDER: "Most suitable provider process",
    Route.COMPETITIVE: "Competitive process",
}

_ASSESSED = frozenset({Route.DIRECT_AWARD_C, Route.MOST_SUITABLE_PROVIDER, Route.COMPETITIVE})


QUESTIONS = {
    "framework": "Are you concluding a framework agreement?",
    "existing_provider": "Is there an existing provider of these services?",
    "only_existing_provider_capable": "Can only the existing provider provide these services, "
    "because of their nature?",
    "patient_choice": "Do patients choose their provider, with every provider that meets the "
    "requirements offered a contract?",
    "contract_expiring": "Is the existing contract coming to an end?",
    "provider_performing": "Is the existing provider meeting the current contract, and likely "
    "to meet the new one?",
    "materially_different": "Are the new arrangements materially different in character from "
    "the existing contract?",
    "change_by_authority": "Is the difference from the existing contract the result of your own "
    "decision?",
    "existing_lifetime_value": "What was the lifetime value of the existing contract when it was "
    "entered into?",
    "proposed_lifetime_value": "What is the lifetime value of the new contract?",
    "use_direct_award_c": "Direct award C is open to you. Do you choose to use it?",
    "most_suitable_identifiable": "Can you identify the most suitable provider without a "
    "competition?",
}
"""The regime's questions, in the order they are asked, keyed by the field of the answers."""


@dataclass(frozen=True)
class RouteAnswers:
    """Recorded answers to the regime's questions; None means not answered yet."""

    framework: bool | None = None
    existing_provider: bool | None = None
    only_existing_provider_capable: bool | None = None
    patient_choice: bool | None = None
    contract_expiring: bool | None = None
    provider_performing: bool | None = None
    materially_different: bool | None = None
    change_by_authority: bool | None = None
    existing_lifetime_value: Decimal | None = None
    proposed_lifetime_value: Decimal | None = None
    use_direct_award_c: bool | None = None
    most_suitable_identifiable: bool | None = None

    def as_dict(self) -> dict[str, bool | str | None]:
        """The answers as plain values (amounts as strings), for the ledger."""
        out: dict[str, bool | str | None] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = str(value) if isinstance(value, Decimal) else value
        return out


@dataclass(frozen=True)
class Reason:
    """One step of the reasoning: a stable code, what it means and the regulation behind it."""

    code: str
    message: str
    regulation: str

    def as_line(self) -> str:
        return f"{self.code}: {self.message} ({self.regulation})"


@dataclass(frozen=True)
class RouteDecision:
    """The process chosen, or the questions still to answer before one can be."""

    route: Route | None
    reasons: tuple[Reason, ...] = ()
    unanswered: tuple[str, ...] = ()
    mandatory: bool = False
    """The regulations require this process (direct award A or B, or competition for a
    framework); the authority had no choice."""
    considerable_change: bool | None = None
    """Whether the considerable change threshold is met, where it was asked."""
    direct_award_c_open: bool = False
    """Whether direct award C was open to the authority (whether or not it chose it)."""
    invalid: tuple[str, ...] = field(default=())
    """Answers that cannot be right (a negative value, say): no route is chosen."""

    @property
    def decided(self) -> bool:
        return self.route is not None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


class _Unanswered(Exception):
    def __init__(self, question: str) -> None:
        self.question = question


def considerable_change(answers: RouteAnswers) -> tuple[bool, tuple[Reason, ...]]:
    """Whether the considerable change threshold is met (reg 6(10)-(11)), and why.

    Raises :class:`_Unanswered` for a question it needs that has no answer.
    """
    if _ask(answers, "materially_different"):
        return True, (
            Reason(
                "change.different_in_character",
                _(
                    "The new arrangements are materially different in character from the "
                    "existing contract: the considerable change threshold is met.",
                ),
                "reg 6(11)(a)",
            ),
        )
    if not _ask(answers, "change_by_authority"):
        return False, (
            Reason(
                "change.not_considerable",
                _(
                    "The arrangements are not materially different in character, and the "
                    "difference from the existing contract is not the authority's own "
                    "decision: the considerable change threshold is not met.",
                ),
                "reg 6(10)-(11)",
            ),
        )
    existing = _ask(answers, "existing_lifetime_value")
    proposed = _ask(answers, "proposed_lifetime_value")
    rise = proposed - existing
    share = (rise / existing) if existing else None
    big_enough = rise >= CONSIDERABLE_CHANGE_AMOUNT and (
        share is None or share >= CONSIDERABLE_CHANGE_SHARE
    )
    if big_enough:
        return True, (
            Reason(
                "change.value_rise",
                _(
                    "The authority's decision raises the lifetime value by £%(rise)s%(share)s: at "
                    "least £500,000 and at least 25%% above the existing contract's lifetime "
                    "value, so the considerable change threshold is met.",
                    rise=f"{rise:,.0f}",
                    share=f" ({share:.0%})" if share is not None else "",
                ),
                "reg 6(11)(b)",
            ),
        )
    return False, (
        Reason(
            "change.value_rise_below_threshold",
            _(
                "The authority's decision changes the lifetime value by £%(rise)s%(share)s: less "
                "than £500,000 or less than 25%% above the existing contract's lifetime value, so "
                "the considerable change threshold is not met.",
                rise=f"{rise:,.0f}",
                share=f" ({share:.0%})" if share is not None else "",
            ),
            "reg 6(11)(b)",
        ),
    )


def _ask(answers: RouteAnswers, question: str) -> Decimal | bool:
    value = getattr(answers, question)
    if value is None:
        raise _Unanswered(question)
    return value  # type: ignore[no-any-return]


def _invalid(answers: RouteAnswers) -> tuple[str, ...]:
    problems = []
    for name in ("existing_lifetime_value", "proposed_lifetime_value"):
        value = getattr(answers, name)
        if value is not None and value < 0:
            problems.append(name)
    return tuple(problems)


def decide_route(answers: RouteAnswers) -> RouteDecision:
    """The process the answers lead to, with every reason; or what must be answered first."""
    invalid = _invalid(answers)
    if invalid:
        return RouteDecision(route=None, invalid=invalid)
    reasons: list[Reason] = []
    state: dict[str, bool | None] = {"change": None, "c_open": False}
    try:
        route, mandatory = _walk(answers, reasons, state)
    except _Unanswered as missing:
        return RouteDecision(
            route=None,
            reasons=tuple(reasons),
            unanswered=(missing.question,),
            considerable_change=state["change"],
            direct_award_c_open=bool(state["c_open"]),
        )
    return RouteDecision(
        route=route,
        reasons=tuple(reasons),
        mandatory=mandatory,
        considerable_change=state["change"],
        direct_award_c_open=bool(state["c_open"]),
    )


def _walk(
    answers: RouteAnswers, reasons: list[Reason], state: dict[str, bool | None]
) -> tuple[Route, bool]:
    if _ask(answers, "framework"):
        reasons.append(
            Reason(
                "framework.competitive_only",
                _(
                    "A framework agreement can be concluded only through the competitive process.",
                ),
                "reg 6(8), reg 18",
            )
        )
        return Route.COMPETITIVE, True

    existing = bool(_ask(answers, "existing_provider"))
    if existing and _ask(answers, "only_existing_provider_capable"):
        reasons.append(
            Reason(
                "direct_award_a.only_capable_provider",
                _(
                    "Only the existing provider can provide these services, because of their "
                    "nature: direct award A must be used.",
                ),
                "reg 6(3)",
            )
        )
        return Route.DIRECT_AWARD_A, True
    reasons.append(
        Reason(
            "direct_award_a.not_applicable",
            _(
                "There is no existing provider, or other providers could provide these "
                "services: direct award A does not apply.",
            ),
            "reg 6(3)",
        )
    )

    if _ask(answers, "patient_choice"):
        reasons.append(
            Reason(
                "direct_award_b.patient_choice",
                _(
                    "Patients choose their provider and every provider meeting the "
                    "requirements is offered a contract: direct award B must be used.",
                ),
                "reg 6(4)",
            )
        )
        return Route.DIRECT_AWARD_B, True
    reasons.append(
        Reason(
            "direct_award_b.not_applicable",
            _(
                "The number of providers is limited, or patients do not choose among them: "
                "direct award B does not apply.",
            ),
            "reg 6(4)",
        )
    )

    if not existing:
        reasons.append(
            Reason(
                "direct_award_c.no_existing_provider",
                _(
                    "There is no existing provider, so direct award C is not open.",
                ),
                "reg 6(5)",
            )
        )
    elif not _ask(answers, "contract_expiring"):
        reasons.append(
            Reason(
                "direct_award_c.contract_not_expiring",
                _(
                    "The existing contract is not coming to an end, so direct award C is not open.",
                ),
                "reg 6(5)(a)",
            )
        )
    elif not _ask(answers, "provider_performing"):
        reasons.append(
            Reason(
                "direct_award_c.provider_not_performing",
                _(
                    "The existing provider is not performing sufficiently, so direct award C "
                    "is not open.",
                ),
                "reg 6(5)(b)",
            )
        )
    else:
        change, why = considerable_change(answers)
        state["change"] = change
        reasons.extend(why)
        if change:
            reasons.append(
                Reason(
                    "direct_award_c.considerable_change",
                    _(
                        "The considerable change threshold is met, so direct award C is not open.",
                    ),
                    "reg 6(5)(c)",
                )
            )
        else:
            state["c_open"] = True
            if _ask(answers, "use_direct_award_c"):
                reasons.append(
                    Reason(
                        "direct_award_c.chosen",
                        _(
                            "The contract is expiring, the existing provider is performing "
                            "sufficiently and the change is not considerable; the authority "
                            "chose direct award C.",
                        ),
                        "reg 6(5)",
                    )
                )
                return Route.DIRECT_AWARD_C, False
            reasons.append(
                Reason(
                    "direct_award_c.not_chosen",
                    _(
                        "Direct award C was open, and the authority chose not to use it.",
                    ),
                    "reg 6(5)",
                )
            )

    if _ask(answers, "most_suitable_identifiable"):
        reasons.append(
            Reason(
                "most_suitable_provider.identifiable",
                _(
                    "The authority can identify the most suitable provider without a "
                    "competition, taking the key criteria into account.",
                ),
                "reg 6(6)",
            )
        )
        return Route.MOST_SUITABLE_PROVIDER, False
    reasons.append(
        Reason(
            "competitive.needed",
            _(
                "The most suitable provider cannot be identified without a competition: the "
                "competitive process is used.",
            ),
            "reg 6(7)",
        )
    )
    return Route.COMPETITIVE, False
