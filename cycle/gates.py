"""Involvement gate rules, as pure functions over a snapshot of one stage.

No ORM here: ``cycle.selectors.gate_snapshot`` builds a :class:`StageSnapshot` from the database
and :func:`evaluate` says whether the gate at the end of the stage is open, listing every unmet
condition with a stable code and a plain-English message. The three conditions that hold at every
stage (DOMAIN.md §3) are role boundaries agreed and acknowledged, budget disclosed, and a quorum of
the panel attesting against the current versions with no open dissent. Stages may add more
(``cycle.stages``): a signed working agreement, a named involvement lead, declared conflicts.

Departing from a gate (DOMAIN.md §3) is also a rule of this module: a governance board member may
override only the conditions about people's availability or disagreement (:data:`WAIVABLE`), never
the records themselves (:data:`MUST_RECORD` says what must be recorded instead). An override names
each condition it departs from and the members it concerned, against the boundary and budget
versions of the moment; anything unmet that it did not name (a new dissent, a newcomer who has not
acknowledged, a new version of anything) closes the gate again (:func:`override_covers`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from .i18n import Joined, ngettext_lazy
from .i18n import gettext_lazy as _


class Condition(StrEnum):
    """Extra conditions a stage template may ask a gate to check (see ``cycle.stages``)."""

    WORKING_AGREEMENT = "working_agreement"
    INVOLVEMENT_LEAD = "involvement_lead"
    CONFLICTS_DECLARED = "conflicts_declared"
    INPUT_ANSWERED = "input_answered"
    DECISION_PAPERS = "decision_papers"
    DUTY_ASSESSED = "duty_assessed"
    AWARD_SETTLED = "award_settled"
    EVALUATION_SIGNED = "evaluation_signed"


class DutyAssessmentState(StrEnum):
    """Whether the cycle's duty to involve has been assessed for its proposal as it stands."""

    MISSING = "missing"
    STALE = "stale"
    """Assessed, but the proposal has changed since (``cycle.duty_models``)."""
    CURRENT = "current"

    @classmethod
    def of(cls, assessed_for: int | None, changes: int) -> DutyAssessmentState:
        """The state, from the proposal changes the latest assessment took into account (None
        when there is none) and the number of changes recorded."""
        if assessed_for is None:
            return cls.MISSING
        return cls.CURRENT if assessed_for >= changes else cls.STALE


PAPERS_NOTICE_DAYS = 7
"""Decision papers reach the panel at least this many days before the meeting (001:L705)."""


class SignOffKind(StrEnum):
    """What a sign-off says: the values of ``cycle.models.SignOff.Kind``."""

    ATTEST = "attest"
    DISSENT = "dissent"


@dataclass(frozen=True)
class SignOffPosition:
    """A representative's latest position on the current stage visit: what the gate reads of
    their current ``cycle.models.SignOff`` row."""

    member_id: int
    kind: SignOffKind
    boundary_version: int | None
    budget_version: int | None


@dataclass(frozen=True)
class Departure:
    """One condition an override departs from, and the members it was unmet for at the time."""

    code: str
    members: frozenset[int] = frozenset()

    def rows(self) -> list[int | None]:
        """The member of each stored row: one per member, or one without a member."""
        return [*sorted(self.members)] or [None]


@dataclass(frozen=True)
class OverrideRecord:
    """The override on record for a stage visit: what it departs from, against which versions."""

    boundary_version: int | None
    budget_version: int | None
    departures: tuple[Departure, ...]


@dataclass(frozen=True)
class MeetingPapers:
    """A decision meeting of the stage visit, and when its papers went to the panel."""

    held_on: date
    papers_issued_on: date | None


@dataclass(frozen=True)
class TenderState:
    """Where a cycle's tender stands, for the gate at the end of the stage that awards it.

    Plain facts, gathered by ``cycle.procurement.selectors`` (the gate reads no procurement
    records): whether the award is decided and whether to award at all, whether the notice of
    intention is out, and where its standstill stands today (the code and sentence of
    ``cycle.procurement.standstill``)."""

    decided: bool = False
    awards: bool = False
    """The decision awards at least one lot ("no award" has no notice and no standstill)."""
    notice_published: bool = False
    standstill_code: str = ""
    """``standstill.running``, ``standstill.under_review``, ``standstill.over`` or
    ``standstill.abandoned``; empty before a notice."""
    standstill_message: str = ""


