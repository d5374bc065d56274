"""Every change to a commissioning cycle, one function each.

Each service locks the cycle row, re-checks permission, evaluates the gate where it matters,
changes state and appends one ledger event, all in one transaction (``service_support.service``).
Callers (views, the command line, the flow, celery tasks) never write models themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import QuerySet
from django.utils import timezone
from guardian.shortcuts import assign_perm

from roles.permissions import LEAD_PERM, PANEL_PERM, Action, involvement_lead_bar, require

from . import input_rules, ledger, notifications, records, selectors, workflow
from .actions import LedgerAction
from .errors import Conflict, Forbidden, GateClosed, InvalidRequest, NotFound
from .gates import GateResult, check_override, evaluate
from .i18n import gettext_lazy as _
from .models import (
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    GateOverride,
    GateOverrideDeparture,
    InputResponse,
    Organisation,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from .prepared import PreparedRead, PreparedWrite
from .service_support import lock_cycle, lock_cycle_with_open_visit, require_on_panel, service
from .stages import TEMPLATES, get_template

TEXT_LIMIT = input_rules.LONG_TEXT
"""The longest free text a service accepts (reasons, summaries, what users said)."""


def _require_text(value: str, field: str, limit: int = input_rules.LONG_TEXT) -> str:
    return input_rules.text(value, field, limit=limit)


def _optional_text(value: str | None, field: str, limit: int = input_rules.LONG_TEXT) -> str:
    return input_rules.text(value, field, limit=limit, required=False)


def _require_active(cycle: CommissioningCycle, visit: StageVisit | None) -> StageVisit:
    """The cycle's open visit (``visit``, read with the lock), unless the cycle is completed."""
    if cycle.status != CommissioningCycle.Status.ACTIVE:
        raise Conflict(
            _(
                "The cycle is completed; reopen a stage first.",
            ),
            code="cycle.completed",
        )
    if visit is None:  # pragma: no cover - an active cycle always has an open visit
        raise Conflict(
            _(
                "The cycle has no open stage.",
            ),
            code="cycle.no_open_stage",
        )
    return visit


# The writes every move of a stage makes, compiled once per database (``cycle.prepared``).
_INSERT_VISIT = PreparedWrite.inserting(StageVisit)
_CLOSE_VISIT = PreparedWrite(
    StageVisit, "closed_at", "closed_by", "closure", "attesting", "quorum_signoff"
)
_MOVE_CYCLE = PreparedWrite(CommissioningCycle, "status", "current_stage", "updated_at")


def _new_visit(
    cycle: CommissioningCycle, stage_key: str, actor: Any, reason: str = ""
) -> StageVisit:
    """The visit opening ``stage_key``, not yet written."""
    template = get_template(cycle.template_key)
    return StageVisit(
        **records.stage_visit_row(
            cycle=cycle,
            stage_key=stage_key,
            position=template.position(stage_key),
            opened_by=actor,
            at=timezone.now(),
            reason=reason,
        )
    )


def _open_visit(
    cycle: CommissioningCycle, stage_key: str, actor: Any, reason: str = ""
) -> StageVisit:
    visit = _new_visit(cycle, stage_key, actor, reason)
    _INSERT_VISIT.insert_instance(visit)
    return visit


