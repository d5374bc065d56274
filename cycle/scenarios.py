"""Realistic scenarios, played through the services from the scripts in ``fixtures/scenarios/``.

Each scenario is a TOML file: who the people are (with their roles), which governance boards
oversee the organisation, and a script of steps. Every step is one call of a service (or of an entry
point of the commissioning process), so a loaded scenario has a real ledger, real permissions and
real flow state; nothing is written to the database directly. ``expect`` and ``try-advance`` steps
check the engine's own view of the gate as the script goes, so a script that no longer matches the
rules fails loudly instead of loading a story the engine would not tell.

Loading is idempotent: a scenario whose cycle (same organisation and title) already exists is
reused, not loaded again. A scenario loads in one transaction, so a failure leaves nothing behind.

Timestamps are those of the moment of loading, as the services stamp them; the historical dates of
each story are in its texts (see ``docs/scenarios.md``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from processes import commissioning
from roles import services as role_services
from roles.definitions import ADMINISTRATOR, load_roles
from roles.models import ConflictDeclaration, GovernanceBoard, PanelMembership

from . import duty_services, meetings, selectors, services
from .errors import GateClosed, ServiceError
from .models import CommissioningCycle, Organisation, RoleBoundaryAgreement
from .procurement import services as procurement
from .procurement.models import Bid, Criterion, Lot
from .stages import TEMPLATES


class ScenarioError(Exception):
    """A scenario file is malformed, or the engine did not behave as its script expects."""


def scenario_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "scenarios"


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    roles: tuple[str, ...]
    staff: bool = False
    about: str = ""

    @property
    def first_name(self) -> str:
        return self.name.rsplit(" ", 1)[0] if " " in self.name else self.name

    @property
    def last_name(self) -> str:
        return self.name.rsplit(" ", 1)[1] if " " in self.name else ""


@dataclass(frozen=True)
class Board:
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    number: int
    kind: str
    params: Mapping[str, Any]

    def describe(self) -> str:
        who = self.params.get("by") or self.params.get("as") or self.params.get("member") or ""
        if isinstance(who, list):
            who = ", ".join(who)
        return f"step {self.number} ({self.kind}{' by ' + who if who else ''})"


@dataclass(frozen=True)
class Scenario:
    key: str
    order: int
    title: str
    organisation: str
    service_area: str
    template: str
    lead: str
    summary: str
    sources: tuple[str, ...]
    people: Mapping[str, Person]
    boards: tuple[Board, ...]
    steps: tuple[Step, ...]
    path: Path


# --- Parsing -------------------------------------------------------------------------------------

_DUTY_ANSWERS = (
    "responsible",
    "affects_other_services",
    "affects_delivery",
    "affects_range",
    "already_involved",
    "substantial",
    "urgent_safety_risk",
)
"""The yes-or-no answers of a duty assessment (``cycle.duty.DutyQuestions``)."""

# For each kind of step: the keys it must have and the keys it may have. ``as`` names the acting
# user where it is not the lead commissioner; ``by`` is a list of usernames or "panel" (everyone on
# the panel at that moment).
_STEP_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "note": (frozenset({"text"}), frozenset({"when"})),
    "involvement-lead": (frozenset({"lead"}), frozenset({"as"})),
    "join": (frozenset({"member"}), frozenset({"as", "represents", "tier", "tender_panel"})),
    "leave": (frozenset({"member", "reason"}), frozenset({"as", "when"})),
    "agreement": (
        frozenset({"task", "responsibilities", "support"}),
        frozenset({"as", "expenses", "ground_rules"}),
    ),
    "sign-agreement": (frozenset({"by"}), frozenset()),
    "boundaries": (
        frozenset({"purpose", "user_role", "influence", "decision_maker"}),
        frozenset({"as", "commissioner_authority", "fixed", "open"}),
    ),
    "acknowledge": (frozenset({"by"}), frozenset()),
    "budget": (frozenset(), frozenset({"as", "amount", "currency", "constraints", "withheld"})),
    "attest": (frozenset({"by"}), frozenset()),
    "dissent": (frozenset({"by", "reasons"}), frozenset()),
    "withdraw-dissent": (frozenset({"by"}), frozenset()),
    "declare": (frozenset({"by", "interest"}), frozenset({"details"})),
    "decide": (frozenset({"as", "summary"}), frozenset({"ref", "forum", "veto_reason"})),
    "input": (frozenset({"ref", "member", "text"}), frozenset({"source", "method", "attachment"})),
    "respond": (frozenset({"to", "kind"}), frozenset({"as", "text", "decision"})),
    "advance": (frozenset(), frozenset({"as"})),
    "try-advance": (frozenset({"unmet"}), frozenset({"as"})),
    "reopen": (frozenset({"stage", "reason"}), frozenset({"as"})),
    "override": (frozenset({"as", "reason"}), frozenset()),
    "expect": (frozenset(), frozenset({"stage", "gate", "unmet", "status"})),
    "duty": (
        frozenset({"proposal", "body", "activity"}),
        frozenset({"as", "wording", *_DUTY_ANSWERS, "expect"}),
    ),
    "proposal-change": (frozenset({"summary"}), frozenset({"as"})),
    # Procurement under the Provider Selection Regime (``cycle.procurement.services``) and the
    # decision meeting (``cycle.meetings``).
    "route": (frozenset({"answers", "rationale"}), frozenset({"as"})),
    "tender": (
        frozenset(
            {"title", "reference", "services", "cpv_code", "lifetime_value", "user_panel_weight"}
        ),
        frozenset({"as", "lots", "criteria"}),
    ),
    "bid": (frozenset({"lot", "bidder", "address"}), frozenset({"as", "submitted_on"})),
    "bid-interest": (frozenset({"by", "bidder", "interest", "details"}), frozenset({"lot"})),
    "score": (frozenset({"by", "bidder", "scores"}), frozenset({"lot"})),
    "bid-views": (frozenset({"by", "bidder", "text"}), frozenset({"lot"})),
    "meeting": (
        frozenset({"ref", "held_on", "forum", "decision_maker"}),
        frozenset({"as", "papers_issued_on"}),
    ),
    "award": (
        frozenset({"as", "meeting", "awards", "summary", "reasons"}),
        frozenset({"conflicts_managed"}),
    ),
    "notice": (frozenset({"published_on"}), frozenset({"as"})),
    "contract": (frozenset({"awarded_on"}), frozenset({"as"})),
}


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ScenarioError(f"{where}: missing {key!r}")
    return data[key]


def parse(path: Path) -> Scenario:
    """Read one scenario file, checking its shape (not yet its story)."""
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{where}: {error}") from None
    role_keys = set(load_roles())
    people: dict[str, Person] = {}
    for entry in data.get("people", []):
        person = Person(
            username=_require(entry, "username", where),
            name=_require(entry, "name", where),
            roles=tuple(entry.get("roles", [])),
            staff=bool(entry.get("staff", False)),
            about=entry.get("about", ""),
        )
        unknown = set(person.roles) - role_keys
        if unknown:
            raise ScenarioError(f"{where}: {person.username} has unknown roles {sorted(unknown)}")
        if person.username in people:
            raise ScenarioError(f"{where}: {person.username} is listed twice")
        people[person.username] = person
    boards = tuple(
        Board(name=_require(entry, "name", where), members=tuple(entry.get("members", [])))
        for entry in data.get("boards", [])
    )
    steps = tuple(_parse_step(number, raw, where) for number, raw in enumerate(data["steps"], 1))
    scenario = Scenario(
        key=_require(data, "key", where),
        order=int(data.get("order", 100)),
        title=_require(data, "title", where),
        organisation=_require(data, "organisation", where),
        service_area=data.get("service_area", ""),
        template=data.get("template", "default"),
        lead=_require(data, "lead", where),
        summary=data.get("summary", "").strip(),
        sources=tuple(data.get("sources", [])),
        people=people,
        boards=boards,
        steps=steps,
        path=path,
    )
    _check_names(scenario)
    return scenario


def _parse_step(number: int, raw: Mapping[str, Any], where: str) -> Step:
    kind = raw.get("do")
    if kind not in _STEP_KEYS:
        raise ScenarioError(f"{where}: step {number} has unknown kind {kind!r}")
    required, optional = _STEP_KEYS[kind]
    keys = set(raw) - {"do"}
    if missing := required - keys:
        raise ScenarioError(f"{where}: step {number} ({kind}) lacks {sorted(missing)}")
    if extra := keys - required - optional:
        raise ScenarioError(f"{where}: step {number} ({kind}) has unknown keys {sorted(extra)}")
    return Step(number=number, kind=kind, params={k: v for k, v in raw.items() if k != "do"})


def _check_names(scenario: Scenario) -> None:
    where = scenario.path.name
    if scenario.template not in TEMPLATES:
        raise ScenarioError(f"{where}: unknown stage template {scenario.template!r}")
    known = set(scenario.people)
    named = {scenario.lead} | {m for board in scenario.boards for m in board.members}
    for step in scenario.steps:
        for key in ("as", "member", "lead"):
            if key in step.params:
                named.add(step.params[key])
        by = step.params.get("by")
        if isinstance(by, list):
            named.update(by)
        elif by is not None and by != "panel":
            raise ScenarioError(f"{where}: {step.describe()}: 'by' is a list or \"panel\"")
    if unknown := named - known:
        raise ScenarioError(f"{where}: names people not in its people list: {sorted(unknown)}")


def discover(directory: Path | None = None) -> dict[str, Scenario]:
    """Every scenario in ``fixtures/scenarios``, keyed and in story order."""
    found = [parse(path) for path in sorted((directory or scenario_dir()).glob("*.toml"))]
    found.sort(key=lambda scenario: (scenario.order, scenario.key))
    keys = [scenario.key for scenario in found]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"scenario keys repeat: {keys}")
    return {scenario.key: scenario for scenario in found}


# --- Playing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepOutcome:
    """What one step did: handed to an observer after each step (the walkthrough uses it)."""

    step: Step
    cycle: CommissioningCycle
    result: Any = None
    refused: GateClosed | None = None


Observer = Callable[[StepOutcome], None]


@dataclass(frozen=True)
class Loaded:
    scenario: Scenario
    cycle: CommissioningCycle
    created: bool


def existing_cycle(scenario: Scenario) -> CommissioningCycle | None:
    return (
        CommissioningCycle.objects.filter(
            organisation__name=scenario.organisation, title=scenario.title
        )
        .order_by("id")
        .first()
    )


def load(scenario: Scenario, *, fresh: bool = False, observer: Observer | None = None) -> Loaded:
    """Play a scenario through the services, or reuse its cycle if it is already loaded.

    With ``fresh`` a new cycle is played even if one exists (the walkthrough does this inside a
    transaction it rolls back).
    """
    if not fresh and (cycle := existing_cycle(scenario)) is not None:
        return Loaded(scenario, cycle, created=False)
    with transaction.atomic():
        player = _Player(scenario, observer)
        cycle = player.play()
    return Loaded(scenario, cycle, created=True)


def load_each(
    only: Iterable[str] | None = None, *, directory: Path | None = None
) -> Iterator[Loaded]:
    """Load the scenarios one by one, yielding each as soon as it is loaded (for progress)."""
    scenarios = discover(directory)
    keys = list(scenarios) if only is None else list(only)
    if unknown := [key for key in keys if key not in scenarios]:
        raise ScenarioError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(scenarios)}")
    for key in keys:
        yield load(scenarios[key])


def load_all(only: Iterable[str] | None = None, *, directory: Path | None = None) -> list[Loaded]:
    return list(load_each(only, directory=directory))


def ensure_person(person: Person, organisation: Organisation | None = None) -> Any:
    """The user for a scenario person, created without a usable password if new."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=person.username,
        defaults={
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": f"{person.username}@example.org",
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    role_names = [load_roles()[key]["name"] for key in person.roles]
    if role_names:
        user.groups.add(*Group.objects.filter(name__in=role_names))
    if person.staff and organisation is not None:
        organisation.staff.add(user)
    # A fresh instance: permissions are cached per instance on first use.
    return user_model.objects.get(pk=user.pk)


@dataclass
class _Player:
    scenario: Scenario
    observer: Observer | None
    users: dict[str, Any] = field(default_factory=dict)
    cycle: CommissioningCycle | None = None
    refs: dict[str, Any] = field(default_factory=dict)

    def play(self) -> CommissioningCycle:
        scenario = self.scenario
        organisation, _ = Organisation.objects.get_or_create(name=scenario.organisation)
        for person in scenario.people.values():
            self.users[person.username] = ensure_person(person, organisation)
        for spec in scenario.boards:
            board, _ = GovernanceBoard.objects.get_or_create(name=spec.name)
            board.organisations.add(organisation)
            board.members.add(*(self.users[name] for name in spec.members))
        lead = self.users[scenario.lead]
        self.cycle = self._call(
            None,
            commissioning.start_cycle,
            actor=lead,
            title=scenario.title,
            organisation=organisation,
            lead=lead,
            template_key=scenario.template,
            service_area=scenario.service_area,
        )
        for step in scenario.steps:
            self._run(step)
        return self.cycle

    # Helpers

    @property
    def cycle_id(self) -> int:
        assert self.cycle is not None
        return self.cycle.pk

    def _user(self, username: str) -> Any:
        return self.users[username]

    def _actor(self, step: Step) -> Any:
        return self._user(step.params.get("as", self.scenario.lead))

    def _panel(self, step: Step) -> list[Any]:
        by = step.params["by"]
        if by == "panel":
            assert self.cycle is not None
            ids = list(
                PanelMembership.objects.active()
                .filter(cycle=self.cycle)
                .order_by("joined_at", "id")
                .values_list("member_id", flat=True)
            )
            by_id = {user.pk: user for user in self.users.values()}
            return [by_id[pk] for pk in ids]
        return [self._user(name) for name in by]

    def _fail(self, step: Step | None, message: str) -> ScenarioError:
        where = step.describe() if step is not None else "start"
        return ScenarioError(f"{self.scenario.key} {where}: {message}")

    def _call(self, step: Step | None, func: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return func(**kwargs)
        except ServiceError as error:
            raise self._fail(step, error.as_line()) from error

    def _run(self, step: Step) -> None:
        handler = getattr(self, "_do_" + step.kind.replace("-", "_"))
        outcome = handler(step)
        assert self.cycle is not None
        self.cycle.refresh_from_db()
        if self.observer is not None:
            if not isinstance(outcome, StepOutcome):
                outcome = StepOutcome(step=step, cycle=self.cycle, result=outcome)
            self.observer(outcome)

    # One method per kind of step

    def _do_note(self, step: Step) -> None:
        return None

    def _do_involvement_lead(self, step: Step) -> Any:
        return self._call(
            step,
            services.involvement_lead_name,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            lead=self._user(step.params["lead"]),
        )

    def _do_join(self, step: Step) -> Any:
        return self._call(
            step,
            role_services.membership_add,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            member=self._user(step.params["member"]),
            represents=step.params.get("represents", ""),
            tier=step.params.get("tier", PanelMembership.Tier.REFERENCE_GROUP),
            tender_panel=bool(step.params.get("tender_panel", False)),
        )

    def _do_leave(self, step: Step) -> Any:
        """A member steps down (``membership_leave``), or is taken off by ``as`` someone else."""
        member = self._user(step.params["member"])
        if step.params.get("as", step.params["member"]) == step.params["member"]:
            return self._call(
                step,
                role_services.membership_leave,
                actor=member,
                cycle_id=self.cycle_id,
                reason=step.params["reason"],
            )
        return self._call(
            step,
            role_services.membership_remove,
            actor=self._user(step.params["as"]),
            cycle_id=self.cycle_id,
            member=member,
            reason=step.params["reason"],
        )

    def _do_agreement(self, step: Step) -> Any:
        optional = {k: step.params[k] for k in ("expenses", "ground_rules") if k in step.params}
        return self._call(
            step,
            role_services.agreement_record,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            task=step.params["task"],
            responsibilities=step.params["responsibilities"],
            support=step.params["support"],
            **optional,
        )

    def _each(self, step: Step, func: Callable[..., Any], **kwargs: Any) -> list[Any]:
        return [
            self._call(step, func, actor=member, cycle_id=self.cycle_id, **kwargs)
            for member in self._panel(step)
        ]

    def _do_sign_agreement(self, step: Step) -> list[Any]:
        return self._each(step, role_services.agreement_sign)

    def _do_boundaries(self, step: Step) -> RoleBoundaryAgreement:
        params = step.params
        result: RoleBoundaryAgreement = self._call(
            step,
            services.boundaries_agree,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            purpose=params["purpose"],
            user_role=params["user_role"],
            influence=params["influence"],
            decision_maker=params["decision_maker"],
            commissioner_authority=params.get("commissioner_authority", ""),
            fixed_matters=params.get("fixed", ""),
            open_matters=params.get("open", ""),
        )
        return result

    def _do_acknowledge(self, step: Step) -> list[Any]:
        return self._each(step, services.boundaries_acknowledge)

    def _do_budget(self, step: Step) -> Any:
        params = step.params
        return self._call(
            step,
            services.budget_disclose,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            amount=params.get("amount"),
            currency=params.get("currency", "GBP"),
            constraints=params.get("constraints", ""),
            withheld_reason=params.get("withheld", ""),
        )

    def _do_attest(self, step: Step) -> list[Any]:
        return self._each(step, commissioning.signoff)

    def _do_dissent(self, step: Step) -> list[Any]:
        return self._each(step, commissioning.signoff, dissent=step.params["reasons"])

    def _do_withdraw_dissent(self, step: Step) -> list[Any]:
        return self._each(step, services.dissent_withdraw)

    def _do_declare(self, step: Step) -> list[Any]:
        interest = step.params["interest"]
        if interest not in ConflictDeclaration.Interest.values:
            raise self._fail(step, f"unknown interest {interest!r}")
        return self._each(
            step,
            role_services.conflict_declare,
            interest=interest,
            details=step.params.get("details", ""),
        )

    def _ref(self, step: Step, name: str) -> Any:
        if name not in self.refs:
            raise self._fail(step, f"refers to {name!r}, which no earlier step defines")
        return self.refs[name]

    def _keep(self, step: Step, obj: Any) -> Any:
        if "ref" in step.params:
            if step.params["ref"] in self.refs:
                raise self._fail(step, f"ref {step.params['ref']!r} is used twice")
            self.refs[step.params["ref"]] = obj
        return obj

    def _do_input(self, step: Step) -> Any:
        params = step.params
        optional = {k: params[k] for k in ("source", "method") if k in params}
        if "attachment" in params:
            optional["attachment_reference"] = params["attachment"]
        user_input = self._call(
            step,
            services.input_submit,
            actor=self._user(params["member"]),
            cycle_id=self.cycle_id,
            text=params["text"],
            **optional,
        )
        return self._keep(step, user_input)

    def _do_respond(self, step: Step) -> Any:
        params = step.params
        decision = self._ref(step, params["decision"]) if "decision" in params else None
        return self._call(
            step,
            services.input_respond,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            input_id=self._ref(step, params["to"]).pk,
            kind=params["kind"],
            text=params.get("text", ""),
            decision_id=decision.pk if decision is not None else None,
        )

    def _do_decide(self, step: Step) -> Any:
        veto_reason = step.params.get("veto_reason", "")
        decision = self._call(
            step,
            services.decision_record,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            summary=step.params["summary"],
            forum=step.params.get("forum", ""),
            veto_used=bool(veto_reason),
            veto_reason=veto_reason,
        )
        return self._keep(step, decision)

    def _do_duty(self, step: Step) -> Any:
        """A duty assessment; ``expect`` (an outcome) checks the rule agrees with the story."""
        params = step.params
        assessment = self._call(
            step,
            duty_services.duty_assess,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            proposal=params["proposal"],
            body_type=params["body"],
            activity=params["activity"],
            wording=params.get("wording", "current"),
            **{key: bool(params[key]) for key in _DUTY_ANSWERS if key in params},
        )
        if "expect" in params and assessment.outcome != params["expect"]:
            raise self._fail(
                step, f"the duty assessment says {assessment.outcome}, not {params['expect']}"
            )
        return assessment

    def _do_proposal_change(self, step: Step) -> Any:
        return self._call(
            step,
            duty_services.proposal_change_record,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            summary=step.params["summary"],
        )

    def _do_advance(self, step: Step) -> Any:
        return self._call(
            step, commissioning.advance, actor=self._actor(step), cycle_id=self.cycle_id
        )

    def _do_try_advance(self, step: Step) -> StepOutcome:
        """An advance the script expects the gate to refuse, with exactly these unmet codes."""
        try:
            commissioning.advance(actor=self._actor(step), cycle_id=self.cycle_id)
        except GateClosed as refusal:
            codes = list(refusal.result.codes)
            if codes != list(step.params["unmet"]):
                raise self._fail(
                    step,
                    f"the gate refused with {codes}, the script expects {step.params['unmet']}",
                ) from refusal
            assert self.cycle is not None
            return StepOutcome(step=step, cycle=self.cycle, refused=refusal)
        except ServiceError as error:
            raise self._fail(step, error.as_line()) from error
        raise self._fail(
            step, "the gate let the commissioner through; the script expects a refusal"
        )

    def _do_reopen(self, step: Step) -> Any:
        return self._call(
            step,
            commissioning.reopen,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            stage_key=step.params["stage"],
            reason=step.params["reason"],
        )

    def _do_override(self, step: Step) -> Any:
        return self._call(
            step,
            services.gate_override,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            reason=step.params["reason"],
        )

    # Procurement

    def _do_route(self, step: Step) -> Any:
        return self._call(
            step,
            procurement.route_record,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            answers=step.params["answers"],
            rationale=step.params["rationale"],
        )

    def _do_tender(self, step: Step) -> Any:
        params = step.params
        optional = {"criteria": params["criteria"]} if "criteria" in params else {}
        return self._call(
            step,
            procurement.tender_open,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            title=params["title"],
            reference=params["reference"],
            services=params["services"],
            cpv_code=params["cpv_code"],
            lifetime_value=str(params["lifetime_value"]),
            user_panel_weight=str(params["user_panel_weight"]),
            lots=params.get("lots", []),
            **optional,
        )

    def _lot(self, step: Step, name: str) -> Lot:
        lot = Lot.objects.filter(tender__cycle_id=self.cycle_id, name=name).first()
        if lot is None:
            raise self._fail(step, f"the tender has no lot {name!r}")
        return lot

    def _bid(self, step: Step) -> Bid:
        bids = Bid.objects.filter(tender__cycle_id=self.cycle_id, bidder=step.params["bidder"])
        if "lot" in step.params:
            bids = bids.filter(lot=self._lot(step, step.params["lot"]))
        found = list(bids)
        if len(found) != 1:
            raise self._fail(step, f"{len(found)} bids match; name the lot")
        return found[0]

    def _do_bid(self, step: Step) -> Any:
        params = step.params
        return self._call(
            step,
            procurement.bid_record,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            lot_id=self._lot(step, params["lot"]).pk,
            bidder=params["bidder"],
            address=params["address"],
            submitted_on=params.get("submitted_on"),
        )

    def _do_bid_interest(self, step: Step) -> list[Any]:
        return self._each(
            step,
            procurement.bid_interest_declare,
            bid_id=self._bid(step).pk,
            interest=step.params["interest"],
            details=step.params["details"],
        )

    def _do_score(self, step: Step) -> list[Any]:
        """``scores`` is one score for every criterion, or a table of scores by key criterion."""
        criteria = list(Criterion.objects.filter(tender__cycle_id=self.cycle_id))
        given = step.params["scores"]
        if isinstance(given, int):
            scores = {c.pk: given for c in criteria}
        else:
            by_key = {c.key: c.pk for c in criteria}
            if unknown := set(given) - set(by_key):
                raise self._fail(step, f"unknown criteria {sorted(unknown)}")
            scores = {by_key[key]: value for key, value in given.items()}
        return self._each(step, procurement.score_record, bid_id=self._bid(step).pk, scores=scores)

    def _do_bid_views(self, step: Step) -> list[Any]:
        return self._each(
            step,
            procurement.bid_comment_record,
            bid_id=self._bid(step).pk,
            text=step.params["text"],
        )

    def _do_meeting(self, step: Step) -> Any:
        params = step.params
        meeting = self._call(
            step,
            meetings.meeting_schedule,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            held_on=params["held_on"],
            forum=params["forum"],
            decision_maker=self._user(params["decision_maker"]),
        )
        if "papers_issued_on" in params:
            meeting = self._call(
                step,
                meetings.meeting_papers_issue,
                actor=self._actor(step),
                cycle_id=self.cycle_id,
                meeting_id=meeting.pk,
                issued_on=params["papers_issued_on"],
            )
        return self._keep(step, meeting)

    def _do_award(self, step: Step) -> Any:
        params = step.params
        awards: dict[int, int | None] = {}
        for lot_name, bidder in params["awards"].items():
            lot = self._lot(step, lot_name)
            if not bidder:
                awards[lot.pk] = None
                continue
            bid = Bid.objects.filter(lot=lot, bidder=bidder).first()
            if bid is None:
                raise self._fail(step, f"{bidder!r} did not bid for {lot_name!r}")
            awards[lot.pk] = bid.pk
        return self._call(
            step,
            procurement.award_decide,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            meeting_id=self._ref(step, params["meeting"]).pk,
            awards=awards,
            summary=params["summary"],
            reasons=params["reasons"],
            conflicts_managed=params.get("conflicts_managed", ""),
        )

    def _do_notice(self, step: Step) -> Any:
        return self._call(
            step,
            procurement.notice_publish,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            published_on=step.params["published_on"],
        )

    def _do_contract(self, step: Step) -> Any:
        return self._call(
            step,
            procurement.contract_award_record,
            actor=self._actor(step),
            cycle_id=self.cycle_id,
            awarded_on=step.params["awarded_on"],
        )

    def _do_expect(self, step: Step) -> None:
        """Check the engine's view of the cycle against the script."""
        assert self.cycle is not None
        self.cycle.refresh_from_db()
        params = step.params
        problems: list[str] = []
        if "stage" in params and self.cycle.current_stage != params["stage"]:
            problems.append(f"stage is {self.cycle.current_stage}, expected {params['stage']}")
        if "status" in params and self.cycle.status != params["status"]:
            problems.append(f"status is {self.cycle.status}, expected {params['status']}")
        result = selectors.gate_state(self.cycle)
        if "gate" in params:
            if params["gate"] not in ("open", "closed"):
                raise self._fail(step, "gate is 'open' or 'closed'")
            state = "open" if result.open else "closed"
            if state != params["gate"]:
                problems.append(
                    f"gate is {state} ({', '.join(result.codes)}), expected {params['gate']}"
                )
        if "unmet" in params and list(result.codes) != list(params["unmet"]):
            problems.append(
                f"unmet conditions are {list(result.codes)}, expected {params['unmet']}"
            )
        if problems:
            raise self._fail(step, "; ".join(problems))


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str
    name: str = ""


def demo_accounts(path: Path | None = None) -> list[DemoAccount]:
    """The demo accounts of ``fixtures/demo-accounts.toml``: one person per role."""
    path = path or scenario_dir().parent / "demo-accounts.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    accounts = [
        DemoAccount(
            role=entry["role"],
            username=entry["username"],
            password=entry["password"],
            name=entry.get("name", ""),
        )
        for entry in data["accounts"]
    ]
    if unknown := {account.role for account in accounts} - set(load_roles()):
        raise ScenarioError(f"{path.name}: unknown roles {sorted(unknown)}")
    return accounts


def ensure_demo_account(account: DemoAccount) -> Any:
    """Give a demo account its password, and staff status if it is the Administrator's.

    Only the Administrator signs in to the admin; representatives and the other roles work on the
    site's pages alone, and no demo account is a superuser (an operator account is made with
    ``manage.py createsuperuser``). People of a scenario are used as loaded; anyone else is
    created with the account's role.
    """
    user_model = get_user_model()
    user = user_model.objects.filter(username=account.username).first()
    if user is None:
        if not account.name:
            raise ScenarioError(
                f"demo account {account.username} is not in the database; load its scenario "
                "first or give it a name"
            )
        user = ensure_person(Person(account.username, account.name, (account.role,)))
    changed = []
    if not user.check_password(account.password):
        user.set_password(account.password)
        changed.append("password")
    staff = load_roles()[account.role]["name"] == ADMINISTRATOR
    if user.is_staff != staff:
        user.is_staff = staff
        changed.append("is_staff")
    if user.is_superuser:
        user.is_superuser = False
        changed.append("is_superuser")
    if changed:
        user.save(update_fields=changed)
    return user


def gate_line(cycle: CommissioningCycle) -> str:
    """One line on where a cycle stands: stage, and the gate's state."""
    result = selectors.gate_state(cycle)
    if cycle.status == CommissioningCycle.Status.COMPLETED:
        return "completed"
    state = "open" if result.open else "closed: " + ", ".join(result.codes)
    return f"stage {cycle.current_stage}, gate {state}"
