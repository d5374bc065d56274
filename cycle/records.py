"""What each ledger action records: its payload, and the columns derived from the domain values.

One builder per action, each a plain function of the values the action was given or found (no
queries, no clock): the services call them inside their transactions, and the synthetic data
generator (``cycle.generator``) and the benchmarks (``bench/report.py``) call the same ones, so a
generated or benchmarked ledger says exactly what the services would have said. The parity test
(``tests/cycle/test_generator_parity.py``) plays one story both ways and compares the payloads
event for event.

Payload builders take plain values: usernames, versions, codes, amounts. Row builders (``*_row``)
give the columns of the row an action creates; each foreign key may be given as a model instance
(the services' way: the row is created with the instance, so it is not read again) or as an id
(the generator's way: the row is written raw), and the column is named to suit. A model row a
builder reads (a previous boundary version) may be an instance or the generator's row.

To add a ledger action: its constant in ``cycle.actions``, its payload builder here (and a row
builder if it creates a row), and the service that appends it calls them (and the generator's
``cycle/generator/actions.py``, if it generates the action).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import models

from roles.models import WorkingAgreement

from .duty import DutyQuestions, DutyResult
from .errors import Forbidden, GateClosed
from .gates import GateResult, OverrideCheck
from .i18n import english
from .models import RoleBoundaryAgreement, StageVisit

Payload = dict[str, Any]
Columns = dict[str, Any]


def _refs(**refs: Any) -> Columns:
    """Foreign keys by instance where one is given (``cycle=``), by id otherwise (``cycle_id=``)."""
    return {
        name if isinstance(value, models.Model) else f"{name}_id": value
        for name, value in refs.items()
    }


def _term(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def next_version(previous: Any | None) -> int:
    """The version of a new row after ``previous`` (boundaries, budgets, agreements)."""
    return _term(previous, "version") + 1 if previous is not None else 1


def boundaries_unchanged(previous: Any | None, agreement: Any) -> bool:
    """Whether a new boundary version repeats every term of the one before it."""
    return previous is not None and all(
        _term(previous, name) == _term(agreement, name) for name in RoleBoundaryAgreement.TERMS
    )


# --- The cycle and its stages -------------------------------------------------------------------


def stage_visit_row(
    *, cycle: Any, stage_key: str, position: int, opened_by: Any, at: Any, reason: str = ""
) -> Columns:
    return {
        **_refs(cycle=cycle, opened_by=opened_by),
        "stage_key": stage_key,
        "position": position,
        "opened_at": at,
        "opened_reason": reason,
    }


def cycle_created(*, title: str, organisation: str, lead: str, template: str) -> Payload:
    return {"title": title, "organisation": organisation, "lead": lead, "template": template}


def involvement_lead_named(*, lead: str) -> Payload:
    return {"lead": lead}


def closure_of(result: GateResult) -> StageVisit.Closure:
    """How a passable gate is left: passed when open, otherwise by the override standing."""
    return StageVisit.Closure.PASSED if result.open else StageVisit.Closure.OVERRIDDEN


def quorum_position(result: GateResult) -> int | None:
    """Which of the counting members' current attestations, in the order they were given,
    completed the quorum of a gate passed open (the last, when fewer attest than a quorum): its
    index, stored as ``StageVisit.quorum_signoff``. None when the gate was not passed open or no
    attestation counted. ``StageVisit.attesting`` is ``len(result.attesting)``."""
    if not result.open or not result.attesting:
        return None
    return min(result.quorum, len(result.attesting)) - 1


def stage_advanced(
    *,
    from_stage: str,
    to_stage: str | None,
    closure: str,
    attesting: Iterable[int],
    overridden_unmet: Sequence[str],
) -> Payload:
    """``attesting`` and ``overridden_unmet``: the gate result's, as it was passed."""
    return {
        "from": from_stage,
        "to": to_stage,
        "closure": str(closure),
        "attesting": sorted(attesting),
        "overridden_unmet": list(overridden_unmet),
    }


def stage_reopened(*, from_stage: str | None, to_stage: str, reason: str) -> Payload:
    return {"from": from_stage, "to": to_stage, "reason": reason}