@service(LedgerAction.CYCLE_CREATED)
def cycle_create(
    *,
    actor: Any,
    title: str,
    organisation: Organisation,
    lead: Any,
    template_key: str = "default",
    service_area: str = "",
    followed_by_process: bool = False,
) -> CommissioningCycle:
    """Start a cycle at the first stage of its template, led by ``lead``.

    ``followed_by_process`` says a workflow process will follow the cycle
    (``processes.commissioning.start_cycle``): every later service then tells it what changed.
    """
    require(actor, Action.CREATE_CYCLE, organisation=organisation)
    title = _require_text(title, "title", input_rules.SHORT_TEXT)
    if template_key not in TEMPLATES:
        raise InvalidRequest(
            _(
                "Unknown stage template %(template_key)s; choose one of: %(choices)s.",
                template_key=repr(template_key),
                choices=", ".join(TEMPLATES),
            ),
            code="invalid.template",
        )
    if not lead.has_perm(LEAD_PERM):
        raise InvalidRequest(
            _(
                "%(name)s cannot lead a cycle: they do not hold the commissioner role.",
                name=lead.get_username(),
            ),
            code="invalid.lead",
        )
    template = get_template(template_key)
    cycle = CommissioningCycle.objects.create(
        title=title,
        organisation=organisation,
        service_area=_optional_text(service_area, "service area", input_rules.SHORT_TEXT),
        lead_commissioner=lead,
        template_key=template_key,
        current_stage=template.first().key,
        followed_by_process=followed_by_process,
    )
    assign_perm(LEAD_PERM, lead, cycle)
    visit = _open_visit(cycle, cycle.current_stage, actor)
    ledger.append(
        actor=actor,
        action=LedgerAction.CYCLE_CREATED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=cycle,
        payload=records.cycle_created(
            title=cycle.title,
            organisation=organisation.name,
            lead=lead.get_username(),
            template=template_key,
        ),
    )
    return cycle


@service(LedgerAction.BOUNDARIES_AGREED)
def boundaries_agree(
    *,
    actor: Any,
    cycle_id: int,
    purpose: str,
    user_role: str,
    influence: str,
    decision_maker: str,
    commissioner_authority: str = "",
    fixed_matters: str = "",
    open_matters: str = "",
) -> RoleBoundaryAgreement:
    """Record a new version of the current stage's role boundaries."""
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.LEAD, cycle)
    visit = _require_active(cycle, open_visit)
    if influence not in RoleBoundaryAgreement.Influence.values:
        raise InvalidRequest(
            _(
                "Influence must be one of %(choices)s.",
                choices=", ".join(RoleBoundaryAgreement.Influence.values),
            ),
            code="invalid.influence",
        )
    previous = selectors.current_boundaries(cycle, visit.stage_key)
    agreement = RoleBoundaryAgreement.objects.create(
        **records.boundary_agreement_row(
            cycle=cycle,
            stage_key=visit.stage_key,
            previous=previous,
            purpose=_require_text(purpose, "purpose"),
            user_role=_require_text(user_role, "user role"),
            influence=influence,
            decision_maker=_require_text(decision_maker, "decision maker"),
            commissioner_authority=_optional_text(commissioner_authority, "commissioner authority"),
            fixed_matters=_optional_text(fixed_matters, "fixed matters"),
            open_matters=_optional_text(open_matters, "open matters"),
            recorded_by=actor,
            at=timezone.now(),
        )
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.BOUNDARIES_AGREED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=agreement,
        payload=records.boundaries_agreed(
            version=agreement.version,
            influence=influence,
            decision_maker=agreement.decision_maker,
            unchanged=agreement.unchanged_from_previous,
        ),
    )
    notifications.boundaries_agreed(cycle=cycle, agreement=agreement, previous=previous)
    return agreement


@service(LedgerAction.BOUNDARIES_ACKNOWLEDGED)
def boundaries_acknowledge(*, actor: Any, cycle_id: int) -> BoundaryAcknowledgement:
    """A panel member acknowledges the current version of the current stage's boundaries."""
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    visit = _require_active(cycle, open_visit)
    require_on_panel(cycle, actor)
    agreement = selectors.current_boundaries(cycle, visit.stage_key)
    if agreement is None:
        raise Conflict(
            _(
                "There are no role boundaries to acknowledge for this stage yet.",
            ),
            code="boundaries.missing",
        )
    acknowledgement, created = BoundaryAcknowledgement.objects.get_or_create(
        agreement=agreement, member=actor, defaults={"acknowledged_at": timezone.now()}
    )
    if created:
        ledger.append(
            actor=actor,
            action=LedgerAction.BOUNDARIES_ACKNOWLEDGED,
            cycle=cycle,
            stage_key=visit.stage_key,
            obj=acknowledgement,
            payload=records.boundaries_acknowledged(version=agreement.version),
        )
    return acknowledgement


