"""Random sequences of operations, by random actors, never leave a stage without its gate.

Hypothesis draws lists of operations (role boundaries, budget, acknowledgement, attestation,
dissent and its withdrawal, panel changes, the working agreement, the involvement lead, declared
interests, the duty assessment and proposal changes, override, reopen, advance), each by the actor who may do it or, often, by one who may
not, and runs them through the services. Before every advance it works out from the stored rows
alone, independently of ``cycle.selectors`` and ``cycle.gates``, whether the gate's conditions hold
and whether an override stands: one recorded against the current boundaries and budget that named
every unmet condition, each one a board may waive, for every member it is unmet for now. The advance must succeed
exactly when one of them does, and must close the stage as 'passed' exactly when the conditions
hold. After every operation it checks that each stage visit ever closed as 'passed' was judged so
at the moment it was closed, that each 'overridden' one has its override on record, and that the
operation wrote at most one ledger event: one 'refused' event for a refusal, none for any other
failure.

Each run is a list of rounds: everyone does their part for the current gate (or all but one part),
a few random operations may spoil it, and someone tries to advance. So runs get past several
gates, and every advance meets a gate near the line between open and closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cycle import duty_services, services
from cycle.errors import Conflict, Forbidden, GateClosed, ServiceError
from cycle.gates import Condition
from cycle.models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    DutyAssessment,
    GateOverride,
    ProposalChange,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)
from cycle.stages import get_template
from roles import services as role_services
from roles.models import ConflictDeclaration, PanelMembership, WorkingAgreement
from tests.factories import CycleWorld, OrganisationFactory, commissioner, representative

STAGES = get_template("default").keys
INFLUENCES = RoleBoundaryAgreement.Influence.values
AMOUNTS = ("1200000", "800000.50", None)
ACTORS = ("lead", "governor", "outsider", "rep0", "rep1", "rep2", "rep3", "rep4")
REPRESENTATIVES = 5
WAIVABLE_BY_A_BOARD = {
    "boundaries.unacknowledged",
    "signoff.stale",
    "signoff.quorum",
    "signoff.dissent",
    "agreement.unsigned",
}
"""People's availability or disagreement (DOMAIN.md §3); never the records themselves."""


