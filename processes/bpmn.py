"""The stage templates as BPMN 2.0 processes that BPMN tools can open and run.

Templates in, XML and SVG out; no database here. :func:`build_model` turns a
:class:`~cycle.stages.StageTemplate` into a :class:`ProcessModel`: per stage a user task for
the lead commissioner, the panel's sign-off as a multi-instance user task over the active panel,
the involvement gate as an exclusive gateway whose conditioned flows are the three records plus
the stage's own conditions, a governance override as its own path, and explicit flows back to every
earlier stage. :func:`layout` places it deterministically (lanes as rows, stages as columns),
:func:`to_bpmn_xml` writes BPMN 2.0 with diagram interchange and :func:`to_svg` draws the same
layout, optionally marked with a cycle's live stage states (:class:`StageState`).

The running flow (``processes.commissioning``) stays one generic loop for every template; this
model is derived from the same template, and ``tests/processes/test_bpmn.py`` replays the ledger
of cycles driven through the services as a walk over the model's sequence flows
(:func:`moves_from_events`, :func:`walk`), checking each step is an edge whose condition holds.

The gateways' conditions are Python expressions over task data, as SpiffWorkflow evaluates them;
:func:`gate_data` gives the task data that stands for a gate with given unmet codes.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from cycle.actions import LedgerAction, Operation
from cycle.gates import PAPERS_NOTICE_DAYS, Condition, waivable
from cycle.stages import StageDefinition, StageState, StageTemplate

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SVG_NS = "http://www.w3.org/2000/svg"
EXPORTER = "commissioning-cycle processes.bpmn"


# The people who act ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    key: str
    name: str


COMMISSIONER = Lane("commissioner", "Commissioner")
INVOLVEMENT_LEAD = Lane("involvement_lead", "Involvement lead")
REPRESENTATIVES = Lane("representatives", "User representatives")
DECISION_MAKER = Lane("decision_maker", "Decision-maker")
GOVERNANCE = Lane("governance", "Governance board")
LANES = (COMMISSIONER, INVOLVEMENT_LEAD, REPRESENTATIVES, DECISION_MAKER, GOVERNANCE)


# What a gate checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One condition of an involvement gate, as task data, in words, and as gate codes."""

    expression: str
    """A Python expression over task data that is true when the condition holds."""
    words: str
    codes: tuple[str, ...]
    """The ``cycle.gates`` codes reported while the condition does not hold."""

    @property
    def waivable(self) -> bool:
        """Whether a governance board member may depart from it (people's availability or
        disagreement, ``cycle.gates.WAIVABLE``), rather than a record nothing stands in for."""
        return all(waivable(code) for code in self.codes)


EVERY_GATE = (
    Check("len(panel) > 0", "user representatives are on the panel", ("panel.empty",)),
    Check(
        "boundaries_agreed",
        "the role boundaries of this stage are agreed: why users are involved, their role and "
        "level of influence, who decides, what is fixed and what can still change",
        ("boundaries.missing",),
    ),
    Check(
        "boundaries_acknowledged",
        "every member of the panel has acknowledged the current role boundaries",
        ("boundaries.unacknowledged",),
    ),
    Check(
        "budget_disclosed",
        "the budget is disclosed: the amount and its constraints, or the reason it cannot be given",
        ("budget.missing",),
    ),
    Check(
        "signoffs.count('attest') * 2 > len(panel)",
        "a majority of the panel attest that they were involved on the agreed terms and told the "
        "budget as recorded (a sign-off given against an earlier budget or earlier boundaries no "
        "longer counts)",
        ("signoff.quorum", "signoff.stale"),
    ),
    Check(
        "'dissent' not in signoffs",
        "no member of the panel has an open dissent",
        ("signoff.dissent",),
    ),
    Check(
        "agreement_signed",
        "once a working agreement is on record, every member of the panel has signed it",
        ("agreement.unsigned",),
    ),
    Check(
        "consultations_considered",
        "every consultation opened in this stage has an analysis of its responses and a "
        "statement of how they were considered",
        ("consultation.unconsidered",),
    ),
)

STAGE_CHECKS: Mapping[str, Check] = {
    # One entry per ``cycle.gates.Condition``; tests/processes/test_bpmn.py holds them equal.
    Condition.WORKING_AGREEMENT: Check(
        "agreement_signed",
        "the working agreement is recorded and every member of the panel has signed it",
        ("agreement.unsigned",),
    ),
    Condition.INVOLVEMENT_LEAD: Check(
        "lead_named", "an involvement lead is named for the cycle", ("lead.missing",)
    ),
    Condition.CONFLICTS_DECLARED: Check(
        "conflicts_declared",
        "everyone on the tender panel has declared their interests (a declaration of none counts)",
        ("conflicts.undeclared",),
    ),
    Condition.DECISION_PAPERS: Check(
        "papers_on_time",
        "the papers for every decision meeting reached the panel at least "
        f"{PAPERS_NOTICE_DAYS} days before it",
        ("papers.not_issued", "papers.late"),
    ),
    Condition.INPUT_ANSWERED: Check(
        "inputs_answered",
        "every input from the panel has an answer: \u201cwe did\u201d or \u201cwe couldn\u2019t, "
        "because \u2026\u201d",
        ("input.unanswered",),
    ),
    Condition.DUTY_ASSESSED: Check(
        "duty_assessed",
        "whether the duty to involve applies has been assessed for the proposal as it stands",
        ("duty.missing", "duty.stale"),
    ),
    Condition.AWARD_SETTLED: Check(
        "award_settled",
        "where the cycle has a tender: the award is decided and, for an award, the notice of "
        "intention is published and its standstill is over",
        ("award.undecided", "notice.unpublished", "standstill.running", "standstill.under_review"),
    ),
    Condition.EVALUATION_SIGNED: Check(
        "evaluation_signed",
        "where the cycle has a tender: most of the tender panel attest that they took part in "
        "evaluating the bids as agreed",
        ("evaluation.unsigned",),
    ),
}

FLAG_VARIABLES = {
    check.expression: check.codes
    for check in (*EVERY_GATE, *STAGE_CHECKS.values())
    if check.expression.isidentifier()
}
"""The boolean task-data variables the lead commissioner's task sets, and their codes."""


def gate_checks(template: StageTemplate, stage_key: str) -> tuple[Check, ...]:
    """What the gate at the end of ``stage_key`` checks: the three records and the stage's own.

    The working agreement binds the panel at every stage once it is recorded; a stage that asks
    for it needs it recorded as well (the stage's own check then stands in for the general one).
    """
    requires = template.gate_requires(stage_key)
    own = tuple(STAGE_CHECKS[condition] for condition in sorted(requires))
    expressions = {check.expression for check in own}
    return (*(c for c in EVERY_GATE if c.expression not in expressions), *own)


def open_condition(checks: Sequence[Check]) -> str:
    return " and ".join(check.expression for check in checks)


DISSENT_CONDITION = "not override_requested and 'dissent' in signoffs"
"""The gate's dissent path: a member's open dissent holds the gate, unless an override is asked."""


def override_condition(checks: Sequence[Check]) -> str:
    records = [check.expression for check in checks if not check.waivable]
    people = [check.expression for check in checks if check.waivable]
    return " and ".join(["override_requested", *records, f"not ({' and '.join(people)})"])


