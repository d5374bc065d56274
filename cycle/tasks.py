"""Scheduled jobs, run by celery beat (``CELERY_BEAT_SCHEDULE``) or by hand (``cycle sweep``).

Each is thin and safe to run twice or at the same time as itself: the outbox sweep delivers each
notification once (``cycle.outbox``), reminders and escalations are written once per stage and
level (``cycle.reminders``), and the nightly verification only reads the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

from celery import shared_task
from django.core.management import call_command
from django.utils import timezone

from roles.models import GovernanceBoard

from . import ledger, outbox, reminders, selectors, services
from .models import Notification


def task(func: Callable[..., Any]) -> Any:
    """``shared_task`` with a type mypy can see (celery ships no annotations)."""
    return shared_task(func)


@task
def sweep_outbox() -> dict[str, int]:
    """Deliver every notification still waiting in the outbox (after a broker outage, say)."""
    return outbox.sweep()


@task
def send_reminders() -> dict[str, int]:
    """Reminders and escalations for sign-offs, acknowledgements, input and decision meetings."""
    return reminders.send_all()


@task
def fire_workflow_timers() -> str:
    """viewflow's database-backed timers, scheduled starts and conditions that are due
    (``manage.py workflow_timers``); returns what was fired, in viewflow's words."""
    said = StringIO()
    call_command("workflow_timers", stdout=said)
    return said.getvalue().strip()


@task
def verify_ledger() -> dict[str, Any]:
    """Verify the whole ledger; if it does not verify, tell every governance board member."""
    result = ledger.verify_ledger()
    if not result.ok:
        tell_board_ledger_failed(result)
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq}


def sweep() -> dict[str, Any]:
    """Everything the schedule does in a day but the ledger check, at once (``cycle sweep``):
    viewflow's timers first, since what they start may have people to tell; the outbox last."""
    timers = fire_workflow_timers()
    flagged = sum(services.input_flag_overdue(input_id=pk) for pk in selectors.overdue_input_ids())
    sent = reminders.send_all()
    delivered = outbox.sweep()
    return {
        "workflow_timers": timers,
        "inputs_flagged": flagged,
        "cycles": sent["cycles"],
        "reminders": sent["sent"],
        "delivered": delivered.get(outbox.Outcome.DELIVERED, 0),
        "retrying": delivered.get(outbox.Outcome.RETRY, 0),
        "gave_up": delivered.get(outbox.Outcome.GAVE_UP, 0),
    }


def tell_board_ledger_failed(result: ledger.Verification) -> list[Notification]:
    members = GovernanceBoard.members.through.objects.values_list("user_id", flat=True)
    return outbox.write(
        kind=Notification.Kind.LEDGER_UNVERIFIED,
        cycle=None,
        recipient_ids=set(members),
        message=outbox.Message(
            subject="The audit ledger did not verify",
            body=(
                "Tonight's check of the audit ledger found a problem: "
                f"{result.describe()}.\n\nThe record of what happened may have been changed "
                "outside the application. Run 'manage.py audit verify' to see the details, and "
                "keep an export from before the problem if you have one."
            ),
        ),
        key=f"ledger-unverified:{timezone.now().date().isoformat()}:{result.first_bad_seq}",
        skip_existing=True,
    )
