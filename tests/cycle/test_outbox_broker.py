"""The outbox against a real broker and real workers, on PostgreSQL.

Run with ``CELERY_TEST_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/15``) and ``DATABASE_URL``
pointing at PostgreSQL; skipped otherwise. The first two tests run a worker in a thread of the
test process (``celery.contrib.testing``); the third runs workers as separate processes, so that
one can be killed with SIGKILL in the middle of sending.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection

from cycle import tasks as cycle_tasks
from cycle.models import Notification
from tests.factories import CycleWorld
from tests.processes import test_tasks as broker_test
from tests.processes.test_tasks import BROKER_URL, wait_until

# The fixtures of the first broker test: a celery app on the test broker, a flushable ledger.
broker_app = broker_test.broker_app
ledger_flushable = broker_test.ledger_flushable

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
Kind = Notification.Kind


def budget_rows(disclosure_pk: int) -> list[Notification]:
    return list(
        Notification.objects.filter(
            kind=Kind.BUDGET_CHANGED, idempotency_key__startswith=f"budget:{disclosure_pk}:"
        ).order_by("recipient_id")
    )


def all_delivered() -> bool:
    return not Notification.objects.undelivered().exists()


def test_one_budget_change_reaches_each_active_panel_member_once_through_a_worker(
    ledger_flushable, broker_app
):
    world = CycleWorld(panel_size=4)
    world.disclose_budget("1200000")
    with start_worker(broker_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        assert wait_until(all_delivered)
        mail.outbox.clear()
        disclosure = world.disclose_budget("900000")
        assert wait_until(all_delivered)

    rows = budget_rows(disclosure.pk)
    assert [row.recipient_id for row in rows] == sorted(m.pk for m in world.panel)
    assert all(row.attempts == 1 and row.delivered_at is not None for row in rows)
    sent = Counter(m.extra_headers["X-Cycle-Notification"] for m in mail.outbox)
    assert sent == Counter({row.idempotency_key: 1 for row in rows})
    assert {m.subject for m in mail.outbox} == {
        "Day services: The budget went down from £1,200,000 to £900,000."
    }


def test_with_the_broker_unreachable_the_change_succeeds_and_arrives_when_it_is_back(
    ledger_flushable, broker_app
):
    world = CycleWorld(panel_size=3)
    down = Celery("cycle-broker-down")
    down.config_from_object("django.conf:settings", namespace="CELERY")
    down.conf.update(broker_url="redis://127.0.0.1:1/10", task_always_eager=False)
    down.set_current()
    try:
        disclosure = world.disclose_budget("640000")
    finally:
        broker_app.set_current()

    assert world.refresh().budget_disclosures.get().pk == disclosure.pk
    rows = budget_rows(disclosure.pk)
    assert len(rows) == 3
    assert all(row.delivered_at is None for row in rows)
    mail.outbox.clear()

    with start_worker(broker_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        # The broker is back: the beat's sweep runs on the worker and delivers what waited.
        cycle_tasks.sweep_outbox.delay().get(timeout=30)
        assert wait_until(all_delivered)

    sent = Counter(m.extra_headers["X-Cycle-Notification"] for m in mail.outbox)
    for row in budget_rows(disclosure.pk):
        assert row.delivered_at is not None
        assert sent[row.idempotency_key] == 1


# A worker killed with SIGKILL in the middle of sending


def start_worker_process(queue: str, sink: Path, delay: float) -> subprocess.Popen[bytes]:
    database = connection.settings_dict
    env = {
        **os.environ,
        "CYCLE_NO_BOOTSTRAP": "1",
        "DJANGO_SETTINGS_MODULE": "cycle.conf.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_RESULT_BACKEND": BROKER_URL if BROKER_URL.startswith("redis") else "",
        "EMAIL_BACKEND": "tests.mailsink.SlowFileBackend",
        "MAILSINK_DIR": str(sink),
        "MAILSINK_DELAY": str(delay),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "celery", "-A", "cycle.conf", "worker", "-Q", queue]
    command += ["-P", "prefork", "-c", "1", "--without-mingle", "--without-gossip", "-l", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def kill(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def delivered_files(sink: Path) -> Counter[str]:
    return Counter(path.name.split(".")[0] for path in sink.glob("*.eml"))


def test_a_worker_killed_mid_delivery_and_restarted_delivers_each_once(
    ledger_flushable, broker_app, tmp_path
):
    world = CycleWorld(panel_size=3)
    Notification.objects.all().delete()  # only the budget change's notifications from here
    queue = broker_app.conf.task_default_queue
    first = start_worker_process(queue, tmp_path, delay=3.0)
    try:
        disclosure = world.disclose_budget("880000")
        keys = {row.idempotency_key.replace(":", "_") for row in budget_rows(disclosure.pk)}
        # Wait until the worker is in the middle of sending the first, then kill it outright.
        assert wait_until(lambda: any(tmp_path.glob("*.sending")), seconds=60)
        kill(first)
        assert delivered_files(tmp_path) == Counter()
        assert Notification.objects.undelivered().count() == 3
    finally:
        kill(first)

    second = start_worker_process(queue, tmp_path, delay=0)
    try:
        # Beat's sweep: the tasks the dead worker held wait out the broker's visibility timeout.
        cycle_tasks.sweep_outbox.apply_async(queue=queue)
        assert wait_until(all_delivered, seconds=60)
    finally:
        kill(second)

    assert delivered_files(tmp_path) == Counter({key: 1 for key in keys})
    rows = budget_rows(disclosure.pk)
    assert len(rows) == 3
    assert all(row.delivered_at is not None for row in rows)
