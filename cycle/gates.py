"""Involvement gate rules, as pure functions over a snapshot of one stage.

No ORM here: ``cycle.selectors.gate_snapshot`` builds a :class:`StageSnapshot` from the database
and :func:`evaluate` says whether the gate at the end of the stage is open, listing every unmet
condition with a stable code and a plain-English message. The three conditions that hold at every
stage (DOMAIN.md §3) are role boundaries agreed and acknowledged, budget disclosed, and a quorum of
the panel attesting against the current versions with no open dissent. Stages may add more
(``processes.stages``): a signed working agreement, a named involvement lead, declared conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Condition(StrEnum):
    """Extra conditions a stage template may ask a gate to check (see ``processes.stages``)."""

    WORKING_AGREEMENT = "working_agreement"
    INVOLVEMENT_LEAD = "involvement_lead"
    CONFLICTS_DECLARED = "conflicts_declared"
    INPUT_ANSWERED = "input_answered"


class SignoffKind(StrEnum):
    ATTEST = "attest"
    DISSENT = "dissent"


@dataclass(frozen=True)
class Signoff:
    """A representative's latest position on the current stage visit."""

    member_id: int
    kind: SignoffKind
    boundary_version: int | None
    budget_version: int | None


@dataclass(frozen=True)
class StageSnapshot:
    """Everything the gate needs to know about one stage visit, as plain values."""

    stage_key: str
    active_members: frozenset[int]
    boundary_version: int | None = None
    acknowledged_by: frozenset[int] = frozenset()
    budget_version: int | None = None
    signoffs: tuple[Signoff, ...] = ()
    requires: frozenset[str] = frozenset()
    agreement_signed_by: frozenset[int] = frozenset()
    involvement_lead_named: bool = False
    tender_panel: frozenset[int] = frozenset()
    conflicts_declared_by: frozenset[int] = frozenset()
    override_versions: tuple[int | None, int | None] | None = None
    """(boundary, budget) versions an override was recorded against, if there is one."""
    unanswered_inputs: int = 0
    """Input anywhere in the cycle without "we did" or "we couldn't" (still considering counts)."""


@dataclass(frozen=True)
class Unmet:
    code: str
    message: str

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


def _people(count: int) -> str:
    return "1 member" if count == 1 else f"{count} members"


def _have(count: int) -> str:
    return "has" if count == 1 else "have"


def evaluate(snapshot: StageSnapshot) -> GateResult:
    """Evaluate the gate at the end of ``snapshot.stage_key``."""
    unmet: list[Unmet] = []
    members = snapshot.active_members
    quorum = quorum_for(len(members))

    if not members:
        unmet.append(Unmet("panel.empty", "No user representatives are on the panel."))

    if snapshot.boundary_version is None:
        unmet.append(
            Unmet(
                "boundaries.missing",
                "Role boundaries for this stage have not been agreed: the purpose of involvement, "
                "the users' role and influence, and who decides.",
            )
        )
    else:
        waiting = members - snapshot.acknowledged_by
        if waiting:
            unmet.append(
                Unmet(
                    "boundaries.unacknowledged",
                    f"{_people(len(waiting))} of the panel {_have(len(waiting))} "
                    f"not acknowledged version {snapshot.boundary_version} of the role boundaries.",
                )
            )

    if snapshot.budget_version is None:
        unmet.append(
            Unmet(
                "budget.missing",
                "The budget has not been disclosed, nor a reason given for withholding it.",
            )
        )

    current: set[int] = set()
    stale: set[int] = set()
    dissenting: set[int] = set()
    for signoff in snapshot.signoffs:
        if signoff.member_id not in members:
            continue
        if signoff.kind is SignoffKind.DISSENT:
            dissenting.add(signoff.member_id)
        elif (
            signoff.boundary_version == snapshot.boundary_version
            and signoff.budget_version == snapshot.budget_version
            and snapshot.boundary_version is not None
            and snapshot.budget_version is not None
        ):
            if signoff.member_id in snapshot.acknowledged_by:
                current.add(signoff.member_id)
        else:
            stale.add(signoff.member_id)

    if members and len(current) < quorum:
        if stale:
            unmet.append(
                Unmet(
                    "signoff.stale",
                    f"{_people(len(stale))} signed off against an earlier budget or earlier role "
                    "boundaries; those sign-offs no longer count until they re-attest.",
                )
            )
        unmet.append(
            Unmet(
                "signoff.quorum",
                f"{len(current)} of {len(members)} panel members have attested against the current "
                f"boundaries and budget; {quorum} are needed.",
            )
        )
    if dissenting:
        unmet.append(
            Unmet(
                "signoff.dissent",
                f"{_people(len(dissenting))} recorded dissent: they say involvement did not happen "
                "as agreed. It must be withdrawn, or the gate overridden by a governance board "
                "member with written reasons.",
            )
        )

    unmet.extend(_stage_conditions(snapshot))

    overridden = snapshot.override_versions is not None and snapshot.override_versions == (
        snapshot.boundary_version,
        snapshot.budget_version,
    )
    return GateResult(
        unmet=tuple(unmet), overridden=overridden, attesting=frozenset(current), quorum=quorum
    )


def _stage_conditions(snapshot: StageSnapshot) -> list[Unmet]:
    unmet: list[Unmet] = []
    requires = snapshot.requires
    if Condition.WORKING_AGREEMENT in requires:
        unsigned = snapshot.active_members - snapshot.agreement_signed_by
        if unsigned:
            unmet.append(
                Unmet(
                    "agreement.unsigned",
                    f"{_people(len(unsigned))} of the panel {_have(len(unsigned))} "
                    "not signed the working agreement.",
                )
            )
    if Condition.INVOLVEMENT_LEAD in requires and not snapshot.involvement_lead_named:
        unmet.append(Unmet("lead.missing", "No involvement lead has been named for this cycle."))
    if Condition.CONFLICTS_DECLARED in requires:
        undeclared = snapshot.tender_panel - snapshot.conflicts_declared_by
        if undeclared:
            unmet.append(
                Unmet(
                    "conflicts.undeclared",
                    f"{_people(len(undeclared))} of the tender panel "
                    f"{_have(len(undeclared))} not declared their interests "
                    "(a declaration of none counts).",
                )
            )
    if Condition.INPUT_ANSWERED in requires and snapshot.unanswered_inputs:
        count = snapshot.unanswered_inputs
        unmet.append(
            Unmet(
                "input.unanswered",
                f"{count} {'input' if count == 1 else 'inputs'} from the panel "
                f'{"has" if count == 1 else "have"} no answer yet: each needs "we did" or '
                '"we couldn\'t, because …"; "still considering" is not an answer.',
            )
        )
    return unmet