@service(LedgerAction.BUDGET_DISCLOSED)
def budget_disclose(
    *,
    actor: Any,
    cycle_id: int,
    amount: Decimal | str | int | None = None,
    currency: str = "GBP",
    constraints: str = "",
    withheld_reason: str = "",
) -> BudgetDisclosure:
    """Disclose the budget (or why it is withheld) as a new version.

    Sign-offs given against an earlier version stop counting at once: each names the version it
    attested to, and the gate compares it with this one.
    """
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.LEAD, cycle)
    visit = _require_active(cycle, open_visit)
    value = input_rules.amount(amount)
    withheld_reason = _optional_text(withheld_reason, "withheld reason")
    constraints = _optional_text(constraints, "constraints")
    if (value is None) == (not withheld_reason):
        raise InvalidRequest(
            _(
                "Give either the amount or the reason it cannot be disclosed, not both.",
            ),
            code="invalid.budget",
        )
    currency = input_rules.currency(currency)
    previous = selectors.current_budget(cycle)
    voided = 0
    if previous is not None:
        voided = SignOff.objects.filter(
            cycle=cycle,
            budget=previous,
            superseded_at__isnull=True,
            withdrawn=False,
            kind=SignOff.Kind.ATTEST,
            visit=visit,
        ).count()
    disclosure = BudgetDisclosure.objects.create(
        **records.budget_disclosure_row(
            cycle=cycle,
            version=records.next_version(previous),
            amount=value,
            currency=currency,
            constraints=constraints,
            withheld_reason=withheld_reason,
            signoffs_voided=voided,
            disclosed_by=actor,
            at=timezone.now(),
        )
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.BUDGET_DISCLOSED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=disclosure,
        payload=records.budget_disclosed(
            version=disclosure.version,
            amount=value,
            currency=currency,
            withheld=bool(withheld_reason),
            previous_amount=previous.amount if previous is not None else None,
            signoffs_voided=voided,
            panel=selectors.active_member_ids(cycle),
        ),
    )
    notifications.budget_disclosed(cycle=cycle, disclosure=disclosure, previous=previous)
    return disclosure


@service(LedgerAction.SIGNOFF_DISSENTED, LedgerAction.SIGNOFF_ATTESTED)
def signoff_record(*, actor: Any, cycle_id: int, dissent: str | None = None) -> SignOff:
    """A representative attests that involvement happened as agreed, or records dissent.

    The attestation is bound to the current boundary and budget versions. It is not approval of
    any decision; disagreement with a decision's substance is input, not dissent.
    """
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    visit = _require_active(cycle, open_visit)
    require_on_panel(cycle, actor)
    boundaries = selectors.current_boundaries(cycle, visit.stage_key)
    budget = selectors.current_budget(cycle)
    is_dissent = dissent is not None
    reasons = _require_text(dissent or "", "dissent reasons") if is_dissent else ""
    if not is_dissent and (boundaries is None or budget is None):
        raise Conflict(
            _(
                "There is nothing to attest to yet: the role boundaries and the budget must be "
                "on record first.",
            ),
            code="signoff.nothing_to_attest",
        )
    if not is_dissent:
        assert boundaries is not None
        if not BoundaryAcknowledgement.objects.filter(agreement=boundaries, member=actor).exists():
            raise Conflict(
                _(
                    "Acknowledge version %(version)s of the role boundaries before attesting.",
                    version=boundaries.version,
                ),
                code="signoff.unacknowledged",
            )
    now = timezone.now()
    SignOff.objects.filter(visit=visit, member=actor, superseded_at__isnull=True).update(
        superseded_at=now
    )
    signoff = SignOff.objects.create(
        **records.signoff_row(
            visit=visit,
            cycle=cycle,
            member=actor,
            kind=SignOff.Kind.DISSENT if is_dissent else SignOff.Kind.ATTEST,
            boundary=boundaries,
            budget=budget,
            reasons=reasons,
            at=now,
        )
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.SIGNOFF_DISSENTED if is_dissent else LedgerAction.SIGNOFF_ATTESTED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=signoff,
        payload=records.signoff_recorded(
            boundary_version=boundaries.version if boundaries else None,
            budget_version=budget.version if budget else None,
            reasons=reasons,
        ),
    )
    notifications.signoff_recorded(cycle=cycle, signoff=signoff)
    workflow.following(cycle).signoff_recorded(actor=actor, cycle=cycle, signoff=signoff)
    return signoff


