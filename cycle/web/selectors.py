"""Reads the pages need, each in a fixed number of queries whatever the number of cycles,
members or events (``tests/web/test_query_counts.py`` holds them to it).

Gate state comes from ``cycle.selectors.gate_snapshots`` and ``cycle.gates.evaluate``: the pages
show the engine's own verdict, never one of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cycle import selectors
from cycle.gates import Condition, GateResult, StageSnapshot, evaluate
from cycle.models import CommissioningCycle, StageVisit
from processes.stages import StageDefinition, get_template

# Who each unmet condition waits on, in the words of the people who use the pages.
WAITING_ON = {
    "panel.empty": "the involvement lead",
    "boundaries.missing": "the lead commissioner",
    "boundaries.unacknowledged": "the panel",
    "budget.missing": "the lead commissioner",
    "signoff.stale": "the panel",
    "signoff.quorum": "the panel",
    "signoff.dissent": "a panel member who disagrees, or the governance board",
    "agreement.unsigned": "the panel",
    "lead.missing": "the lead commissioner",
    "conflicts.undeclared": "the tender panel",
    "input.unanswered": "the lead commissioner",
}


@dataclass(frozen=True)
class CycleRow:
    """One cycle in a list: where it stands and what it waits on."""

    cycle: CommissioningCycle
    stage: StageDefinition
    stage_number: int
    stage_count: int
    gate: GateResult
    completed: bool

    @property
    def waiting_on(self) -> list[tuple[str, str]]:
        """(who, what) for each unmet condition; the lead commissioner when the gate is open."""
        if self.completed:
            return []
        if self.gate.passable:
            return [("the lead commissioner", "The gate is open: the cycle can move on.")]
        return [
            (WAITING_ON.get(item.code, "the lead commissioner"), item.message)
            for item in self.gate.unmet
        ]


def cycle_rows(cycles: list[CommissioningCycle]) -> list[CycleRow]:
    """Rows for a list of cycles (already fetched with their organisation)."""
    snapshots = selectors.gate_snapshots(cycles)
    rows = []
    for cycle in cycles:
        template = get_template(cycle.template_key)
        rows.append(
            CycleRow(
                cycle=cycle,
                stage=template.get(cycle.current_stage),
                stage_number=template.position(cycle.current_stage),
                stage_count=len(template.stages),
                gate=evaluate(snapshots[cycle.pk]),
                completed=cycle.status == CommissioningCycle.Status.COMPLETED,
            )
        )
    return rows


def visible_cycles(user: Any) -> list[CommissioningCycle]:
    return list(
        selectors.cycles_visible_to(user)
        .select_related("organisation", "lead_commissioner", "involvement_lead")
        .order_by("title", "id")
    )


@dataclass(frozen=True)
class TimelineStage:
    """One stage of a cycle's template, with what happened in it."""

    stage: StageDefinition
    number: int
    state: str  # "done", "overridden", "current", "reopened", "to do"
    visits: tuple[StageVisit, ...] = ()

    @property
    def label(self) -> str:
        return {
            "done": "Done",
            "overridden": "Passed by a governance decision",
            "current": "Now",
            "completed": "Done",
            "to do": "Not started",
        }[self.state]

    @property
    def reopen_reasons(self) -> list[str]:
        return [visit.opened_reason for visit in self.visits if visit.opened_reason]


def timeline(cycle: CommissioningCycle) -> list[TimelineStage]:
    """The stages of the cycle's template, each with its state, from one query."""
    template = get_template(cycle.template_key)
    visits: dict[str, list[StageVisit]] = {}
    for visit in StageVisit.objects.filter(cycle=cycle).order_by("id"):
        visits.setdefault(visit.stage_key, []).append(visit)
    completed = cycle.status == CommissioningCycle.Status.COMPLETED
    stages = []
    for number, stage in enumerate(template.stages, 1):
        stage_visits = tuple(visits.get(stage.key, ()))
        last = stage_visits[-1] if stage_visits else None
        if last is None:
            state = "to do"
        elif last.is_open:
            state = "current"
        elif last.closure == StageVisit.Closure.OVERRIDDEN:
            state = "overridden"
        elif last.closure == StageVisit.Closure.PASSED:
            state = "done"
        else:  # left to reopen an earlier stage: to be done again
            state = "to do"
        if completed and stage.key == cycle.current_stage and state == "current":
            state = "done"
        stages.append(TimelineStage(stage, number, state, stage_visits))
    return stages


@dataclass(frozen=True)
class ChecklistItem:
    """One condition of the gate, as a line of the design system's task list."""

    key: str
    name: str
    done: bool
    url_name: str
    messages: tuple[str, ...] = ()
    codes: tuple[str, ...] = field(default=())


# The gate's conditions in the order a commissioner meets them: (key, name, codes, page).
CHECKLIST = (
    ("panel", "People on the panel", ("panel.empty",), "web:panel"),
    ("lead", "An involvement lead named", ("lead.missing",), "web:panel"),
    ("agreement", "Working agreement signed by everyone", ("agreement.unsigned",), "web:agreement"),
    (
        "boundaries",
        "Role boundaries agreed and acknowledged",
        ("boundaries.missing", "boundaries.unacknowledged"),
        "web:boundaries",
    ),
    ("budget", "Budget told to the panel", ("budget.missing",), "web:budget"),
    (
        "conflicts",
        "Interests declared by the tender panel",
        ("conflicts.undeclared",),
        "web:panel",
    ),
    ("inputs", "Every input answered", ("input.unanswered",), "web:inputs"),
    (
        "signoff",
        "Most of the panel say they were involved as agreed",
        ("signoff.stale", "signoff.quorum"),
        "web:signoff-request",
    ),
    ("dissent", "No open dissent", ("signoff.dissent",), "web:signoffs"),
)

_CONDITION_OF = {
    "lead": Condition.INVOLVEMENT_LEAD,
    "agreement": Condition.WORKING_AGREEMENT,
    "conflicts": Condition.CONFLICTS_DECLARED,
    "inputs": Condition.INPUT_ANSWERED,
}


def checklist(snapshot: StageSnapshot, result: GateResult) -> list[ChecklistItem]:
    """The current gate as a checklist: every condition this stage asks for, met or not."""
    unmet = {item.code: item.message for item in result.unmet}
    items = []
    for key, name, codes, url_name in CHECKLIST:
        condition = _CONDITION_OF.get(key)
        if condition is not None and condition not in snapshot.requires:
            continue
        missing = tuple(code for code in codes if code in unmet)
        items.append(
            ChecklistItem(
                key=key,
                name=name,
                done=not missing,
                url_name=url_name,
                messages=tuple(unmet[code] for code in missing),
                codes=missing,
            )
        )
    return items


def fix_pages() -> dict[str, str]:
    """Each gate code to the URL name of the page that fixes it."""
    return {code: url_name for _, _, codes, url_name in CHECKLIST for code in codes}