def refused(refused_actions: Sequence[str], refusal: Forbidden | GateClosed) -> Payload:
    """What a refused event records: the code and message (in English, whatever language the
    page is in), the actions refused, and for a closed gate its unmet conditions."""
    payload: Payload = {"code": refusal.code, "message": english(refusal.message)}
    if refused_actions:
        payload["refused"] = list(refused_actions)
    if isinstance(refusal, GateClosed):
        payload["unmet"] = list(refusal.result.codes)
    return payload


# --- Gate evidence ------------------------------------------------------------------------------


def boundary_agreement_row(
    *,
    cycle: Any,
    stage_key: str,
    previous: Any | None,
    purpose: str,
    user_role: str,
    influence: str,
    decision_maker: str,
    commissioner_authority: str,
    fixed_matters: str,
    open_matters: str,
    recorded_by: Any,
    at: Any,
) -> Columns:
    """A new version of a stage's role boundaries after ``previous`` (None: the first): its
    version, and whether it repeats every term of the one before."""
    terms = {
        "purpose": purpose,
        "user_role": user_role,
        "influence": influence,
        "decision_maker": decision_maker,
        "commissioner_authority": commissioner_authority,
        "fixed_matters": fixed_matters,
        "open_matters": open_matters,
    }
    return {
        **_refs(cycle=cycle, recorded_by=recorded_by),
        "stage_key": stage_key,
        "version": next_version(previous),
        **terms,
        "unchanged_from_previous": boundaries_unchanged(previous, terms),
        "recorded_at": at,
    }


def boundaries_agreed(
    *, version: int, influence: str, decision_maker: str, unchanged: bool
) -> Payload:
    return {
        "version": version,
        "influence": influence,
        "decision_maker": decision_maker,
        "unchanged_from_previous": unchanged,
    }


def boundaries_acknowledged(*, version: int) -> Payload:
    return {"version": version}


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def budget_disclosure_row(
    *,
    cycle: Any,
    version: int,
    amount: Decimal | None,
    currency: str,
    constraints: str,
    withheld_reason: str,
    signoffs_voided: int,
    disclosed_by: Any,
    at: Any,
) -> Columns:
    """``signoffs_voided``: the open stage's attestations against the version before."""
    return {
        **_refs(cycle=cycle, disclosed_by=disclosed_by),
        "version": version,
        "amount": amount,
        "currency": currency,
        "constraints": constraints,
        "withheld_reason": withheld_reason,
        "signoffs_voided": signoffs_voided,
        "disclosed_at": at,
    }


def budget_disclosed(
    *,
    version: int,
    amount: Decimal | None,
    currency: str,
    withheld: bool,
    previous_amount: Decimal | None,
    signoffs_voided: int,
    panel: Iterable[int],
) -> Payload:
    return {
        "version": version,
        "amount": _amount(amount),
        "currency": currency,
        "withheld": withheld,
        "previous_amount": _amount(previous_amount),
        "signoffs_voided": signoffs_voided,
        "panel_to_tell": sorted(panel),
    }


def signoff_row(
    *,
    visit: Any,
    cycle: Any,
    member: Any,
    kind: str,
    boundary: Any,
    budget: Any,
    reasons: str,
    at: Any,
) -> Columns:
    """An attestation's or a dissent's row, bound to the boundary and budget versions it names."""
    return {
        **_refs(visit=visit, cycle=cycle, member=member, boundary=boundary, budget=budget),
        "kind": str(kind),
        "reasons": reasons,
        "recorded_at": at,
    }


def signoff_recorded(
    *, boundary_version: int | None, budget_version: int | None, reasons: str
) -> Payload:
    """Both an attestation's and a dissent's payload (the action tells them apart)."""
    return {
        "boundary_version": boundary_version,
        "budget_version": budget_version,
        "reasons": reasons,
    }


def signoff_requested(*, asked: Sequence[int]) -> Payload:
    return {"asked": list(asked)}


def dissent_withdrawn() -> Payload:
    return {}


def override_row(
    *,
    visit: Any,
    cycle: Any,
    by: Any,
    reason: str,
    departs_from: Iterable[str],
    boundary_version: int | None,
    budget_version: int | None,
    at: Any,
) -> Columns:
    """A gate override's row: the codes it departs from (``departures_of(check)``), against the
    versions of the moment."""
    return {
        **_refs(visit=visit, cycle=cycle, by=by),
        "reason": reason,
        "unmet_codes": ",".join(departs_from)[:400],
        "boundary_version": boundary_version,
        "budget_version": budget_version,
        "recorded_at": at,
    }


