"""Replaying the ledger against the tables: does the record explain the gate records and visits?

The hash chain proves the ledger was not changed; it says nothing of the tables beside it. Someone
who can write to the database could add a sign-off, change a budget's amount or close a stage
without a service, and no event would be wrong. :func:`verify_state` replays every event that was
done, in order, to what the ledger says each stage visit and gate record (role boundaries and
their acknowledgements, budget disclosures, sign-offs, overrides and their departures) should be,
then compares that with the tables, naming the first row the ledger does not explain.

Only what the events record is compared: a boundary agreement's version, influence and decision
maker, not its longer texts, which the ledger does not carry. Times are not compared (an event's
time is taken a moment after its row's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models

from .actions import LedgerAction
from .models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    GateOverride,
    GateOverrideDeparture,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)


@dataclass(frozen=True)
class StateProblem:
    """One row (or one event's missing row) that the ledger and the tables disagree on."""

    label: str
    row_id: int | str | None
    cycle_id: int | None
    problem: str

    def describe(self) -> str:
        """``cycle.signoff #12 (cycle 3): kind is dissent but event #45 recorded attest``."""
        row = "(no row)" if self.row_id is None else f"#{self.row_id}"
        where = "no cycle" if self.cycle_id is None else f"cycle {self.cycle_id}"
        return f"{self.label} {row} ({where}): {self.problem}"


@dataclass(frozen=True)
class StateVerification:
    events: int
    rows: int
    problems: tuple[StateProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        if self.ok:
            return f"{self.rows} stage visits and gate records explained by {self.events} events"
        return self.problems[0].describe()


@dataclass
class _Expected:
    """What the events say one row is: its fields, and the event that says so."""

    seq: int
    fields: dict[str, Any]
    row_id: int | None = None


@dataclass
class _Replay:
    events: int = 0
    visits: dict[int, list[_Expected]] = field(default_factory=dict)
    records: dict[type[models.Model], dict[int, _Expected]] = field(default_factory=dict)
    departures: dict[int, set[tuple[str, int | None]]] = field(default_factory=dict)
    problems: list[StateProblem] = field(default_factory=list)

    def expect(self, model: type[models.Model], event: dict[str, Any], **fields: Any) -> None:
        row_id = _row_id(event)
        if row_id is None:
            return
        self.records.setdefault(model, {})[row_id] = _Expected(event["seq"], fields, row_id)

    def open_visit(self, event: dict[str, Any], stage_key: str, reason: str = "") -> None:
        visits = self.visits.setdefault(event["cycle_id"], [])
        visits.append(
            _Expected(
                event["seq"],
                {
                    "stage_key": stage_key,
                    "opened_by_id": event["actor_id"],
                    "opened_reason": reason,
                    "closure": "",
                    "closed_by_id": None,
                },
            )
        )

    def current_visit(self, cycle_id: int) -> _Expected | None:
        visits = self.visits.get(cycle_id) or []
        if visits and visits[-1].fields["closure"] == "":
            return visits[-1]
        return None

    def close_visit(self, event: dict[str, Any], closure: str) -> _Expected | None:
        visit = self.current_visit(event["cycle_id"])
        if visit is not None:
            visit.fields["closure"] = closure
            visit.fields["closed_by_id"] = event["actor_id"]
        return visit


def _visit_number(state: _Replay, cycle_id: int) -> int:
    """The place, among the cycle's visits so far, of the one an event happened in."""
    return len(state.visits.get(cycle_id) or ()) - 1


def _row_id(event: dict[str, Any]) -> int | None:
    text = event["object_id"]
    return int(text) if text.isdigit() else None


def _done_events() -> Iterator[dict[str, Any]]:
    names = ("seq", "actor_id", "action", "cycle_id", "stage_key", "object_id", "payload")
    rows = (
        AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DONE)
        .order_by("seq")
        .values_list(*names)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        yield dict(zip(names, row, strict=True))


def _replay() -> _Replay:
    state = _Replay()
    # The sign-off standing for each (cycle, visit number, member), to mark it superseded.
    standing: dict[tuple[int, int, int], _Expected] = {}
    for event in _done_events():
        state.events += 1
        action, cycle_id = event["action"], event["cycle_id"]
        payload = json.loads(event["payload"])
        if action == LedgerAction.CYCLE_CREATED:
            state.open_visit(event, event["stage_key"])
        elif action == LedgerAction.STAGE_ADVANCED:
            visit = state.close_visit(event, payload["closure"])
            if visit is not None:
                visit.row_id = _row_id(event)
            if payload.get("to"):
                state.open_visit(event, payload["to"])
        elif action == LedgerAction.STAGE_REOPENED:
            state.close_visit(event, StageVisit.Closure.REOPENED)
            state.open_visit(event, payload["to"], payload["reason"])
            state.visits[cycle_id][-1].row_id = _row_id(event)
        elif action == LedgerAction.BOUNDARIES_AGREED:
            state.expect(
                RoleBoundaryAgreement,
                event,
                cycle_id=cycle_id,
                stage_key=event["stage_key"],
                version=payload["version"],
                influence=payload["influence"],
                decision_maker=payload["decision_maker"],
                recorded_by_id=event["actor_id"],
            )
        elif action == LedgerAction.BOUNDARIES_ACKNOWLEDGED:
            state.expect(
                BoundaryAcknowledgement,
                event,
                member_id=event["actor_id"],
                agreement__cycle_id=cycle_id,
                agreement__stage_key=event["stage_key"],
                agreement__version=payload["version"],
            )
        elif action == LedgerAction.BUDGET_DISCLOSED:
            state.expect(
                BudgetDisclosure,
                event,
                cycle_id=cycle_id,
                version=payload["version"],
                amount=None if payload["amount"] is None else Decimal(payload["amount"]),
                currency=payload["currency"],
                withheld=payload["withheld"],
                disclosed_by_id=event["actor_id"],
            )
        elif action in (LedgerAction.SIGNOFF_ATTESTED, LedgerAction.SIGNOFF_DISSENTED):
            key = (cycle_id, _visit_number(state, cycle_id), event["actor_id"])
            previous = standing.get(key)
            if previous is not None:
                previous.fields["superseded"] = True
            kind = (
                SignOff.Kind.DISSENT
                if action == LedgerAction.SIGNOFF_DISSENTED
                else SignOff.Kind.ATTEST
            )
            state.expect(
                SignOff,
                event,
                cycle_id=cycle_id,
                visit__stage_key=event["stage_key"],
                member_id=event["actor_id"],
                kind=str(kind),
                boundary__version=payload["boundary_version"],
                budget__version=payload["budget_version"],
                reasons=payload["reasons"],
                superseded=False,
                withdrawn=False,
            )
            expected = state.records.get(SignOff, {}).get(_row_id(event) or -1)
            if expected is not None:
                expected.fields["visit_number"] = key[1]
                standing[key] = expected
        elif action == LedgerAction.DISSENT_WITHDRAWN:
            expected = state.records.get(SignOff, {}).get(_row_id(event) or -1)
            if expected is None:
                state.problems.append(
                    StateProblem(
                        "sign-off",
                        event["object_id"],
                        cycle_id,
                        f"event #{event['seq']} withdrew a dissent the ledger never recorded",
                    )
                )
            else:
                expected.fields.update(superseded=True, withdrawn=True)
        elif action == LedgerAction.GATE_OVERRIDDEN:
            departs_from: dict[str, list[int]] = payload["departs_from"]
            state.expect(
                GateOverride,
                event,
                cycle_id=cycle_id,
                visit__stage_key=event["stage_key"],
                by_id=event["actor_id"],
                reason=payload["reason"],
                boundary_version=payload["boundary_version"],
                budget_version=payload["budget_version"],
                codes=sorted(departs_from),
                visit_number=_visit_number(state, cycle_id),
            )
            row_id = _row_id(event)
            if row_id is not None:
                members_of: dict[str, list[int | None]] = {
                    code: [*members] or [None] for code, members in departs_from.items()
                }
                state.departures[row_id] = {
                    (code, member) for code, members in members_of.items() for member in members
                }
    return state


_LABELS: dict[type[models.Model], str] = {
    RoleBoundaryAgreement: "role boundaries",
    BoundaryAcknowledgement: "acknowledgement",
    BudgetDisclosure: "budget disclosure",
    SignOff: "sign-off",
    GateOverride: "gate override",
}


def _table_rows(model: type[models.Model]) -> Iterator[dict[str, Any]]:
    if model is RoleBoundaryAgreement:
        names: tuple[str, ...] = (
            "id",
            "cycle_id",
            "stage_key",
            "version",
            "influence",
            "decision_maker",
            "recorded_by_id",
        )
    elif model is BoundaryAcknowledgement:
        names = (
            "id",
            "member_id",
            "agreement__cycle_id",
            "agreement__stage_key",
            "agreement__version",
        )
    elif model is BudgetDisclosure:
        names = (
            "id",
            "cycle_id",
            "version",
            "amount",
            "currency",
            "withheld_reason",
            "disclosed_by_id",
        )
    elif model is SignOff:
        names = (
            "id",
            "cycle_id",
            "visit_id",
            "visit__stage_key",
            "member_id",
            "kind",
            "boundary__version",
            "budget__version",
            "reasons",
            "superseded_at",
            "withdrawn",
        )
    else:
        names = (
            "id",
            "cycle_id",
            "visit_id",
            "visit__stage_key",
            "by_id",
            "reason",
            "boundary_version",
            "budget_version",
            "unmet_codes",
        )
    for row in model._default_manager.order_by("pk").values_list(*names).iterator(2000):
        record = dict(zip(names, row, strict=True))
        if model is BudgetDisclosure:
            record["withheld"] = bool(record.pop("withheld_reason"))
        elif model is SignOff:
            record["superseded"] = record.pop("superseded_at") is not None
        elif model is GateOverride:
            record["codes"] = sorted(code for code in record.pop("unmet_codes").split(",") if code)
        yield record


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


def _differences(expected: dict[str, Any], row: dict[str, Any]) -> str:
    for name, value in expected.items():
        if name in row and row[name] != value:
            shown = name.removesuffix("_id").replace("__", " ").replace("_", " ")
            return f"{shown} is {_shown(row[name])} but the ledger recorded {_shown(value)}"
    return ""


def verify_state() -> StateVerification:
    """Replay the ledger and compare it with the stage visits and gate records."""
    state = _replay()
    problems = list(state.problems)
    rows = 0
    visit_ids: dict[tuple[int, int], int] = {}

    table_visits: dict[int, list[dict[str, Any]]] = {}
    names = (
        "id",
        "cycle_id",
        "stage_key",
        "opened_by_id",
        "opened_reason",
        "closure",
        "closed_by_id",
    )
    visit_rows = StageVisit.objects.order_by("cycle_id", "opened_at", "pk").values_list(*names)
    for visit_row in visit_rows.iterator(2000):
        record = dict(zip(names, visit_row, strict=True))
        table_visits.setdefault(record["cycle_id"], []).append(record)
    for cycle_id in sorted(set(table_visits) | set(state.visits)):
        found, told = table_visits.get(cycle_id, []), state.visits.get(cycle_id, [])
        for number, row in enumerate(found):
            rows += 1
            if number >= len(told):
                problems.append(
                    StateProblem(
                        "stage visit",
                        row["id"],
                        cycle_id,
                        f"the ledger records {len(told)} visits of this cycle's stages, "
                        f"not this one ({row['stage_key']})",
                    )
                )
                break
            expected = told[number]
            if expected.row_id is not None and expected.row_id != row["id"]:
                difference = f"it is not visit #{expected.row_id}, which event "
                difference += f"#{expected.seq} names at this place"
            else:
                difference = _differences(expected.fields, row)
            if difference:
                problems.append(StateProblem("stage visit", row["id"], cycle_id, difference))
                break
            visit_ids[(cycle_id, number)] = row["id"]
        else:
            if len(told) > len(found):
                missing = told[len(found)]
                problems.append(
                    StateProblem(
                        "stage visit",
                        missing.row_id,
                        cycle_id,
                        f"event #{missing.seq} opened a visit of {missing.fields['stage_key']} "
                        "that the table does not have",
                    )
                )

    departures: dict[int, set[tuple[str, int | None]]] = {}
    for override_id, code, member_id in GateOverrideDeparture.objects.values_list(
        "override_id", "code", "member_id"
    ).iterator(2000):
        departures.setdefault(override_id, set()).add((code, member_id))
    for model, label in _LABELS.items():
        told_rows = state.records.get(model, {})
        seen: set[int] = set()
        for row in _table_rows(model):
            rows += 1
            seen.add(row["id"])
            recorded = told_rows.get(row["id"])
            if recorded is None:
                problems.append(
                    StateProblem(label, row["id"], row.get("cycle_id"), "no event records it")
                )
                continue
            fields = dict(recorded.fields)
            number = fields.pop("visit_number", None)
            difference = _differences(fields, row)
            if not difference and number is not None and "visit_id" in row:
                visit = visit_ids.get((fields["cycle_id"], number))
                if visit is not None and visit != row["visit_id"]:
                    difference = f"it belongs to visit #{row['visit_id']}, not #{visit}"
            if (
                not difference
                and model is GateOverride
                and departures.get(row["id"], set()) != state.departures.get(row["id"], set())
            ):
                difference = (
                    "its departures are not the conditions and members event "
                    f"#{recorded.seq} recorded"
                )
            if difference:
                problems.append(StateProblem(label, row["id"], row.get("cycle_id"), difference))
        for row_id in sorted(set(told_rows) - seen):
            expected = told_rows[row_id]
            problems.append(
                StateProblem(
                    label,
                    row_id,
                    expected.fields.get("cycle_id", expected.fields.get("agreement__cycle_id")),
                    f"event #{expected.seq} recorded it, but the table does not have it",
                )
            )
    return StateVerification(events=state.events, rows=rows, problems=tuple(problems))