@dataclass(frozen=True)
class StageSnapshot:
    """Everything the gate needs to know about one stage visit, as plain values."""

    stage_key: str
    active_members: frozenset[int]
    boundary_version: int | None = None
    acknowledged_by: frozenset[int] = frozenset()
    budget_version: int | None = None
    signoffs: tuple[SignOffPosition, ...] = ()
    requires: frozenset[Condition] = frozenset()
    agreement_version: int | None = None
    """The cycle's current working agreement, if one has been recorded."""
    agreement_signed_by: frozenset[int] = frozenset()
    """Who has signed the current working agreement."""
    involvement_lead_named: bool = False
    tender_panel: frozenset[int] = frozenset()
    conflicts_declared_by: frozenset[int] = frozenset()
    override: OverrideRecord | None = None
    """The latest override recorded on this stage visit, if there is one."""
    unanswered_inputs: int = 0
    """Input anywhere in the cycle without "we did" or "we couldn't" (still considering counts)."""
    decision_meetings: tuple[MeetingPapers, ...] = ()
    """The decision meetings held or planned in this stage visit."""
    duty_assessment: DutyAssessmentState = DutyAssessmentState.MISSING
    """Whether the duty to involve is assessed for the proposal as it stands."""
    unconsidered_consultations: int = 0
    """Consultations opened in this stage visit whose responses have not been considered."""
    tender: TenderState | None = None
    """The cycle's tender, where the gate asks about the award and the cycle has one."""


@dataclass(frozen=True)
class Unmet:
    code: str
    message: str
    members: frozenset[int] = frozenset()
    """The panel members the condition is unmet for, where it is about people."""

    def as_line(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class GateResult:
    unmet: tuple[Unmet, ...] = ()
    overridden: bool = False
    attesting: frozenset[int] = field(default_factory=frozenset)
    quorum: int = 1

    @property
    def open(self) -> bool:
        """True when every condition holds (an override does not make the gate open)."""
        return not self.unmet

    @property
    def passable(self) -> bool:
        """True when the stage may be left: the gate is open, or an override stands."""
        return self.open or self.overridden

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.unmet)