@service(LedgerAction.SIGNOFF_REQUESTED)
def signoff_request(*, actor: Any, cycle_id: int) -> list[int]:
    """The lead commissioner asks the panel for sign-off on the current stage.

    Every active member without an open sign-off task gets one (members who join later get
    theirs when they join); tasks of members who have left are closed. Returns the members newly
    asked. Refused, and on the ledger, for anyone but the lead.
    """
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.LEAD, cycle)
    visit = _require_active(cycle, open_visit)
    asked = workflow.following(cycle).panel_changed(cycle=cycle, required=True)
    ledger.append(
        actor=actor,
        action=LedgerAction.SIGNOFF_REQUESTED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=visit,
        payload=records.signoff_requested(asked=asked),
    )
    notifications.signoff_requested(cycle=cycle, member_ids=asked, visit_id=visit.pk)
    return asked


@service(LedgerAction.DISSENT_WITHDRAWN)
def dissent_withdraw(*, actor: Any, cycle_id: int) -> SignOff:
    """A representative withdraws their own open dissent on the current stage."""
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    visit = _require_active(cycle, open_visit)
    signoff = SignOff.objects.filter(
        visit=visit, member=actor, superseded_at__isnull=True, kind=SignOff.Kind.DISSENT
    ).first()
    if signoff is None:
        raise Conflict(
            _(
                "You have no open dissent on this stage.",
            ),
            code="dissent.none",
        )
    SignOff.objects.filter(pk=signoff.pk).update(superseded_at=timezone.now(), withdrawn=True)
    ledger.append(
        actor=actor,
        action=LedgerAction.DISSENT_WITHDRAWN,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=signoff,
        payload=records.dissent_withdrawn(),
    )
    signoff.refresh_from_db()
    return signoff


def _quorum_attestation(position: int, members: int) -> PreparedRead:
    """The read of the attestation at ``position`` among those of ``members`` members, prepared
    once for each position and number of members (a handful: both are at most a panel's size)."""
    key = (position, members)
    read = _QUORUM_ATTESTATIONS.get(key)
    if read is None:
        names = [f"member_{index}" for index in range(members)]

        def build(visit_id: int, **member_ids: int) -> QuerySet[SignOff, Any]:
            return (
                SignOff.objects.filter(
                    visit_id=visit_id,
                    kind=SignOff.Kind.ATTEST,
                    superseded_at__isnull=True,
                    member_id__in=[member_ids[name] for name in names],
                )
                .order_by("recorded_at", "id")
                .values("pk")[position : position + 1]
            )

        read = PreparedRead(build, visit_id=int, **dict.fromkeys(names, int))
        _QUORUM_ATTESTATIONS[key] = read
    return read


_QUORUM_ATTESTATIONS: dict[tuple[int, int], PreparedRead] = {}


def _quorum_signoff(visit: StageVisit, result: GateResult) -> tuple[str, list[Any]] | None:
    """The attestation that completed the quorum (``records.quorum_position``), as the SQL of a
    subquery of the visit's closing update and its parameters, so that recording it costs the
    advance no statement of its own."""
    position = records.quorum_position(result)
    if position is None:
        return None
    members = sorted(result.attesting)
    values = {f"member_{index}": pk for index, pk in enumerate(members)}
    values["visit_id"] = visit.pk
    return _quorum_attestation(position, len(members)).statement(DEFAULT_DB_ALIAS, **values)


