"""The report on involvement: how the views of people who use services influenced an
organisation's commissioning decisions in a period (002:L84, L125-127; the fields are listed in
the domain notes on seed 002, §3).

For each decision recorded in the period: the involvement carried out before it, stage by stage
(the users' role and level of influence as agreed, and what the panel did, counted from the
ledger); who was involved (the groups the panel members represent, never their names); what they
said (the input linked to the decision); how it influenced the decision (the commissioner's
response: "we did", "we couldn't, because …", or still considering); and the feedback given to
them (that response, and when it was given). Input received in the period that no response links
to a decision is listed after the decisions, so nothing the panel said drops out of the report.

Everything comes from the ledger and the influence register; nothing is typed into the report.
Building it takes a fixed number of queries, however many cycles and decisions there are, and only
the given organisation's records are read.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, FilteredRelation, Min, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from roles.models import PanelMembership

from .actions import LedgerAction
from .models import (
    AuditEvent,
    Decision,
    InputResponse,
    Organisation,
    RoleBoundaryAgreement,
    UserInput,
)
from .stages import TEMPLATES

ACTS = {
    LedgerAction.AGREEMENT_SIGNED: "signed_agreement",
    LedgerAction.BOUNDARIES_ACKNOWLEDGED: "acknowledged",
    LedgerAction.SIGNOFF_ATTESTED: "attested",
    LedgerAction.SIGNOFF_DISSENTED: "dissented",
    LedgerAction.INPUT_SUBMITTED: "inputs",
}
"""Ledger actions of user representatives that the report counts, and the name of each count."""


class ReportUnavailable(Exception):
    """The report cannot be produced in the requested format on this machine."""


@dataclass(frozen=True)
class StageInvolvement:
    """What the panel did in one stage before the decision, and on what terms."""

    stage_key: str
    stage_name: str
    influence: str
    user_role: str
    purpose: str
    people: int
    signed_agreement: int = 0
    acknowledged: int = 0
    attested: int = 0
    dissented: int = 0
    inputs: int = 0
    first_at: datetime | None = None

    def describe(self) -> str:
        acts = [
            f"{count} {label}"
            for count, label in (
                (self.acknowledged, "acknowledged the role boundaries"),
                (self.attested, "attested"),
                (self.dissented, "dissented"),
                (self.inputs, "gave input"),
                (self.signed_agreement, "signed the working agreement"),
            )
            if count
        ]
        terms = f"{self.influence} ({self.user_role})" if self.influence else "no terms agreed"
        return f"{self.stage_name}: {terms}; " + (", ".join(acts) or "nothing recorded")


@dataclass(frozen=True)
class PanelGroup:
    represents: str
    tier: str
    members: int


@dataclass(frozen=True)
class InputRecord:
    """Something the panel said, and what became of it."""

    input_id: int
    cycle_title: str
    stage_name: str
    submitted_at: datetime
    source: str
    method: str
    represents: str
    text: str
    attachment_reference: str
    status: str
    status_label: str
    response: str
    responded_at: datetime | None
    earlier_responses: int


@dataclass(frozen=True)
class DecisionEntry:
    decision_id: int
    cycle_id: int
    cycle_title: str
    service_area: str
    stage_name: str
    summary: str
    decided_at: datetime
    decided_by: str
    forum: str
    veto_used: bool
    veto_reason: str
    involvement: tuple[StageInvolvement, ...]
    panel: tuple[PanelGroup, ...]
    inputs: tuple[InputRecord, ...]

    @property
    def involved_before(self) -> bool:
        return any(stage.first_at is not None for stage in self.involvement)

    @property
    def first_involvement_at(self) -> datetime | None:
        times = [stage.first_at for stage in self.involvement if stage.first_at is not None]
        return min(times) if times else None

    @property
    def panel_size(self) -> int:
        return sum(group.members for group in self.panel)

    def describe_panel(self) -> str:
        if not self.panel:
            return "No user representatives were on the panel."
        groups = "; ".join(
            f"{group.represents or 'not stated'}, {group.tier} ({group.members})"
            for group in self.panel
        )
        people = "representative" if self.panel_size == 1 else "representatives"
        return f"{self.panel_size} {people}: {groups}"


@dataclass(frozen=True)
class InvolvementReport:
    organisation: str
    period_from: date
    period_to: date
    generated_at: datetime
    decisions: tuple[DecisionEntry, ...]
    unlinked_inputs: tuple[InputRecord, ...]

    @property
    def decisions_with_involvement(self) -> int:
        return sum(1 for entry in self.decisions if entry.involved_before)

    @property
    def linked_inputs(self) -> int:
        return sum(len(entry.inputs) for entry in self.decisions)

    @property
    def outcomes(self) -> list[tuple[str, int]]:
        """How many linked inputs ended in each kind of response, in the register's order."""
        counts: dict[str, int] = defaultdict(int)
        for entry in self.decisions:
            for item in entry.inputs:
                counts[item.status] += 1
        return [
            (str(label), counts[value])
            for value, label in UserInput.Status.choices
            if counts[value]
        ]


