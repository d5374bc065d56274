"""Celery tasks for the time-driven steps of the commissioning process.

Each task is thin: it takes ids, calls a service and is safe to run twice (the service decides,
under the cycle's lock, whether anything is left to do). Celery beat runs the sweeps on the
schedule in ``CELERY_BEAT_SCHEDULE``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task

from cycle import selectors, services


def task(func: Callable[..., Any]) -> Any:
    """``shared_task`` with a type mypy can see (celery ships no annotations)."""
    return shared_task(func)


@task
def flag_overdue_input(input_id: int) -> bool:
    """Flag one input that has waited too long for an answer; False if there was nothing to do."""
    return services.input_flag_overdue(input_id=input_id)


@task
def flag_overdue_inputs() -> list[int]:
    """Find unanswered input past its response time and flag each one in a task of its own."""
    input_ids = selectors.overdue_input_ids()
    for input_id in input_ids:
        flag_overdue_input.delay(input_id)
    return input_ids
