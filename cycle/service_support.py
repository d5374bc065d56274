"""What every service shares: one transaction, the cycle row locked, refusals on the ledger."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.db import transaction

from . import ledger
from .errors import Forbidden, GateClosed, NotFound
from .models import AuditEvent, CommissioningCycle

P = ParamSpec("P")
R = TypeVar("R")


def service(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service in one transaction; when it is refused, roll back and record the refusal.

    A refusal (``Forbidden``, or ``GateClosed`` for an advance) leaves nothing changed and writes
    one ``refused`` event to the ledger in a transaction of its own, naming the action and why.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except (Forbidden, GateClosed) as refusal:
            _record_refusal(func.__name__, kwargs, refusal)
            raise

    return wrapper


def _record_refusal(action: str, kwargs: dict[str, Any], refusal: Forbidden | GateClosed) -> None:
    cycle_id = kwargs.get("cycle_id")
    with transaction.atomic():
        cycle = CommissioningCycle.objects.filter(pk=cycle_id).first() if cycle_id else None
        payload: dict[str, Any] = {"code": refusal.code, "message": refusal.message}
        if isinstance(refusal, GateClosed):
            payload["unmet"] = list(refusal.result.codes)
        ledger.append(
            actor=kwargs.get("actor"),
            action=action,
            cycle=cycle,
            stage_key=cycle.current_stage if cycle is not None else "",
            payload=payload,
            outcome=AuditEvent.Outcome.REFUSED,
        )


def lock_cycle(cycle_id: int) -> CommissioningCycle:
    """Fetch and lock a cycle's row until the end of the transaction."""
    try:
        return CommissioningCycle.objects.select_for_update().get(pk=cycle_id)
    except CommissioningCycle.DoesNotExist:
        raise NotFound(
            f"There is no commissioning cycle {cycle_id}.", code="cycle.not_found"
        ) from None