def _pass(
    visit: StageVisit,
    result: GateResult,
    *,
    closure: str,
    actor: Any,
    cycle: CommissioningCycle,
    opening: StageVisit | None,
) -> None:
    """Close ``visit`` through its gate, write the cycle's status and stage, and insert
    ``opening`` (the next stage's visit, or None when the cycle completed).

    On PostgreSQL in one statement: the closing and the cycle's update are data-modifying
    ``WITH``s of the insert, which selects from the closing and so is made after it (a cycle has
    one open visit at a time: ``one_open_visit_per_cycle``). Elsewhere in three.
    """
    quorum = _quorum_signoff(visit, result)
    close, close_params = _CLOSE_VISIT.statement(
        [timezone.now(), actor.pk, closure, len(result.attesting), None],
        pk=visit.pk,
        sql_values={"quorum_signoff": quorum} if quorum is not None else None,
    )
    cycle.updated_at = timezone.now()
    move, move_params = _MOVE_CYCLE.statement(
        [cycle.status, cycle.current_stage, cycle.updated_at], pk=cycle.pk
    )
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(close, close_params)
            if opening is not None:
                _INSERT_VISIT.insert_instance(opening)
            cursor.execute(move, move_params)
        return
    quote = connection.ops.quote_name
    pk = quote(StageVisit._meta.pk.attname)
    if opening is None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH {quote('closed')} AS ({close}) {move}", [*close_params, *move_params]
            )
        return
    insert_params = _INSERT_VISIT.statement(
        [getattr(opening, field.attname) for field in _INSERT_VISIT.fields]
    )[1]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {quote('closed')} AS ({close} RETURNING {pk}), {quote('moved')} AS ({move}) "
            + _INSERT_VISIT.insert_from("closed"),
            [*close_params, *move_params, *insert_params],
        )
        row = cursor.fetchone()
    if row is None:  # pragma: no cover - the visit is locked open since the start
        raise Conflict(_("The cycle has no open stage."), code="cycle.no_open_stage")
    _INSERT_VISIT.inserted(opening, row[0], connection.alias)


@service(LedgerAction.STAGE_ADVANCED)
def stage_advance(*, actor: Any, cycle_id: int) -> StageVisit | None:
    """Leave the current stage through its gate, into the next stage of the template.

    Raises ``GateClosed`` (listing every unmet condition) unless the gate is open or an override
    stands. Returns the new visit, or None when the last stage was passed and the cycle completed.
    """
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.LEAD, cycle)
    visit = _require_active(cycle, open_visit)
    snapshot = selectors.gate_snapshot(cycle, visit)
    result = evaluate(snapshot)
    if not result.passable:
        raise GateClosed(result, visit.stage_key)
    closure = records.closure_of(result)
    following = get_template(cycle.template_key).next_after(visit.stage_key)
    new_visit = None
    if following is None:
        cycle.status = CommissioningCycle.Status.COMPLETED
    else:
        cycle.current_stage = following.key
        new_visit = _new_visit(cycle, following.key, actor)
    _pass(visit, result, closure=closure, actor=actor, cycle=cycle, opening=new_visit)
    workflow.following(cycle).stage_moved(
        actor=actor,
        cycle=cycle,
        outcome={"outcome": "advanced", "to": following.key if following else None},
        visit=new_visit,
        members=snapshot.active_members,
    )
    # Last, so that the ledger's head, which every append waits for, is held only until the
    # commit: the flow's part above writes no ledger event.
    ledger.append(
        actor=actor,
        action=LedgerAction.STAGE_ADVANCED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=visit,
        payload=records.stage_advanced(
            from_stage=visit.stage_key,
            to_stage=following.key if following else None,
            closure=closure,
            attesting=result.attesting,
            overridden_unmet=result.codes,
        ),
    )
    return new_visit


