"""The governance dashboard's charts, worked out from an organisation's compliance figures.

Pure functions over ``cycle.compliance.OrganisationCompliance``: no queries. Each chart says in
words what its picture shows, so its description is never "a chart".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from cycle.compliance import CycleCompliance, OrganisationCompliance
from cycle.stages import TEMPLATES

from .charts import BLUE, GREY, PURPLE, RED, Bar, Chart, Series, number

MOST_CYCLES = 12
"""A per-cycle chart shows at most this many cycles (those it has most to say about)."""

QUORUM_BANDS: tuple[tuple[str, float], ...] = (
    ("Within a day", 24),
    ("1 to 7 days", 24 * 7),
    ("1 to 4 weeks", 24 * 28),
    ("More than 4 weeks", float("inf")),
)

DISSENT_OUTCOMES = {
    "withdrawn": "Withdrawn",
    "attested": "The member attested after all",
    "restated": "Restated",
    "open": "Still open",
    "overridden": "The gate was overridden",
    "stage-reopened": "The stage was reopened",
    "member-left": "The member left the panel",
}

QUORUM_STATUSES = {
    "reached": "Quorum reached",
    "waiting": "Still waiting",
    "not-requested": "Not asked yet: no role boundaries",
    "overridden": "Gate overridden",
    "left": "Left to reopen an earlier stage",
}

BUDGET_OUTCOMES = (
    ("re-attested", "Panel attested again before the next stage"),
    ("overridden", "Next stage reached by override"),
    ("superseded", "Changed again before the next stage"),
    ("awaiting-advance", "Stage not left yet"),
)

OUTCOME_LABELS = {**QUORUM_STATUSES, **DISSENT_OUTCOMES, **dict(BUDGET_OUTCOMES)}
"""Every outcome word of ``cycle.compliance`` in plain English (dissents win a shared word)."""


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{number(count)} {one if count == 1 else (many or one + 's')}"


def _most(
    cycles: tuple[CycleCompliance, ...], key: Callable[[CycleCompliance], tuple[int, ...]]
) -> tuple[list[CycleCompliance], str]:
    """The cycles with the highest ``key`` (at most :data:`MOST_CYCLES`), in the report's order,
    and a sentence saying so when some were left out."""
    ranked = {cycle.cycle_id for cycle in sorted(cycles, key=key, reverse=True)[:MOST_CYCLES]}
    chosen = [cycle for cycle in cycles if cycle.cycle_id in ranked]
    note = ""
    if len(cycles) > len(chosen):
        note = f" The chart shows the {len(chosen)} of {len(cycles)} cycles with the most."
    return chosen, note


def gate_outcomes(report: OrganisationCompliance, slug: str) -> Chart:
    totals = report.totals
    passed, overridden = totals["gates_passed"], totals["gates_overridden"]
    cycles, note = _most(
        tuple(cycle for cycle in report.cycles if cycle.gates),
        lambda cycle: (cycle.gates_overridden, len(cycle.gates)),
    )
    description = (
        f"{_plural(passed, 'gate was', 'gates were')} passed normally and "
        f"{_plural(overridden, 'gate was', 'gates were')} passed by a governance board override, "
        f"across {_plural(totals['cycles'], 'cycle')}." + note
    )
    if passed + overridden == 0:
        description = "No gate has been passed yet."
    return Chart(
        slug=slug,
        title="Gates passed normally and by override",
        description=description,
        label_heading="Cycle",
        series=(Series("Passed normally", BLUE), Series("Overridden", RED)),
        bars=tuple(
            Bar(cycle.title, (cycle.gates_passed, cycle.gates_overridden)) for cycle in cycles
        ),
        unit=("gate", "gates"),
    )


def time_to_quorum(report: OrganisationCompliance, slug: str) -> Chart:
    counts: Counter[str] = Counter()
    for cycle in report.cycles:
        for timing in cycle.quorum:
            if timing.status == "reached" and timing.hours is not None:
                band = next(label for label, limit in QUORUM_BANDS if timing.hours < limit)
                counts[band] += 1
            elif timing.status == "waiting":
                counts["Still waiting"] += 1
    labels = [label for label, _ in QUORUM_BANDS] + ["Still waiting"]
    median = report.totals["quorum_median_hours"]
    reached = report.totals["quorum_reached"]
    description = (
        f"A quorum of the panel attested {_plural(reached, 'time')} after sign-off was asked for"
        + (
            f"; the median wait was {number(median)} hours and the longest "
            f"{number(report.totals['quorum_longest_hours'])} hours."
            if median is not None
            else "."
        )
        + f" {_plural(counts['Still waiting'], 'stage is', 'stages are')} still waiting."
    )
    if not sum(counts.values()):
        description = "No stage has asked the panel for sign-off yet."
    return Chart(
        slug=slug,
        title="Time from asking for sign-off to a quorum",
        description=description,
        label_heading="Time taken",
        series=(Series("Stages", BLUE),),
        bars=tuple(Bar(label, (counts[label],)) for label in labels)
        if sum(counts.values())
        else (),
        unit=("stage", "stages"),
    )


def late_involvement(report: OrganisationCompliance, slug: str) -> Chart:
    late = timely = not_yet = 0
    for cycle in report.cycles:
        if cycle.involvement.late:
            late += 1
        elif cycle.involvement.review_left_at is not None:
            timely += 1
        else:
            not_yet += 1
    description = (
        f"In {_plural(late, 'cycle')} users were first involved only after the review stage "
        f"had ended, or never: much too late. In {_plural(timely, 'cycle')} they were involved "
        f"before it ended; {_plural(not_yet, 'cycle has', 'cycles have')} not finished the "
        "review stage yet."
    )
    if not report.cycles:
        description = "The organisation has no cycles yet."
    return Chart(
        slug=slug,
        title="When users were first involved",
        description=description,
        label_heading="First involvement",
        series=(Series("Cycles", BLUE),),
        bars=(
            Bar("Before the review stage ended", (timely,)),
            Bar("Only after it, or never (late)", (late,)),
            Bar("Review stage not finished yet", (not_yet,)),
        )
        if report.cycles
        else (),
        unit=("cycle", "cycles"),
    )


def unanswered_input(report: OrganisationCompliance, slug: str) -> Chart:
    cycles, note = _most(
        tuple(cycle for cycle in report.cycles if cycle.unanswered_inputs),
        lambda cycle: (len(cycle.unanswered_inputs),),
    )
    total, overdue = report.totals["unanswered_inputs"], report.totals["overdue_inputs"]
    description = (
        f"{_plural(total, 'piece of input has', 'pieces of input have')} no answer yet "
        f"(\u201cstill considering\u201d is not an answer); "
        f"{_plural(overdue, 'was', 'were')} flagged as waiting too long." + note
    )
    if not total:
        description = "Every piece of input from users has an answer."
    bars = []
    for cycle in cycles:
        late = sum(1 for item in cycle.unanswered_inputs if item.overdue_flagged_at is not None)
        bars.append(Bar(cycle.title, (len(cycle.unanswered_inputs) - late, late)))
    return Chart(
        slug=slug,
        title="Input from users still waiting for an answer",
        description=description,
        label_heading="Cycle",
        series=(Series("Waiting", GREY), Series("Waiting too long", RED)),
        bars=tuple(bars),
        unit=("input", "inputs"),
    )


def budget_changes(report: OrganisationCompliance, slug: str) -> Chart:
    outcomes = report.totals["budget_change_outcomes"]
    changes = report.totals["budget_changes"]
    voided = sum(
        change.signoffs_voided for cycle in report.cycles for change in cycle.budget_changes
    )
    description = (
        f"The budget changed {_plural(changes, 'time')} after it was first disclosed, voiding "
        f"{_plural(voided, 'sign-off')}. The panel attested again before the next stage "
        f"{_plural(outcomes.get('re-attested', 0), 'time')}; "
        f"{_plural(outcomes.get('overridden', 0), 'time')} the next stage was reached by "
        "override instead."
    )
    if not changes:
        description = "The budget has not changed after it was first disclosed."
    return Chart(
        slug=slug,
        title="Budget changes and attesting again",
        description=description,
        label_heading="What followed the change",
        series=(Series("Budget changes", PURPLE),),
        bars=tuple(Bar(label, (outcomes.get(key, 0),)) for key, label in BUDGET_OUTCOMES)
        if changes
        else (),
        unit=("change", "changes"),
    )


def organisation_charts(report: OrganisationCompliance, prefix: str) -> list[Chart]:
    """The five charts of one organisation's part of the dashboard; ids start with ``prefix``."""
    return [
        gate_outcomes(report, f"{prefix}-gates"),
        time_to_quorum(report, f"{prefix}-quorum"),
        late_involvement(report, f"{prefix}-late"),
        unanswered_input(report, f"{prefix}-input"),
        budget_changes(report, f"{prefix}-budget"),
    ]