def gate_data(
    codes: Iterable[str],
    *,
    panel_size: int = 3,
    override_requested: bool = False,
    reopen_to: str | None = None,
) -> dict[str, Any]:
    """Task data for which the model's conditions see exactly the unmet ``codes``.

    Raises ``ValueError`` for a code the model does not know, so that a new gate condition
    cannot go unnoticed by the model.
    """
    codes = set(codes)
    known = {code for check in (*EVERY_GATE, *STAGE_CHECKS.values()) for code in check.codes}
    if unknown := codes - known:
        raise ValueError(f"the BPMN model knows no gate condition {', '.join(sorted(unknown))}")
    panel = [] if "panel.empty" in codes else [f"member {n}" for n in range(1, panel_size + 1)]
    quorum_short = bool(codes & {"signoff.quorum", "signoff.stale"})
    signoffs = ["none" if quorum_short else "attest" for _ in panel]
    if "signoff.dissent" in codes and signoffs:
        signoffs[-1] = "dissent"
    data: dict[str, Any] = {
        variable: not (codes & set(variable_codes))
        for variable, variable_codes in FLAG_VARIABLES.items()
    }
    data.update(
        panel=panel,
        signoffs=signoffs,
        override_requested=override_requested,
        reopen_to=reopen_to,
    )
    return data


def evidence_data(
    codes: Iterable[str] = (),
    *,
    panel_size: int = 3,
    override_requested: bool = False,
    reopen_to: str | None = None,
) -> dict[str, Any]:
    """What the lead commissioner's task of a stage completes with, for a process engine.

    As :func:`gate_data`, but with no sign-offs yet: they are the output of the stage's
    multi-instance sign-off task, one per member of ``panel``, bound to this visit.
    """
    data = gate_data(
        codes, panel_size=panel_size, override_requested=override_requested, reopen_to=reopen_to
    )
    data["signoffs"] = []
    return data


# The model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    """The BPMN element: ``startEvent``, ``endEvent``, ``userTask`` or ``exclusiveGateway``."""
    name: str
    lane: str
    role: str
    """What the node is in the cycle: start, enter, prepare, evidence, choose, decide, signoff,
    gate, override, last, completed, end."""
    stage_key: str | None = None
    documentation: str = ""
    multi_instance: bool = False


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None
    default: bool = False


@dataclass(frozen=True)
class ProcessModel:
    template_key: str
    process_id: str
    name: str
    stage_keys: tuple[str, ...]
    nodes: tuple[Node, ...]
    flows: tuple[Flow, ...]
    _by_id: dict[str, Node] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({node.id: node for node in self.nodes})

    def node(self, node_id: str) -> Node:
        return self._by_id[node_id]

    def outgoing(self, node_id: str) -> tuple[Flow, ...]:
        return tuple(flow for flow in self.flows if flow.source == node_id)

    def incoming(self, node_id: str) -> tuple[Flow, ...]:
        return tuple(flow for flow in self.flows if flow.target == node_id)

    def flow(self, source: str, target: str) -> Flow | None:
        return next((f for f in self.flows if f.source == source and f.target == target), None)

    def stage_nodes(self, stage_key: str) -> tuple[Node, ...]:
        return tuple(node for node in self.nodes if node.stage_key == stage_key)


def node_id(role: str, stage_key: str) -> str:
    return f"{role}_{re.sub(r'[^A-Za-z0-9_.-]', '_', stage_key)}"


def member_variable(stage_key: str) -> str:
    """The task-data variable that holds the member in one instance of a stage's sign-off."""
    return node_id("member", stage_key)


def position_variable(stage_key: str) -> str:
    """The task-data variable a sign-off instance sets: ``"attest"`` or ``"dissent"``."""
    return node_id("position", stage_key)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] if text else text


def _gate_documentation(stage: StageDefinition, checks: Sequence[Check]) -> str:
    met = "; ".join(check.words for check in checks)
    people = "; ".join(check.words for check in checks if check.waivable)
    records = "; ".join(check.words for check in checks if not check.waivable)
    return (
        f"The involvement gate at the end of \u201c{stage.name}\u201d. The cycle moves on only "
        f"when {met}. While it is closed the stage goes on until what is missing is recorded. "
        f"A governance board member may override the gate with written reasons only where what "
        f"is unmet is about people\u2019s availability or disagreement ({people}); nothing "
        f"stands in for the records ({records}). The override stays on the record, and anything "
        "new that goes unmet closes the gate again."
    )


