"""The commissioning process: how a cycle's stages are driven, and the entry points callers use.

Callers (the command line, views, celery tasks) use the functions below, which run the cycle
services; the gate is enforced in ``cycle.services.stage_advance`` whatever path is taken.
"""

from __future__ import annotations

from typing import Any

from cycle import services
from cycle.models import CommissioningCycle, SignOff, StageVisit


def start_cycle(*, actor: Any, **kwargs: Any) -> CommissioningCycle:
    return services.cycle_create(actor=actor, **kwargs)


def advance(*, actor: Any, cycle_id: int) -> StageVisit | None:
    return services.stage_advance(actor=actor, cycle_id=cycle_id)


def reopen(*, actor: Any, cycle_id: int, stage_key: str, reason: str) -> StageVisit:
    return services.stage_reopen(actor=actor, cycle_id=cycle_id, stage_key=stage_key, reason=reason)


def signoff(*, actor: Any, cycle_id: int, dissent: str | None = None) -> SignOff:
    return services.signoff_record(actor=actor, cycle_id=cycle_id, dissent=dissent)
