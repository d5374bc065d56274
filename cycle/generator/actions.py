"""What each action writes, as its service writes it: the rows, and one ledger event.

:class:`CycleActions` holds one cycle's records as the gate sees them and has one method per
service it stands in for, named as the service is (``boundaries_agree``, ``signoff_record``,
``stage_advance``). Each takes the values the service would be given, makes the rows the service
would make and the event it would append, with the payload built by the services' own builders
(``cycle.records``), and checks the gate with the services' own rules (``cycle.gates.evaluate``
on a ``StageSnapshot``). Nothing here is chosen at random: the story (``cycle.generator.story``)
decides what happens and when, and the parity test plays the services' story through these
methods.

Rows and events go into the cycle's own queue, stamped with their time, and come out in time
order (:meth:`CycleActions.drain`); a row changed later (a sign-off superseded, a visit closed) is
changed in place before it is written, so it is written once, in its final state.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission
from django.db import models
from guardian.ctypes import get_content_type
from guardian.utils import get_user_obj_perms_model

from cycle import duty, records
from cycle.actions import LedgerAction, Operation
from cycle.errors import GateClosed
from cycle.gates import (
    Departure,
    DutyAssessmentState,
    GateResult,
    OverrideRecord,
    SignOffKind,
    SignOffPosition,
    StageSnapshot,
    check_override,
    evaluate,
)
from cycle.models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    DutyAssessment,
    GateOverride,
    GateOverrideDeparture,
    InputResponse,
    Organisation,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from cycle.stages import StageTemplate
from roles.models import AgreementSignature, ConflictDeclaration, PanelMembership, WorkingAgreement

from .ids import Ids
from .writer import Event, Row


@dataclass
class Context:
    """What every cycle's actions share: the ids, the usernames, guardian's permission table."""

    ids: Ids
    usernames: dict[int, str]
    permission_model: type[models.Model]
    cycle_type_id: int
    lead_perm: int
    represent_perm: int

    @classmethod
    def load(cls, ids: Ids, usernames: dict[int, str]) -> Context:
        def perm(codename: str) -> int:
            return Permission.objects.get(content_type__app_label="cycle", codename=codename).pk

        return cls(
            ids=ids,
            usernames=usernames,
            permission_model=get_user_obj_perms_model(),
            cycle_type_id=get_content_type(CommissioningCycle).pk,
            lead_perm=perm("lead_cycle"),
            represent_perm=perm("represent_on_cycle"),
        )


@dataclass
class Member:
    user_id: int
    joined: float
    left: float | None
    tier: str
    tender_panel: bool
    represents: str
    reason: str = ""
    row: Row | None = None

    def active(self, at: float) -> bool:
        return self.joined <= at and (self.left is None or at < self.left)


@dataclass
class Current:
    """A member's latest position on the stage visit, as the gate sees it."""

    row: Row
    kind: SignOffKind
    boundary_version: int | None
    budget_version: int | None


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


