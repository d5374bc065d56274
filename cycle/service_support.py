"""What every service shares: its declared ledger actions, one transaction, the cycle row locked,
refusals on the ledger."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet

from . import ledger, records, rollback_hooks, selectors
from .actions import LedgerAction, Operation
from .errors import Forbidden, GateClosed, NotFound
from .i18n import gettext_lazy as _
from .models import AuditEvent, CommissioningCycle, StageVisit
from .prepared import PreparedRead

P = ParamSpec("P")
R = TypeVar("R")


def service(*actions: LedgerAction) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a service and the ledger actions it writes; run it in one transaction.

    When it is refused (``Forbidden``, or ``GateClosed`` for an advance), nothing is changed and one
    ``refused`` event is written to the ledger under the name of the operation (the service's,
    which must be an :class:`~cycle.actions.Operation`), with why, and with the actions it refused
    (``"refused"``). Called with no transaction open, the event is committed at once. Called inside
    the caller's transaction, the event is written there, and stays on the ledger even if the
    caller's work is rolled back because the refusal (or any other error) passed through it: it is
    appended again after that rollback (``cycle.rollback_hooks``). A refusal already recorded by a
    service called inside this one is not recorded twice.
    """

    if any(callable(action) for action in actions):
        raise ImproperlyConfigured(
            "declare the ledger actions a service writes: @service(LedgerAction.X, ...)"
        )

    def declare(func: Callable[P, R]) -> Callable[P, R]:
        try:
            operation = Operation(func.__name__)
        except ValueError:
            raise ImproperlyConfigured(
                f"service {func.__name__} is not an Operation in cycle/actions.py"
            ) from None
        refused = [str(action) for action in actions]

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except (Forbidden, GateClosed) as refusal:
                if not getattr(refusal, "on_ledger", False):
                    refusal.on_ledger = True  # type: ignore[union-attr]
                    _record_refusal(operation, refused, kwargs, refusal)
                raise

        wrapper.ledger_actions = actions  # type: ignore[attr-defined]
        return wrapper

    return declare


def _record_refusal(
    operation: Operation,
    refused: list[str],
    kwargs: dict[str, Any],
    refusal: Forbidden | GateClosed,
    *,
    again: bool = False,
) -> None:
    """Append the refusal; inside a transaction, append it again if an error rolls that back.

    ``again``: the first event was rolled back with the caller's work, which may have created the
    cycle or the acting user; one that no longer exists is named in the payload instead.
    """
    cycle_id = kwargs.get("cycle_id")
    actor = kwargs.get("actor")
    with transaction.atomic():
        cycle = CommissioningCycle.objects.filter(pk=cycle_id).first() if cycle_id else None
        payload = records.refused(refused, refusal)
        if again:
            payload["after_rollback"] = True
            if cycle is None and cycle_id:
                payload["cycle_id"] = cycle_id
            gone = (
                actor is not None
                and getattr(actor, "is_authenticated", False)
                and not type(actor)._default_manager.filter(pk=actor.pk).exists()
            )
            if gone and actor is not None:
                payload["actor"] = actor.get_username()
                actor = None
        ledger.append(
            actor=actor,
            action=operation,
            cycle=cycle,
            stage_key=cycle.current_stage if cycle is not None else "",
            payload=payload,
            outcome=AuditEvent.Outcome.REFUSED,
        )
    if transaction.get_connection().in_atomic_block:
        rollback_hooks.on_rollback(
            functools.partial(_record_refusal, operation, refused, kwargs, refusal, again=True)
        )


def lock_cycle(cycle_id: int) -> CommissioningCycle:
    """Fetch and lock a cycle's row until the end of the transaction."""
    try:
        return CommissioningCycle.objects.select_for_update().get(pk=cycle_id)
    except CommissioningCycle.DoesNotExist:
        raise NotFound(
            _("There is no commissioning cycle %(id)s.", id=cycle_id), code="cycle.not_found"
        ) from None


def _open_visit_with_cycle(cycle_id: int) -> QuerySet[StageVisit]:
    return (
        StageVisit.objects.select_related("cycle")
        .select_for_update(of=("cycle", "self"))
        .filter(cycle_id=cycle_id, closed_at__isnull=True)
        .order_by("pk")[:1]
    )


_OPEN_VISIT_WITH_CYCLE = PreparedRead(_open_visit_with_cycle, cycle_id=int)
_VISIT_FIELDS = [field.attname for field in StageVisit._meta.concrete_fields]
_CYCLE_FIELDS = [field.attname for field in CommissioningCycle._meta.concrete_fields]


def lock_cycle_with_open_visit(cycle_id: int) -> tuple[CommissioningCycle, StageVisit | None]:
    """Fetch and lock a cycle's row with its open stage visit (None if it has none), in one query.

    The visit's row is locked with the cycle's, the cycle's first as every service locks it, so
    that a visit closed by a service that held the lock while this one waited is not taken for
    open: PostgreSQL reads a locked row again once its lock is released, and drops it if it no
    longer matches. Without an open visit (a completed cycle, or one another service moved
    while this one waited), the cycle is locked and its open visit read on their own.

    The query is the queryset above, compiled once per database (``PreparedRead``); its row is
    made into the two instances as the ORM makes them (``Model.from_db``), the cycle cached on
    the visit as ``select_related`` caches it.
    """
    using = DEFAULT_DB_ALIAS
    if connections[using].get_autocommit():
        raise transaction.TransactionManagementError(
            "lock_cycle_with_open_visit locks rows: call it inside a transaction"
        )
    rows = _OPEN_VISIT_WITH_CYCLE.converted_rows(using, cycle_id=cycle_id)
    if rows:
        (row,) = rows
        split = len(_VISIT_FIELDS)
        if len(row) != split + len(_CYCLE_FIELDS):  # pragma: no cover - a change of the query
            raise ImproperlyConfigured("the open visit's lock no longer reads visit and cycle")
        visit = StageVisit.from_db(using, _VISIT_FIELDS, row[:split])
        cycle = CommissioningCycle.from_db(using, _CYCLE_FIELDS, row[split:])
        StageVisit.cycle.field.set_cached_value(visit, cycle)
        return cycle, visit
    cycle = lock_cycle(cycle_id)
    return cycle, selectors.open_visit(cycle)


def not_on_panel() -> Forbidden:
    """The refusal for someone who is not an active member of the cycle's panel."""
    return Forbidden(
        _("You are not an active member of this cycle's panel."),
        code="forbidden.not_on_panel",
    )


def require_on_panel(cycle: CommissioningCycle, actor: Any) -> None:
    """Refuse anyone who is not an active member of the cycle's panel."""
    if actor.pk not in selectors.active_member_ids(cycle):
        raise not_on_panel()
