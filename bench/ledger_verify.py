"""Audit ledger verification throughput, next to raw SHA-256 over the same bytes in the same run.

    python bench/ledger_verify.py [--events N] [--repeat R]

Sets Django up itself. Without ``DATABASE_URL`` it works on a SQLite file in a temporary directory;
with ``DATABASE_URL`` it creates (and afterwards drops) a scratch database ``test_<name>`` on that
server, so the named database itself is not touched.

The ledger is filled quickly rather than through the services: a few organisations, users and
cycles are created with the ORM, and N events (default 100,000) with payloads shaped like those the
services write are computed with the real hashing function (``cycle.chain.event_hash``), chained
exactly as ``cycle.ledger.append`` chains them, and bulk-inserted, with the ledger head set to the
last one. ``audit verify`` accepts the result, which the bench checks before measuring.

Measured, best of R rounds (each round runs every measurement in turn):

* ``verify_ledger()`` — the whole ledger from the database, against its head;
* ``verify_records()`` over the exported records held in memory (the export form);
* ``verify_export`` reading and verifying the JSON Lines and CSV export files;
* the general path: SHA-256 over ``canonical_json(...)`` per event, the canonical form through
  ``json.dumps`` (its definition), next to the direct form that the verifiers use;
* raw ``hashlib.sha256(body).digest()`` over the very canonical bytes that are hashed.

Throughput is events per second and MB per second of canonical bytes (10^6 bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Django and the project's modules are imported inside the functions below, after
# set_up_django() has chosen the settings and filled the app registry: models cannot be imported
# before that (an app-loading rule, not an import cycle).
ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.5  # verification at no less than half the speed of raw SHA-256

# Payloads shaped like those the services write (cycle/services.py, roles/services.py).
EVENT_KINDS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "membership.added",
        "framework",
        "roles.panelmembership",
        {"member": "rep-{n}", "represents": "carers", "tier": "working", "tender_panel": False},
    ),
    (
        "boundaries.agreed",
        "needs",
        "cycle.roleboundaryagreement",
        {
            "version": 2,
            "influence": "influence",
            "decision_maker": "The council's cabinet member for adult social care.",
            "unchanged_from_previous": False,
        },
    ),
    ("boundaries.acknowledged", "needs", "cycle.boundaryacknowledgement", {"version": 2}),
    (
        "budget.disclosed",
        "needs",
        "cycle.budgetdisclosure",
        {
            "version": 3,
            "amount": "1200000.00",
            "currency": "GBP",
            "withheld": False,
            "previous_amount": "1350000.00",
            "signoffs_voided": 2,
        },
    ),
    (
        "signoff.attested",
        "needs",
        "cycle.signoff",
        {"boundary_version": 2, "budget_version": 3, "reasons": ""},
    ),
    (
        "input.submitted",
        "review",
        "cycle.userinput",
        {
            "source": "representative",
            "method": "meeting",
            "text": "People at the Tuesday group said the hub is too far without transport; "
            "two said they would stop coming if the minibus went.",
            "attachment_reference": "",
        },
    ),
    (
        "input.answered",
        "review",
        "cycle.inputresponse",
        {
            "input": 41,
            "kind": "we-did",
            "text": "The specification now requires transport to every hub.",
            "decision": 7,
            "previous": "considering",
        },
    ),
    (
        "stage.advanced",
        "needs",
        "cycle.stagevisit",
        {
            "from": "needs",
            "to": "review",
            "closure": "passed",
            "attesting": [11, 12, 13],
            "overridden_unmet": [],
        },
    ),
    (
        "stage_advance",
        "procurement",
        "",
        {
            "code": "gate.closed",
            "message": "The involvement gate of stage 'procurement' is closed: signoff.quorum",
            "unmet": ["signoff.quorum", "conflicts.undeclared"],
        },
    ),
]


def set_up_django(workdir: Path) -> tuple[str, str]:
    """Configure Django and create the scratch database; its description and the original name."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'ledger-bench.sqlite3'}"
    os.environ.setdefault("CYCLE_VAR_DIR", str(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cycle.conf.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(workdir / "ledger-bench-test.sqlite3")
    from django.db import connection

    original = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return f"{connection.vendor} ({name})", original


def build_ledger(count: int) -> None:
    """``count`` chained events, hashed with the real function, bulk-inserted; head set."""
    from django.contrib.auth.models import User

    from cycle import chain
    from cycle.models import AuditEvent, CommissioningCycle, LedgerHead, Organisation

    organisation = Organisation.objects.create(name="Bench Integrated Care Board")
    users = [User.objects.create(username=f"bench-{n}") for n in range(20)]
    cycles = [
        CommissioningCycle.objects.create(
            title=f"Day services {n}",
            organisation=organisation,
            lead_commissioner=users[0],
            template_key="default",
            current_stage="framework",
        )
        for n in range(200)
    ]
    start = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
    prev_hash = chain.GENESIS
    cycle_last: dict[int, str] = {}
    batch: list[AuditEvent] = []
    for seq in range(1, count + 1):
        action, stage, object_type, payload = EVENT_KINDS[seq % len(EVENT_KINDS)]
        actor = users[seq % len(users)]
        cycle = cycles[(seq * 7) % len(cycles)] if seq % 10 else None
        at = start + timedelta(seconds=seq * 37, microseconds=seq % 1_000_000)
        text = chain.canonical_json(
            {k: v.format(n=seq) if isinstance(v, str) else v for k, v in payload.items()}
        )
        fields: dict[str, Any] = {
            "seq": seq,
            "at": chain.format_timestamp(at),
            "actor_id": actor.pk,
            "actor_name": actor.username,
            "action": action,
            "outcome": "refused" if action == "stage_advance" else "done",
            "cycle_id": cycle.pk if cycle else None,
            "stage_key": stage,
            "object_type": object_type,
            "object_id": str(seq) if object_type else "",
            "payload": text,
            "prev_hash": prev_hash,
            "cycle_prev_hash": cycle_last.get(cycle.pk, chain.GENESIS) if cycle else "",
        }
        digest = chain.event_hash(fields)
        batch.append(AuditEvent(hash=digest, **{**fields, "at": at}))
        prev_hash = digest
        if cycle is not None:
            cycle_last[cycle.pk] = digest
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    LedgerHead.objects.update_or_create(pk=1, defaults={"seq": count, "hash": prev_hash})


def best_of(repeat: int, runs: list[tuple[str, Callable[[], Any]]]) -> list[tuple[str, float, Any]]:
    """The best time of each run over ``repeat`` rounds, each round running every one in turn.

    Interleaving lets every measurement see the same machine while other load comes and goes.
    """
    best = {label: float("inf") for label, _ in runs}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for label, run in runs:
            started = time.perf_counter()
            results[label] = run()
            best[label] = min(best[label], time.perf_counter() - started)
    return [(label, best[label], results[label]) for label, _ in runs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        workdir = Path(tmp)
        database, original_name = set_up_django(workdir)
        from django.core.management import call_command
        from django.db import connection

        from cycle import chain, ledger
        from cycle.models import AuditEvent
        from cycle.verify_export import verify_file

        try:
            started = time.perf_counter()
            build_ledger(args.events)
            built = time.perf_counter() - started
            head = ledger.head()
            records = list(ledger.iter_records(AuditEvent.objects.all()))
            bodies = [chain.canonical_event(record) for record in records]
            assert bodies == [
                chain.canonical_json({k: r[k] for k in chain.HASHED_FIELDS}).encode()
                for r in records
            ], "the direct canonical form must equal canonical JSON"
            megabytes = sum(map(len, bodies)) / 1e6
            exports = {}
            for fmt in ("jsonl", "csv"):
                exports[fmt] = workdir / f"ledger.{fmt}"
                call_command(
                    "audit",
                    "export",
                    "--format",
                    fmt,
                    "-o",
                    str(exports[fmt]),
                    stderr=io.StringIO(),
                )

            def raw() -> None:
                sha256 = hashlib.sha256
                for body in bodies:
                    sha256(body).digest()

            def general_path() -> bool:
                canonical_json, sha256 = chain.canonical_json, hashlib.sha256
                names = chain.HASHED_FIELDS
                return all(
                    sha256(canonical_json({k: r[k] for k in names}).encode()).hexdigest()
                    == r["hash"]
                    for r in records
                )

            runs: list[tuple[str, Callable[[], Any]]] = [
                ("raw hashlib.sha256(body).digest()", raw),
                (
                    "verify_records(), exported records in memory",
                    lambda: chain.verify_records(records, head=head),
                ),
                ("general path: sha256(canonical_json(...))", general_path),
                ("verify_ledger(), from the database", ledger.verify_ledger),
            ]
            for fmt, path in exports.items():
                runs.append(
                    (
                        f"verify_export, {fmt.upper()} file of {path.stat().st_size / 1e6:.1f} MB",
                        lambda path=path: verify_file(path, head=head),
                    )
                )
            rows = best_of(args.repeat, runs)
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)

    for label, _, result in rows:
        if isinstance(result, chain.Verification):
            if not result.ok or result.checked != args.events:
                print(f"{label}: did not verify: {result.describe()}", file=sys.stderr)
                return 1
        elif result is False:
            print(f"{label}: did not verify", file=sys.stderr)
            return 1
    raw_seconds = rows[0][1]
    print(f"Ledger verification benchmark — {database}, Python {sys.version.split()[0]}")
    print(
        f"{args.events:,} events, {megabytes:.1f} MB of canonical bytes "
        f"({megabytes * 1e6 / args.events:.0f} bytes per event); built in {built:.1f} s; "
        f"best of {args.repeat}"
    )
    print()
    print(f"{'':<58}{'seconds':>9}{'events/s':>12}{'MB/s':>9}{'of raw':>8}")
    for label, seconds, _ in rows:
        print(
            f"{label:<58}{seconds:>9.3f}{args.events / seconds:>12,.0f}"
            f"{megabytes / seconds:>9.1f}{raw_seconds / seconds:>8.2f}"
        )
    print()
    for where, seconds in (("In memory", rows[1][1]), ("From the database", rows[3][1])):
        ratio = raw_seconds / seconds
        verdict = "met" if ratio >= GOAL else "NOT met"
        print(
            f"{where}, verification runs at {ratio:.2f} of raw SHA-256 speed: the goal "
            f"(at least {GOAL:.2f}) is {verdict}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