@service(LedgerAction.STAGE_REOPENED)
def stage_reopen(*, actor: Any, cycle_id: int, stage_key: str, reason: str) -> StageVisit:
    """Go back to an earlier stage (the cycle is iterative). The stage's gate must be met again."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    reason = _require_text(reason, "reason")
    template = get_template(cycle.template_key)
    if stage_key not in template.keys:
        raise InvalidRequest(
            _(
                "%(stage_key)s is not a stage of this cycle; stages are: %(choices)s.",
                stage_key=repr(stage_key),
                choices=", ".join(template.keys),
            ),
            code="invalid.stage",
        )
    current = template.position(cycle.current_stage)
    completed = cycle.status == CommissioningCycle.Status.COMPLETED
    if template.position(stage_key) > current or (
        template.position(stage_key) == current and not completed
    ):
        raise Conflict(
            _(
                "Only a stage before the current one (%(current_stage)s) can be reopened.",
                current_stage=cycle.current_stage,
            ),
            code="reopen.not_earlier",
        )
    now = timezone.now()
    left = selectors.open_visit(cycle)
    if left is not None:
        StageVisit.objects.filter(pk=left.pk).update(
            closed_at=now, closed_by=actor, closure=StageVisit.Closure.REOPENED
        )
    cycle.current_stage = stage_key
    cycle.status = CommissioningCycle.Status.ACTIVE
    cycle.save(update_fields=["status", "current_stage", "updated_at"])
    visit = _open_visit(cycle, stage_key, actor, reason)
    ledger.append(
        actor=actor,
        action=LedgerAction.STAGE_REOPENED,
        cycle=cycle,
        stage_key=stage_key,
        obj=visit,
        payload=records.stage_reopened(
            from_stage=left.stage_key if left else None, to_stage=stage_key, reason=reason
        ),
    )
    notifications.stage_reopened(cycle=cycle, visit=visit)
    workflow.following(cycle).stage_moved(
        actor=actor,
        cycle=cycle,
        outcome={"outcome": "reopened", "to": stage_key, "reason": reason},
        visit=visit,
    )
    return visit


@service(LedgerAction.GATE_OVERRIDDEN)
def gate_override(
    *, actor: Any, cycle_id: int, reason: str, codes: Sequence[str] | None = None
) -> GateOverride:
    """A governance board member departs from the gate, with written reasons, on the record.

    The override names the unmet conditions it departs from (``codes``; all of them when not
    given) and the members each was unmet for. Only conditions a board may waive can be named
    (``cycle.gates.WAIVABLE``); while any other is unmet, the override is refused with what must
    be recorded instead. The gate stays closed for anything unmet that the override did not name.
    """
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.OVERRIDE, cycle)
    visit = _require_active(cycle, open_visit)
    reason = _require_text(reason, "reason", TEXT_LIMIT)
    snapshot = selectors.gate_snapshot(cycle, visit)
    result = evaluate(snapshot)
    if result.open:
        raise Conflict(
            _(
                "The gate is already open; there is nothing to override.",
            ),
            code="override.gate_open",
        )
    check = check_override(result, tuple(codes) if codes is not None else None)
    if check.not_waivable:
        raise Forbidden(check.refusal_message, code="override.not_waivable")
    if check.not_unmet or not check.departures:
        raise InvalidRequest(
            _(
                "An override can name only conditions unmet now (%(unmet)s); not %(named)s.",
                unmet=", ".join(result.codes),
                named=", ".join(check.not_unmet) or "none",
            ),
            code="invalid.override_codes",
        )
    override = GateOverride.objects.create(
        **records.override_row(
            visit=visit,
            cycle=cycle,
            by=actor,
            reason=reason,
            departs_from=records.departures_of(check),
            boundary_version=snapshot.boundary_version,
            budget_version=snapshot.budget_version,
            at=timezone.now(),
        )
    )
    GateOverrideDeparture.objects.bulk_create(
        GateOverrideDeparture(override=override, code=code, member_id=member_id)
        for code, member_id in records.override_departures(check)
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.GATE_OVERRIDDEN,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=override,
        payload=records.gate_overridden(
            reason=reason,
            unmet=result.codes,
            departs_from=records.departures_of(check),
            boundary_version=snapshot.boundary_version,
            budget_version=snapshot.budget_version,
        ),
    )
    notifications.gate_overridden(cycle=cycle, override=override)
    return override


@service(LedgerAction.INVOLVEMENT_LEAD_NAMED)
def involvement_lead_name(*, actor: Any, cycle_id: int, lead: Any) -> CommissioningCycle:
    """Name the person responsible for involvement in this cycle (seed 001 L647)."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    if not lead.has_perm(PANEL_PERM):
        raise InvalidRequest(
            _(
                "%(name)s cannot be the involvement lead: they hold neither the involvement "
                "lead role nor the commissioner role.",
                name=lead.get_username(),
            ),
            code="invalid.involvement_lead",
        )
    bar = involvement_lead_bar(lead, cycle)
    if bar is not None:
        raise bar
    if cycle.involvement_lead_id == lead.pk:
        return cycle
    cycle.involvement_lead = lead
    cycle.save(update_fields=["involvement_lead", "updated_at"])
    ledger.append(
        actor=actor,
        action=LedgerAction.INVOLVEMENT_LEAD_NAMED,
        cycle=cycle,
        stage_key=cycle.current_stage,
        obj=cycle,
        payload=records.involvement_lead_named(lead=lead.get_username()),
    )
    return cycle


