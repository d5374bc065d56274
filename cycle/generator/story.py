"""One cycle's history: what happens, to whom and when, drawn at random in realistic shapes.

A :class:`Story` plans the cycle's visits and panel from its seed, then simulates each stage: it
chooses who does what and when, and does it through :class:`~cycle.generator.actions.CycleActions`,
which writes what the services would. Each stage is simulated in full before its rows and events
are handed on, so rows that a service would change later in the stage (a sign-off superseded, a
visit closed) are written once, in their final state. Long-lived rows whose end lies stages ahead
(a panel membership that ends, the cycle itself) are planned from the start.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any

from cycle.gates import Condition, SignOffKind
from cycle.models import InputResponse, StageVisit, UserInput
from cycle.stages import TEMPLATES
from roles.models import PanelMembership

from .actions import Context, CycleActions, Member
from .people import Staff
from .vocabulary import (
    CONSTRAINTS,
    CUT_REASONS,
    CYCLE_KINDS,
    DECIDERS,
    DECISION_STAGE_HINTS,
    DECISIONS,
    DISSENTS,
    DUTY_QUESTIONS,
    INFLUENCE_WEIGHTS,
    INPUTS,
    LEAVING,
    OVERRIDES,
    PANEL_SIZE_WEIGHTS,
    PROPOSALS,
    REOPENING,
    REPRESENTS,
    RISE_REASONS,
    SERVICE_AREAS,
    TEMPLATE_WEIGHTS,
    WE_COULD_NOT,
    WE_DID,
    WITHHELD,
    weighted,
)
from .writer import Row, stamp

DAY = 86400.0


@dataclass
class Visit:
    index: int
    opened: float
    closed: float | None
    closure: str | None
    planned: float
    reason: str = ""


class Story(CycleActions):
    """One cycle, simulated stage by stage with the engine's gate rules, told in time order."""

    def __init__(self, context: Context, now: float, staff: Staff, seed: int, start: float) -> None:
        super().__init__(context)
        self.now = now
        self.staff = staff
        self.rng = random.Random(seed)
        self.start = start

    def __iter__(self) -> Iterator[tuple[float, Any]]:
        # Nothing is planned until the story's start comes round in the merged timeline.
        yield self.start, None
        self.plan()
        for number, visit in enumerate(self.visits):
            yield from self.drain(visit.opened)
            self.simulate(number, visit)
        yield from self.drain(math.inf)
        yield self.finish()

    # Planning

    def duration(self, key: str) -> float:
        days = min(240.0, max(10.0, self.rng.lognormvariate(math.log(60), 0.6)))
        if key in ("monitoring", "revisit", "quality"):
            days = min(720.0, days * 3)
        return days * DAY

    def plan(self) -> None:
        rng = self.rng
        template = TEMPLATES[weighted(rng, TEMPLATE_WEIGHTS)]
        keys = template.keys
        self.visits: list[Visit] = []
        at, index, reopened = self.start, 0, False
        stall = rng.randrange(len(keys)) if rng.random() < 0.12 else None
        completed = False
        while True:
            close = at + self.duration(keys[index])
            if index == stall or close >= self.now:
                self.visits.append(Visit(index, at, None, None, close))
                break
            if not reopened and index >= 2 and rng.random() < 0.05:
                reason = rng.choice(REOPENING)
                self.visits.append(
                    Visit(index, at, close, StageVisit.Closure.REOPENED, close, reason)
                )
                reopened = True
                index = max(0, index - rng.randint(1, 2))
                at = close
                continue
            self.visits.append(Visit(index, at, close, StageVisit.Closure.PASSED, close))
            if index == len(keys) - 1:
                completed = True
                break
            index += 1
            at = close
        self.end = self.visits[-1].closed if completed else None

        staff = self.staff
        lead = rng.choice(staff.commissioners)
        involvement_lead = rng.choice(staff.involvement_leads)
        self.lead_named_at = self.start + rng.uniform(0.5, 6) * DAY
        area = rng.choice(SERVICE_AREAS)
        title = f"{area} {rng.choice(CYCLE_KINDS)} ({stamp(self.start).year})"
        self.template = template
        self.begin(
            self.start,
            title=title,
            organisation=staff.organisation,
            service_area=area,
            template=template,
            lead=lead,
            involvement_lead=involvement_lead,
            members=self.plan_panel(),
        )

    def plan_panel(self) -> list[Member]:
        rng = self.rng
        size = weighted(rng, PANEL_SIZE_WEIGHTS)
        chosen = rng.sample(self.staff.representatives, size + 6)
        spare = chosen[size:]
        forum = rng.randint(2, 3)
        procurement = any(
            Condition.CONFLICTS_DECLARED in stage.entry_requires for stage in self.template.stages
        )
        tender = rng.randint(2, 4) if procurement else 0
        first = self.visits[0]
        members: list[Member] = [
            Member(
                user_id=user_id,
                joined=first.opened + rng.uniform(1, 8) * DAY,
                left=None,
                tier=(
                    PanelMembership.Tier.DECISION_FORUM
                    if position < forum
                    else PanelMembership.Tier.REFERENCE_GROUP
                ),
                tender_panel=position < tender,
                represents=rng.choice(REPRESENTS),
            )
            for position, user_id in enumerate(chosen[:size])
        ]
        # Attrition: some leave part-way through a stage; about half are replaced.
        for visit in self.visits[1:]:
            end = visit.closed if visit.closed is not None else self.now
            for member in list(members):
                if member.left is not None or rng.random() > 0.035:
                    continue
                if sum(1 for m in members if m.left is None) <= 4:
                    break
                leave = visit.opened + (end - visit.opened) * rng.uniform(0.1, 0.5)
                if leave >= self.now or leave <= member.joined + DAY:
                    continue
                member.left = leave
                member.reason = rng.choice(LEAVING)
                if spare and rng.random() < 0.5:
                    joined = leave + (end - leave) * rng.uniform(0.05, 0.3)
                    if joined < self.now:
                        members.append(
                            Member(
                                user_id=spare.pop(),
                                joined=joined,
                                left=None,
                                tier=member.tier,
                                tender_panel=member.tender_panel,
                                represents=member.represents,
                            )
                        )
        return members

    # Stage simulation

    def simulate(self, number: int, visit: Visit) -> None:
        rng = self.rng
        key = self.template.keys[visit.index]
        span = visit.planned - visit.opened
        limit = visit.closed if visit.closed is not None else self.now

        def at(fraction: float) -> float:
            return visit.opened + span * fraction

        self.stage_open(visit.opened, key, self.visits[number - 1].reason if number else "")
        actions: list[tuple[float, int, Callable[[float], None]]] = []
        order = itertools.count()

        def plan(when: float, action: Callable[[float], None]) -> None:
            if when < limit:
                actions.append((when, next(order), action))

        if number == 0:
            self.cycle_create(visit.opened)
            plan(self.lead_named_at, self.involvement_lead_name)
            plan(at(0.1), self.record_agreement)
        for member in self.members:
            if visit.opened <= member.joined < limit:
                plan(member.joined, partial(self.membership_add, member=member))
            if member.left is not None and visit.opened <= member.left < limit:
                plan(member.left, partial(self.membership_leave, member=member))
        requires = self.template.gate_requires(key)
        if key not in self.boundaries or rng.random() < 0.8:
            plan(at(0.08), self.agree_boundaries)
        if self.budget is None:
            plan(at(0.1), self.disclose_budget)
        if Condition.DUTY_ASSESSED in requires and self.duty is None and rng.random() < 0.9:
            plan(at(rng.uniform(0.1, 0.5)), self.assess_duty)
        for member in self.members:
            settled = member.joined + DAY
            # The working agreement binds every member at every stage, newcomers included.
            plan(
                max(at(rng.uniform(0.12, 0.4)), settled),
                partial(self.agreement_sign, member=member),
            )
            plan(
                max(at(rng.uniform(0.15, 0.45)), settled),
                partial(self.boundaries_acknowledge, member=member),
            )
            if Condition.CONFLICTS_DECLARED in requires and member.tender_panel:
                plan(
                    max(at(rng.uniform(0.3, 0.6)), settled),
                    partial(self.declare, member=member),
                )
            roll = rng.random()
            when = max(at(rng.uniform(0.5, 0.8)), settled + DAY)
            if roll < 0.012:
                plan(when, partial(self.dissent, member=member))
            elif roll < 0.9:
                plan(when, partial(self.attest, member=member))
        for _ in range(rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0]):
            plan(at(rng.uniform(0.2, 0.8)), self.give_input)
        change = rng.random()
        if change < 0.1:
            plan(at(0.6), self.revise_budget)
        elif change < 0.16:
            plan(at(0.58), self.agree_boundaries)
        if change < 0.16:
            for member in self.members:
                if rng.random() < 0.85:
                    plan(at(rng.uniform(0.62, 0.88)), partial(self.attest, member=member))
        plan(at(rng.uniform(0.84, 0.9)), self.resolve_dissents)
        if any(hint in key for hint in DECISION_STAGE_HINTS) or rng.random() < 0.12:
            plan(at(rng.uniform(0.7, 0.9)), self.decide)
        if visit.closed is not None and rng.random() < 0.12:
            plan(at(0.82), self.try_advance)

        actions.sort(key=itemgetter(0, 1))
        for when, _, action in actions:
            action(when)
        if visit.closed is not None:
            self.close(number, visit, key)

    # The choices: what each action is given, drawn at random.

    def assess_duty(self, at: float) -> None:
        self.duty_assess(at, self.rng.choice(DUTY_QUESTIONS), self.rng.choice(PROPOSALS))

    def record_agreement(self, at: float) -> None:
        self.agreement_record(
            at,
            task="Help shape the service with the commissioners: what people need, what the "
            "specification requires, and how providers are chosen.",
            responsibilities="Attend the panel's meetings; read the papers; speak for the people "
            "you represent; keep confidential what is marked confidential.",
            support="A named involvement lead, briefings before meetings, papers in plain English.",
        )

    def agree_boundaries(self, at: float) -> None:
        rng = self.rng
        key = self.visit["stage_key"]
        self.boundaries_agree(
            at,
            purpose=f"{self.template.get(key).name}: involve the people who use "
            f"{self.cycle['service_area'].lower()}.",
            user_role="The panel gives its views, checks the papers and comments before each "
            "decision; representatives take the reference group's views to the decision forum.",
            influence=weighted(rng, INFLUENCE_WEIGHTS),
            decision_maker=rng.choice(DECIDERS),
            commissioner_authority="The commissioner makes the recommendation and can change the "
            "specification within the budget.",
            fixed_matters="The budget as disclosed and the statutory requirements.",
            open_matters="What the service offers, where and when.",
        )

    def disclose_budget(self, at: float) -> None:
        rng = self.rng
        if rng.random() < 0.25:
            self.budget_disclose(
                at, amount=None, constraints=rng.choice(CONSTRAINTS), withheld=rng.choice(WITHHELD)
            )
            return
        amount = Decimal(round(rng.lognormvariate(math.log(1_500_000), 1.0), -3))
        self.budget_disclose(
            at,
            amount=amount.quantize(Decimal("0.01")),
            constraints=rng.choice(CONSTRAINTS),
            withheld="",
        )

    def revise_budget(self, at: float) -> None:
        rng = self.rng
        previous = self.budget
        if previous is None or previous["amount"] is None:
            self.disclose_budget(at)
            return
        if rng.random() < 0.75:
            factor, reason = Decimal(rng.randint(75, 95)) / 100, rng.choice(CUT_REASONS)
        else:
            factor, reason = Decimal(rng.randint(105, 115)) / 100, rng.choice(RISE_REASONS)
        amount = (previous["amount"] * factor).quantize(Decimal("1000"))
        self.budget_disclose(
            at, amount=amount.quantize(Decimal("0.01")), constraints=reason, withheld=""
        )

    def declare(self, at: float, member: Member) -> None:
        # A member who plans to bid would be taken off the tender panel (conflict_declare), so
        # only members off it are generated planning to bid.
        interest, details = self.rng.choices(
            (
                ("none", ""),
                ("uses-service", "Uses one of the services being re-commissioned."),
                ("bidder-link", "Volunteers with an organisation that is bidding."),
                ("plans-to-bid", "Part of a user-led group that may bid."),
            ),
            (75, 15, 7, 0 if member.tender_panel else 3),
        )[0]
        self.conflict_declare(at, member, interest=interest, details=details)

    def attest(self, at: float, member: Member) -> None:
        current = self.current.get(member.user_id)
        if current is not None and current.kind is SignOffKind.DISSENT:
            return  # a dissent stands until it is withdrawn
        self.signoff_record(at, member, SignOffKind.ATTEST, "")

    def dissent(self, at: float, member: Member) -> None:
        self.signoff_record(at, member, SignOffKind.DISSENT, self.rng.choice(DISSENTS))

    def resolve_dissents(self, at: float) -> None:
        for member in self.active(at):
            current = self.current.get(member.user_id)
            if current is None or current.kind is not SignOffKind.DISSENT:
                continue
            if self.rng.random() < 0.65:
                self.dissent_withdraw(at, member)
                self.attest(at + 3600, member)

    def give_input(self, at: float) -> None:
        rng = self.rng
        members = self.active(at)
        if not members:
            return
        member = rng.choice(members)
        delay = min(120.0, max(2.0, rng.lognormvariate(math.log(21), 0.7))) * DAY
        # A completed cycle's last gate needed every answer, so its answers came before its end.
        answered: float | None = at + delay
        if self.end is not None:
            answered = min(at + delay, max(at + 3600, self.end - DAY))
        elif at + delay >= self.now:
            answered = None
        roll = rng.random()
        kind = InputResponse.Kind.WE_DID if roll < 0.65 else InputResponse.Kind.WE_COULD_NOT
        row = self.input_submit(
            at,
            member,
            source=rng.choice(("representative", "representative", "panel")),
            method=rng.choice(UserInput.Method.values),
            text=rng.choice(INPUTS),
            answer=kind.value,
            answered_at=answered,
        )
        previous = "awaiting"
        if roll > 0.85 and answered is not None and answered - at > 4 * DAY:
            first_at = at + (answered - at) / 3
            self.put(
                first_at,
                partial(self.respond, first_at, row, "considering", "", "awaiting", answered),
            )
            previous = "considering"
        if answered is not None:
            texts = WE_DID if kind == InputResponse.Kind.WE_DID else WE_COULD_NOT
            self.put(
                answered,
                partial(self.respond, answered, row, kind.value, rng.choice(texts), previous, None),
            )

    def respond(
        self,
        at: float,
        user_input: Row,
        kind: str,
        text: str,
        previous: str,
        superseded: float | None,
    ) -> None:
        """Runs when the response's time comes, so it can cite a decision made meanwhile."""
        made = [d for d in self.decisions if d["decided_at"] < at]
        decision = None
        if made and kind != "considering" and self.rng.random() < 0.4:
            decision = made[-1]
        self.input_respond(
            at,
            user_input,
            kind=kind,
            text=text,
            previous=previous,
            superseded=superseded,
            decision=decision,
        )

    def decide(self, at: float) -> None:
        rng = self.rng
        veto = rng.random() < 0.01
        self.decision_record(
            at,
            summary=rng.choice(DECISIONS),
            decided_by=rng.choice(self.staff.decision_makers),
            forum=rng.choice(("Board meeting", "Joint commissioning board", "Delegated decision")),
            veto_used=veto,
            veto_reason="Overruled the panel's recommendation on affordability." if veto else "",
        )

    def try_advance(self, at: float) -> None:
        """A commissioner tries to leave the stage too early, and is refused."""
        if not self.gate(at).passable:
            self.stage_advance(at)

    def override(self, at: float) -> None:
        self.gate_override(
            at, by=self.rng.choice(self.staff.governors), reason=self.rng.choice(OVERRIDES)
        )

    def close(self, number: int, visit: Visit, key: str) -> None:
        """Leave the stage at its planned time: first what a diligent commissioner would still
        chase, then the advance (or the reopening the plan calls for)."""
        assert visit.closed is not None
        closing = visit.closed
        if visit.closure == StageVisit.Closure.REOPENED:
            target = self.template.keys[self.visits[number + 1].index]
            self.stage_reopen(closing, to_stage=target, reason=visit.reason)
            return
        chase = closing - 6 * 3600
        self.involvement_lead_name(chase)
        if not self.gate(chase).passable:
            if key not in self.boundaries:
                self.agree_boundaries(chase)
            if self.budget is None:
                self.disclose_budget(chase)
            requires = self.template.gate_requires(key)
            if Condition.DUTY_ASSESSED in requires:
                self.assess_duty(chase)
            if Condition.WORKING_AGREEMENT in requires and self.agreement is None:
                self.record_agreement(chase)
            for member in self.active(chase):
                self.agreement_sign(chase + 60, member)
                if Condition.CONFLICTS_DECLARED in requires and member.tender_panel:
                    self.declare(chase + 60, member)
                self.boundaries_acknowledge(chase + 120, member)
            for member in self.active(chase):
                result = self.gate(chase + 180)
                if len(result.attesting) >= result.quorum:
                    break
                self.attest(chase + 240, member)
            result = self.gate(chase + 300)
            if not result.passable:
                self.override(chase + 3600)
        advanced = self.stage_advance(closing)
        assert advanced, (key, self.gate(closing).codes)