def quorum_for(panel_size: int) -> int:
    """A majority of the active panel, and at least one."""
    return max(1, panel_size // 2 + 1)


def evaluate(snapshot: StageSnapshot) -> GateResult:
    """Evaluate the gate at the end of ``snapshot.stage_key``."""
    unmet: list[Unmet] = []
    members = snapshot.active_members
    quorum = quorum_for(len(members))

    if not members:
        unmet.append(Unmet("panel.empty", _("No user representatives are on the panel.")))

    if snapshot.boundary_version is None:
        unmet.append(
            Unmet(
                "boundaries.missing",
                _(
                    "Role boundaries for this stage have not been agreed: the purpose of "
                    "involvement, the users' role and influence, and who decides."
                ),
            )
        )
    else:
        waiting = members - snapshot.acknowledged_by
        if waiting:
            unmet.append(
                Unmet(
                    "boundaries.unacknowledged",
                    ngettext_lazy(
                        "%(count)d member of the panel has not acknowledged version %(version)s "
                        "of the role boundaries.",
                        "%(count)d members of the panel have not acknowledged version %(version)s "
                        "of the role boundaries.",
                        len(waiting),
                        count=len(waiting),
                        version=snapshot.boundary_version,
                    ),
                    frozenset(waiting),
                )
            )

    if snapshot.budget_version is None:
        unmet.append(
            Unmet(
                "budget.missing",
                _("The budget has not been disclosed, nor a reason given for withholding it."),
            )
        )

    current, stale, dissenting = _positions(snapshot)

    if members and len(current) < quorum:
        if stale:
            unmet.append(
                Unmet(
                    "signoff.stale",
                    ngettext_lazy(
                        "%(count)d member signed off against an earlier budget or earlier role "
                        "boundaries; those sign-offs no longer count until they re-attest.",
                        "%(count)d members signed off against an earlier budget or earlier role "
                        "boundaries; those sign-offs no longer count until they re-attest.",
                        len(stale),
                        count=len(stale),
                    ),
                    frozenset(stale),
                )
            )
        unmet.append(
            Unmet(
                "signoff.quorum",
                _(
                    "%(attesting)d of %(members)d panel members have attested against the current "
                    "boundaries and budget; %(quorum)d are needed.",
                    attesting=len(current),
                    members=len(members),
                    quorum=quorum,
                ),
                frozenset(members - current),
            )
        )
    if dissenting:
        unmet.append(
            Unmet(
                "signoff.dissent",
                ngettext_lazy(
                    "%(count)d member recorded dissent: they say involvement did not happen as "
                    "agreed. It must be withdrawn, or the gate overridden by a governance board "
                    "member with written reasons.",
                    "%(count)d members recorded dissent: they say involvement did not happen as "
                    "agreed. It must be withdrawn, or the gate overridden by a governance board "
                    "member with written reasons.",
                    len(dissenting),
                    count=len(dissenting),
                ),
                frozenset(dissenting),
            )
        )

    unmet.extend(_stage_conditions(snapshot))

    overridden = snapshot.override is not None and override_covers(
        snapshot.override, snapshot, unmet
    )
    return GateResult(
        unmet=tuple(unmet), overridden=overridden, attesting=frozenset(current), quorum=quorum
    )


def _positions(snapshot: StageSnapshot) -> tuple[set[int], set[int], set[int]]:
    """The active members whose attestation counts now, those whose attestation is against
    earlier versions, and those who dissent."""
    members = snapshot.active_members
    bound = _bound_by_agreement(snapshot)
    current: set[int] = set()
    stale: set[int] = set()
    dissenting: set[int] = set()
    for signoff in snapshot.signoffs:
        if signoff.member_id not in members:
            continue
        if signoff.kind is SignOffKind.DISSENT:
            dissenting.add(signoff.member_id)
        elif (
            signoff.boundary_version == snapshot.boundary_version
            and signoff.budget_version == snapshot.budget_version
            and snapshot.boundary_version is not None
            and snapshot.budget_version is not None
        ):
            if signoff.member_id in snapshot.acknowledged_by and signoff.member_id in bound:
                current.add(signoff.member_id)
        else:
            stale.add(signoff.member_id)
    return current, stale, dissenting


def _stage_conditions(snapshot: StageSnapshot) -> list[Unmet]:
    unmet: list[Unmet] = []
    if snapshot.unconsidered_consultations:
        # A consultation opened in a stage binds its gate, whatever the template asks for.
        count = snapshot.unconsidered_consultations
        unmet.append(
            Unmet(
                "consultation.unconsidered",
                ngettext_lazy(
                    "%(count)d consultation of this stage has no analysis of the responses, nor "
                    "a statement of how they were considered (the fourth Gunning principle).",
                    "%(count)d consultations of this stage have no analysis of the responses, "
                    "nor a statement of how they were considered (the fourth Gunning principle).",
                    count,
                    count=count,
                ),
            )
        )
    for rule in CONDITIONS.values():
        if rule.applies(snapshot):
            unmet.extend(rule.check(snapshot))
    return unmet


def _working_agreement(snapshot: StageSnapshot) -> list[Unmet]:
    unsigned = snapshot.active_members - snapshot.agreement_signed_by
    if not unsigned:
        return []
    return [
        Unmet(
            "agreement.unsigned",
            ngettext_lazy(
                "%(count)d member of the panel has not signed the current working agreement; an "
                "attestation counts only from a member who has.",
                "%(count)d members of the panel have not signed the current working agreement; "
                "an attestation counts only from a member who has.",
                len(unsigned),
                count=len(unsigned),
            ),
            frozenset(unsigned),
        )
    ]


def _involvement_lead(snapshot: StageSnapshot) -> list[Unmet]:
    if snapshot.involvement_lead_named:
        return []
    return [Unmet("lead.missing", _("No involvement lead has been named for this cycle."))]


def _conflicts_declared(snapshot: StageSnapshot) -> list[Unmet]:
    undeclared = snapshot.tender_panel - snapshot.conflicts_declared_by
    if not undeclared:
        return []
    return [
        Unmet(
            "conflicts.undeclared",
            ngettext_lazy(
                "%(count)d member of the tender panel has not declared their interests (a "
                "declaration of none counts).",
                "%(count)d members of the tender panel have not declared their interests (a "
                "declaration of none counts).",
                len(undeclared),
                count=len(undeclared),
            ),
            frozenset(undeclared),
        )
    ]


def _input_answered(snapshot: StageSnapshot) -> list[Unmet]:
    count = snapshot.unanswered_inputs
    if not count:
        return []
    return [
        Unmet(
            "input.unanswered",
            ngettext_lazy(
                '%(count)d input from the panel has no answer yet: each needs "we did" or "we '
                'couldn\'t, because …"; "still considering" is not an answer.',
                '%(count)d inputs from the panel have no answer yet: each needs "we did" or "we '
                'couldn\'t, because …"; "still considering" is not an answer.',
                count,
                count=count,
            ),
        )
    ]


def _duty_assessed(snapshot: StageSnapshot) -> list[Unmet]:
    if snapshot.duty_assessment is DutyAssessmentState.MISSING:
        return [
            Unmet(
                "duty.missing",
                _(
                    "Nobody has assessed whether the duty to involve users applies to this "
                    "proposal, under which limb, and whether the overview and scrutiny "
                    "committee must be consulted."
                ),
            )
        ]
    if snapshot.duty_assessment is DutyAssessmentState.STALE:
        return [
            Unmet(
                "duty.stale",
                _(
                    "The proposal has changed since the duty to involve was last assessed; "
                    "assess it again for the proposal as it stands."
                ),
            )
        ]
    return []


def _award_settled(snapshot: StageSnapshot) -> list[Unmet]:
    """For a cycle with a tender: the award decided and, for an award, its standstill over."""
    tender = snapshot.tender
    if tender is None:
        return []
    if not tender.decided:
        return [
            Unmet(
                "award.undecided",
                _(
                    "The award has not been decided: the decision-maker records, at a decision "
                    "meeting, which bid each lot goes to (or no award) with reasons against the "
                    "five key criteria."
                ),
            )
        ]
    if tender.awards and not tender.notice_published:
        return [
            Unmet(
                "notice.unpublished",
                _(
                    "The notice of intention to award has not been published, so the standstill "
                    "has not started."
                ),
            )
        ]
    if tender.awards and tender.standstill_code in STANDSTILL_HOLDS:
        return [Unmet(tender.standstill_code, tender.standstill_message)]
    return []


def _evaluation_signed(snapshot: StageSnapshot) -> list[Unmet]:
    """For a cycle with a tender: most of the tender panel attest, at this stage, that they took
    part in evaluating the bids on the agreed terms."""
    panel = snapshot.tender_panel & snapshot.active_members
    if snapshot.tender is None or not panel:
        return []
    current, _, _ = _positions(snapshot)
    signed = panel & current
    needed = quorum_for(len(panel))
    if len(signed) >= needed:
        return []
    return [
        Unmet(
            "evaluation.unsigned",
            ngettext_lazy(
                "%(count)d of the %(panel)d members of the tender panel has signed off that they "
                "took part in evaluating the bids as agreed; %(needed)s.",
                "%(count)d of the %(panel)d members of the tender panel have signed off that they "
                "took part in evaluating the bids as agreed; %(needed)s.",
                len(signed),
                count=len(signed),
                panel=len(panel),
                needed=ngettext_lazy(
                    "%(count)d is needed", "%(count)d are needed", needed, count=needed
                ),
            ),
            frozenset(panel - signed),
        )
    ]


STANDSTILL_HOLDS = ("standstill.running", "standstill.under_review")
"""The standstill codes that hold the gate: the contract cannot be awarded yet."""


def _papers(snapshot: StageSnapshot) -> list[Unmet]:
    return _decision_papers(snapshot.decision_meetings)


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _decision_papers(meetings: tuple[MeetingPapers, ...]) -> list[Unmet]:
    """Papers not sent, or sent less than seven days before the meeting (seed 001 L705)."""
    unmet = []
    missing = [m for m in meetings if m.papers_issued_on is None]
    late = [
        m
        for m in meetings
        if m.papers_issued_on is not None
        and (m.held_on - m.papers_issued_on).days < PAPERS_NOTICE_DAYS
    ]
    if missing:
        unmet.append(
            Unmet(
                "papers.not_issued",
                _(
                    "The papers for the decision meeting on %(days)s have not been sent to the "
                    "panel.",
                    days=", ".join(_day(m.held_on) for m in missing),
                ),
            )
        )
    if late:
        details = Joined(
            "; ",
            (
                _(
                    "the meeting on %(held)s had them on %(issued)s, %(days)d days before",
                    held=_day(m.held_on),
                    issued=_day(m.papers_issued_on),
                    days=(m.held_on - m.papers_issued_on).days,
                )
                for m in late
                if m.papers_issued_on is not None
            ),
        )
        unmet.append(
            Unmet(
                "papers.late",
                _(
                    "Decision papers reached the panel less than %(notice)d days before the "
                    "meeting (%(details)s), leaving too little time to prepare. A governance "
                    "board member may accept this with reasons.",
                    notice=PAPERS_NOTICE_DAYS,
                    details=details,
                ),
            )
        )
    return unmet


def _bound_by_agreement(snapshot: StageSnapshot) -> frozenset[int]:
    """Members whose attestation can count: once a working agreement is on record, its signers."""
    if snapshot.agreement_version is None:
        return snapshot.active_members
    return snapshot.agreement_signed_by


# The conditions a stage may ask for, one entry each ---------------------------------------------


@dataclass(frozen=True)
class UnmetCode:
    """One code a condition gives when unmet, and whether a governance board may waive it."""

    code: str
    must_record: str = ""
    """For a code no override can stand in for, what to record instead; empty when a board may
    depart from it with reasons."""


@dataclass(frozen=True)
class ConditionRule:
    """Everything about one condition a stage template may ask a gate to check.

    ``check`` is the rule over the snapshot; ``codes`` the unmet codes it gives; ``reads`` the
    :class:`StageSnapshot` fields it reads, which ``cycle.selectors`` fills for a gate that asks
    for it; ``unasked``, when given, says when the rule holds at a gate that does not ask for it.
    The stages that ask for it say so in ``cycle.stages`` (``exit_requires``, ``entry_requires``).
    """

    condition: Condition
    check: Callable[[StageSnapshot], list[Unmet]]
    codes: tuple[UnmetCode, ...]
    reads: tuple[str, ...]
    unasked: Callable[[StageSnapshot], bool] | None = None

    def applies(self, snapshot: StageSnapshot) -> bool:
        return self.condition in snapshot.requires or (
            self.unasked is not None and self.unasked(snapshot)
        )


def _agreement_on_record(snapshot: StageSnapshot) -> bool:
    # The working agreement binds every member at every stage once it is on record, newcomers
    # included; the stages that ask for it need it recorded.
    return snapshot.agreement_version is not None


CONDITIONS: dict[Condition, ConditionRule] = {
    rule.condition: rule
    for rule in (
        ConditionRule(
            Condition.WORKING_AGREEMENT,
            _working_agreement,
            (UnmetCode("agreement.unsigned"),),
            reads=("agreement_version", "agreement_signed_by"),
            unasked=_agreement_on_record,
        ),
        ConditionRule(
            Condition.INVOLVEMENT_LEAD,
            _involvement_lead,
            (UnmetCode("lead.missing", _("Name the cycle's involvement lead.")),),
            reads=("involvement_lead_named",),
        ),
        ConditionRule(
            Condition.CONFLICTS_DECLARED,
            _conflicts_declared,
            (
                UnmetCode(
                    "conflicts.undeclared",
                    _(
                        "Have every member of the tender panel declare their interests (a "
                        "declaration of none counts), or take them off the tender panel."
                    ),
                ),
            ),
            reads=("tender_panel", "conflicts_declared_by"),
        ),
        ConditionRule(
            Condition.INPUT_ANSWERED,
            _input_answered,
            (
                UnmetCode(
                    "input.unanswered",
                    _(
                        'Answer every input from the panel with "we did" or "we couldn\'t, '
                        'because …".'
                    ),
                ),
            ),
            reads=("unanswered_inputs",),
        ),
        ConditionRule(
            Condition.DECISION_PAPERS,
            _papers,
            (UnmetCode("papers.not_issued"), UnmetCode("papers.late")),
            reads=("decision_meetings",),
        ),
        ConditionRule(
            Condition.DUTY_ASSESSED,
            _duty_assessed,
            (
                UnmetCode(
                    "duty.missing",
                    _(
                        "Record a duty assessment: whether the duty to involve applies, under "
                        "which limb, and whether the overview and scrutiny committee must be "
                        "consulted."
                    ),
                ),
                UnmetCode(
                    "duty.stale",
                    _("Assess the duty to involve again, for the proposal as it now stands."),
                ),
            ),
            reads=("duty_assessment",),
        ),
        ConditionRule(
            Condition.AWARD_SETTLED,
            _award_settled,
            (
                UnmetCode(
                    "award.undecided",
                    _(
                        "Record the award decision at a decision meeting: a bid for each lot, or "
                        "no award, with reasons against the five key criteria."
                    ),
                ),
                UnmetCode(
                    "notice.unpublished",
                    _(
                        "Publish the notice of intention to award; the standstill starts the day "
                        "after."
                    ),
                ),
                UnmetCode(
                    "standstill.running",
                    _(
                        "Wait for the standstill to end: no override stands in for the time "
                        "providers have to make representations (Provider Selection Regime, reg "
                        "12)."
                    ),
                ),
                UnmetCode(
                    "standstill.under_review",
                    _(
                        "Review the decision after each representation, and wait 5 working days "
                        "after a decision to proceed (Provider Selection Regime, reg 12)."
                    ),
                ),
            ),
            reads=("tender",),
        ),
        ConditionRule(
            Condition.EVALUATION_SIGNED,
            _evaluation_signed,
            (UnmetCode("evaluation.unsigned"),),
            reads=("tender", "tender_panel", "signoffs"),
        ),
    )
}
"""One entry per condition, in the order the gate lists what is unmet. A new condition is a
member of :class:`Condition` and its entry here; the stages that ask for it name it in
``cycle.stages``, and ``cycle.selectors`` loads the snapshot fields it ``reads``."""


# Departing from a gate -------------------------------------------------------------------------

WAIVABLE = frozenset(
    {
        "boundaries.unacknowledged",
        "signoff.stale",
        "signoff.quorum",
        "signoff.dissent",
        *(code.code for rule in CONDITIONS.values() for code in rule.codes if not code.must_record),
    }
)
"""Conditions about people's availability or disagreement: a governance board may depart from
them with written reasons. Every other code, including any a stage adds later, cannot be waived."""

MUST_RECORD: dict[str, str] = {
    "panel.empty": _(
        "Put user representatives on the panel; no override stands in for an empty panel."
    ),
    "boundaries.missing": _(
        "Record the role boundaries for this stage: the purpose of involvement, the users' role "
        "and influence, and who decides."
    ),
    "budget.missing": _(
        "Disclose the budget, or record the reason it cannot be given (a withheld budget with its "
        "reason is a disclosure)."
    ),
    **{
        code.code: code.must_record
        for rule in CONDITIONS.values()
        for code in rule.codes
        if code.must_record
    },
    "consultation.unconsidered": _(
        "Record the analysis of each consultation's responses and a statement of how they were "
        "considered."
    ),
}
"""What must be recorded instead, for the conditions no override can stand in for."""


def waivable(code: str) -> bool:
    """Whether a governance board may depart from the condition ``code`` with reasons."""
    return code in WAIVABLE


def must_record(code: str) -> str:
    """What must be recorded to meet a condition that cannot be overridden."""
    return MUST_RECORD.get(code, _("Record what the condition asks for; it cannot be overridden."))


def override_covers(
    override: OverrideRecord, snapshot: StageSnapshot, unmet: list[Unmet] | tuple[Unmet, ...]
) -> bool:
    """Whether ``override`` stands for every condition in ``unmet``.

    It stands only against the boundary and budget versions it was recorded for, and for each
    unmet condition only if it named that condition (which must be one a board may waive) and
    the condition is unmet for no member it did not name then.
    """
    if (override.boundary_version, override.budget_version) != (
        snapshot.boundary_version,
        snapshot.budget_version,
    ):
        return False
    named: dict[str, frozenset[int]] = {}
    for departure in override.departures:
        named[departure.code] = named.get(departure.code, frozenset()) | departure.members
    return all(
        waivable(item.code) and item.code in named and item.members <= named[item.code]
        for item in unmet
    )


@dataclass(frozen=True)
class OverrideCheck:
    """What an override asked for now would depart from, or why it cannot be recorded."""

    departures: tuple[Departure, ...] = ()
    not_waivable: tuple[Unmet, ...] = ()
    """Unmet conditions no override can stand in for: the request is refused."""
    not_unmet: tuple[str, ...] = ()
    """Named conditions that are not unmet (or are unknown): the request is invalid."""

    @property
    def refusal_message(self) -> str:
        return Joined(
            " ",
            (
                _(
                    "%(code)s cannot be overridden: %(record)s",
                    code=item.code,
                    record=must_record(item.code),
                )
                for item in self.not_waivable
            ),
        )


def check_override(result: GateResult, codes: tuple[str, ...] | None = None) -> OverrideCheck:
    """Which departures an override naming ``codes`` (all unmet ones when None) would record.

    No override may be recorded while any condition that cannot be waived is unmet, whichever
    codes it names: the records come first.
    """
    not_waivable = tuple(item for item in result.unmet if not waivable(item.code))
    unmet_codes = set(result.codes)
    wanted = tuple(dict.fromkeys(codes)) if codes is not None else tuple(result.codes)
    not_unmet = tuple(code for code in wanted if code not in unmet_codes)
    departures = tuple(
        Departure(item.code, item.members) for item in result.unmet if item.code in wanted
    )
    return OverrideCheck(departures=departures, not_waivable=not_waivable, not_unmet=not_unmet)