def override_departures(check: OverrideCheck) -> list[tuple[str, int | None]]:
    """``(code, member_id)`` of each departure row of an override (member None: not per member)."""
    return [
        (departure.code, member_id)
        for departure in check.departures
        for member_id in departure.rows()
    ]


def gate_overridden(
    *,
    reason: str,
    unmet: Sequence[str],
    departs_from: Mapping[str, Iterable[int]],
    boundary_version: int | None,
    budget_version: int | None,
) -> Payload:
    """``unmet``: every code unmet when it was overridden; ``departs_from``: the codes the
    override names, each with the members it was unmet for (``OverrideCheck.departures``)."""
    return {
        "reason": reason,
        "unmet": list(unmet),
        "departs_from": {code: sorted(members) for code, members in departs_from.items()},
        "boundary_version": boundary_version,
        "budget_version": budget_version,
    }


def departures_of(check: OverrideCheck) -> dict[str, frozenset[int]]:
    """The codes an override departs from, with the members each was unmet for."""
    return {departure.code: frozenset(departure.members) for departure in check.departures}


# --- The panel ----------------------------------------------------------------------------------


def membership_row(
    *,
    cycle: Any,
    member: Any,
    represents: str,
    tier: str,
    tender_panel: bool,
    stage_key: str,
    at: Any,
) -> Columns:
    return {
        **_refs(cycle=cycle, member=member),
        "represents": represents,
        "tier": str(tier),
        "tender_panel": tender_panel,
        "joined_at": at,
        "joined_stage": stage_key,
    }


def panel_joined(*, member: str, represents: str, tier: str, tender_panel: bool) -> Payload:
    return {"member": member, "represents": represents, "tier": tier, "tender_panel": tender_panel}


def panel_left(*, member: str, reason: str, stepped_down: bool, had_open_dissent: bool) -> Payload:
    return {
        "member": member,
        "reason": reason,
        "stepped_down": stepped_down,
        "had_open_dissent": had_open_dissent,
    }


def tender_panel_changed(*, member: str, tender_panel: bool) -> Payload:
    return {"member": member, "tender_panel": tender_panel}


def _default_text(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.get_default())


def working_agreement_row(
    *,
    cycle: Any,
    previous: Any | None,
    task: str,
    responsibilities: str,
    support: str,
    expenses: str = "",
    ground_rules: str = "",
    recorded_by: Any,
    at: Any,
) -> Columns:
    """A new version of the panel's working agreement after ``previous``; expenses and ground
    rules not given are the model's defaults (seed 004's)."""
    return {
        **_refs(cycle=cycle, recorded_by=recorded_by),
        "version": next_version(previous),
        "task": task,
        "responsibilities": responsibilities,
        "support": support,
        "expenses": expenses or _default_text(WorkingAgreement, "expenses"),
        "ground_rules": ground_rules or _default_text(WorkingAgreement, "ground_rules"),
        "recorded_at": at,
    }


def agreement_recorded(
    *,
    version: int,
    task: str,
    responsibilities: str,
    support: str,
    expenses: str,
    ground_rules: str,
) -> Payload:
    return {
        "version": version,
        "task": task,
        "responsibilities": responsibilities,
        "support": support,
        "expenses": str(expenses),
        "ground_rules": str(ground_rules),
    }


def agreement_signed(*, version: int) -> Payload:
    return {"version": version}


def conflict_declaration_row(
    *, cycle: Any, member: Any, interest: str, details: str, at: Any
) -> Columns:
    return {
        **_refs(cycle=cycle, member=member),
        "interest": interest,
        "details": details,
        "declared_at": at,
    }


def conflict_declared(*, interest: str, details: str, left_tender_panel: bool) -> Payload:
    return {"interest": interest, "details": details, "left_tender_panel": left_tender_panel}


# --- Decisions and the influence register -------------------------------------------------------


