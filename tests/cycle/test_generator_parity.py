"""One story, played through the services and through the generator's actions, leaves the same
ledger: the same events in the same order, with the same payloads, apart from ids and times.

The story is written once (:func:`play`) against two players with the same steps: one calls the
services as the people in it, the other calls ``cycle.generator.actions.CycleActions`` (what
``manage.py generate`` writes for each action) and writes its rows and events through the
generator's own writer. It takes in what the generator does: a panel joining, the working
agreement, boundaries agreed (once more, unchanged) and acknowledged, the budget disclosed and
then cut (voiding the attestations given), attestations, a dissent withdrawn, a refused advance,
the duty assessed, input answered with a decision, a member leaving with a dissent open, a
governance override, advances and a reopening.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any, Protocol

import pytest

from cycle import duty, ledger, services
from cycle.actions import LedgerAction
from cycle.errors import GateClosed
from cycle.gates import SignOffKind
from cycle.generator import run
from cycle.generator.actions import Context, CycleActions, Member
from cycle.generator.writer import Writer
from cycle.models import AuditEvent, CommissioningCycle, Organisation, UserInput
from cycle.stages import get_template
from roles import definitions
from roles import services as role_services
from roles.models import PanelMembership
from tests.factories import (
    OrganisationFactory,
    assess_duty,
    commissioner,
    governance_member,
    representative,
    user_with_role,
)

pytestmark = pytest.mark.django_db

TITLE = "Day services re-commissioning"
TERMS = {
    "purpose": "Shape the service specification with people who use day services.",
    "user_role": "Co-author the outcomes section; comment on the rest.",
    "influence": "influence",
    "decision_maker": "The council's cabinet member for adult social care.",
    "commissioner_authority": "Recommends; can change the specification within the budget.",
    "fixed_matters": "The total budget and the tender timetable.",
    "open_matters": "Outcomes, locations and opening hours.",
}
AGREEMENT = {
    "task": "Help re-design day services.",
    "responsibilities": "Attend, read papers, speak for the group.",
    "support": "Pre-meetings, a buddy, papers in plain English.",
}
PROPOSAL = "Re-commission day services across the borough."


class People:
    """Everyone in the story, the same people for both players."""

    def __init__(self) -> None:
        self.organisation: Organisation = OrganisationFactory()
        self.lead = commissioner(self.organisation)
        self.panel = [representative() for _ in range(3)]
        self.governor = governance_member(self.organisation)
        self.decider = user_with_role(definitions.DECISION_MAKER)
        self.organisation.staff.add(self.decider)


class Player(Protocol):
    def create(self) -> None: ...
    def name_lead(self) -> None: ...
    def join(self, member: int, represents: str, tier: str, tender_panel: bool) -> None: ...
    def leave(self, member: int, reason: str) -> None: ...
    def record_agreement(self) -> None: ...
    def sign(self, member: int) -> None: ...
    def declare(self, member: int) -> None: ...
    def agree(self, **terms: str) -> None: ...
    def acknowledge(self, member: int) -> None: ...
    def disclose(self, amount: str, constraints: str = "") -> None: ...
    def attest(self, member: int) -> None: ...
    def dissent(self, member: int, reasons: str) -> None: ...
    def withdraw(self, member: int) -> None: ...
    def advance(self) -> bool: ...
    def override(self, reason: str) -> None: ...
    def reopen(self, stage_key: str, reason: str) -> None: ...
    def assess_duty(self) -> None: ...
    def submit(self, member: int, text: str) -> None: ...
    def decide(self, summary: str, forum: str) -> None: ...
    def respond(self, kind: str, text: str) -> None: ...
    def ledger(self) -> list[tuple[Any, ...]]: ...


def play(story: Player) -> None:
    """The story, told once: ``story`` is told each step and does it its own way."""
    forum, reference = PanelMembership.Tier.DECISION_FORUM, PanelMembership.Tier.REFERENCE_GROUP
    story.create()
    story.name_lead()
    story.join(0, "People who use the service", forum, False)
    story.join(1, "Carers", reference, False)
    story.join(2, "Healthwatch", reference, True)
    story.record_agreement()
    for member in range(3):
        story.sign(member)
    story.declare(2)
    story.agree(**TERMS)
    for member in range(3):
        story.acknowledge(member)
    story.disclose("1200000.00", "Recurrent funding; no growth this year.")
    story.attest(0)
    story.attest(1)
    story.dissent(2, "The papers came two days before the meeting.")
    assert not story.advance()  # the dissent holds the gate
    story.withdraw(2)
    story.attest(2)
    story.disclose("950000.00", "Cut in the budget round after the panel signed off.")
    story.agree(**TERMS)  # the same terms again: unchanged from the version before
    for member in range(3):
        story.acknowledge(member)
        story.attest(member)
    assert story.advance()  # framework -> needs
    story.agree(**{**TERMS, "influence": "consult"})
    for member in range(3):
        story.acknowledge(member)
    story.assess_duty()
    story.submit(0, "Meetings in the daytime exclude people in work.")
    story.decide("Priorities agreed for the next stage.", "Board meeting")
    story.respond("we-did", "Evening meetings added.")
    story.dissent(1, "Nobody told us the budget had changed until after the meeting.")
    story.leave(1, "Moved out of the area.")
    story.attest(0)
    story.dissent(2, "The options were fixed before we saw them.")
    assert not story.advance()  # a dissent, and no quorum of the two left
    story.override("The contract end date cannot move; the dissent goes to the next review.")
    assert story.advance()  # needs -> review, overridden
    story.reopen("needs", "The needs assessment missed a group of users.")


def _normalised(cycle_id: int) -> list[tuple[Any, ...]]:
    """The cycle's events, in order, without ids and times: the rows an event names are given
    by their order of first appearance in the story (the users are the same on both sides)."""
    numbers: dict[str, dict[int, int]] = defaultdict(dict)
    events = []
    for action, outcome, stage_key, actor_id, object_type, payload in (
        AuditEvent.objects.filter(cycle_id=cycle_id)
        .order_by("seq")
        .values_list("action", "outcome", "stage_key", "actor_id", "object_type", "payload")
    ):
        body = json.loads(payload)
        if action == LedgerAction.INPUT_RESPONDED:
            for key in ("input", "decision"):
                if body[key] is not None:
                    body[key] = numbers[key].setdefault(body[key], len(numbers[key]))
        events.append((action, outcome, stage_key, actor_id, object_type, body))
    return events


class ThroughServices:
    """Each step as the people in it would take it: a service call, as them."""

    def __init__(self, people: People) -> None:
        self.people = people
        self.panel = people.panel
        self.lead = people.lead

    @property
    def id(self) -> int:
        return self.cycle.pk

    def create(self) -> None:
        self.cycle = services.cycle_create(
            actor=self.lead,
            title=TITLE,
            organisation=self.people.organisation,
            lead=self.lead,
            service_area="Learning disability day opportunities",
        )

    def name_lead(self) -> None:
        services.involvement_lead_name(actor=self.lead, cycle_id=self.id, lead=self.lead)

    def join(self, member: int, represents: str, tier: str, tender_panel: bool) -> None:
        role_services.membership_add(
            actor=self.lead,
            cycle_id=self.id,
            member=self.panel[member],
            represents=represents,
            tier=tier,
            tender_panel=tender_panel,
        )

    def leave(self, member: int, reason: str) -> None:
        role_services.membership_leave(actor=self.panel[member], cycle_id=self.id, reason=reason)

    def record_agreement(self) -> None:
        role_services.agreement_record(actor=self.lead, cycle_id=self.id, **AGREEMENT)

    def sign(self, member: int) -> None:
        role_services.agreement_sign(actor=self.panel[member], cycle_id=self.id)

    def declare(self, member: int) -> None:
        role_services.conflict_declare(actor=self.panel[member], cycle_id=self.id, interest="none")

    def agree(self, **terms: str) -> None:
        services.boundaries_agree(actor=self.lead, cycle_id=self.id, **terms)

    def acknowledge(self, member: int) -> None:
        services.boundaries_acknowledge(actor=self.panel[member], cycle_id=self.id)

    def disclose(self, amount: str, constraints: str = "") -> None:
        services.budget_disclose(
            actor=self.lead, cycle_id=self.id, amount=amount, constraints=constraints
        )

    def attest(self, member: int) -> None:
        services.signoff_record(actor=self.panel[member], cycle_id=self.id)

    def dissent(self, member: int, reasons: str) -> None:
        services.signoff_record(actor=self.panel[member], cycle_id=self.id, dissent=reasons)

    def withdraw(self, member: int) -> None:
        services.dissent_withdraw(actor=self.panel[member], cycle_id=self.id)

    def advance(self) -> bool:
        try:
            services.stage_advance(actor=self.lead, cycle_id=self.id)
        except GateClosed:
            return False
        return True

    def override(self, reason: str) -> None:
        services.gate_override(actor=self.people.governor, cycle_id=self.id, reason=reason)

    def reopen(self, stage_key: str, reason: str) -> None:
        services.stage_reopen(actor=self.lead, cycle_id=self.id, stage_key=stage_key, reason=reason)

    def assess_duty(self) -> None:
        assess_duty(self.lead, self.id, proposal=PROPOSAL)

    def submit(self, member: int, text: str) -> None:
        self.input = services.input_submit(actor=self.panel[member], cycle_id=self.id, text=text)

    def decide(self, summary: str, forum: str) -> None:
        self.decision = services.decision_record(
            actor=self.people.decider, cycle_id=self.id, summary=summary, forum=forum
        )

    def respond(self, kind: str, text: str) -> None:
        services.input_respond(
            actor=self.lead,
            cycle_id=self.id,
            input_id=self.input.pk,
            kind=kind,
            text=text,
            decision_id=self.decision.pk,
        )

    def ledger(self) -> list[tuple[Any, ...]]:
        return _normalised(self.id)


class ThroughGenerator:
    """Each step as ``manage.py generate`` writes it, a minute after the one before."""

    def __init__(self, people: People) -> None:
        self.people = people
        everyone = [people.lead, people.governor, people.decider, *people.panel]
        self.actions = CycleActions(
            Context.load(run.ids(), {user.pk: user.get_username() for user in everyone})
        )
        self.at = time.time() - 30 * 86400
        self.members: list[Member] = []

    def tick(self) -> float:
        self.at += 60
        return self.at

    def member(self, number: int) -> Member:
        return self.members[number]

    def create(self) -> None:
        at = self.tick()
        template = get_template("default")
        self.actions.begin(
            at,
            title=TITLE,
            organisation=self.people.organisation,
            service_area="Learning disability day opportunities",
            template=template,
            lead=self.people.lead.pk,
            involvement_lead=self.people.lead.pk,
            members=self.members,
        )
        self.actions.stage_open(at, template.first().key)
        self.actions.cycle_create(at)

    def name_lead(self) -> None:
        self.actions.involvement_lead_name(self.tick())

    def join(self, member: int, represents: str, tier: str, tender_panel: bool) -> None:
        at = self.tick()
        joining = Member(self.people.panel[member].pk, at, None, tier, tender_panel, represents)
        self.members.append(joining)
        self.actions.membership_add(at, joining)

    def leave(self, member: int, reason: str) -> None:
        self.member(member).reason = reason
        self.actions.membership_leave(self.tick(), self.member(member))

    def record_agreement(self) -> None:
        self.actions.agreement_record(self.tick(), **AGREEMENT)

    def sign(self, member: int) -> None:
        self.actions.agreement_sign(self.tick(), self.member(member))

    def declare(self, member: int) -> None:
        self.actions.conflict_declare(self.tick(), self.member(member), interest="none", details="")

    def agree(self, **terms: str) -> None:
        self.actions.boundaries_agree(self.tick(), **terms)

    def acknowledge(self, member: int) -> None:
        self.actions.boundaries_acknowledge(self.tick(), self.member(member))

    def disclose(self, amount: str, constraints: str = "") -> None:
        self.actions.budget_disclose(
            self.tick(), amount=Decimal(amount), constraints=constraints, withheld=""
        )

    def attest(self, member: int) -> None:
        self.actions.signoff_record(self.tick(), self.member(member), SignOffKind.ATTEST, "")

    def dissent(self, member: int, reasons: str) -> None:
        self.actions.signoff_record(self.tick(), self.member(member), SignOffKind.DISSENT, reasons)

    def withdraw(self, member: int) -> None:
        self.actions.dissent_withdraw(self.tick(), self.member(member))

    def advance(self) -> bool:
        at = self.tick()
        if not self.actions.stage_advance(at):
            return False
        following = self.actions.template.next_after(self.actions.visit["stage_key"])
        if following is not None:
            self.actions.stage_open(at, following.key)
        return True

    def override(self, reason: str) -> None:
        assert self.actions.gate_override(self.tick(), by=self.people.governor.pk, reason=reason)

    def reopen(self, stage_key: str, reason: str) -> None:
        at = self.tick()
        self.actions.stage_reopen(at, to_stage=stage_key, reason=reason)
        self.actions.stage_open(at, stage_key, reason)

    def assess_duty(self) -> None:
        questions = duty.DutyQuestions(duty.BodyType.ICB, duty.Activity.PLANNING)
        self.actions.duty_assess(self.tick(), questions, PROPOSAL)

    def submit(self, member: int, text: str) -> None:
        self.input = self.actions.input_submit(
            self.tick(),
            self.member(member),
            source=UserInput.Source.REPRESENTATIVE,
            method=UserInput.Method.MEETING,
            text=text,
            answer=None,
            answered_at=None,
        )

    def decide(self, summary: str, forum: str) -> None:
        self.decision = self.actions.decision_record(
            self.tick(), decided_by=self.people.decider.pk, summary=summary, forum=forum
        )

    def respond(self, kind: str, text: str) -> None:
        self.actions.input_respond(
            self.tick(),
            self.input,
            kind=kind,
            text=text,
            previous=UserInput.Status.AWAITING,
            decision=self.decision,
        )

    def ledger(self) -> list[tuple[Any, ...]]:
        """Everything written through the generator's writer, then read back as the services'."""
        writer = Writer(self.actions.context.usernames, self.actions.context.ids)
        run.write(writer, [*self.actions.drain(math.inf), self.actions.finish()], batch=50)
        return _normalised(self.actions.cycle["id"])


def test_the_generator_writes_the_ledger_the_services_write() -> None:
    people = People()
    through_services = ThroughServices(people)
    play(through_services)
    through_generator = ThroughGenerator(people)
    play(through_generator)

    expected = through_services.ledger()
    generated = through_generator.ledger()
    assert len(generated) == len(expected)
    for number, (got, want) in enumerate(zip(generated, expected, strict=True)):
        assert got == want, f"event {number} ({want[0]})"
    assert ledger.verify_ledger().ok


def test_the_story_takes_in_every_action_the_generator_writes() -> None:
    """What the parity test compares: each action the generator writes, and the drift the issue
    named (boundaries unchanged, sign-offs voided by a change, a refused advance)."""
    people = People()
    through_services = ThroughServices(people)
    play(through_services)
    events = through_services.ledger()
    actions = {event[0] for event in events}
    assert {
        LedgerAction.CYCLE_CREATED,
        LedgerAction.INVOLVEMENT_LEAD_NAMED,
        LedgerAction.PANEL_JOINED,
        LedgerAction.PANEL_LEFT,
        LedgerAction.AGREEMENT_RECORDED,
        LedgerAction.AGREEMENT_SIGNED,
        LedgerAction.CONFLICT_DECLARED,
        LedgerAction.BOUNDARIES_AGREED,
        LedgerAction.BOUNDARIES_ACKNOWLEDGED,
        LedgerAction.BUDGET_DISCLOSED,
        LedgerAction.SIGNOFF_ATTESTED,
        LedgerAction.SIGNOFF_DISSENTED,
        LedgerAction.DISSENT_WITHDRAWN,
        LedgerAction.STAGE_ADVANCED,
        LedgerAction.STAGE_REOPENED,
        LedgerAction.GATE_OVERRIDDEN,
        LedgerAction.DECISION_RECORDED,
        LedgerAction.INPUT_SUBMITTED,
        LedgerAction.INPUT_RESPONDED,
        LedgerAction.DUTY_ASSESSED,
    } <= actions
    payloads = [event[5] for event in events]
    assert {"unchanged_from_previous": True}.items() <= next(
        p for p in payloads if p.get("unchanged_from_previous")
    ).items()
    assert any(p.get("signoffs_voided") == 3 for p in payloads)
    assert any(p.get("had_open_dissent") is True for p in payloads)
    refused = [event for event in events if event[1] == AuditEvent.Outcome.REFUSED]
    assert len(refused) == 2 and all(
        event[5]["refused"] == [LedgerAction.STAGE_ADVANCED] for event in refused
    )
    assert CommissioningCycle.objects.get(pk=through_services.id).current_stage == "needs"
