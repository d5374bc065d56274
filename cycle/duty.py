"""Whether, and under which limb, a body must involve users: the duty to involve, as a pure rule.

:func:`assess` takes what the commissioner says about a proposal (:class:`DutyQuestions`) and
returns the result (:class:`DutyResult`): duty required, not required or out of scope, the limb
that applies, whether the overview and scrutiny committee must be consulted, and each rule that
led there, in plain English. No ORM here; ``cycle.duty_services.duty_assess`` records the answers
and the result, and the ``needs`` gate asks for a current assessment (``cycle.gates``).

Today's duties have three limbs, the same for each kind of body:

* integrated care boards, NHS Act 2006 s.14Z45(2); NHS England, s.13Q(2); NHS trusts and
  foundation trusts, s.242(1B);
* (a) planning: users are always involved when provision (or commissioning) is planned;
* (b) developing and considering proposals for change, and (c) decisions about how services
  operate: only where the change would affect the manner in which services are delivered (judged
  at the point they are received) or the range of services available.

The 2008 wording of s.242(1B) (seed 002 L292-343) has the same limbs for strategic health
authorities, primary care trusts, NHS trusts that are not relevant Welsh bodies and foundation
trusts. The worked examples of seed 002 L612-664 are table-tested in ``tests/cycle/test_duty.py``.

Consulting the overview and scrutiny committee is a separate duty (s.244): it arises for a
substantial development or variation whatever the involvement result, unless the change must be
made at once because of a risk to the safety or welfare of patients or staff, in which case the
committee is told at once, with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .i18n import Joined
from .i18n import gettext_lazy as _


class Wording(StrEnum):
    """Which text of the law the assessment applies."""

    CURRENT = "current"
    """The duties as they stand since the Health and Care Act 2022."""
    Y2008 = "2008"
    """Section 242(1B) as substituted from 2008 (Real involvement, October 2008)."""


class BodyType(StrEnum):
    ICB = "icb"
    NHS_ENGLAND = "nhs-england"
    NHS_TRUST = "nhs-trust"
    FOUNDATION_TRUST = "foundation-trust"
    STRATEGIC_HEALTH_AUTHORITY = "sha"
    PRIMARY_CARE_TRUST = "pct"
    WELSH_NHS_TRUST = "welsh-nhs-trust"
    """An NHS trust all or most of whose hospitals, establishments and facilities are in Wales."""
    LOCAL_AUTHORITY = "local-authority"
    OTHER = "other"


class Activity(StrEnum):
    PLANNING = "planning"
    """Planning the provision of services (or the commissioning arrangements)."""
    PROPOSALS = "proposals"
    """Developing and considering proposals for changes in the way services are provided."""
    DECISION = "decision"
    """A decision affecting how services operate."""
    CONTRACTUAL = "contractual"
    """Only a change of contract, provider, premises or staff, not part of planning."""


class Outcome(StrEnum):
    REQUIRED = "required"
    NOT_REQUIRED = "not-required"
    OUT_OF_SCOPE = "out-of-scope"


class Limb(StrEnum):
    PLANNING = "a"
    PROPOSALS = "b"
    DECISIONS = "c"


STATUTE = {
    BodyType.ICB: "NHS Act 2006 s.14Z45",
    BodyType.NHS_ENGLAND: "NHS Act 2006 s.13Q",
    BodyType.NHS_TRUST: "NHS Act 2006 s.242(1B)",
    BodyType.FOUNDATION_TRUST: "NHS Act 2006 s.242(1B)",
    BodyType.STRATEGIC_HEALTH_AUTHORITY: "NHS Act 2006 s.242(1B) (2008 wording)",
    BodyType.PRIMARY_CARE_TRUST: "NHS Act 2006 s.242(1B) (2008 wording)",
}
"""The provision that puts the duty on each kind of body it covers."""

COVERED = {
    Wording.CURRENT: frozenset(
        {BodyType.ICB, BodyType.NHS_ENGLAND, BodyType.NHS_TRUST, BodyType.FOUNDATION_TRUST}
    ),
    Wording.Y2008: frozenset(
        {
            BodyType.STRATEGIC_HEALTH_AUTHORITY,
            BodyType.PRIMARY_CARE_TRUST,
            BodyType.NHS_TRUST,
            BodyType.FOUNDATION_TRUST,
        }
    ),
}
"""The bodies each wording puts the duty on (seed 002 L292-299; law-and-peers §A1)."""

NHS_BODIES = COVERED[Wording.CURRENT] | COVERED[Wording.Y2008]
"""Every NHS body that either wording puts the duty on."""


@dataclass(frozen=True)
class DutyQuestions:
    """What the commissioner answers about the body and the proposal."""

    body_type: BodyType
    activity: Activity
    wording: Wording = Wording.CURRENT
    responsible: bool = True
    """The body provides the services, or another provides them at its direction, on its behalf
    or under arrangements it made (s.242(3))."""
    affects_other_services: bool = False
    """Where the body is not responsible for the service itself: whether the change affects
    other services for which it is responsible (seed 002 L624)."""
    affects_delivery: bool = False
    """The change would affect the manner in which services are delivered to users (at the
    point when they receive them)."""
    affects_range: bool = False
    """The change would affect the range of services available to users."""
    already_involved: bool = False
    """Users were already involved on this proposal in enough detail (an earlier consultation
    covered it), and nothing further with an impact is being developed or decided."""
    substantial: bool = False
    """A substantial development of the health service, or a substantial variation in it."""
    urgent_safety_risk: bool = False
    """The change must be made at once because of a risk to the safety or welfare of patients
    or staff."""


@dataclass(frozen=True)
class Rule:
    """One rule that led to the result, with a stable code."""

    code: str
    text: str


@dataclass(frozen=True)
class DutyResult:
    outcome: Outcome
    limb: Limb | None
    statute: str
    scrutiny: bool
    """The overview and scrutiny committee must be consulted (s.244)."""
    rules: tuple[Rule, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.rules)

    @property
    def required(self) -> bool:
        return self.outcome is Outcome.REQUIRED


_BODY_NAMES = {
    BodyType.ICB: _("an integrated care board"),
    BodyType.NHS_ENGLAND: _("NHS England"),
    BodyType.NHS_TRUST: _("an NHS trust"),
    BodyType.FOUNDATION_TRUST: _("an NHS foundation trust"),
    BodyType.STRATEGIC_HEALTH_AUTHORITY: _("a strategic health authority"),
    BodyType.PRIMARY_CARE_TRUST: _("a primary care trust"),
    BodyType.WELSH_NHS_TRUST: _("an NHS trust that is a relevant Welsh body"),
    BodyType.LOCAL_AUTHORITY: _("a local authority"),
    BodyType.OTHER: _("this kind of body"),
}

_WORDING_NAMES = {
    Wording.CURRENT: _("the duties as they stand today"),
    Wording.Y2008: _("the 2008 wording of section 242(1B)"),
}


def assess(questions: DutyQuestions) -> DutyResult:
    """Decide whether the duty to involve applies, under which limb, and whether to consult the
    overview and scrutiny committee. Every rule applied is listed, in the order applied."""
    q = questions
    rules: list[Rule] = []
    statute = STATUTE.get(q.body_type, "")

    def result(outcome: Outcome, limb: Limb | None = None) -> DutyResult:
        scrutiny = _scrutiny(q, rules)
        return DutyResult(outcome, limb, statute, scrutiny, tuple(rules))

    body = _BODY_NAMES[q.body_type]
    if q.body_type not in COVERED[q.wording]:
        if q.body_type is BodyType.WELSH_NHS_TRUST:
            rules.append(
                Rule(
                    "scope.welsh_body",
                    _(
                        "The duty in section 242(1B) applies to NHS trusts that are not "
                        "relevant Welsh bodies: a trust with all or most of its hospitals and "
                        "facilities in Wales is outside it.",
                    ),
                )
            )
        elif q.body_type in NHS_BODIES:
            rules.append(
                Rule(
                    "scope.wording",
                    _(
                        "Under %(WORDING_NAMES)s the duty is not put on %(body)s: choose the "
                        "wording in force when the proposal is made.",
                        WORDING_NAMES=_WORDING_NAMES[q.wording],
                        body=body,
                    ),
                )
            )
        else:
            rules.append(
                Rule(
                    "scope.body",
                    _(
                        "The NHS duty to involve is not put on %(body)s; its own duties to "
                        "consult apply instead.",
                        body=body,
                    ),
                )
            )
        return result(Outcome.OUT_OF_SCOPE)
    rules.append(
        Rule(
            "scope.body_covered",
            _(
                "%(statute)s puts the duty on %(body)s.",
                statute=statute,
                body=body,
            ),
        )
    )

    if not q.responsible:
        if not q.affects_other_services:
            rules.append(
                Rule(
                    "scope.not_responsible",
                    _(
                        "The body neither provides nor arranges these services, and the change "
                        "affects no other service it is responsible for, so the duty does not "
                        "apply to it (s.242(3)).",
                    ),
                )
            )
            return result(Outcome.OUT_OF_SCOPE)
        rules.append(
            Rule(
                "scope.other_services",
                _(
                    "The body is not responsible for this service, but the change affects "
                    "other services it is responsible for, so the duty is judged for those "
                    "services.",
                ),
            )
        )
    else:
        rules.append(
            Rule(
                "scope.responsible",
                _(
                    "The body provides these services, or they are provided at its direction, "
                    "on its behalf or under arrangements it made.",
                ),
            )
        )

    if q.activity is Activity.PLANNING:
        rules.append(
            Rule(
                "limb.a",
                _(
                    "Limb (a): users must always be involved when the provision of services is "
                    "planned, whatever the impact (a change of provider included, where it is "
                    "part of the body's plans).",
                ),
            )
        )
        return result(Outcome.REQUIRED, Limb.PLANNING)

    impact = q.affects_delivery or q.affects_range
    if q.activity is Activity.CONTRACTUAL:
        rules.append(
            Rule(
                "activity.not_planning",
                _(
                    "A change of contract, provider, premises or staff that is not part of the "
                    "body's planning does not trigger limb (a).",
                ),
            )
        )
    if not impact:
        rules.append(
            Rule(
                "impact.none",
                _(
                    "The change would affect neither the manner in which services are "
                    "delivered to users nor the range of services available to them, so limbs "
                    "(b) and (c) do not apply.",
                ),
            )
        )
        if q.activity is Activity.CONTRACTUAL:
            rules.append(
                Rule(
                    "note.staff_rules",
                    _(
                        "Other rules and procedures about the impact on jobs and staff still "
                        "apply.",
                    ),
                )
            )
        return result(Outcome.NOT_REQUIRED)

    rules.append(Rule("impact.found", _impact_text(q)))
    if q.already_involved:
        rules.append(
            Rule(
                "exempt.already_involved",
                _(
                    "Users were already involved on this proposal in enough detail, and "
                    "nothing further with an impact is being developed or decided: no more "
                    "involvement is needed until it is.",
                ),
            )
        )
        return result(Outcome.NOT_REQUIRED)

    if q.activity is Activity.PROPOSALS:
        rules.append(
            Rule(
                "limb.b",
                _(
                    "Limb (b): users must be involved in developing the proposals, the range "
                    "of options included, not only asked about a model already settled.",
                ),
            )
        )
        return result(Outcome.REQUIRED, Limb.PROPOSALS)
    rules.append(
        Rule(
            "limb.c",
            _(
                "Limb (c): users must be involved in the decision, since it changes how the "
                "service operates for them.",
            ),
        )
    )
    return result(Outcome.REQUIRED, Limb.DECISIONS)


def _impact_text(q: DutyQuestions) -> str:
    what: list[str] = []
    if q.affects_delivery and q.wording is Wording.CURRENT:
        what.append(
            _(
                "the manner in which services are delivered to users (at the point they "
                "receive them)"
            )
        )
    elif q.affects_delivery:
        what.append(_("the manner in which services are delivered to users"))
    if q.affects_range:
        what.append(_("the range of services available to them"))
    return _("The change would affect %(what)s.", what=Joined(" and ", what))


def _scrutiny(q: DutyQuestions, rules: list[Rule]) -> bool:
    """Whether the overview and scrutiny committee must be consulted (s.244, for the NHS bodies
    the wording covers); the rule that says so goes last."""
    if not q.substantial:
        return False
    if q.body_type not in COVERED[q.wording]:
        return False
    if q.urgent_safety_risk:
        rules.append(
            Rule(
                "scrutiny.urgent",
                _(
                    "A substantial change made at once because of a risk to the safety or "
                    "welfare of patients or staff need not wait for the overview and scrutiny "
                    "committee; tell the committee at once, with the reasons.",
                ),
            )
        )
        return False
    rules.append(
        Rule(
            "scrutiny.substantial",
            _(
                "A substantial development or variation of the service: the overview and "
                "scrutiny committee must be consulted (s.244), whatever the duty to involve "
                "says.",
            ),
        )
    )
    return True