@service(LedgerAction.DECISION_RECORDED)
def decision_record(
    *,
    actor: Any,
    cycle_id: int,
    summary: str,
    forum: str = "",
    veto_used: bool = False,
    veto_reason: str = "",
) -> Decision:
    """The decision-maker records a decision on the current stage (never the users' sign-off)."""
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.DECIDE, cycle)
    visit = _require_active(cycle, open_visit)
    veto_reason = _optional_text(veto_reason, "veto reason")
    forum = _optional_text(forum, "forum", input_rules.SHORT_TEXT)
    if veto_used and not veto_reason:
        raise InvalidRequest(
            _(
                "A veto needs its reasons on the record.",
            ),
            code="invalid.veto_reason",
        )
    decision = Decision.objects.create(
        **records.decision_row(
            cycle=cycle,
            visit=visit,
            stage_key=visit.stage_key,
            summary=_require_text(summary, "summary"),
            decided_by=actor,
            forum=forum,
            veto_used=veto_used,
            veto_reason=veto_reason,
            at=timezone.now(),
        )
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.DECISION_RECORDED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=decision,
        payload=records.decision_recorded(
            summary=decision.summary,
            forum=decision.forum,
            veto_used=veto_used,
            veto_reason=decision.veto_reason,
        ),
    )
    return decision


# The influence register: "you said, we did" (001:L649-654, 000:L995).


@service(LedgerAction.INPUT_SUBMITTED)
def input_submit(
    *,
    actor: Any,
    cycle_id: int,
    text: str,
    source: str = UserInput.Source.REPRESENTATIVE,
    method: str = UserInput.Method.MEETING,
    attachment_reference: str = "",
) -> UserInput:
    """A panel member records input (for themselves or for the panel) on the current stage."""
    cycle, open_visit = lock_cycle_with_open_visit(cycle_id)
    require(actor, Action.REPRESENT, cycle)
    visit = _require_active(cycle, open_visit)
    require_on_panel(cycle, actor)
    if source not in UserInput.Source.values:
        raise InvalidRequest(
            _(
                "Source must be one of %(choices)s.",
                choices=", ".join(UserInput.Source.values),
            ),
            code="invalid.source",
        )
    if method not in UserInput.Method.values:
        raise InvalidRequest(
            _(
                "Method must be one of %(choices)s.",
                choices=", ".join(UserInput.Method.values),
            ),
            code="invalid.method",
        )
    attachment_reference = _optional_text(
        attachment_reference, "attachment reference", input_rules.REFERENCE_TEXT
    )
    user_input = UserInput.objects.create(
        **records.input_row(
            cycle=cycle,
            visit=visit,
            stage_key=visit.stage_key,
            submitted_by=actor,
            source=source,
            method=method,
            text=_require_text(text, "text"),
            attachment_reference=attachment_reference,
            at=timezone.now(),
        )
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.INPUT_SUBMITTED,
        cycle=cycle,
        stage_key=visit.stage_key,
        obj=user_input,
        payload=records.input_submitted(
            source=source,
            method=method,
            text=user_input.text,
            attachment_reference=attachment_reference,
        ),
    )
    return user_input


