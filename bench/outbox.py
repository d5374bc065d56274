"""Outbox delivery throughput through a real celery worker and broker, in notifications per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cycle_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 \\
        python bench/outbox.py [--notifications 2000] [--concurrency 2] [--email-delay 0]

Needs PostgreSQL (a worker process must see the database) and a broker. Sets Django up itself and
works on a scratch database ``test_<name>`` created on that server and dropped at the end, on a
queue of its own.

It makes a panel of ``--panel`` members and writes notifications through the real path: each
round is one transaction calling ``cycle.outbox.write`` (as a service does for a budget change),
whose commit sends one delivery task per notification to the broker. ``--concurrency`` worker
processes (``celery worker -P prefork``) deliver them through ``cycle.outbox.deliver``, with the
mail backend ``bench.outbox.CountingBackend``, which sleeps ``--email-delay`` seconds per message
(the time a mail server or provider takes to accept one) and sends nothing. Measured:

* **publish**: from the first write to the last task on the broker (the commits and publishes);
* **through the worker**: from the first write until every notification has ``delivered_at``;
* **sweep, in-process**: the same number of notifications delivered by ``cycle.outbox.sweep`` in
  this process, with no broker, for comparison.

Each delivered notification is checked to have been delivered exactly once (``attempts == 1``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Django and the project's modules are imported inside the functions below, after
# set_up_django() has chosen the settings and filled the app registry: models cannot be imported
# before that (an app-loading rule, not an import cycle).
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.core.mail.backends.base import BaseEmailBackend  # noqa: E402


class CountingBackend(BaseEmailBackend):
    """Accepts every message after ``BENCH_EMAIL_DELAY`` seconds, and sends nothing."""

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        delay = float(os.environ.get("BENCH_EMAIL_DELAY", "0"))
        if delay:
            time.sleep(delay * len(email_messages))
        return len(email_messages)


def set_up_django() -> tuple[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cycle.conf.settings")
    os.environ["EMAIL_BACKEND"] = "bench.outbox.CountingBackend"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/outbox.py needs DATABASE_URL pointing at PostgreSQL")
    original = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return name, original


def start_worker(database: str, queue: str, concurrency: int, delay: float) -> subprocess.Popen:
    from django.db import connection

    settings = connection.settings_dict
    env = {
        **os.environ,
        "CYCLE_NO_BOOTSTRAP": "1",
        "DATABASE_URL": (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
            f"{settings['PORT'] or 5432}/{database}"
        ),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "BENCH_EMAIL_DELAY": str(delay),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "celery", "-A", "cycle.conf", "worker", "-Q", queue]
    command += ["-P", "prefork", "-c", str(concurrency), "-l", "WARNING"]
    command += ["--without-mingle", "--without-gossip"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop(worker: subprocess.Popen) -> None:
    """A warm shutdown: the worker finishes what it has started, then exits."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


def wait_for_worker(app: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise SystemExit("the worker did not start")


def write_round(recipients: list[int], key: str) -> int:
    from django.db import transaction

    from cycle import outbox
    from cycle.models import Notification

    with transaction.atomic():
        rows = outbox.write(
            kind=Notification.Kind.BUDGET_CHANGED,
            cycle=None,
            recipient_ids=recipients,
            message=outbox.Message(
                subject="Bench: The budget went down from £1,200,000 to £900,000.",
                body="The budget went down from £1,200,000 to £900,000.\n\nPlease sign off again.",
            ),
            key=key,
        )
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--panel", type=int, default=50, help="Recipients per round (50).")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--email-delay", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args()
    if not os.environ.get("CELERY_BROKER_URL"):
        raise SystemExit("set CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/12")

    with tempfile.TemporaryDirectory(prefix="outbox-bench-"):
        database, original = set_up_django()
        from celery import current_app
        from django.contrib.auth.models import User
        from django.db import connection

        from cycle import outbox
        from cycle.models import Notification

        queue = f"outbox-bench-{uuid.uuid4().hex[:8]}"
        current_app.conf.task_default_queue = queue
        worker = None
        try:
            users = [
                User.objects.create(username=f"bench-{n}", email=f"bench-{n}@example.org").pk
                for n in range(args.panel)
            ]
            rounds = max(1, args.notifications // args.panel)
            total = rounds * args.panel
            worker = start_worker(database, queue, args.concurrency, args.email_delay)
            wait_for_worker(current_app)

            started = time.perf_counter()
            for n in range(rounds):
                write_round(users, f"bench-worker-{n}")
            published = time.perf_counter() - started
            while Notification.objects.filter(delivered_at__isnull=True).exists():
                time.sleep(0.05)
                if time.perf_counter() - started > 600:
                    raise SystemExit("not delivered within 10 minutes")
            through_worker = time.perf_counter() - started
            delivered = Notification.objects.filter(delivered_at__isnull=False)
            assert delivered.count() == total
            assert not delivered.exclude(attempts=1).exists(), "a notification went out twice"

            # The same again, delivered by the sweep in this process: the worker is stopped
            # first, so the tasks these commits publish wait on the broker unconsumed.
            stop(worker)
            os.environ["BENCH_EMAIL_DELAY"] = str(args.email_delay)
            for n in range(rounds):
                write_round(users, f"bench-sweep-{n}")
            started = time.perf_counter()
            swept = outbox.sweep(limit=total)
            sweep_seconds = time.perf_counter() - started
            assert swept == {"delivered": total}, swept
        finally:
            if worker is not None:
                stop(worker)
            current_app.control.purge()
            connection.creation.destroy_test_db(original, verbosity=0)

    print(
        f"{total} notifications ({rounds} changes to a panel of {args.panel}), "
        f"{args.concurrency} worker processes, e-mail taking {args.email_delay * 1000:.0f} ms, "
        f"on {connection.vendor} and {os.environ['CELERY_BROKER_URL'].split(':')[0]}"
    )
    print(f"{'measurement':<44} {'seconds':>8} {'notifications/s':>16}")
    for label, seconds in (
        ("written and published (commit + broker)", published),
        ("delivered through the worker", through_worker),
        ("delivered by the sweep, in-process", sweep_seconds),
    ):
        print(f"{label:<44} {seconds:>8.2f} {total / seconds:>16,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