@dataclass(frozen=True)
class Judgement:
    """What the stored rows said, just before an advance."""

    held: bool
    override_stands: bool
    unmet: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One operation by one actor; ``choice`` picks a member, stage, amount or flag."""

    operation: str
    actor: str
    choice: int


class CycleDriver:
    """A cycle with a lead, a governance member, an outsider and five representatives.

    rep0-rep2 start on the panel, rep2 on its tender panel; rep3 and rep4 may join.
    """

    def __init__(self) -> None:
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.world = CycleWorld(panel_size=3)
        self.reps = [*self.world.panel, representative(), representative()]
        self.users = {
            "lead": self.world.lead,
            "governor": self.world.governor,
            "outsider": commissioner(OrganisationFactory()),
            **{f"rep{index}": user for index, user in enumerate(self.reps)},
        }
        role_services.membership_set_tender_panel(
            actor=self.world.lead, cycle_id=self.world.id, member=self.reps[2], tender_panel=True
        )
        self.judged: dict[int, Judgement] = {}

    def close(self) -> None:
        """Undo everything this run wrote."""
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @property
    def cycle_id(self) -> int:
        return self.world.id

    @staticmethod
    def last_seq() -> int:
        return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def call(self, service: Callable[..., Any], **kwargs: Any) -> ServiceError | None:
        """Call a service; check it wrote one event at most, and a refusal exactly one."""
        before = self.last_seq()
        try:
            service(cycle_id=self.cycle_id, **kwargs)
        except ServiceError as error:
            written = list(AuditEvent.objects.filter(seq__gt=before).values_list("outcome"))
            if isinstance(error, Forbidden | GateClosed):
                assert written == [("refused",)], error.code
            else:
                assert written == [], error.code
            return error
        written = list(AuditEvent.objects.filter(seq__gt=before).values_list("outcome"))
        assert written in ([], [("done",)]), written
        return None

    def run(self, step: Step) -> None:
        actor = self.users[step.actor]
        choice = step.choice
        lead = self.world.lead
        match step.operation:
            case "agree":
                self.agree(actor, INFLUENCES[choice % len(INFLUENCES)])
            case "acknowledge":
                self.call(services.boundaries_acknowledge, actor=actor)
            case "disclose":
                self.disclose(actor, AMOUNTS[choice % len(AMOUNTS)])
            case "attest":
                self.call(services.signoff_record, actor=actor)
            case "dissent":
                self.call(services.signoff_record, actor=actor, dissent="Not involved as agreed.")
            case "withdraw":
                self.call(services.dissent_withdraw, actor=actor)
            case "join":
                member = self.reps[choice % REPRESENTATIVES]
                tender_panel = choice // REPRESENTATIVES % 2 == 1
                self.call(
                    role_services.membership_add,
                    actor=actor,
                    member=member,
                    tender_panel=tender_panel,
                )
            case "leave":
                member = self.reps[choice % REPRESENTATIVES]
                self.call(role_services.membership_remove, actor=actor, member=member)
            case "agreement":
                self.record_agreement(actor)
            case "sign":
                self.call(role_services.agreement_sign, actor=actor)
            case "name-lead":
                self.call(services.involvement_lead_name, actor=actor, lead=lead)
            case "declare":
                self.call(role_services.conflict_declare, actor=actor, interest="none")
            case "override":
                # Mostly departing from everything unmet; sometimes from an open dissent only.
                codes = ("signoff.dissent",) if choice % 4 == 0 else None
                self.call(
                    services.gate_override, actor=actor, reason="Statutory deadline.", codes=codes
                )
            case "reopen":
                stage = STAGES[choice % len(STAGES)]
                self.call(services.stage_reopen, actor=actor, stage_key=stage, reason="Redo.")
            case "assess":
                self.assess(actor)
            case "proposal":
                self.call(
                    duty_services.proposal_change_record,
                    actor=actor,
                    summary="Two hubs instead of three.",
                )
            case "meet-gate":
                self.meet_gate(choice)
            case "tender-panel":
                self.call(
                    role_services.membership_set_tender_panel,
                    actor=actor,
                    member=self.reps[choice % REPRESENTATIVES],
                    tender_panel=choice // REPRESENTATIVES % 2 == 0,
                )
            case "advance":
                self.advance(step.actor)
            case _:  # pragma: no cover - every operation is listed in OPERATIONS
                raise ValueError(step.operation)

    def agree(self, actor: Any, influence: str) -> None:
        self.call(
            services.boundaries_agree,
            actor=actor,
            purpose="Shape the service with people who use it.",
            user_role="Co-author the outcomes.",
            influence=influence,
            decision_maker="The cabinet member.",
        )

    def disclose(self, actor: Any, amount: str | None) -> None:
        self.call(
            services.budget_disclose,
            actor=actor,
            amount=amount,
            withheld_reason="" if amount else "Commercially sensitive until tender.",
        )

    def assess(self, actor: Any) -> None:
        self.call(
            duty_services.duty_assess,
            actor=actor,
            proposal="Re-design day services as hubs.",
            body_type="icb",
            activity="proposals",
            affects_delivery=True,
        )

    def record_agreement(self, actor: Any) -> None:
        self.call(
            role_services.agreement_record,
            actor=actor,
            task="Help re-design day services.",
            responsibilities="Attend and read the papers.",
            support="A buddy and plain-English papers.",
        )

    def meet_gate(self, choice: int) -> None:
        """Everyone does their part for the current gate, as themselves, through the services.

        For half the choices one part is left out, so that the gate is met but for one condition:
        the duty to involve is not assessed (9), a member neither acknowledges nor attests (10-12), too few attest (13, 14), the tender
        panel does not declare (15), a member does not sign the working agreement (16), the
        involvement lead is not named (17), no new boundaries are agreed (18), or a member
        dissents at the end (19).
        """
        cycle = CommissioningCycle.objects.get(pk=self.cycle_id)
        requires = get_template(cycle.template_key).gate_requires(cycle.current_stage)
        lead = self.world.lead
        if choice != 18:
            self.agree(lead, "influence")
        if not BudgetDisclosure.objects.filter(cycle=cycle).exists():
            self.disclose(lead, "1200000")
        if Condition.WORKING_AGREEMENT in requires:
            self.record_agreement(lead)
        if Condition.INVOLVEMENT_LEAD in requires and choice != 17:
            self.call(services.involvement_lead_name, actor=lead, lead=lead)
        if Condition.DUTY_ASSESSED in requires and choice != 9:
            self.assess(lead)
        agreement_on_record = WorkingAgreement.objects.filter(cycle=cycle).exists()
        by_id = {user.pk: user for user in self.reps}
        memberships = PanelMembership.objects.filter(cycle=cycle, left_at__isnull=True)
        for index, membership in enumerate(memberships.order_by("id")):
            member = by_id[membership.member_id]
            if choice in (10, 11, 12) and index == choice - 10:
                continue
            self.call(services.boundaries_acknowledge, actor=member)
            binds = Condition.WORKING_AGREEMENT in requires or agreement_on_record
            if binds and not (choice == 16 and index == 0):
                self.call(role_services.agreement_sign, actor=member)
            declares = Condition.CONFLICTS_DECLARED in requires and membership.tender_panel
            if declares and choice != 15:
                self.call(role_services.conflict_declare, actor=member, interest="none")
            if choice == 14 or (choice == 13 and index > 0):
                continue
            self.call(services.signoff_record, actor=member)
        if choice == 19 and memberships:
            dissenter = by_id[memberships.order_by("id")[0].member_id]
            self.call(services.signoff_record, actor=dissenter, dissent="Papers came too late.")

    def advance(self, actor: str) -> None:
        judgement = self.judge()
        visit = StageVisit.objects.filter(cycle_id=self.cycle_id, closed_at__isnull=True).first()

        error = self.call(services.stage_advance, actor=self.users[actor])

        if actor != "lead":
            assert isinstance(error, Forbidden), error
            return
        if judgement is None:  # the cycle is completed
            assert isinstance(error, Conflict) and error.code == "cycle.completed", error
            return
        assert visit is not None
        may_pass = judgement.held or judgement.override_stands
        if error is not None:
            assert isinstance(error, GateClosed), error
            assert not may_pass, f"refused although {judgement} ({error.result.codes})"
            return
        assert may_pass, f"advanced although {judgement.unmet} were unmet and no override stood"
        visit.refresh_from_db()
        expected = StageVisit.Closure.PASSED if judgement.held else StageVisit.Closure.OVERRIDDEN
        assert visit.closure == expected
        self.judged[visit.pk] = judgement

    # --- the independent judge -----------------------------------------------------------------

    def judge(self) -> Judgement | None:
        """Whether the open stage's gate conditions hold, and whether an override stands for
        every one that does not, worked out from the stored rows."""
        cycle = CommissioningCycle.objects.get(pk=self.cycle_id)
        visit = StageVisit.objects.filter(cycle=cycle, closed_at__isnull=True).first()
        if visit is None:
            return None
        memberships = list(PanelMembership.objects.filter(cycle=cycle, left_at__isnull=True))
        members = {m.member_id for m in memberships}
        joined = {m.member_id: m.joined_at for m in memberships}
        # Each unmet condition, by its gate code, with the members it is unmet for.
        unmet: dict[str, set[int]] = {}
        if not members:
            unmet["panel.empty"] = set()

        boundaries = (
            RoleBoundaryAgreement.objects.filter(cycle=cycle, stage_key=visit.stage_key)
            .order_by("-version")
            .first()
        )
        acknowledged: set[int] = set()
        if boundaries is None:
            unmet["boundaries.missing"] = set()
        else:
            acknowledged = set(
                BoundaryAcknowledgement.objects.filter(agreement=boundaries).values_list(
                    "member_id", flat=True
                )
            )
            if members - acknowledged:
                unmet["boundaries.unacknowledged"] = members - acknowledged
        budget = BudgetDisclosure.objects.filter(cycle=cycle).order_by("-version").first()
        if budget is None:
            unmet["budget.missing"] = set()

        # The working agreement on record binds every member at every stage.
        agreement = WorkingAgreement.objects.filter(cycle=cycle).order_by("-version").first()
        signed = (
            set(agreement.signatures.values_list("member_id", flat=True))
            if agreement is not None
            else set()
        )
        requires = get_template(cycle.template_key).gate_requires(visit.stage_key)
        if (agreement is not None or Condition.WORKING_AGREEMENT in requires) and members - signed:
            unmet["agreement.unsigned"] = members - signed

        positions = [
            signoff
            for signoff in SignOff.objects.filter(
                visit=visit, superseded_at__isnull=True, withdrawn=False
            )
            if signoff.member_id in members and signoff.recorded_at >= joined[signoff.member_id]
        ]
        on_current_versions = {
            signoff.member_id
            for signoff in positions
            if signoff.kind == SignOff.Kind.ATTEST
            and boundaries is not None
            and budget is not None
            and signoff.boundary_id == boundaries.pk
            and signoff.budget_id == budget.pk
        }
        attesting = {
            member
            for member in on_current_versions
            if member in acknowledged and (agreement is None or member in signed)
        }
        stale = {
            signoff.member_id
            for signoff in positions
            if signoff.kind == SignOff.Kind.ATTEST and signoff.member_id not in on_current_versions
        }
        if members and len(attesting) < max(1, len(members) // 2 + 1):
            if stale:
                unmet["signoff.stale"] = stale
            unmet["signoff.quorum"] = members - attesting
        dissenting = {s.member_id for s in positions if s.kind == SignOff.Kind.DISSENT}
        if dissenting:
            unmet["signoff.dissent"] = dissenting

        for condition in sorted(requires):
            if condition == Condition.WORKING_AGREEMENT:
                pass  # checked above, with the agreement that binds at every stage
            elif condition == Condition.INVOLVEMENT_LEAD:
                if cycle.involvement_lead_id is None:
                    unmet["lead.missing"] = set()
            elif condition == Condition.CONFLICTS_DECLARED:
                scorers = {m.member_id for m in memberships if m.tender_panel}
                declared = set(
                    ConflictDeclaration.objects.filter(cycle=cycle).values_list(
                        "member_id", flat=True
                    )
                )
                if scorers - declared:
                    unmet["conflicts.undeclared"] = scorers - declared
            elif condition == Condition.INPUT_ANSWERED:
                pass  # this machine submits no user input, so none is unanswered
            elif condition == Condition.DUTY_ASSESSED:
                # Current while no proposal change came after the latest assessment.
                latest = DutyAssessment.objects.filter(cycle=cycle).order_by("-version").first()
                changes = ProposalChange.objects.filter(cycle=cycle).count()
                if latest is None:
                    unmet["duty.missing"] = set()
                elif latest.proposal_version < changes:
                    unmet["duty.stale"] = set()
            else:  # pragma: no cover - a new condition must be taught to this judge
                pytest.fail(f"this test does not know the gate condition {condition!r}")

        # An override stands only against the versions it was recorded for, only for the
        # conditions a board may waive, and only for those it named, for the members it named.
        override = GateOverride.objects.filter(visit=visit).order_by("-id").first()
        override_stands = False
        if override is not None and (override.boundary_version, override.budget_version) == (
            boundaries.version if boundaries is not None else None,
            budget.version if budget is not None else None,
        ):
            named: dict[str, set[int]] = {}
            for code, member_id in override.departures.values_list("code", "member_id"):
                named.setdefault(code, set()).update([member_id] if member_id else [])
            override_stands = all(
                code in WAIVABLE_BY_A_BOARD and code in named and subject <= named[code]
                for code, subject in unmet.items()
            )
        return Judgement(held=not unmet, override_stands=override_stands, unmet=tuple(unmet))

    # --- after every operation ------------------------------------------------------------------

    def check(self) -> None:
        cycle = CommissioningCycle.objects.get(pk=self.cycle_id)
        visits = list(StageVisit.objects.filter(cycle=cycle))
        for visit in visits:
            if visit.closure == StageVisit.Closure.PASSED:
                assert visit.pk in self.judged and self.judged[visit.pk].held, visit
            elif visit.closure == StageVisit.Closure.OVERRIDDEN:
                judgement = self.judged.get(visit.pk)
                assert judgement is not None and judgement.override_stands, visit
                assert GateOverride.objects.filter(visit=visit).exists(), visit
            elif visit.closed_at is not None:
                assert visit.closure == StageVisit.Closure.REOPENED, visit

        through_gate = (StageVisit.Closure.PASSED, StageVisit.Closure.OVERRIDDEN)
        left = [visit for visit in visits if visit.closure in through_gate]
        advanced = AuditEvent.objects.filter(cycle=cycle, action="stage.advanced", outcome="done")
        assert advanced.count() == len(left)

        open_stages = [visit.stage_key for visit in visits if visit.closed_at is None]
        if cycle.status == CommissioningCycle.Status.ACTIVE:
            assert open_stages == [cycle.current_stage]
        else:
            assert open_stages == []


# Operations that may spoil a met gate, by weight: those that touch the three records more often.
SPOILERS = {
    "disclose": ("lead", 3),
    "agree": ("lead", 3),
    "override": ("governor", 3),
    "dissent": ("member", 2),
    "join": ("lead", 2),
    "leave": ("lead", 2),
    "acknowledge": ("member", 1),
    "attest": ("member", 1),
    "withdraw": ("member", 1),
    "reopen": ("lead", 1),
    "agreement": ("lead", 1),
    "sign": ("member", 1),
    "name-lead": ("lead", 1),
    "declare": ("member", 1),
    "tender-panel": ("lead", 1),
    "proposal": ("lead", 2),
    "assess": ("lead", 1),
    "advance": ("lead", 1),
}
RIGHT_ACTORS = {
    "lead": ("lead", "lead", "lead"),
    "governor": ("governor", "governor", "governor"),
    "member": ("rep0", "rep1", "rep2"),
}


def spoiler() -> st.SearchStrategy[Step]:
    weighted = [name for name, (_, weight) in SPOILERS.items() for _ in range(weight)]

    def by_someone(operation: str) -> st.SearchStrategy[Step]:
        # Mostly someone who may do it; often someone who may not.
        actors = RIGHT_ACTORS[SPOILERS[operation][0]] + ACTORS
        return st.builds(
            Step,
            operation=st.just(operation),
            actor=st.sampled_from(actors),
            choice=st.integers(min_value=0, max_value=19),
        )

    return st.sampled_from(weighted).flatmap(by_someone)


def round_of_operations() -> st.SearchStrategy[list[Step]]:
    """Meet the current gate (perhaps but for one condition), spoil it a little, try to advance.

    Every round puts the gate near the line between open and closed before an advance, which is
    where a wrong rule would show.
    """
    return st.builds(
        lambda choice, spoilers, advancer: [
            Step("meet-gate", "lead", choice),
            *spoilers,
            Step("advance", advancer, 0),
        ],
        st.integers(min_value=0, max_value=19),
        st.lists(spoiler(), max_size=4),
        st.sampled_from(("lead", "lead", "lead", "lead", "rep0", "governor")),
    )


def operation_lists() -> st.SearchStrategy[list[Step]]:
    return st.lists(round_of_operations(), min_size=3, max_size=8).map(
        lambda rounds: [step for round_ in rounds for step in round_]
    )


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(operations=operation_lists())
def test_random_operations_never_leave_a_stage_without_its_gate(operations: list[Step]) -> None:
    driver = CycleDriver()
    try:
        for step in operations:
            driver.run(step)
            driver.check()
    finally:
        driver.close()
