"""Flagging input that waits too long for an answer: the celery tasks, eagerly in-process and on a
real worker with a real broker."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.db.models.signals import post_migrate
from django.utils import timezone

from cycle import services, workdays
from cycle.conf.celery import app as project_app
from cycle.models import AuditEvent, UserInput
from processes import tasks
from tests.factories import CycleWorld

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")


def submit(
    world: CycleWorld, text: str = "Open on Saturdays too.", working_days_ago: int = 0
) -> UserInput:
    user_input = services.input_submit(actor=world.panel[0], cycle_id=world.id, text=text)
    if working_days_ago:
        # Build the history: the input has waited exactly ``working_days_ago`` working days.
        waited = workdays.waited_since_before(timezone.now(), working_days_ago)
        UserInput.objects.filter(pk=user_input.pk).update(submitted_at=waited - timedelta(hours=1))
    user_input.refresh_from_db()
    return user_input


def flag_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="input.flagged_overdue").order_by("seq"))


# Eager celery (the default configuration)


@pytest.mark.django_db
def test_input_unanswered_past_the_response_time_is_flagged(world):
    overdue = submit(world, working_days_ago=20)

    assert tasks.flag_overdue_inputs.delay().get() == [overdue.pk]

    overdue.refresh_from_db()
    assert overdue.overdue_flagged_at is not None
    [event] = flag_events()
    assert event.actor is None
    assert event.cycle_id == world.id
    assert event.object_id == str(overdue.pk)
    payload = json.loads(event.payload)
    assert payload["response_days"] == 20
    assert payload["status"] == "awaiting"


@pytest.mark.django_db
def test_input_within_the_response_time_is_not_flagged(world):
    recent = submit(world, working_days_ago=19)

    assert tasks.flag_overdue_inputs.delay().get() == []
    assert tasks.flag_overdue_input.delay(recent.pk).get() is False

    recent.refresh_from_db()
    assert recent.overdue_flagged_at is None
    assert flag_events() == []


@pytest.mark.django_db
def test_answered_input_is_not_flagged_but_still_considering_is(world):
    answered = submit(world, "Bus passes for carers.", working_days_ago=25)
    considering = submit(world, "A quiet room.", working_days_ago=25)
    services.input_respond(
        actor=world.lead,
        cycle_id=world.id,
        input_id=answered.pk,
        kind="we-could-not",
        text="Bus passes are the council's transport budget, not this one.",
    )
    services.input_respond(
        actor=world.lead, cycle_id=world.id, input_id=considering.pk, kind="considering"
    )

    assert tasks.flag_overdue_inputs.delay().get() == [considering.pk]
    assert [event.object_id for event in flag_events()] == [str(considering.pk)]


@pytest.mark.django_db
def test_flagging_twice_changes_nothing_the_second_time(world):
    overdue = submit(world, working_days_ago=21)

    assert tasks.flag_overdue_input.delay(overdue.pk).get() is True
    overdue.refresh_from_db()
    flagged_at = overdue.overdue_flagged_at

    assert tasks.flag_overdue_input.delay(overdue.pk).get() is False
    assert tasks.flag_overdue_inputs.delay().get() == []
    overdue.refresh_from_db()
    assert overdue.overdue_flagged_at == flagged_at
    assert len(flag_events()) == 1


@pytest.mark.django_db
def test_a_task_for_input_that_no_longer_exists_does_nothing():
    assert tasks.flag_overdue_input.delay(987654).get() is False
    assert flag_events() == []


@pytest.mark.django_db
def test_the_response_time_comes_from_the_setting(world, settings):
    settings.INPUT_RESPONSE_DAYS = 5
    six_days = submit(world, working_days_ago=6)
    four_days = submit(world, working_days_ago=4)

    assert tasks.flag_overdue_inputs.delay().get() == [six_days.pk]
    four_days.refresh_from_db()
    assert four_days.overdue_flagged_at is None


def test_celery_beat_runs_the_sweep_every_day():
    [entry] = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "processes.tasks.flag_overdue_inputs"
    ]
    assert entry["task"] in project_app.tasks
    schedule = entry["schedule"]
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))


# A real worker and a real broker


@pytest.fixture
def ledger_flushable():
    """Let the test database be emptied after a transactional test on PostgreSQL.

    Django empties the tables with TRUNCATE, which the ledger's trigger refuses. The trigger that
    guards against TRUNCATE is switched off for that one flush and back on as soon as the flush
    has finished (Django sends ``post_migrate`` at its end); the row-level trigger stays on.
    """
    yield
    if connection.vendor != "postgresql":
        return
    uid = f"ledger-flushable-{uuid.uuid4().hex}"

    def guard_again(**kwargs: object) -> None:
        post_migrate.disconnect(dispatch_uid=uid)
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE cycle_auditevent ENABLE TRIGGER cycle_auditevent_no_truncate"
            )

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE cycle_auditevent DISABLE TRIGGER cycle_auditevent_no_truncate")
    post_migrate.connect(guard_again, weak=False, dispatch_uid=uid)


@pytest.fixture
def broker_app():
    """A celery app on the broker from CELERY_TEST_BROKER_URL, on a queue of its own."""
    if not BROKER_URL:
        pytest.skip("CELERY_TEST_BROKER_URL is not set, so there is no broker to run a worker on")
    if connection.vendor == "sqlite":
        pytest.skip(
            "the test database is SQLite in memory, which a worker thread cannot see; "
            "run with DATABASE_URL pointing at PostgreSQL"
        )
    app = Celery("cycle-broker-test")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=BROKER_URL,
        result_backend=BROKER_URL if BROKER_URL.startswith("redis") else "rpc://",
        task_always_eager=False,
        task_default_queue=f"cycle-test-{uuid.uuid4().hex}",
        worker_hijack_root_logger=False,
    )
    try:
        yield app
    finally:
        project_app.set_current()
        project_app.set_default()


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_flags_overdue_input_through_the_broker(ledger_flushable, broker_app):
    world = CycleWorld()
    overdue = submit(world, "Transport to the hub.", working_days_ago=22)
    also_overdue = submit(world, "Evening sessions.", working_days_ago=60)
    recent = submit(world, "A newsletter.", working_days_ago=3)

    with start_worker(broker_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        sent = tasks.flag_overdue_input.delay(overdue.pk)
        assert sent.get(timeout=30) is True
        assert tasks.flag_overdue_input.delay(overdue.pk).get(timeout=30) is False

        swept = tasks.flag_overdue_inputs.delay().get(timeout=30)
        assert swept == [also_overdue.pk]
        assert wait_until(
            lambda: UserInput.objects.filter(
                pk=also_overdue.pk, overdue_flagged_at__isnull=False
            ).exists()
        )

    recent.refresh_from_db()
    assert recent.overdue_flagged_at is None
    assert sorted(int(event.object_id) for event in flag_events()) == sorted(
        [overdue.pk, also_overdue.pk]
    )