def period_bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """The period as aware datetimes: from the start of the first day to the end of the last."""
    start = timezone.make_aware(datetime.combine(period_from, time.min))
    end = timezone.make_aware(datetime.combine(period_to + timedelta(days=1), time.min))
    return start, end


def _stage_name(template_key: str, stage_key: str) -> str:
    try:
        return TEMPLATES[template_key].get(stage_key).name
    except KeyError:
        return stage_key


def _represents(cycle: str, member: str) -> Subquery:
    """Whom the author of an input represents on that cycle's panel (their latest membership)."""
    return Subquery(
        PanelMembership.objects.filter(cycle_id=OuterRef(cycle), member_id=OuterRef(member))
        .order_by("-joined_at")
        .values("represents")[:1]
    )


def _earlier_responses(user_input: str) -> Subquery:
    """How many responses to an input were superseded by a newer one."""
    return Subquery(
        InputResponse.objects.filter(
            user_input_id=OuterRef(user_input), superseded_at__isnull=False
        )
        .values("user_input_id")
        .annotate(count=Count("id"))
        .values("count")
    )


def involvement_report(
    organisation: Organisation,
    period_from: date,
    period_to: date,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> InvolvementReport:
    """Build the report for one organisation's decisions recorded from ``period_from`` to
    ``period_to`` (both days included), in six queries at most (fewer when there is nothing to
    read). ``progress(done, total)``, if given, is told as each decision's entry is built.

    Everything after the decisions is read by these decisions' and cycles' ids, so that the
    planner reads each table through its index and the cost follows this organisation's own
    records, not what other organisations hold."""
    start, end = period_bounds(period_from, period_to)
    decisions = _decisions(organisation, start, end)
    decision_ids = [row["id"] for row in decisions]
    cycle_ids = sorted({row["cycle_id"] for row in decisions})
    acts = _acts_before_decisions(decision_ids)
    boundaries = _boundaries_by_cycle(cycle_ids, end)
    members = _members_by_cycle(cycle_ids, end)
    linked = _linked_inputs(decision_ids)
    unlinked = _unlinked_inputs(organisation, start, end)

    built = []
    for row in decisions:
        built.append(
            _decision_entry(
                row, acts[row["id"]], boundaries[row["cycle_id"]], members[row["cycle_id"]], linked
            )
        )
        if progress is not None:
            progress(len(built), len(decisions))
    return InvolvementReport(
        organisation=organisation.name,
        period_from=period_from,
        period_to=period_to,
        generated_at=timezone.now(),
        decisions=tuple(built),
        unlinked_inputs=unlinked,
    )


def _decisions(organisation: Organisation, start: datetime, end: datetime) -> list[Any]:
    """The organisation's decisions recorded in the period, in the order they were taken."""
    return list(
        Decision.objects.filter(
            cycle__organisation=organisation, decided_at__gte=start, decided_at__lt=end
        )
        .order_by("decided_at", "id")
        .values(
            "id",
            "cycle_id",
            "cycle__title",
            "cycle__service_area",
            "cycle__template_key",
            "stage_key",
            "summary",
            "decided_at",
            "decided_by__username",
            "decided_by__first_name",
            "decided_by__last_name",
            "forum",
            "veto_used",
            "veto_reason",
        )
    )


def _acts_before_decisions(decision_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """What the panel did before each decision, per stage, counted in the database: the people
    who acted, the first act, and a count of each act in ``ACTS``."""
    acts: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for counted in (
        AuditEvent.objects.filter(
            cycle__decisions__in=decision_ids,
            cycle__decisions__decided_at__gt=F("at"),
            action__in=ACTS,
            outcome=AuditEvent.Outcome.DONE,
        )
        .values("cycle__decisions__id", "stage_key")
        .annotate(
            people=Count("actor_id", distinct=True),
            first_at=Min("at"),
            **{name: Count("id", filter=Q(action=action)) for action, name in ACTS.items()},
        )
        .order_by()
    ):
        acts[counted["cycle__decisions__id"]][counted["stage_key"]] = {
            name: value
            for name, value in counted.items()
            if name not in ("cycle__decisions__id", "stage_key")
        }
    return acts


def _boundaries_by_cycle(cycle_ids: list[int], end: datetime) -> dict[int, list[dict[str, Any]]]:
    """The role boundaries agreed before the period ended, each cycle's in the order agreed."""
    boundaries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for agreement in (
        RoleBoundaryAgreement.objects.filter(cycle_id__in=cycle_ids, recorded_at__lt=end)
        .order_by("recorded_at", "id")
        .values("cycle_id", "stage_key", "influence", "user_role", "purpose", "recorded_at")
    ):
        boundaries[agreement["cycle_id"]].append(dict(agreement))
    return boundaries


def _members_by_cycle(cycle_ids: list[int], end: datetime) -> dict[int, list[dict[str, Any]]]:
    """Who had joined each cycle's panel before the period ended: whom they represent, and how."""
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for membership in (
        PanelMembership.objects.filter(cycle_id__in=cycle_ids, joined_at__lt=end)
        .order_by("id")
        .values("cycle_id", "represents", "tier", "joined_at")
    ):
        members[membership["cycle_id"]].append(dict(membership))
    return members


def _input_record(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The fields of an input record that come from the input itself (``prefix`` names the
    input's relation when the row is a response's)."""
    return {
        "cycle_title": row[prefix + "cycle__title"],
        "stage_name": _stage_name(row[prefix + "cycle__template_key"], row[prefix + "stage_key"]),
        "submitted_at": row[prefix + "submitted_at"],
        "source": str(UserInput.Source(row[prefix + "source"]).label),
        "method": str(UserInput.Method(row[prefix + "method"]).label),
        "represents": row["represents"] or "",
        "text": row[prefix + "text"],
        "attachment_reference": row[prefix + "attachment_reference"],
        "earlier_responses": row["earlier"] or 0,
    }


def _linked_inputs(decision_ids: list[int]) -> dict[int, list[InputRecord]]:
    """The input each decision's current responses answer, with what became of it."""
    linked: dict[int, list[InputRecord]] = defaultdict(list)
    for response in (
        InputResponse.objects.filter(superseded_at__isnull=True, decision__in=decision_ids)
        .annotate(
            represents=_represents("user_input__cycle_id", "user_input__submitted_by"),
            earlier=_earlier_responses("user_input_id"),
        )
        .order_by("user_input__submitted_at", "user_input_id")
        .values(
            "decision_id",
            "kind",
            "text",
            "responded_at",
            "represents",
            "earlier",
            "user_input_id",
            "user_input__cycle__title",
            "user_input__cycle__template_key",
            "user_input__stage_key",
            "user_input__submitted_at",
            "user_input__source",
            "user_input__method",
            "user_input__text",
            "user_input__attachment_reference",
        )
    ):
        linked[response["decision_id"]].append(
            InputRecord(
                input_id=response["user_input_id"],
                **_input_record(response, "user_input__"),
                status=response["kind"],
                status_label=str(UserInput.Status(response["kind"]).label),
                response=response["text"],
                responded_at=response["responded_at"],
            )
        )
    return linked


def _unlinked_inputs(
    organisation: Organisation, start: datetime, end: datetime
) -> tuple[InputRecord, ...]:
    """Input received in the period that no current response links to a decision."""
    return tuple(
        InputRecord(
            input_id=row["id"],
            **_input_record(row),
            status=row["status"],
            status_label=str(UserInput.Status(row["status"]).label),
            response=row["current__text"] or "",
            responded_at=row["current__responded_at"],
        )
        for row in UserInput.objects.filter(
            cycle__organisation=organisation, submitted_at__gte=start, submitted_at__lt=end
        )
        .annotate(
            current=FilteredRelation(
                "responses", condition=Q(responses__superseded_at__isnull=True)
            ),
            represents=_represents("cycle_id", "submitted_by"),
            earlier=_earlier_responses("pk"),
        )
        .filter(current__decision__isnull=True)  # no response yet, or none naming a decision
        .order_by("submitted_at", "id")
        .values(
            "id",
            "status",
            "represents",
            "earlier",
            "cycle__title",
            "cycle__template_key",
            "stage_key",
            "submitted_at",
            "source",
            "method",
            "text",
            "attachment_reference",
            "current__text",
            "current__responded_at",
        )
    )


def _decision_entry(
    row: Mapping[str, Any],
    acts: dict[str, dict[str, Any]],
    boundaries: list[dict[str, Any]],
    members: list[dict[str, Any]],
    linked: dict[int, list[InputRecord]],
) -> DecisionEntry:
    decided_at = row["decided_at"]
    template_key = row["cycle__template_key"]
    terms: dict[str, dict[str, Any]] = {}
    for agreement in boundaries:
        if agreement["recorded_at"] < decided_at:
            terms[agreement["stage_key"]] = agreement
    template = TEMPLATES[template_key]
    stage_keys = [key for key in template.keys if key in terms or key in acts]
    stage_keys += sorted((set(terms) | set(acts)) - set(stage_keys))
    involvement = tuple(
        StageInvolvement(
            stage_key=key,
            stage_name=_stage_name(template_key, key),
            influence=str(RoleBoundaryAgreement.Influence(terms[key]["influence"]).label)
            if key in terms
            else "",
            user_role=terms[key]["user_role"] if key in terms else "",
            purpose=terms[key]["purpose"] if key in terms else "",
            **acts.get(key, {"people": 0}),
        )
        for key in stage_keys
    )
    groups: dict[tuple[str, str], int] = defaultdict(int)
    for member in members:
        if member["joined_at"] < decided_at:
            tier = str(PanelMembership.Tier(member["tier"]).label)
            groups[(member["represents"], tier)] += 1
    name = " ".join(
        part for part in (row["decided_by__first_name"], row["decided_by__last_name"]) if part
    )
    return DecisionEntry(
        decision_id=row["id"],
        cycle_id=row["cycle_id"],
        cycle_title=row["cycle__title"],
        service_area=row["cycle__service_area"],
        stage_name=_stage_name(template_key, row["stage_key"]),
        summary=row["summary"],
        decided_at=decided_at,
        decided_by=name or row["decided_by__username"],
        forum=row["forum"],
        veto_used=row["veto_used"],
        veto_reason=row["veto_reason"],
        involvement=involvement,
        panel=tuple(
            PanelGroup(represents, tier, count) for (represents, tier), count in groups.items()
        ),
        inputs=tuple(linked.get(row["id"], ())),
    )


# Output formats


def render_html(report: InvolvementReport) -> str:
    return render_to_string("cycle/involvement_report.html", {"report": report})


CSV_COLUMNS = (
    "organisation",
    "period_from",
    "period_to",
    "decision_id",
    "decided_at",
    "cycle",
    "service_area",
    "stage",
    "decision",
    "decided_by",
    "forum",
    "veto_used",
    "veto_reason",
    "involved_before_decision",
    "first_involvement_at",
    "involvement_by_stage",
    "who_was_involved",
    "input_id",
    "input_given_at",
    "input_stage",
    "input_from",
    "input_how",
    "what_they_said",
    "attachment_reference",
    "influence_on_decision",
    "what_changed_or_why_not",
    "feedback_given_at",
    "earlier_responses",
)


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="minutes") if value else ""


def csv_rows(report: InvolvementReport) -> list[dict[str, Any]]:
    """One row per decision and input it touched; a decision without linked input has one row.
    Input not linked to any decision follows, with the decision columns empty."""
    rows = []
    for entry in report.decisions:
        decision = {
            "organisation": report.organisation,
            "period_from": report.period_from.isoformat(),
            "period_to": report.period_to.isoformat(),
            "decision_id": entry.decision_id,
            "decided_at": _when(entry.decided_at),
            "cycle": entry.cycle_title,
            "service_area": entry.service_area,
            "stage": entry.stage_name,
            "decision": entry.summary,
            "decided_by": entry.decided_by,
            "forum": entry.forum,
            "veto_used": "yes" if entry.veto_used else "no",
            "veto_reason": entry.veto_reason,
            "involved_before_decision": "yes" if entry.involved_before else "no",
            "first_involvement_at": _when(entry.first_involvement_at),
            "involvement_by_stage": " | ".join(stage.describe() for stage in entry.involvement),
            "who_was_involved": entry.describe_panel(),
        }
        for item in entry.inputs or (None,):
            rows.append({**decision, **(_input_columns(item) if item else {})})
    for item in report.unlinked_inputs:
        rows.append(
            {
                "organisation": report.organisation,
                "period_from": report.period_from.isoformat(),
                "period_to": report.period_to.isoformat(),
                "cycle": item.cycle_title,
                **_input_columns(item),
            }
        )
    return rows


def _input_columns(item: InputRecord) -> dict[str, Any]:
    return {
        "input_id": item.input_id,
        "input_given_at": _when(item.submitted_at),
        "input_stage": item.stage_name,
        "input_from": item.represents or item.source,
        "input_how": item.method,
        "what_they_said": item.text,
        "attachment_reference": item.attachment_reference,
        "influence_on_decision": item.status_label,
        "what_changed_or_why_not": item.response,
        "feedback_given_at": _when(item.responded_at),
        "earlier_responses": item.earlier_responses,
    }


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection")."""


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that could start a formula, with a single quote in front, as OWASP advises.

    Spreadsheets show the quote as the mark of a text cell, so ``=SUM(A1)`` typed by a user is
    read as those characters and never run. Numbers and the report's own dates are left as they
    are. The ledger export is not passed through this: it is evidence whose bytes are hashed
    (docs/influence-and-reports.md, "The ledger export").
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def render_csv(report: InvolvementReport) -> str:
    """The report as CSV; every text cell is neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow({column: spreadsheet_safe(value) for column, value in row.items()})
    return out.getvalue()


def render_pdf(report: InvolvementReport) -> bytes:
    """The HTML report typeset as PDF by WeasyPrint, which needs the Pango library."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:
        raise ReportUnavailable(
            f"PDF output needs WeasyPrint and the Pango library, which could not be loaded: {error}"
        ) from error
    pdf: bytes = HTML(string=render_html(report)).write_pdf()
    return pdf