def build_model(template: StageTemplate) -> ProcessModel:
    """The template as one BPMN process: the same model for the export, the diagram and the walk."""
    nodes: list[Node] = []
    flows: list[Flow] = []
    stages = template.stages
    count = len(stages)

    def add(node: Node) -> str:
        nodes.append(node)
        return node.id

    def connect(source: str, target: str, **kwargs: Any) -> None:
        flows.append(Flow(f"flow_{source}__{target}", source, target, **kwargs))

    start = add(
        Node(
            "cycle_created",
            "startEvent",
            "Cycle created",
            COMMISSIONER.key,
            "start",
            documentation="A commissioner of the organisation starts a commissioning cycle "
            f"with the template \u201c{template.name}\u201d.",
        )
    )
    enter_ids = [node_id("enter", stage.key) for stage in stages]
    previous_exits: list[str] = [start]

    for position, stage in enumerate(stages, start=1):
        key = stage.key
        checks = gate_checks(template, key)
        requires = template.gate_requires(key)
        enter = add(
            Node(
                enter_ids[position - 1],
                "exclusiveGateway",
                "",
                COMMISSIONER.key,
                "enter",
                key,
                f"Stage {position} of {count}, \u201c{stage.name}\u201d, opens: after the stage "
                "before it, after an earlier visit of this stage whose gate was closed, or "
                "when a later stage reopens it.",
            )
        )
        for exit_id in previous_exits:
            flow_kwargs: dict[str, Any] = {}
            node_role = next(n.role for n in nodes if n.id == exit_id)
            if node_role == "gate":
                flow_kwargs = {
                    "name": "Gate met",
                    "condition": open_condition(gate_checks(template, stages[position - 2].key)),
                }
            connect(exit_id, enter, **flow_kwargs)
        current = enter

        if requires & {Condition.WORKING_AGREEMENT, Condition.INVOLVEMENT_LEAD}:
            prepare = add(
                Node(
                    node_id("prepare", key),
                    "userTask",
                    "Bring the panel together",
                    INVOLVEMENT_LEAD.key,
                    "prepare",
                    key,
                    "The involvement lead forms the users\u2019 panel and records the working "
                    "agreement: the task, the members\u2019 responsibilities and the support "
                    "they get (training, expenses, papers in plain English). Every member signs "
                    "it before fieldwork begins.",
                )
            )
            connect(current, prepare)
            current = prepare

        own = [STAGE_CHECKS[c].words for c in sorted(requires)]
        evidence = add(
            Node(
                node_id("evidence", key),
                "userTask",
                stage.name,
                COMMISSIONER.key,
                "evidence",
                key,
                " ".join(
                    part
                    for part in (
                        f"Stage {position} of {count}.",
                        _sentence(stage.summary).rstrip(".") + "." if stage.summary else "",
                        "The lead commissioner records the role boundaries for this stage "
                        "(why users are involved, their role and level of influence, who "
                        "decides, what is fixed and what can still change) and the budget (the "
                        "amount and its constraints, or the reason it cannot be given; every "
                        "change is a new version), answers the panel\u2019s input, and then "
                        "moves on through the involvement gate or reopens an earlier stage.",
                        ("Before this stage can be left: " + "; ".join(own) + ".") if own else "",
                        f"Sources: {', '.join(stage.sources)}." if stage.sources else "",
                    )
                    if part
                ),
            )
        )
        connect(current, evidence)
        current = evidence

        earlier = stages[: position - 1]
        if earlier:
            choose = add(
                Node(
                    node_id("choose", key),
                    "exclusiveGateway",
                    "Reopen an earlier stage?",
                    COMMISSIONER.key,
                    "choose",
                    key,
                    "The cycle is iterative: the lead commissioner may reopen any earlier stage, "
                    "with a reason (a change of budget or of outside pressures can force it). "
                    "The reopened stage\u2019s gate must be met again, and so must every gate "
                    "after it.",
                )
            )
            connect(current, choose)
            for back in earlier:
                connect(
                    choose,
                    enter_ids[template.position(back.key) - 1],
                    name=f"Reopen: {back.name}",
                    condition=f"reopen_to == {back.key!r}",
                )
            current = choose

        if stage.decides:
            decide = add(
                Node(
                    node_id("decide", key),
                    "userTask",
                    "Record the decision",
                    DECISION_MAKER.key,
                    "decide",
                    key,
                    "The decision-maker records what was decided and where, and any veto with "
                    "its reason. Users inform and influence the decision; they do not make it, "
                    "and their sign-off is not approval of it.",
                )
            )
            connect(current, decide, **({"name": "Move on", "default": True} if earlier else {}))
            current = decide

        signoff = add(
            Node(
                node_id("signoff", key),
                "userTask",
                "Sign off the stage",
                REPRESENTATIVES.key,
                "signoff",
                key,
                "Each member of the active panel (one instance per member of the collection "
                "\u201cpanel\u201d) acknowledges the role boundaries and then attests that they "
                "were involved on the agreed terms and told the budget as recorded, or records "
                "dissent with reasons. This is not approval of any decision. A sign-off counts "
                "only for the versions of the boundaries and budget it was given against."
                + (
                    " Everyone on the tender panel declares their interests first."
                    if Condition.CONFLICTS_DECLARED in requires
                    else ""
                ),
                multi_instance=True,
            )
        )
        connect(
            current,
            signoff,
            **({"name": "Move on", "default": True} if earlier and not stage.decides else {}),
        )
        gate = add(
            Node(
                node_id("gate", key),
                "exclusiveGateway",
                "Involvement gate met?",
                COMMISSIONER.key,
                "gate",
                key,
                _gate_documentation(stage, checks),
            )
        )
        connect(signoff, gate)
        connect(gate, enter_ids[position - 1], name="Gate closed: stay", default=True)
        dissent = add(
            Node(
                node_id("dissent", key),
                "userTask",
                "Withdraw the dissent, or let it stand",
                REPRESENTATIVES.key,
                "dissent",
                key,
                "A member of the panel recorded dissent: they say involvement did not happen as "
                "agreed. The dissent holds the gate. The member may withdraw it (once what they "
                "raised is put right, say) and the stage goes on; or it stands, and then only a "
                "governance board member can override the gate, with written reasons. The "
                "dissent stays on the record either way.",
            )
        )
        connect(gate, dissent, name="Dissent open", condition=DISSENT_CONDITION)
        connect(dissent, enter_ids[position - 1])
        override = add(
            Node(
                node_id("override", key),
                "userTask",
                "Override the gate, with reasons",
                GOVERNANCE.key,
                "override",
                key,
                "A governance board member who takes no part in running the cycle departs from "
                "the gate with written reasons, naming each condition departed from. Only "
                "people\u2019s availability or disagreement can be departed from: "
                + "; ".join(check.words for check in checks if check.waivable)
                + ". The override stays on the record; anything new that goes unmet (a second "
                "dissent, a newcomer, a new budget) closes the gate again.",
            )
        )
        connect(
            gate,
            override,
            name="Override asked for",
            condition=override_condition(checks),
        )
        previous_exits = [gate, override]

    last = add(
        Node(
            "last_stage_passed",
            "exclusiveGateway",
            "Last stage passed",
            COMMISSIONER.key,
            "last",
            documentation="The gate of the last stage was met or overridden.",
        )
    )
    final_checks = gate_checks(template, stages[-1].key)
    connect(previous_exits[0], last, name="Gate met", condition=open_condition(final_checks))
    connect(previous_exits[1], last)
    completed = add(
        Node(
            "cycle_completed",
            "exclusiveGateway",
            "Review the completed cycle?",
            COMMISSIONER.key,
            "completed",
            documentation="The cycle is completed. It is iterative: the lead commissioner can "
            "reopen any stage later, with a reason, to review it again with users; otherwise "
            "the cycle ends here.",
        )
    )
    connect(last, completed)
    end = add(
        Node(
            "cycle_closed",
            "endEvent",
            "Cycle completed",
            COMMISSIONER.key,
            "end",
            documentation="Every stage\u2019s gate was met or overridden, and the cycle is "
            "completed.",
        )
    )
    connect(completed, end, name="Close the cycle", default=True)
    for stage in stages:
        connect(
            completed,
            enter_ids[template.position(stage.key) - 1],
            name=f"Reopen: {stage.name}",
            condition=f"reopen_to == {stage.key!r}",
        )
    return ProcessModel(
        template_key=template.key,
        process_id=f"commissioning_{template.key}",
        name=template.name,
        stage_keys=template.keys,
        nodes=tuple(nodes),
        flows=tuple(flows),
    )


def evaluate_condition(expression: str, data: Mapping[str, Any]) -> bool:
    """Evaluate a condition as a Python-expression engine such as SpiffWorkflow's does."""
    return bool(eval(expression, {"__builtins__": {"len": len}}, dict(data)))


def next_flow(model: ProcessModel, gateway_id: str, data: Mapping[str, Any]) -> Flow:
    """The flow an exclusive gateway takes for ``data``: the one condition that holds, or the
    default. Raises ``ValueError`` if more than one holds (the model would not be exclusive)."""
    flows = model.outgoing(gateway_id)
    holding = [
        f for f in flows if f.condition is not None and evaluate_condition(f.condition, data)
    ]
    if len(holding) > 1:
        raise ValueError(f"{gateway_id}: more than one condition holds: {holding}")
    if holding:
        return holding[0]
    default = [f for f in flows if f.default]
    if not default:
        raise ValueError(f"{gateway_id}: no condition holds and there is no default flow")
    return default[0]


# Walking the model with a cycle's history ------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One stage-moving event of a cycle's history, as the walk needs it."""

    kind: str
    """``advanced`` (closure passed or overridden), ``refused`` (an advance the gate refused) or
    ``reopened``."""
    stage_key: str | None
    """The stage the cycle was in (None for a reopening of a completed cycle)."""
    to: str | None = None
    closure: str = ""
    unmet: tuple[str, ...] = ()


def moves_from_events(events: Iterable[Mapping[str, Any]]) -> list[Move]:
    """The stage moves in ledger events (dicts with ``action``, ``outcome`` and ``payload``)."""
    moves: list[Move] = []
    for event in events:
        action, payload = event["action"], event["payload"]
        if action == LedgerAction.STAGE_ADVANCED and event["outcome"] == "done":
            moves.append(
                Move(
                    "advanced",
                    payload["from"],
                    payload["to"],
                    payload["closure"],
                    tuple(payload.get("overridden_unmet", ())),
                )
            )
        elif action == LedgerAction.STAGE_REOPENED and event["outcome"] == "done":
            moves.append(Move("reopened", payload["from"], payload["to"]))
        elif (
            action == Operation.STAGE_ADVANCE
            and event["outcome"] == "refused"
            and "unmet" in payload
        ):
            moves.append(Move("refused", event["stage_key"], unmet=tuple(payload["unmet"])))
    return moves


@dataclass
class Walk:
    model: ProcessModel
    steps: list[Flow] = field(default_factory=list)
    at: str = ""

    def take(self, flow: Flow | None, source: str, target: str) -> None:
        if flow is None:
            raise WalkError(f"the model has no sequence flow from {source} to {target}")
        self.steps.append(flow)
        self.at = flow.target


class WalkError(AssertionError):
    """The history took a step the model does not allow."""


def _forward(walk: Walk, data: Mapping[str, Any], *until: str) -> Node:
    """Follow the model from ``walk.at`` with ``data`` to the first node of a role in ``until``."""
    model = walk.model
    for _ in range(len(model.nodes) + 1):
        node = model.node(walk.at)
        if node.role in until and walk.steps:
            return node
        outgoing = model.outgoing(node.id)
        if node.kind == "exclusiveGateway" and len(outgoing) > 1:
            chosen = next_flow(model, node.id, data)
        elif len(outgoing) == 1:
            chosen = outgoing[0]
        else:
            raise WalkError(f"the walk is stuck at {node.id}")
        walk.take(chosen, node.id, chosen.target)
    raise WalkError(f"no {' or '.join(until)} reached from {walk.at}")