def decision_row(
    *,
    cycle: Any,
    visit: Any,
    stage_key: str,
    summary: str,
    decided_by: Any,
    forum: str,
    veto_used: bool,
    veto_reason: str,
    at: Any,
) -> Columns:
    """A decision's row; a veto's reasons are kept only with a veto."""
    return {
        **_refs(cycle=cycle, visit=visit, decided_by=decided_by),
        "stage_key": stage_key,
        "summary": summary,
        "forum": forum,
        "decided_at": at,
        "veto_used": veto_used,
        "veto_reason": veto_reason if veto_used else "",
    }


def decision_recorded(*, summary: str, forum: str, veto_used: bool, veto_reason: str) -> Payload:
    return {"summary": summary, "forum": forum, "veto_used": veto_used, "veto_reason": veto_reason}


def input_row(
    *,
    cycle: Any,
    visit: Any,
    stage_key: str,
    submitted_by: Any,
    source: str,
    method: str,
    text: str,
    attachment_reference: str,
    at: Any,
) -> Columns:
    return {
        **_refs(cycle=cycle, visit=visit, submitted_by=submitted_by),
        "stage_key": stage_key,
        "source": str(source),
        "method": str(method),
        "text": text,
        "attachment_reference": attachment_reference,
        "submitted_at": at,
    }


def input_submitted(*, source: str, method: str, text: str, attachment_reference: str) -> Payload:
    return {
        "source": source,
        "method": method,
        "text": text,
        "attachment_reference": attachment_reference,
    }


def response_row(
    *,
    user_input: Any,
    cycle: Any,
    kind: str,
    text: str,
    decision: Any,
    responded_by: Any,
    at: Any,
) -> Columns:
    return {
        **_refs(user_input=user_input, cycle=cycle, decision=decision, responded_by=responded_by),
        "kind": kind,
        "text": text,
        "responded_at": at,
    }


def input_responded(
    *, input_id: int, kind: str, text: str, decision_id: int | None, previous: str
) -> Payload:
    return {
        "input": input_id,
        "kind": kind,
        "text": text,
        "decision": decision_id,
        "previous": previous,
    }


def input_flagged_overdue(
    *, submitted_at: Any, due: Any, status: str, response_days: int
) -> Payload:
    return {
        "submitted_at": submitted_at,
        "due": due,
        "status": status,
        "response_days": response_days,
    }


# --- The duty to involve ------------------------------------------------------------------------


def duty_assessment_row(
    *,
    cycle: Any,
    previous: Any | None,
    stage_key: str,
    proposal: str,
    proposal_version: int,
    questions: DutyQuestions,
    result: DutyResult,
    recorded_by: Any,
    at: Any,
) -> Columns:
    """A duty assessment after ``previous`` (None: the first), for the proposal as changed
    ``proposal_version`` times: the answers and the rule's result."""
    return {
        **_refs(cycle=cycle, recorded_by=recorded_by),
        "version": next_version(previous),
        "stage_key": stage_key,
        "proposal": proposal,
        "proposal_version": proposal_version,
        "recorded_at": at,
        **_assessment_columns(questions, result),
    }


def _assessment_columns(questions: DutyQuestions, result: DutyResult) -> dict[str, Any]:
    """The answer and result columns of a duty assessment row."""
    return {
        "body_type": questions.body_type.value,
        "wording": questions.wording.value,
        "activity": questions.activity.value,
        "responsible": questions.responsible,
        "affects_other_services": questions.affects_other_services,
        "affects_delivery": questions.affects_delivery,
        "affects_range": questions.affects_range,
        "already_involved": questions.already_involved,
        "substantial": questions.substantial,
        "urgent_safety_risk": questions.urgent_safety_risk,
        "outcome": result.outcome.value,
        "limb": result.limb.value if result.limb is not None else "",
        "statute": result.statute,
        "scrutiny": result.scrutiny,
        "rules": [{"code": rule.code, "text": rule.text} for rule in result.rules],
    }


def duty_assessed(
    *, version: int, proposal_version: int, questions: DutyQuestions, result: DutyResult
) -> Payload:
    return {
        "version": version,
        "proposal_version": proposal_version,
        "body_type": questions.body_type.value,
        "activity": questions.activity.value,
        "wording": questions.wording.value,
        "outcome": result.outcome.value,
        "limb": result.limb.value if result.limb is not None else "",
        "scrutiny": result.scrutiny,
        "rules": list(result.codes),
    }
