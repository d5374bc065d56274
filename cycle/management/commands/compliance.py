"""``manage.py compliance --organisation NAME [--json]``: the governance board's view of how the
involvement gates of an organisation's cycles were passed (``cycle.compliance``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from cycle.compliance import (
    CycleCompliance,
    OrganisationCompliance,
    as_json,
    organisation_compliance,
)
from cycle.management.base import CommandLine
from cycle.models import Organisation


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {number}" for name, number in counts.items())


def summary_lines(report: OrganisationCompliance) -> list[str]:
    totals = report.totals
    median = totals["quorum_median_hours"]
    lines = [
        f"Compliance of {report.organisation} at {report.generated_at:%Y-%m-%d %H:%M %Z}: "
        f"{totals['cycles']} cycles",
        f"  gates passed normally: {totals['gates_passed']}; "
        f"by override: {totals['gates_overridden']}",
        f"  dissents: {totals['dissents']}"
        + (f" ({_counts(totals['dissent_outcomes'])})" if totals["dissents"] else ""),
        f"  sign-off request to quorum: reached {totals['quorum_reached']} times"
        + (
            f"; median {median} hours, longest {totals['quorum_longest_hours']} hours"
            if median is not None
            else ""
        ),
        f"  budget changes after disclosure: {totals['budget_changes']}"
        + (f" ({_counts(totals['budget_change_outcomes'])})" if totals["budget_changes"] else ""),
        f"  late involvement (first only after the review stage): "
        f"{totals['late_involvement']} cycles",
        f"  unanswered input: {totals['unanswered_inputs']} "
        f"(flagged overdue: {totals['overdue_inputs']})",
        f"  role boundaries copied unchanged: {totals['copied_boundaries']}",
    ]
    for cycle in report.cycles:
        lines.extend(cycle_lines(cycle))
    return lines


def cycle_lines(cycle: CycleCompliance) -> list[str]:
    lines = [
        "",
        f"Cycle {cycle.cycle_id} {cycle.title!r} ({cycle.stage}, {cycle.status}): "
        f"{cycle.gates_passed} gates passed, {cycle.gates_overridden} overridden",
    ]
    for gate in cycle.gates:
        if gate.overridden:
            lines.append(
                f"  override at {gate.stage_key} by {gate.overridden_by}: {gate.override_reason} "
                f"[{', '.join(gate.unmet_codes)}]"
            )
    for dissent in cycle.dissents:
        lines.append(f"  dissent at {dissent.stage_key} by {dissent.member}: {dissent.outcome}")
    for timing in cycle.quorum:
        if timing.status in ("reached", "waiting") and timing.hours is not None:
            lines.append(f"  quorum at {timing.stage_key}: {timing.status} ({timing.hours} hours)")
    for change in cycle.budget_changes:
        lines.append(
            f"  budget v{change.version} at {change.stage_key}: {change.outcome} "
            f"({change.signoffs_voided} sign-offs voided, {change.reattested_by} re-attested)"
        )
    if cycle.involvement.late:
        first = cycle.involvement.first_stage or "never"
        lines.append(
            f"  late involvement: first at {first}, after {cycle.involvement.review_stage}"
        )
    for item in cycle.unanswered_inputs:
        overdue = " [overdue]" if item.overdue_flagged_at else ""
        lines.append(
            f"  unanswered input {item.input_id} at {item.stage_key}: {item.status}, "
            f"{item.days_waiting} days{overdue}"
        )
    for copied in cycle.copied_boundaries:
        lines.append(
            f"  boundaries of {copied.stage_key} v{copied.version} copied from {copied.copied_from}"
        )
    return lines


class Command(CommandLine):
    help = "How the involvement gates of an organisation's cycles were passed, for its board."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, metavar="NAME")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(name=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"There is no organisation named {options['organisation']!r}.")
        report = organisation_compliance(organisation)
        if options["json"]:
            self.stdout.write(as_json(report))
        else:
            self.stdout.write("\n".join(summary_lines(report)))