def stage_name(template_key: str, stage_key: str) -> str:
    """A stage's name in its template, or its key if the template has no such stage."""
    template = TEMPLATES.get(template_key)
    if template is None or stage_key not in template.keys:
        return stage_key
    return template.get(stage_key).name


def stage_names() -> dict[str, str]:
    """Every stage key of every template with its name (the first template with a key names it)."""
    names: dict[str, str] = {}
    for template in TEMPLATES.values():
        for stage in template.stages:
            names.setdefault(stage.key, stage.name)
    return names


def any_stage_name(stage_key: str) -> str:
    """A stage's name from its key alone: the first template that has the key names it."""
    for template in TEMPLATES.values():
        if stage_key in template.keys:
            return template.get(stage_key).name
    return stage_key


@dataclass(frozen=True)
class CycleRow:
    """One line of an organisation's table of cycles."""

    cycle_id: int
    title: str
    stage: str
    gates_passed: int
    gates_overridden: int
    open_dissents: int
    unanswered_inputs: int
    late: bool
    involvement: str


def cycle_rows(report: OrganisationCompliance) -> list[CycleRow]:
    rows = []
    for cycle in report.cycles:
        first = cycle.involvement
        if first.late:
            involvement = (
                "Late: only after the review stage" if first.first_at else "Late: none yet"
            )
        elif first.first_at is not None:
            involvement = f"From “{stage_name(cycle.template, first.first_stage)}”"
        else:
            involvement = "None yet"
        rows.append(
            CycleRow(
                cycle_id=cycle.cycle_id,
                title=cycle.title,
                stage="Complete"
                if cycle.status == "completed"
                else stage_name(cycle.template, cycle.stage),
                gates_passed=cycle.gates_passed,
                gates_overridden=cycle.gates_overridden,
                open_dissents=sum(1 for dissent in cycle.dissents if dissent.outcome == "open"),
                unanswered_inputs=len(cycle.unanswered_inputs),
                late=first.late,
                involvement=involvement,
            )
        )
    return rows