def _rest_at(walk: Walk, data: Mapping[str, Any], stage_key: str | None, after: str) -> None:
    """Go on to the stage's lead commissioner task (or the completed cycle's gateway)."""
    node = _forward(walk, data, "evidence", "completed")
    if node.stage_key != stage_key:
        where = node.stage_key or "the completed cycle"
        raise WalkError(f"{after} led the model to {where}, the cycle to {stage_key}")


def walk(model: ProcessModel, moves: Sequence[Move]) -> Walk:
    """Replay ``moves`` over the model, from its start: each step must be a sequence flow the
    model has, and each gateway must choose it for the data of the move (:func:`gate_data`).

    Raises :class:`WalkError` at the first step the model does not allow. Between moves the walk
    rests at the stage's lead commissioner task (or at the completed cycle's gateway).
    """
    route = Walk(model, at="cycle_created")
    current: str | None = model.stage_keys[0]
    _rest_at(route, {}, current, "the start")
    for move in moves:
        if move.stage_key != current:
            raise WalkError(f"{move} happened in stage {move.stage_key}, the walk is in {current}")
        if move.kind == "reopened":
            data = gate_data((), reopen_to=move.to)
            chooser = model.node(route.at)
            if chooser.role != "completed":
                chooser = _forward(route, data, "choose", "gate")
            if chooser.role == "gate":
                raise WalkError(f"the model has no way to reopen a stage from {current}")
            chosen = next_flow(model, chooser.id, data)
            if chosen.default:
                raise WalkError(f"the model cannot reopen {move.to} from {chooser.id}")
            route.take(chosen, chooser.id, chosen.target)
            _rest_at(route, data, move.to, f"reopening {move.to}")
            current = move.to
            continue
        assert current is not None
        overridden = move.kind == "advanced" and move.closure == "overridden"
        data = gate_data(move.unmet, override_requested=overridden)
        gate = _forward(route, data, "gate")
        chosen = next_flow(model, gate.id, data)
        route.take(chosen, gate.id, chosen.target)
        if move.kind == "refused":
            if not (chosen.default or model.node(chosen.target).role == "dissent"):
                raise WalkError(f"the gate of {current} refused, the model took {chosen.id}")
            _rest_at(route, data, current, "a refused advance")
            continue
        if chosen.default:
            raise WalkError(f"the cycle left {current}, the model stays: {move}")
        if overridden != (model.node(chosen.target).role == "override"):
            raise WalkError(f"{move} took {chosen.id}")
        _rest_at(route, data, move.to, f"advancing from {current}")
        current = move.to
    return route


# Layout ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def overlaps(self, other: Box, margin: float = 0) -> bool:
        return not (
            self.right + margin <= other.x
            or other.right + margin <= self.x
            or self.bottom + margin <= other.y
            or other.bottom + margin <= self.y
        )

    def crosses(self, start: tuple[float, float], end: tuple[float, float]) -> bool:
        """Whether an axis-parallel segment passes through the box's interior."""
        (x1, y1), (x2, y2) = start, end
        if y1 == y2:
            return self.y < y1 < self.bottom and min(x1, x2) < self.right and max(x1, x2) > self.x
        if x1 == x2:
            return self.x < x1 < self.right and min(y1, y2) < self.bottom and max(y1, y2) > self.y
        return False


@dataclass(frozen=True)
class Label:
    box: Box
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    model: ProcessModel
    pool: Box
    lanes: dict[str, Box]
    shapes: dict[str, Box]
    edges: dict[str, tuple[tuple[float, float], ...]]
    labels: dict[str, Label]
    """Labels drawn outside their element: gateways, events and named flows."""


TASK = (130, 80)
GATEWAY = 50
EVENT = 36
SLOT = {"userTask": 170, "exclusiveGateway": 90, "startEvent": 80, "endEvent": 230}
"""The width each kind of node takes along the process; the end event's leaves room for the
label of the flow into it ("Close the cycle") beside that flow."""
POOL_HEADER = 30
LANE_HEADER = 30
LEVEL_GAP = 22
FONT_SIZE = 11
CHAR_WIDTH = 6.2
LINE_HEIGHT = 14
LABEL_WIDTH = 150