class CycleActions:
    """One cycle's rows and events, written action by action as the services would."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.queue: list[tuple[float, int, Any]] = []
        self.counter = itertools.count()
        self.last_at = 0.0

    def begin(
        self,
        at: float,
        *,
        title: str,
        organisation: Organisation,
        service_area: str,
        template: StageTemplate,
        lead: int,
        involvement_lead: int,
        members: list[Member],
    ) -> None:
        """The cycle, who leads it, who will be named its involvement lead and who will sit on
        its panel. Its row is kept up to date as the actions go (its stage, its status) and
        written last, by :meth:`finish`."""
        self.cycle: Row = {
            "id": self.context.ids.take(CommissioningCycle),
            "title": title,
            "organisation_id": organisation.pk,
            "service_area": service_area,
            "lead_commissioner_id": lead,
            "involvement_lead_id": None,
            "template_key": template.key,
            "followed_by_process": False,
            "current_stage": template.first().key,
            "status": CommissioningCycle.Status.ACTIVE,
            "created_at": at,
            "updated_at": at,
        }
        self.template = template
        self.organisation = organisation.name
        self.lead = lead
        self.involvement_lead = involvement_lead
        self.members = members
        self.last_at = at
        # What the gates look at, as the story goes
        self.boundaries: dict[str, Row] = {}
        self.acks: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.budget: Row | None = None
        self.agreement: Row | None = None
        self.signed: set[int] = set()
        self.declared: set[int] = set()
        self.answers: list[float | None] = []
        self.decisions: list[Row] = []
        self.lead_named = False
        self.duty: Row | None = None
        self.next_visit_id: int | None = None

    # Scheduling: rows and events go into the cycle's own queue and come out in time order.

    def row(self, at: float, model: type[models.Model], **values: Any) -> Row:
        values.setdefault("id", self.context.ids.take(model))
        self.put(at, (model, values))
        return values

    def put(self, at: float, item: Any) -> None:
        heapq.heappush(self.queue, (at, next(self.counter), item))

    def event(
        self,
        at: float,
        actor_id: int | None,
        action: str,
        obj: tuple[type[models.Model], Row] | None,
        payload: dict[str, Any],
        stage_key: str | None = None,
        outcome: str = AuditEvent.Outcome.DONE,
    ) -> None:
        self.last_at = max(self.last_at, at)
        self.put(
            at,
            Event(
                at,
                actor_id,
                action,
                self.cycle["id"],
                self.visit["stage_key"] if stage_key is None else stage_key,
                _label(obj[0]) if obj is not None else "",
                obj[1]["id"] if obj is not None else None,
                payload,
                outcome,
            ),
        )

    def finish(self) -> tuple[float, tuple[type[models.Model], Row]]:
        """The cycle row, with the time of its last change: written after everything that names
        it (foreign keys are checked at commit)."""
        self.cycle["updated_at"] = self.last_at
        return self.last_at, (CommissioningCycle, self.cycle)

    def drain(self, before: float) -> Iterator[tuple[float, Any]]:
        """Rows and events due before ``before``, in time order. A callable in the queue runs
        when its time comes (it may cite what happened meanwhile) and queues what it writes."""
        waiting = self.queue
        while waiting and waiting[0][0] < before:
            at, _, item = heapq.heappop(waiting)
            if callable(item):
                item()
            else:
                yield at, item

    # What the gate sees

    def active(self, at: float) -> list[Member]:
        return [member for member in self.members if member.active(at)]

    def grant(self, user_id: int, permission_id: int) -> Row:
        context = self.context
        return {
            "id": context.ids.take(context.permission_model),
            "user_id": user_id,
            "permission_id": permission_id,
            "content_type_id": context.cycle_type_id,
            "object_pk": str(self.cycle["id"]),
        }

    def snapshot(self, at: float) -> StageSnapshot:
        key = self.visit["stage_key"]
        boundary = self.boundaries.get(key)
        version = boundary["version"] if boundary is not None else None
        active = self.active(at)
        return StageSnapshot(
            stage_key=key,
            active_members=frozenset(m.user_id for m in active),
            boundary_version=version,
            acknowledged_by=frozenset(self.acks[(key, version)]) if version else frozenset(),
            budget_version=self.budget["version"] if self.budget is not None else None,
            signoffs=tuple(
                SignOffPosition(member_id, s.kind, s.boundary_version, s.budget_version)
                for member_id, s in self.current.items()
            ),
            requires=self.template.gate_requires(key),
            agreement_version=self.agreement["version"] if self.agreement is not None else None,
            agreement_signed_by=frozenset(self.signed),
            involvement_lead_named=self.lead_named,
            tender_panel=frozenset(m.user_id for m in active if m.tender_panel),
            conflicts_declared_by=frozenset(self.declared),
            override=self.override_record,
            unanswered_inputs=sum(1 for when in self.answers if when is None or when > at),
            duty_assessment=(
                DutyAssessmentState.CURRENT
                if self.duty is not None
                else DutyAssessmentState.MISSING
            ),
        )

    def gate(self, at: float) -> GateResult:
        return evaluate(self.snapshot(at))

    # The cycle and its stages

    def stage_open(self, at: float, key: str, reason: str = "") -> Row:
        """A visit to ``key`` opens (the cycle's first, or the one an advance or reopening
        leads to); what the gate counted on the visit before stops counting."""
        visit_id, self.next_visit_id = self.next_visit_id, None
        self.visit = self.row(
            at,
            StageVisit,
            **({} if visit_id is None else {"id": visit_id}),
            **records.stage_visit_row(
                cycle=self.cycle["id"],
                stage_key=key,
                position=self.template.position(key),
                opened_by=self.lead,
                at=at,
                reason=reason,
            ),
            closed_at=None,
            closed_by_id=None,
            closure="",
        )
        self.cycle.update(current_stage=key, status=CommissioningCycle.Status.ACTIVE)
        self.current: dict[int, Current] = {}
        self.override_record: OverrideRecord | None = None
        return self.visit

    def cycle_create(self, at: float) -> None:
        context = self.context
        self.put(at, (context.permission_model, self.grant(self.lead, context.lead_perm)))
        self.event(
            at,
            self.lead,
            LedgerAction.CYCLE_CREATED,
            (CommissioningCycle, self.cycle),
            records.cycle_created(
                title=self.cycle["title"],
                organisation=self.organisation,
                lead=context.usernames[self.lead],
                template=self.template.key,
            ),
        )

    def involvement_lead_name(self, at: float) -> None:
        if self.lead_named:
            return
        self.lead_named = True
        self.cycle["involvement_lead_id"] = self.involvement_lead
        self.event(
            at,
            self.lead,
            LedgerAction.INVOLVEMENT_LEAD_NAMED,
            (CommissioningCycle, self.cycle),
            records.involvement_lead_named(lead=self.context.usernames[self.involvement_lead]),
        )

    def _close_visit(self, at: float, closure: str) -> None:
        self.visit.update(closed_at=at, closed_by_id=self.lead, closure=str(closure))

    def stage_advance(self, at: float) -> bool:
        """Leave the stage through its gate; a closed gate is refused, on the ledger, as the
        service refuses it. The next visit is opened by :meth:`stage_open`."""
        result = self.gate(at)
        key = self.visit["stage_key"]
        if not result.passable:
            self.event(
                at,
                self.lead,
                Operation.STAGE_ADVANCE,
                None,
                records.refused((LedgerAction.STAGE_ADVANCED,), GateClosed(result, key)),
                outcome=AuditEvent.Outcome.REFUSED,
            )
            return False
        closure = records.closure_of(result)
        self._close_visit(at, closure)
        self.visit["attesting"] = len(result.attesting)
        position = records.quorum_position(result)
        if position is not None:
            counted = sorted(
                (self.current[member_id].row for member_id in result.attesting),
                key=lambda row: (row["recorded_at"], row["id"]),
            )
            self.visit["quorum_signoff_id"] = counted[position]["id"]
        following = self.template.next_after(key)
        if following is None:
            self.cycle["status"] = CommissioningCycle.Status.COMPLETED
        self.event(
            at,
            self.lead,
            LedgerAction.STAGE_ADVANCED,
            (StageVisit, self.visit),
            records.stage_advanced(
                from_stage=key,
                to_stage=following.key if following else None,
                closure=closure,
                attesting=result.attesting,
                overridden_unmet=result.codes,
            ),
        )
        return True

    def stage_reopen(self, at: float, *, to_stage: str, reason: str) -> None:
        """Go back to ``to_stage``; the event names the visit :meth:`stage_open` opens next."""
        self._close_visit(at, StageVisit.Closure.REOPENED)
        self.next_visit_id = self.context.ids.take(StageVisit)
        self.event(
            at,
            self.lead,
            LedgerAction.STAGE_REOPENED,
            (StageVisit, {"id": self.next_visit_id}),
            records.stage_reopened(
                from_stage=self.visit["stage_key"], to_stage=to_stage, reason=reason
            ),
            stage_key=to_stage,
        )

    def gate_override(self, at: float, *, by: int, reason: str) -> bool:
        """A governance board member departs from every unmet condition a board may waive;
        nothing is written when one that may not be waived is unmet, or nothing is."""
        result = self.gate(at)
        check = check_override(result)
        if result.open or check.not_waivable or not check.departures:
            return False
        boundary = self.boundaries.get(self.visit["stage_key"])
        versions = (
            boundary["version"] if boundary is not None else None,
            self.budget["version"] if self.budget is not None else None,
        )
        row = self.row(
            at,
            GateOverride,
            **records.override_row(
                visit=self.visit["id"],
                cycle=self.cycle["id"],
                by=by,
                reason=reason,
                departs_from=records.departures_of(check),
                boundary_version=versions[0],
                budget_version=versions[1],
                at=at,
            ),
        )
        for code, member_id in records.override_departures(check):
            self.row(
                at, GateOverrideDeparture, override_id=row["id"], code=code, member_id=member_id
            )
        self.override_record = OverrideRecord(
            boundary_version=versions[0],
            budget_version=versions[1],
            departures=tuple(Departure(d.code, d.members) for d in check.departures),
        )
        self.event(
            at,
            by,
            LedgerAction.GATE_OVERRIDDEN,
            (GateOverride, row),
            records.gate_overridden(
                reason=reason,
                unmet=result.codes,
                departs_from=records.departures_of(check),
                boundary_version=versions[0],
                budget_version=versions[1],
            ),
        )
        return True

    # The panel

    def membership_add(self, at: float, member: Member) -> None:
        row = self.row(
            at,
            PanelMembership,
            **records.membership_row(
                cycle=self.cycle["id"],
                member=member.user_id,
                represents=member.represents,
                tier=member.tier,
                tender_panel=member.tender_panel,
                stage_key=self.visit["stage_key"],
                at=at,
            ),
            left_at=member.left,
            left_reason=member.reason,
        )
        member.row = row
        if member.left is None:
            grant = self.grant(member.user_id, self.context.represent_perm)
            self.put(at, (self.context.permission_model, grant))
        self.event(
            at,
            self.involvement_lead if self.lead_named else self.lead,
            LedgerAction.PANEL_JOINED,
            (PanelMembership, row),
            records.panel_joined(
                member=self.context.usernames[member.user_id],
                represents=member.represents,
                tier=member.tier,
                tender_panel=member.tender_panel,
            ),
        )

    def membership_leave(self, at: float, member: Member) -> None:
        """The member steps down (``member.reason`` says why)."""
        current = self.current.pop(member.user_id, None)
        assert member.row is not None
        member.left = member.row["left_at"] = at
        member.row["left_reason"] = member.reason
        self.event(
            at,
            member.user_id,
            LedgerAction.PANEL_LEFT,
            (PanelMembership, member.row),
            records.panel_left(
                member=self.context.usernames[member.user_id],
                reason=member.reason,
                stepped_down=True,
                had_open_dissent=current is not None and current.kind is SignOffKind.DISSENT,
            ),
        )

    def agreement_record(
        self, at: float, *, task: str, responsibilities: str, support: str
    ) -> None:
        """A new version of the working agreement, with the default expenses and ground rules."""
        self.agreement = row = self.row(
            at,
            WorkingAgreement,
            **records.working_agreement_row(
                cycle=self.cycle["id"],
                previous=self.agreement,
                task=task,
                responsibilities=responsibilities,
                support=support,
                recorded_by=self.lead,
                at=at,
            ),
        )
        version = row["version"]
        self.signed = set()
        self.event(
            at,
            self.lead,
            LedgerAction.AGREEMENT_RECORDED,
            (WorkingAgreement, row),
            records.agreement_recorded(
                version=version,
                task=task,
                responsibilities=responsibilities,
                support=support,
                expenses=row["expenses"],
                ground_rules=row["ground_rules"],
            ),
        )

    def agreement_sign(self, at: float, member: Member) -> None:
        if self.agreement is None or not member.active(at) or member.user_id in self.signed:
            return
        self.signed.add(member.user_id)
        row = self.row(
            at,
            AgreementSignature,
            agreement_id=self.agreement["id"],
            member_id=member.user_id,
            signed_at=at,
        )
        self.event(
            at,
            member.user_id,
            LedgerAction.AGREEMENT_SIGNED,
            (AgreementSignature, row),
            records.agreement_signed(version=self.agreement["version"]),
        )

    def conflict_declare(self, at: float, member: Member, *, interest: str, details: str) -> None:
        """A member declares their interests. Only members off the tender panel plan to bid here
        (the service would take a member on it off it)."""
        if not member.active(at) or member.user_id in self.declared:
            return
        self.declared.add(member.user_id)
        row = self.row(
            at,
            ConflictDeclaration,
            **records.conflict_declaration_row(
                cycle=self.cycle["id"],
                member=member.user_id,
                interest=interest,
                details=details,
                at=at,
            ),
        )
        self.event(
            at,
            member.user_id,
            LedgerAction.CONFLICT_DECLARED,
            (ConflictDeclaration, row),
            records.conflict_declared(interest=interest, details=details, left_tender_panel=False),
        )

    # Gate evidence

    def boundaries_agree(
        self,
        at: float,
        *,
        purpose: str,
        user_role: str,
        influence: str,
        decision_maker: str,
        commissioner_authority: str = "",
        fixed_matters: str = "",
        open_matters: str = "",
    ) -> None:
        key = self.visit["stage_key"]
        previous = self.boundaries.get(key)
        row = self.row(
            at,
            RoleBoundaryAgreement,
            **records.boundary_agreement_row(
                cycle=self.cycle["id"],
                stage_key=key,
                previous=previous,
                purpose=purpose,
                user_role=user_role,
                influence=influence,
                decision_maker=decision_maker,
                commissioner_authority=commissioner_authority,
                fixed_matters=fixed_matters,
                open_matters=open_matters,
                recorded_by=self.lead,
                at=at,
            ),
        )
        self.boundaries[key] = row
        self.event(
            at,
            self.lead,
            LedgerAction.BOUNDARIES_AGREED,
            (RoleBoundaryAgreement, row),
            records.boundaries_agreed(
                version=row["version"],
                influence=influence,
                decision_maker=decision_maker,
                unchanged=row["unchanged_from_previous"],
            ),
        )

    def boundaries_acknowledge(self, at: float, member: Member) -> None:
        key = self.visit["stage_key"]
        boundary = self.boundaries.get(key)
        if boundary is None or not member.active(at):
            return
        done = self.acks[(key, boundary["version"])]
        if member.user_id in done:
            return
        done.add(member.user_id)
        row = self.row(
            at,
            BoundaryAcknowledgement,
            agreement_id=boundary["id"],
            member_id=member.user_id,
            acknowledged_at=at,
        )
        self.event(
            at,
            member.user_id,
            LedgerAction.BOUNDARIES_ACKNOWLEDGED,
            (BoundaryAcknowledgement, row),
            records.boundaries_acknowledged(version=boundary["version"]),
        )

    def budget_disclose(
        self, at: float, *, amount: Decimal | None, constraints: str, withheld: str
    ) -> None:
        previous = self.budget
        voided = 0
        if previous is not None:
            voided = sum(
                1
                for s in self.current.values()
                if s.kind is SignOffKind.ATTEST and s.budget_version == previous["version"]
            )
        row = self.row(
            at,
            BudgetDisclosure,
            **records.budget_disclosure_row(
                cycle=self.cycle["id"],
                version=records.next_version(previous),
                amount=amount,
                currency="GBP",
                constraints=constraints,
                withheld_reason=withheld,
                signoffs_voided=voided,
                disclosed_by=self.lead,
                at=at,
            ),
        )
        self.budget = row
        self.event(
            at,
            self.lead,
            LedgerAction.BUDGET_DISCLOSED,
            (BudgetDisclosure, row),
            records.budget_disclosed(
                version=row["version"],
                amount=amount,
                currency=row["currency"],
                withheld=bool(withheld),
                previous_amount=previous["amount"] if previous is not None else None,
                signoffs_voided=voided,
                panel=(m.user_id for m in self.active(at)),
            ),
        )

    def signoff_record(self, at: float, member: Member, kind: SignOffKind, reasons: str) -> None:
        """An attestation (acknowledging the boundaries first where the member has not) or a
        dissent; an attestation that repeats the member's last one is not recorded again."""
        key = self.visit["stage_key"]
        boundary = self.boundaries.get(key)
        budget = self.budget
        if not member.active(at):
            return
        if kind is SignOffKind.ATTEST:
            if boundary is None or budget is None:
                return
            if member.user_id not in self.acks[(key, boundary["version"])]:
                self.boundaries_acknowledge(at, member)
        versions = (
            boundary["version"] if boundary is not None else None,
            budget["version"] if budget is not None else None,
        )
        earlier = self.current.get(member.user_id)
        if earlier is not None:
            if kind is earlier.kind is SignOffKind.ATTEST and versions == (
                earlier.boundary_version,
                earlier.budget_version,
            ):
                return  # already attested to exactly these versions
            earlier.row["superseded_at"] = at
        row = self.row(
            at,
            SignOff,
            **records.signoff_row(
                visit=self.visit["id"],
                cycle=self.cycle["id"],
                member=member.user_id,
                kind=kind.value,
                boundary=boundary["id"] if boundary is not None else None,
                budget=budget["id"] if budget is not None else None,
                reasons=reasons,
                at=at,
            ),
            superseded_at=None,
            withdrawn=False,
        )
        self.current[member.user_id] = Current(row, kind, *versions)
        self.event(
            at,
            member.user_id,
            LedgerAction.SIGNOFF_DISSENTED
            if kind is SignOffKind.DISSENT
            else LedgerAction.SIGNOFF_ATTESTED,
            (SignOff, row),
            records.signoff_recorded(
                boundary_version=versions[0], budget_version=versions[1], reasons=reasons
            ),
        )

    def dissent_withdraw(self, at: float, member: Member) -> bool:
        current = self.current.get(member.user_id)
        if current is None or current.kind is not SignOffKind.DISSENT:
            return False
        current.row["superseded_at"] = at
        current.row["withdrawn"] = True
        del self.current[member.user_id]
        self.event(
            at,
            member.user_id,
            LedgerAction.DISSENT_WITHDRAWN,
            (SignOff, current.row),
            records.dissent_withdrawn(),
        )
        return True

    def duty_assess(self, at: float, questions: duty.DutyQuestions, proposal: str) -> None:
        if self.duty is not None:
            return
        result = duty.assess(questions)
        columns = records.duty_assessment_row(
            cycle=self.cycle["id"],
            previous=None,
            stage_key=self.visit["stage_key"],
            proposal=proposal,
            proposal_version=0,  # no proposal changes are generated
            questions=questions,
            result=result,
            recorded_by=self.lead,
            at=at,
        )
        columns["rules"] = json.dumps(columns["rules"])  # written raw, as the JSON column holds it
        self.duty = row = self.row(at, DutyAssessment, **columns)
        self.event(
            at,
            self.lead,
            LedgerAction.DUTY_ASSESSED,
            (DutyAssessment, row),
            records.duty_assessed(
                version=row["version"],
                proposal_version=row["proposal_version"],
                questions=questions,
                result=result,
            ),
        )

    # Decisions and the influence register

    def decision_record(
        self,
        at: float,
        *,
        decided_by: int,
        summary: str,
        forum: str,
        veto_used: bool = False,
        veto_reason: str = "",
    ) -> Row:
        row = self.row(
            at,
            Decision,
            **records.decision_row(
                cycle=self.cycle["id"],
                visit=self.visit["id"],
                stage_key=self.visit["stage_key"],
                summary=summary,
                decided_by=decided_by,
                forum=forum,
                veto_used=veto_used,
                veto_reason=veto_reason,
                at=at,
            ),
        )
        self.decisions.append(row)
        self.event(
            at,
            decided_by,
            LedgerAction.DECISION_RECORDED,
            (Decision, row),
            records.decision_recorded(
                summary=summary,
                forum=forum,
                veto_used=veto_used,
                veto_reason=row["veto_reason"],
            ),
        )
        return row

    def input_submit(
        self,
        at: float,
        member: Member,
        *,
        source: str,
        method: str,
        text: str,
        answer: str | None,
        answered_at: float | None,
    ) -> Row:
        """Input from a member, its row written as it will end: ``answer``, the kind of the
        answer that ``answered_at`` will give (None: still awaiting one)."""
        row = self.row(
            at,
            UserInput,
            **records.input_row(
                cycle=self.cycle["id"],
                visit=self.visit["id"],
                stage_key=self.visit["stage_key"],
                submitted_by=member.user_id,
                source=source,
                method=method,
                text=text,
                attachment_reference="",
                at=at,
            ),
            status=answer if answered_at is not None else UserInput.Status.AWAITING.value,
            answered_at=answered_at,
            overdue_flagged_at=None,
        )
        self.answers.append(answered_at)
        self.event(
            at,
            member.user_id,
            LedgerAction.INPUT_SUBMITTED,
            (UserInput, row),
            records.input_submitted(
                source=source,
                method=method,
                text=text,
                attachment_reference=row["attachment_reference"],
            ),
        )
        return row

    def input_respond(
        self,
        at: float,
        user_input: Row,
        *,
        kind: str,
        text: str,
        previous: str,
        superseded: float | None = None,
        decision: Row | None = None,
    ) -> None:
        """The lead's response; ``previous``, the input's status before it, ``superseded``,
        when a later response replaces it."""
        row = self.row(
            at,
            InputResponse,
            **records.response_row(
                user_input=user_input["id"],
                cycle=self.cycle["id"],
                kind=kind,
                text=text,
                decision=decision["id"] if decision is not None else None,
                responded_by=self.lead,
                at=at,
            ),
            superseded_at=superseded,
        )
        self.event(
            at,
            self.lead,
            LedgerAction.INPUT_RESPONDED,
            (InputResponse, row),
            records.input_responded(
                input_id=user_input["id"],
                kind=kind,
                text=text,
                decision_id=row["decision_id"],
                previous=previous,
            ),
            stage_key=user_input["stage_key"],
        )