@service(LedgerAction.INPUT_RESPONDED)
def input_respond(
    *,
    actor: Any,
    cycle_id: int,
    input_id: int,
    kind: str,
    text: str = "",
    decision_id: int | None = None,
) -> InputResponse:
    """The lead commissioner responds to input: "we did", "we couldn't, because …" or "still
    considering". A newer response supersedes the current one; the earlier ones are kept."""
    cycle = lock_cycle(cycle_id)
    require(actor, Action.LEAD, cycle)
    user_input = UserInput.objects.filter(pk=input_id, cycle=cycle).first()
    if user_input is None:
        raise NotFound(
            _(
                "Cycle %(pk)s has no input %(input_id)s.",
                pk=cycle.pk,
                input_id=input_id,
            ),
            code="input.not_found",
        )
    if kind not in InputResponse.Kind.values:
        raise InvalidRequest(
            _(
                "The response must be one of %(choices)s.",
                choices=", ".join(InputResponse.Kind.values),
            ),
            code="invalid.response_kind",
        )
    if kind == InputResponse.Kind.WE_COULD_NOT:
        text = _require_text(text, "reason")
    elif kind == InputResponse.Kind.WE_DID:
        text = _require_text(text, "what was done")
    else:
        text = _optional_text(text, "response")
    decision = None
    if decision_id is not None:
        decision = Decision.objects.filter(pk=decision_id, cycle=cycle).first()
        if decision is None:
            raise NotFound(
                _(
                    "Cycle %(pk)s has no decision %(decision_id)s.",
                    pk=cycle.pk,
                    decision_id=decision_id,
                ),
                code="decision.not_found",
            )
    now = timezone.now()
    previous_kind = user_input.status
    InputResponse.objects.filter(user_input=user_input, superseded_at__isnull=True).update(
        superseded_at=now
    )
    response = InputResponse.objects.create(
        **records.response_row(
            user_input=user_input,
            cycle=cycle,
            kind=kind,
            text=text,
            decision=decision,
            responded_by=actor,
            at=now,
        )
    )
    answered = kind in UserInput.ANSWERED
    UserInput.objects.filter(pk=user_input.pk).update(
        status=kind, answered_at=now if answered else None
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.INPUT_RESPONDED,
        cycle=cycle,
        stage_key=user_input.stage_key,
        obj=response,
        payload=records.input_responded(
            input_id=user_input.pk,
            kind=kind,
            text=text,
            decision_id=decision.pk if decision is not None else None,
            previous=previous_kind,
        ),
    )
    notifications.input_responded(cycle=cycle, user_input=user_input, response=response)
    return response


@service(LedgerAction.INPUT_FLAGGED_OVERDUE)
def input_flag_overdue(*, input_id: int, now: datetime | None = None) -> bool:
    """Flag input that has waited longer than ``INPUT_RESPONSE_DAYS`` for an answer.

    A system action (the periodic task calls it): returns False, changing nothing, when the input
    is gone, answered, not yet due or already flagged, so running it twice is harmless.
    """
    cycle_id = UserInput.objects.filter(pk=input_id).values_list("cycle_id", flat=True).first()
    if cycle_id is None:
        return False
    cycle = lock_cycle(cycle_id)
    user_input = UserInput.objects.get(pk=input_id)
    now = now if now is not None else timezone.now()
    due = selectors.input_response_due(user_input.submitted_at, cycle.organisation.bank_holidays)
    if user_input.is_answered or user_input.overdue_flagged_at is not None or now < due:
        return False
    UserInput.objects.filter(pk=user_input.pk).update(overdue_flagged_at=now)
    ledger.append(
        actor=None,
        action=LedgerAction.INPUT_FLAGGED_OVERDUE,
        cycle=cycle,
        stage_key=user_input.stage_key,
        obj=user_input,
        payload=records.input_flagged_overdue(
            submitted_at=user_input.submitted_at,
            due=due,
            status=user_input.status,
            response_days=settings.INPUT_RESPONSE_DAYS,
        ),
    )
    notifications.input_overdue(
        cycle=cycle, user_input=user_input, working_days=settings.INPUT_RESPONSE_DAYS
    )
    return True