def _wrap(text: str, width: float = LABEL_WIDTH) -> tuple[str, ...]:
    return tuple(textwrap.wrap(text, max(1, int(width // CHAR_WIDTH)))) or ("",)


def _label_box(x: float, y: float, lines: Sequence[str]) -> Box:
    width = max(len(line) for line in lines) * CHAR_WIDTH + 4
    return Box(round(x, 1), round(y, 1), math.ceil(width), len(lines) * LINE_HEIGHT)


def layout(model: ProcessModel) -> Layout:
    """Lay the model out: lanes as rows, stages left to right, reopening flows above them."""
    sources = [n.id for n in model.nodes if n.role in ("choose", "completed")]
    levels = {source: index + 1 for index, source in enumerate(sources)}
    channel = (len(sources) + 1) * LEVEL_GAP
    loop_band = 44
    heights = {lane.key: 150 for lane in LANES}
    heights[COMMISSIONER.key] = channel + loop_band + TASK[1] + 70
    lanes: dict[str, Box] = {}
    y = 0.0
    left = POOL_HEADER + LANE_HEADER
    x = float(left + 20)
    shapes: dict[str, Box] = {}
    centers_x: dict[str, float] = {}
    for node in model.nodes:
        centers_x[node.id] = x + SLOT[node.kind] / 2
        x += SLOT[node.kind]
    width = x + 120
    for lane in LANES:
        lanes[lane.key] = Box(POOL_HEADER, y, width - POOL_HEADER, heights[lane.key])
        y += heights[lane.key]
    pool = Box(0, 0, width, y)
    row_cy = {lane.key: lanes[lane.key].cy if lane is not COMMISSIONER else 0.0 for lane in LANES}
    row_cy[COMMISSIONER.key] = channel + loop_band + TASK[1] / 2
    for node in model.nodes:
        cx, cy = centers_x[node.id], row_cy[node.lane]
        w, h = (
            TASK
            if node.kind == "userTask"
            else (GATEWAY, GATEWAY)
            if node.kind == "exclusiveGateway"
            else (EVENT, EVENT)
        )
        shapes[node.id] = Box(cx - w / 2, cy - h / 2, w, h)

    channel_bottom = channel
    loop_y = channel + 14

    def level_y(source: str) -> float:
        return channel_bottom - levels[source] * LEVEL_GAP + LEVEL_GAP / 2

    edges: dict[str, tuple[tuple[float, float], ...]] = {}
    for flow in model.flows:
        s, t = shapes[flow.source], shapes[flow.target]
        source, target = model.node(flow.source), model.node(flow.target)
        points: list[tuple[float, float]]
        if source.role in ("choose", "completed") and target.role == "enter":
            ly = level_y(source.id)
            arrive = (t.cx + 8, t.y + 8)
            points = [(s.cx, s.y), (s.cx, ly), (arrive[0], ly), arrive]
        elif source.role == "gate" and target.id == node_id("enter", source.stage_key or ""):
            points = [(s.cx, s.y), (s.cx, loop_y), (t.cx, loop_y), (t.cx, t.y)]
        elif source.role == "gate" and target.role in ("override", "dissent"):
            points = [(s.cx, s.bottom), (s.cx, t.cy), (t.x, t.cy)]
        elif source.role == "dissent":
            lane_top = lanes[source.lane].y + 14
            arrive = (t.cx - 8, t.bottom - 8)
            points = [(s.cx, s.y), (s.cx, lane_top), (arrive[0], lane_top), arrive]
        elif source.role == "override":
            points = [(s.right, s.cy), (t.cx, s.cy), (t.cx, t.bottom)]
        elif s.cy == t.cy:
            points = [(s.right, s.cy), (t.x, t.cy)]
        else:
            start = (s.right, s.cy)
            end = (t.x, t.cy)
            mid = round((start[0] + end[0]) / 2, 1)
            points = [start, (mid, start[1]), (mid, end[1]), end]
        edges[flow.id] = tuple((round(px, 1), round(py, 1)) for px, py in points)

    labels = _place_labels(model, shapes, edges, lanes, levels, level_y)
    return Layout(model, pool, lanes, shapes, edges, labels)


def _place_labels(
    model: ProcessModel,
    shapes: Mapping[str, Box],
    edges: Mapping[str, Sequence[tuple[float, float]]],
    lanes: Mapping[str, Box],
    levels: Mapping[str, int],
    level_y: Any,
) -> dict[str, Label]:
    """Place every outside label where it overlaps no shape, no other label and no line."""
    placed: dict[str, Label] = {}
    obstacles = list(shapes.values())
    segments = [(a, b) for points in edges.values() for a, b in itertools.pairwise(points)]

    def free(box: Box) -> bool:
        if any(box.overlaps(shape, margin=3) for shape in obstacles):
            return False
        if any(box.overlaps(label.box, margin=2) for label in placed.values()):
            return False
        if any(box.crosses(a, b) for a, b in segments):
            return False
        lane = next(lane for lane in lanes.values() if lane.y <= box.y < lane.bottom)
        return (
            box.x >= lane.x + LANE_HEADER + 2
            and box.right <= lane.right - 2
            and (box.bottom <= lane.bottom - 2)
        )

    def place(key: str, candidates: Iterable[tuple[float, float]], lines: tuple[str, ...]) -> None:
        options = list(candidates)
        for cx, cy in options:
            box = _label_box(cx, cy, lines)
            try:
                if free(box):
                    placed[key] = Label(box, lines)
                    return
            except StopIteration:
                continue
        cx, cy = options[0]
        placed[key] = Label(_label_box(cx, cy, lines), lines)

    for node in model.nodes:
        if node.kind == "userTask" or (node.role == "enter"):
            continue
        shape = shapes[node.id]
        lines = _wrap(node.name, 110)
        w = max(len(line) for line in lines) * CHAR_WIDTH + 4
        h = len(lines) * LINE_HEIGHT
        candidates = [
            (shape.cx - w / 2, shape.bottom + 6),
            (shape.right + 6, shape.bottom + 2),
            (shape.x - w - 6, shape.bottom + 2),
            (shape.cx - w / 2, shape.bottom + 40),
            (shape.right + 8, shape.cy + 8),
            (shape.x - w - 8, shape.y - h - 2),
            (shape.right + 8, shape.y - h - 2),
        ]
        place(node.id, candidates, lines)

    for flow in model.flows:
        if not flow.name:
            continue
        points = edges[flow.id]
        in_channel = flow.source in levels and model.node(flow.target).role == "enter"
        lines = (flow.name,) if in_channel else _wrap(flow.name, 120)
        w = max(len(line) for line in lines) * CHAR_WIDTH + 4
        h = len(lines) * LINE_HEIGHT
        candidates = []
        if in_channel:
            xb, yb = points[-2]
            candidates.append((xb + 6, yb - h - 2))
            candidates.append((xb + 6, yb + 3))
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            if ya == yb:
                lo, hi = min(xa, xb), max(xa, xb)
                for fraction in (0.0, 0.5, 1.0):
                    px = lo + 8 + fraction * max(0.0, hi - lo - w - 16)
                    candidates += [(px, ya - h - 3), (px, ya + 3)]
            else:
                lo, hi = min(ya, yb), max(ya, yb)
                for fraction in (0.0, 0.5, 1.0):
                    py = lo + 6 + fraction * max(0.0, hi - lo - h - 12)
                    candidates += [(xa + 5, py), (xa - w - 5, py)]
        (xa, ya), (xb, yb) = points[0], points[1]
        mx, my = (xa + xb) / 2, (ya + yb) / 2
        for step in range(1, 12):
            candidates += [
                (mx - w / 2, my - h - 3 - 6 * step),
                (mx - w / 2, my + 3 + 6 * step),
                (mx + 6 * step, my - h - 3),
                (mx - w - 6 * step, my + 3),
            ]
        place(flow.id, candidates, lines)
    return placed


# BPMN 2.0 XML ----------------------------------------------------------------------------------


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _bpmn(tag: str) -> str:
    return _q(BPMN_NS, tag)


def _bpmndi(tag: str) -> str:
    return _q(BPMNDI_NS, tag)


def _svg(tag: str) -> str:
    return _q(SVG_NS, tag)


def to_bpmn_xml(model: ProcessModel, diagram: Layout | None = None) -> bytes:
    """BPMN 2.0 XML of the model, with diagram interchange for its layout."""
    diagram = diagram or layout(model)
    ET.register_namespace("bpmn", BPMN_NS)
    ET.register_namespace("bpmndi", BPMNDI_NS)
    ET.register_namespace("dc", DC_NS)
    ET.register_namespace("di", DI_NS)
    ET.register_namespace("xsi", XSI_NS)
    definitions = ET.Element(
        _bpmn("definitions"),
        {
            "id": f"definitions_{model.template_key}",
            "targetNamespace": "https://commissioning-cycle.example.org/bpmn",
            "exporter": EXPORTER,
            "exporterVersion": "1",
        },
    )
    collaboration = ET.SubElement(
        definitions, _bpmn("collaboration"), {"id": f"collaboration_{model.template_key}"}
    )
    participant_id = f"participant_{model.template_key}"
    ET.SubElement(
        collaboration,
        _bpmn("participant"),
        {"id": participant_id, "name": model.name, "processRef": model.process_id},
    )
    process = ET.SubElement(
        definitions,
        _bpmn("process"),
        {"id": model.process_id, "name": model.name, "isExecutable": "true"},
    )
    ET.SubElement(process, _bpmn("documentation")).text = (
        f"The commissioning cycle \u201c{model.name}\u201d: each stage ends at an involvement "
        "gate that stops the cycle until the role boundaries, the budget and the users\u2019 "
        "sign-off are on record, with the stage\u2019s own conditions."
    )
    lane_set = ET.SubElement(process, _bpmn("laneSet"), {"id": f"lanes_{model.template_key}"})
    for lane in LANES:
        lane_element = ET.SubElement(
            lane_set, _bpmn("lane"), {"id": f"lane_{lane.key}", "name": lane.name}
        )
        for node in model.nodes:
            if node.lane == lane.key:
                ET.SubElement(lane_element, _bpmn("flowNodeRef")).text = node.id
    ET.SubElement(
        process,
        _bpmn("dataObject"),
        {"id": "panel", "name": "The active panel", "isCollection": "true"},
    )
    ET.SubElement(
        process,
        _bpmn("dataObject"),
        {"id": "signoffs", "name": "The panel\u2019s sign-offs", "isCollection": "true"},
    )
    for node in model.nodes:
        attributes = {"id": node.id}
        if node.name:
            attributes["name"] = node.name
        default = next((f.id for f in model.outgoing(node.id) if f.default), None)
        if default is not None:
            attributes["default"] = default
        element = ET.SubElement(process, _bpmn(node.kind), attributes)
        if node.documentation:
            ET.SubElement(element, _bpmn("documentation")).text = node.documentation
        for flow in model.incoming(node.id):
            ET.SubElement(element, _bpmn("incoming")).text = flow.id
        for flow in model.outgoing(node.id):
            ET.SubElement(element, _bpmn("outgoing")).text = flow.id
        if node.multi_instance:
            loop = ET.SubElement(element, _bpmn("multiInstanceLoopCharacteristics"))
            ET.SubElement(loop, _bpmn("loopDataInputRef")).text = "panel"
            ET.SubElement(loop, _bpmn("loopDataOutputRef")).text = "signoffs"
            stage_key = node.stage_key or ""
            ET.SubElement(
                loop,
                _bpmn("inputDataItem"),
                {"id": member_variable(stage_key), "name": "The panel member"},
            )
            ET.SubElement(
                loop,
                _bpmn("outputDataItem"),
                {"id": position_variable(stage_key), "name": "Attest or dissent"},
            )
    for flow in model.flows:
        attributes = {"id": flow.id, "sourceRef": flow.source, "targetRef": flow.target}
        if flow.name:
            attributes["name"] = flow.name
        element = ET.SubElement(process, _bpmn("sequenceFlow"), attributes)
        if flow.condition is not None:
            condition = ET.SubElement(
                element,
                _bpmn("conditionExpression"),
                {_q(XSI_NS, "type"): "bpmn:tFormalExpression"},
            )
            condition.text = flow.condition

    plane_diagram = ET.SubElement(
        definitions, _bpmndi("BPMNDiagram"), {"id": f"diagram_{model.template_key}"}
    )
    plane = ET.SubElement(
        plane_diagram,
        _bpmndi("BPMNPlane"),
        {"id": f"plane_{model.template_key}", "bpmnElement": f"collaboration_{model.template_key}"},
    )

    def bounds(parent: ET.Element, box: Box) -> None:
        ET.SubElement(
            parent,
            _q(DC_NS, "Bounds"),
            {"x": _n(box.x), "y": _n(box.y), "width": _n(box.width), "height": _n(box.height)},
        )

    shape = ET.SubElement(
        plane,
        _bpmndi("BPMNShape"),
        {"id": f"{participant_id}_di", "bpmnElement": participant_id, "isHorizontal": "true"},
    )
    bounds(shape, diagram.pool)
    for lane in LANES:
        shape = ET.SubElement(
            plane,
            _bpmndi("BPMNShape"),
            {
                "id": f"lane_{lane.key}_di",
                "bpmnElement": f"lane_{lane.key}",
                "isHorizontal": "true",
            },
        )
        bounds(shape, diagram.lanes[lane.key])
    for node in model.nodes:
        attributes = {"id": f"{node.id}_di", "bpmnElement": node.id}
        if node.kind == "exclusiveGateway":
            attributes["isMarkerVisible"] = "true"
        shape = ET.SubElement(plane, _bpmndi("BPMNShape"), attributes)
        bounds(shape, diagram.shapes[node.id])
        if node.id in diagram.labels:
            bounds(ET.SubElement(shape, _bpmndi("BPMNLabel")), diagram.labels[node.id].box)
    for flow in model.flows:
        edge = ET.SubElement(
            plane, _bpmndi("BPMNEdge"), {"id": f"{flow.id}_di", "bpmnElement": flow.id}
        )
        for px, py in diagram.edges[flow.id]:
            ET.SubElement(edge, _q(DI_NS, "waypoint"), {"x": _n(px), "y": _n(py)})
        if flow.id in diagram.labels:
            bounds(ET.SubElement(edge, _bpmndi("BPMNLabel")), diagram.labels[flow.id].box)
    ET.indent(definitions)
    xml: bytes = ET.tostring(definitions, encoding="UTF-8", xml_declaration=True)
    return xml + b"\n"


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


# SVG -------------------------------------------------------------------------------------------


STATE_STYLE = {
    StageState.PASSED: ("#e6f4ea", "#1e6b34", "Passed"),
    StageState.OVERRIDDEN: ("#fdf0dc", "#8a4b00", "Overridden"),
    StageState.CURRENT: ("#e3ecfa", "#1d4f91", "Current"),
    StageState.NOT_REACHED: ("#ffffff", "#5f6368", "Not reached"),
}


def condition_words(codes: Iterable[str]) -> str:
    """The conditions behind gate codes, in words, each once: "the budget is disclosed: …; …"."""
    words = {
        code: check.words for check in (*EVERY_GATE, *STAGE_CHECKS.values()) for code in check.codes
    }
    return "; ".join(dict.fromkeys(words.get(code, code) for code in codes))


def describe_state(name: str, position: int, count: int, state: StageState) -> str:
    """One plain sentence about a stage's state, for screen readers and the diagram's desc: the
    conditions in words (the drawing shows their codes)."""
    head = f"Stage {position} of {count}, {name}:"
    if state.state == StageState.PASSED:
        return f"{head} passed, its involvement gate met."
    if state.state == StageState.OVERRIDDEN:
        if not state.unmet:
            return f"{head} passed by a governance override."
        return (
            f"{head} passed by a governance override, which let it end although this did not "
            f"hold: {condition_words(state.unmet)}."
        )
    if state.state == StageState.CURRENT:
        if state.gate_open:
            return f"{head} current; the involvement gate is open."
        unmet = condition_words(state.unmet)
        if state.override_stands:
            return (
                f"{head} current; the involvement gate is closed, but a governance override "
                f"lets the stage end although this does not hold: {unmet}."
            )
        return f"{head} current; the involvement gate is closed. Still needed: {unmet}."
    again = " (visited before, to be passed again)" if state.visits else ""
    return f"{head} not reached{again}."


def state_sentences(
    model: ProcessModel,
    states: Mapping[str, StageState],
    stage_names: Mapping[str, str] | None = None,
) -> list[str]:
    """One sentence per stage saying where the cycle stands, in stage order: the text
    alternative to the live diagram (its ``desc``, and a list a page can show beside it)."""
    names = {n.stage_key: n.name for n in model.nodes if n.role == "evidence" and n.stage_key}
    names.update(stage_names or {})
    count = len(model.stage_keys)
    return [
        describe_state(names[key], index, count, states[key])
        for index, key in enumerate(model.stage_keys, start=1)
        if key in states
    ]


def to_svg(
    model: ProcessModel,
    diagram: Layout | None = None,
    *,
    states: Mapping[str, StageState] | None = None,
    stage_names: Mapping[str, str] | None = None,
    title: str | None = None,
    first_stages: int | None = None,
) -> str:
    """An SVG drawing of the layout; with ``states``, each stage marked as the cycle stands;
    with ``first_stages``, only the first so many stages are in view (an excerpt that can be
    read at the width of a page)."""
    diagram = diagram or layout(model)
    names = dict(stage_names or {})
    for node in model.nodes:
        if node.role == "evidence" and node.stage_key:
            names.setdefault(node.stage_key, node.name)
    count = len(model.stage_keys)
    heading = title or model.name
    sentences = state_sentences(model, states or {}, names)
    description = (
        " ".join(sentences)
        if sentences
        else (
            f"The BPMN process of the template \u201c{model.name}\u201d: {count} stages, each "
            "ending at an involvement gate, with lanes for the commissioner, the involvement "
            "lead, the user representatives, the decision-maker and the governance board."
        )
    )
    ET.register_namespace("", SVG_NS)
    margin = 10
    width = diagram.pool.width + 2 * margin
    if first_stages is not None and first_stages < count:
        following = diagram.shapes[node_id("enter", model.stage_keys[first_stages])]
        width = following.x - 20 + margin
        heading = f"{heading}: the first {first_stages} of its {count} stages"
        description = (
            f"The first {first_stages} stages of the BPMN process of the template "
            f"\u201c{model.name}\u201d, each ending at an involvement gate, with lanes for the "
            "commissioner, the involvement lead, the user representatives, the decision-maker "
            "and the governance board; the process goes on to the right."
        )
    height = diagram.pool.height + 2 * margin + (40 if states is not None else 0)
    root = ET.Element(
        _svg("svg"),
        {
            "width": _n(width),
            "height": _n(height),
            "viewBox": f"{-margin} {-margin} {_n(width)} {_n(height)}",
            "role": "group",
            "aria-labelledby": "bpmn-diagram-title bpmn-diagram-desc",
            "font-family": "Arial, Helvetica, sans-serif",
            "font-size": str(FONT_SIZE),
        },
    )
    ET.SubElement(root, _svg("title"), {"id": "bpmn-diagram-title"}).text = heading
    ET.SubElement(root, _svg("desc"), {"id": "bpmn-diagram-desc"}).text = description
    defs = ET.SubElement(root, _svg("defs"))
    marker = ET.SubElement(
        defs,
        _svg("marker"),
        {
            "id": "bpmn-arrow",
            "viewBox": "0 0 10 10",
            "refX": "10",
            "refY": "5",
            "markerWidth": "7",
            "markerHeight": "7",
            "orient": "auto-start-reverse",
        },
    )
    ET.SubElement(marker, _svg("path"), {"d": "M 0 0 L 10 5 L 0 10 z", "fill": "#222"})

    pool = diagram.pool
    ET.SubElement(
        root,
        _svg("rect"),
        {
            "x": _n(pool.x),
            "y": _n(pool.y),
            "width": _n(pool.width),
            "height": _n(pool.height),
            "fill": "#fff",
            "stroke": "#222",
            "stroke-width": "1.5",
        },
    )
    _vertical_text(root, pool.x + POOL_HEADER / 2, pool.cy, model.name, bold=True)
    for lane in LANES:
        box = diagram.lanes[lane.key]
        ET.SubElement(
            root,
            _svg("rect"),
            {
                "x": _n(box.x),
                "y": _n(box.y),
                "width": _n(box.width),
                "height": _n(box.height),
                "fill": "none",
                "stroke": "#222",
            },
        )
        ET.SubElement(
            root,
            _svg("line"),
            {
                "x1": _n(box.x + LANE_HEADER),
                "y1": _n(box.y),
                "x2": _n(box.x + LANE_HEADER),
                "y2": _n(box.bottom),
                "stroke": "#222",
            },
        )
        _vertical_text(root, box.x + LANE_HEADER / 2, box.cy, lane.name)

    edges_group = ET.SubElement(root, _svg("g"), {"aria-hidden": "true"})
    for flow in model.flows:
        points = diagram.edges[flow.id]
        ET.SubElement(
            edges_group,
            _svg("polyline"),
            {
                "points": " ".join(f"{_n(x)},{_n(y)}" for x, y in points),
                "fill": "none",
                "stroke": "#222",
                "stroke-width": "1.2",
                "marker-end": "url(#bpmn-arrow)",
                "data-flow": flow.id,
            },
        )
        if flow.default:
            (x1, y1), (x2, y2) = points[0], points[1]
            length = math.hypot(x2 - x1, y2 - y1) or 1
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            mx, my = x1 + ux * 10, y1 + uy * 10
            ET.SubElement(
                edges_group,
                _svg("line"),
                {
                    "x1": _n(round(mx - 5 * ux + 5 * uy, 1)),
                    "y1": _n(round(my - 5 * uy - 5 * ux, 1)),
                    "x2": _n(round(mx + 5 * ux - 5 * uy, 1)),
                    "y2": _n(round(my + 5 * uy + 5 * ux, 1)),
                    "stroke": "#222",
                    "stroke-width": "1.2",
                },
            )

    space = _Space(diagram)
    stage_groups: dict[str, ET.Element] = {}
    stage_list = ET.SubElement(root, _svg("g"), {"role": "list", "aria-label": "Stages"})
    for index, key in enumerate(model.stage_keys, start=1):
        attributes = {"role": "listitem", "data-stage": key}
        if states is not None and key in states:
            attributes["data-state"] = states[key].state
            attributes["aria-label"] = describe_state(names[key], index, count, states[key])
        else:
            attributes["aria-label"] = f"Stage {index} of {count}: {names[key]}"
        stage_groups[key] = ET.SubElement(stage_list, _svg("g"), attributes)
    other = ET.SubElement(root, _svg("g"), {"aria-hidden": "true"})

    for node in model.nodes:
        box = diagram.shapes[node.id]
        parent = stage_groups.get(node.stage_key or "", other)
        state = states.get(node.stage_key or "") if states is not None else None
        fill, stroke = "#fff", "#222"
        took_path = state is not None and (
            state.state == StageState.OVERRIDDEN or state.override_stands
            if node.role == "override"
            else state.state == StageState.CURRENT and "signoff.dissent" in state.unmet
        )
        if state is not None and (node.role not in ("override", "dissent") or took_path):
            fill, stroke, _ = STATE_STYLE[state.state]
        group = ET.SubElement(parent, _svg("g"), {"data-node": node.id})
        if node.kind == "userTask":
            ET.SubElement(
                group,
                _svg("rect"),
                {
                    "x": _n(box.x),
                    "y": _n(box.y),
                    "width": _n(box.width),
                    "height": _n(box.height),
                    "rx": "10",
                    "fill": fill,
                    "stroke": stroke,
                    "stroke-width": "1.5",
                },
            )
            _task_text(group, box, node.name)
            if node.multi_instance:
                for offset in (-6, 0, 6):
                    x = box.cx + offset
                    ET.SubElement(
                        group,
                        _svg("line"),
                        {
                            "x1": _n(x),
                            "y1": _n(box.bottom - 16),
                            "x2": _n(x),
                            "y2": _n(box.bottom - 4),
                            "stroke": stroke,
                            "stroke-width": "2",
                        },
                    )
            _user_icon(group, box.x + 8, box.y + 8, stroke)
        elif node.kind == "exclusiveGateway":
            gate_fill = fill if node.role == "gate" else "#fff"
            ET.SubElement(
                group,
                _svg("polygon"),
                {
                    "points": f"{_n(box.cx)},{_n(box.y)} {_n(box.right)},{_n(box.cy)} "
                    f"{_n(box.cx)},{_n(box.bottom)} {_n(box.x)},{_n(box.cy)}",
                    "fill": gate_fill,
                    "stroke": stroke if node.role == "gate" else "#222",
                    "stroke-width": "1.5",
                },
            )
            d = 9
            for (ax, ay), (bx, by) in (((-d, -d), (d, d)), ((-d, d), (d, -d))):
                ET.SubElement(
                    group,
                    _svg("line"),
                    {
                        "x1": _n(box.cx + ax),
                        "y1": _n(box.cy + ay),
                        "x2": _n(box.cx + bx),
                        "y2": _n(box.cy + by),
                        "stroke": "#222",
                        "stroke-width": "3",
                    },
                )
        else:
            ET.SubElement(
                group,
                _svg("circle"),
                {
                    "cx": _n(box.cx),
                    "cy": _n(box.cy),
                    "r": _n(box.width / 2),
                    "fill": "#fff",
                    "stroke": "#222",
                    "stroke-width": "4" if node.kind == "endEvent" else "1.5",
                },
            )
        if state is not None and node.role == "evidence":
            _state_badge(group, box, state, space)
        if state is not None and node.role == "gate" and state.state == StageState.CURRENT:
            _gate_badge(group, box, state, space)
    for key, label in diagram.labels.items():
        node_stage = diagram.model._by_id[key].stage_key if key in diagram.model._by_id else None
        parent = stage_groups.get(node_stage or "", other)
        text = ET.SubElement(
            parent,
            _svg("text"),
            {"x": _n(label.box.x + 2), "y": _n(label.box.y + LINE_HEIGHT - 3), "fill": "#222"},
        )
        for number, line in enumerate(label.lines):
            ET.SubElement(
                text,
                _svg("tspan"),
                {"x": _n(label.box.x + 2), "dy": "0" if number == 0 else str(LINE_HEIGHT)},
            ).text = line
    if states is not None:
        _legend(root, diagram.pool.bottom + 14)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def _vertical_text(parent: ET.Element, x: float, y: float, text: str, bold: bool = False) -> None:
    attributes = {
        "x": _n(x),
        "y": _n(y),
        "transform": f"rotate(-90 {_n(x)} {_n(y)})",
        "text-anchor": "middle",
        "dominant-baseline": "middle",
        "fill": "#222",
    }
    if bold:
        attributes["font-weight"] = "bold"
    ET.SubElement(parent, _q(SVG_NS, "text"), attributes).text = text


def _task_text(parent: ET.Element, box: Box, name: str) -> None:
    lines = _wrap(name, box.width - 30)
    top = box.cy - (len(lines) - 1) * LINE_HEIGHT / 2 + 4
    text = ET.SubElement(
        parent,
        _q(SVG_NS, "text"),
        {"x": _n(box.cx), "y": _n(round(top, 1)), "text-anchor": "middle", "fill": "#222"},
    )
    for number, line in enumerate(lines):
        ET.SubElement(
            text, _q(SVG_NS, "tspan"), {"x": _n(box.cx), "dy": "0" if number == 0 else "14"}
        ).text = line


def _user_icon(parent: ET.Element, x: float, y: float, stroke: str) -> None:
    ET.SubElement(
        parent,
        _q(SVG_NS, "circle"),
        {"cx": _n(x + 6), "cy": _n(y + 4), "r": "3.5", "fill": "none", "stroke": stroke},
    )
    ET.SubElement(
        parent,
        _q(SVG_NS, "path"),
        {"d": f"M {_n(x)} {_n(y + 14)} q 6 -9 12 0", "fill": "none", "stroke": stroke},
    )


class _Space:
    """Free space on the drawing, for the state marks: nothing they cover is hidden."""

    def __init__(self, diagram: Layout) -> None:
        self.taken = [*diagram.shapes.values(), *(label.box for label in diagram.labels.values())]
        self.segments = [
            (a, b) for points in diagram.edges.values() for a, b in itertools.pairwise(points)
        ]
        # A mark stays inside one lane: the lanes' edges are lines it must not cross.
        self.segments += [
            ((lane.x, edge), (lane.right, edge))
            for lane in diagram.lanes.values()
            for edge in (lane.y, lane.bottom)
        ]
        self.bounds = diagram.pool

    def find(self, width: float, height: float, candidates: Sequence[tuple[float, float]]) -> Box:
        for x, y in candidates:
            box = Box(round(x, 1), round(y, 1), math.ceil(width), height)
            if (
                box.x >= self.bounds.x + POOL_HEADER + LANE_HEADER
                and box.bottom <= self.bounds.bottom
                and box.y >= self.bounds.y
                and not any(box.overlaps(other, margin=2) for other in self.taken)
                and not any(box.crosses(a, b) for a, b in self.segments)
            ):
                self.taken.append(box)
                return box
        x, y = candidates[0]
        box = Box(x, y, math.ceil(width), height)
        self.taken.append(box)
        return box


def _state_badge(parent: ET.Element, box: Box, state: StageState, space: _Space) -> None:
    _, stroke, words = STATE_STYLE[state.state]
    width = len(words) * CHAR_WIDTH + 4
    spot = space.find(
        width,
        LINE_HEIGHT,
        [(box.cx - width / 2, box.y - LINE_HEIGHT - 3), (box.cx - width / 2, box.bottom + 3)],
    )
    ET.SubElement(
        parent,
        _q(SVG_NS, "text"),
        {
            "x": _n(spot.x + 2),
            "y": _n(spot.y + LINE_HEIGHT - 3),
            "fill": stroke,
            "font-weight": "bold",
            "class": f"state state-{state.state}",
        },
    ).text = words


GATE_CODES_WIDTH = 230
"""How wide the list of a closed gate's unmet codes may run before it wraps."""


def _gate_lines(head: str, codes: Sequence[str]) -> list[list[str]]:
    """The gate's state as lines of words: its head alone, then the codes, several to a line."""
    lines: list[list[str]] = [[head]]
    row: list[str] = []
    for code in codes:
        if row and len(", ".join([*row, code])) * CHAR_WIDTH > GATE_CODES_WIDTH:
            lines.append(row)
            row = []
        row.append(code)
    if row:
        lines.append(row)
    return lines


def _gate_badge(parent: ET.Element, box: Box, state: StageState, space: _Space) -> None:
    codes: tuple[str, ...] = ()
    if state.gate_open:
        head = "Gate open"
    elif state.override_stands:
        head, codes = "Gate closed, override stands:", state.unmet
    else:
        head, codes = "Gate closed:", state.unmet
    lines = _gate_lines(head, codes)
    width = max(len(", ".join(line)) for line in lines) * CHAR_WIDTH + 4
    height = len(lines) * LINE_HEIGHT
    # Beside the gate, below the flow out of it; failing that, above; then further along.
    candidates = [(box.right + 6 + dx, box.bottom + dy) for dy in (34, 50, 2) for dx in (0, 20, 40)]
    candidates += [(box.right + dx, box.cy + 4) for dx in range(110, 320, 10)]
    candidates += [(box.right + dx, box.cy - height - 4) for dx in range(20, 320, 20)]
    candidates += [(box.cx + 6, box.bottom + dy) for dy in range(60, 700, 20)]
    spot = space.find(width, height, candidates)
    text = ET.SubElement(
        parent,
        _q(SVG_NS, "text"),
        {
            "x": _n(spot.x + 2),
            "y": _n(spot.y + LINE_HEIGHT - 3),
            "fill": "#1d4f91",
            "font-weight": "bold",
            "class": "gate-state",
        },
    )
    ET.SubElement(text, _q(SVG_NS, "tspan"), {"x": _n(spot.x + 2), "dy": "0"}).text = head
    for number, line in enumerate(lines[1:], start=1):
        row = ET.SubElement(
            text,
            _q(SVG_NS, "tspan"),
            {"x": _n(spot.x + 2), "y": _n(spot.y + LINE_HEIGHT - 3 + number * LINE_HEIGHT)},
        )
        for index, code in enumerate(line):
            span = ET.SubElement(row, _q(SVG_NS, "tspan"), {"data-code": code})
            span.text = code
            if index < len(line) - 1:
                span.tail = ", "


def _legend(parent: ET.Element, y: float) -> None:
    group = ET.SubElement(parent, _q(SVG_NS, "g"), {"aria-hidden": "true"})
    x = 0.0
    for state in (
        StageState.PASSED,
        StageState.OVERRIDDEN,
        StageState.CURRENT,
        StageState.NOT_REACHED,
    ):
        fill, stroke, words = STATE_STYLE[state]
        ET.SubElement(
            group,
            _q(SVG_NS, "rect"),
            {
                "x": _n(x),
                "y": _n(y),
                "width": "18",
                "height": "14",
                "rx": "3",
                "fill": fill,
                "stroke": stroke,
            },
        )
        ET.SubElement(
            group, _q(SVG_NS, "text"), {"x": _n(x + 24), "y": _n(y + 11), "fill": "#222"}
        ).text = words
        x += 130


@functools.lru_cache(maxsize=16)
def template_diagram(template: StageTemplate) -> tuple[ProcessModel, Layout]:
    """The template's model and its layout (computed once per template)."""
    model = build_model(template)
    return model, layout(model)


def live_svg(template: StageTemplate, states: Mapping[str, StageState], *, title: str) -> str:
    """The template's diagram with each stage marked as a cycle stands (see ``StageState``)."""
    model, diagram = template_diagram(template)
    return to_svg(model, diagram, states=states, title=title)


def export(template: StageTemplate, fmt: str, *, first_stages: int | None = None) -> str:
    """The template's model as ``bpmn`` (XML) or ``svg`` text; an SVG of only the
    ``first_stages`` when given."""
    model, diagram = template_diagram(template)
    if fmt == "bpmn":
        if first_stages is not None:
            raise ValueError("an excerpt of the first stages is drawn as svg only")
        return to_bpmn_xml(model, diagram).decode()
    if fmt == "svg":
        return to_svg(model, diagram, first_stages=first_stages)
    raise ValueError(f"unknown format {fmt!r}; use bpmn or svg")
