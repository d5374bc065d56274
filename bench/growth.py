"""Growth: what an organisation's pages and reports cost as the database fills up around them.

    python bench/growth.py [--others 100 1000 10000] [--own 100 1000] [--repeat 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cycle_bench python bench/growth.py

Sets Django up itself, on a scratch database (as ``report.py`` does: a SQLite file in a temporary
directory, or ``test_<name>`` on the server ``DATABASE_URL`` names, dropped at the end).

Two series, the data built in bulk with ``report.Builder`` (the shapes the services write, the
ledger hashed and chained) and ``ANALYZE`` after each build:

* **others**: the home organisation keeps 100 cycles while another organisation's grow to each
  of ``--others``. Measured: the home organisation's compliance
  (``cycle.compliance.organisation_compliance``), its report on involvement over six years
  (``cycle.reports.involvement_report``), the compliance dashboard of its governance board member
  and, for one cycle made through the services (a panel of 3), the cycle page as its lead
  commissioner sees it and a representative's home page. The goal: the compliance view and the
  report cost the same whatever other organisations hold (at most 1.2 times with 10,000 cycles of
  others than with 100).
* **own**: then the home organisation's own cycles grow to each of ``--own``, and the same is
  measured again: the dashboard and the report grow with the organisation's own data, the cycle
  page and the home page should not.

Each figure is the best of ``--repeat`` interleaved rounds (wall-clock seconds) with its query
count; the load average is printed with each size, since the machine may be shared. The figures
go to standard output as Markdown, and the curves to ``docs/growth.svg`` (``--svg``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import plot  # noqa: E402 - the path is set just above
from bench import report as report_bench  # noqa: E402

GOAL = 1.2  # compliance and report with 10,000 cycles of others at most 1.2x with 100

MEASURES = (
    ("compliance", "compliance (`organisation_compliance`)"),
    ("report", "report on involvement, six years"),
    ("dashboard", "compliance dashboard page"),
    ("cycle_page", "cycle page (lead commissioner)"),
    ("home_page", "representative's home page"),
)


def measure_all(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[int, float]]:
    """Best seconds and the query count of each run, over interleaved rounds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    best: dict[str, tuple[int, float]] = {}
    for _ in range(repeat):
        for name, run in runs.items():
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                run()
                seconds = time.perf_counter() - started
            previous = best.get(name)
            if previous is None or seconds < previous[1]:
                best[name] = (len(queries), seconds)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--others", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--own", type=int, nargs="*", default=[1000])
    parser.add_argument("--home", type=int, default=100, help="the home organisation's cycles")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--svg", type=Path, default=ROOT / "docs" / "growth.svg")
    args = parser.parse_args()

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="growth-bench-") as tmp:
        database, original_name = report_bench.set_up_django(Path(tmp))
        from django.conf import settings
        from django.db import connection
        from django.test import Client
        from django.test.utils import setup_test_environment
        from django.urls import reverse

        setup_test_environment()
        settings.DEBUG = False

        from cycle import ledger
        from cycle.compliance import organisation_compliance
        from cycle.reports import involvement_report
        from tests.factories import CycleWorld, governance_member

        try:
            builder = report_bench.Builder()
            world = CycleWorld(panel_size=3)
            board_member = governance_member(builder.home)
            # The services wrote to the ledger: the bulk loader chains on from its head.
            builder.seq, builder.prev_hash = ledger.head()
            span = (
                report_bench.START.date(),
                (report_bench.START + timedelta(days=report_bench.SPAN_DAYS)).date(),
            )

            def client_for(user: Any) -> Client:
                client = Client()
                client.force_login(user)
                return client

            clients = {
                "dashboard": client_for(board_member),
                "cycle": client_for(world.lead),
                "home": client_for(world.panel[0]),
            }

            def get(client: Client, url: str) -> None:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            runs: dict[str, Callable[[], Any]] = {
                "compliance": lambda: organisation_compliance(builder.home),
                "report": lambda: involvement_report(builder.home, *span),
                "dashboard": lambda: get(clients["dashboard"], reverse("web:governance-dashboard")),
                "cycle_page": lambda: get(clients["cycle"], reverse("web:cycle", args=[world.id])),
                "home_page": lambda: get(clients["home"], reverse("web:home")),
            }

            def grow(organisation: Any, to: int) -> None:
                builder.add(organisation, to - builder.cycles[organisation.pk])
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")

            grow(builder.home, args.home)
            for others in sorted(args.others):
                grow(builder.neighbour, others)
                figures = measure_all(runs, args.repeat)
                rows.append(_row("others", builder, figures))
                print(_progress(rows[-1]), file=sys.stderr, flush=True)
            for own in sorted(size for size in args.own if size > args.home):
                grow(builder.home, own)
                figures = measure_all(runs, args.repeat)
                rows.append(_row("own", builder, figures))
                print(_progress(rows[-1]), file=sys.stderr, flush=True)
            verification = ledger.verify_ledger()
            assert verification.ok, verification.describe()
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)

    print(f"Growth benchmark — {database}, Python {sys.version.split()[0]}")
    print(f"(`python bench/growth.py {' '.join(sys.argv[1:])}`)".replace(" )`", ")`"))
    print()
    print(
        "| series | home cycles | other cycles | load | "
        + " | ".join(f"{label}: s (queries)" for _, label in MEASURES)
        + " |"
    )
    print("|---|---:|---:|---:|" + "---:|" * len(MEASURES))
    for row in rows:
        print(
            f"| {row['series']} | {row['home']:,} | {row['others']:,} | {row['load']:.1f} | "
            + " | ".join(f"{row[name][1]:.3f} ({row[name][0]})" for name, _ in MEASURES)
            + " |"
        )
    others = [row for row in rows if row["series"] == "others"]
    met = True
    if len(others) >= 2:
        first, last = others[0], others[-1]
        print()
        for name in ("compliance", "report"):
            ratio = last[name][1] / first[name][1]
            steady = last[name][0] == first[name][0]
            ok = ratio <= GOAL and steady
            met = met and ok
            print(
                f"- {name} with {last['others']:,} cycles of others vs {first['others']:,}: "
                f"{ratio:.2f}x the time, {first[name][0]} → {last[name][0]} queries: "
                f"**{'met' if ok else 'not met'}** (goal ≤ {GOAL}x)"
            )
    plot.write_growth_svg(rows, MEASURES, args.svg)
    print(f"\nCurves written to {args.svg}")
    return 0 if met else 1


def _row(series: str, builder: Any, figures: dict[str, tuple[int, float]]) -> dict[str, Any]:
    return {
        "series": series,
        "home": builder.cycles[builder.home.pk],
        "others": builder.cycles[builder.neighbour.pk],
        "load": os.getloadavg()[0],
        **figures,
    }


def _progress(row: dict[str, Any]) -> str:
    figures = ", ".join(f"{name} {row[name][1]:.3f}s/{row[name][0]}q" for name, _ in MEASURES)
    return f"{row['series']}: home {row['home']:,}, others {row['others']:,}: {figures}"


if __name__ == "__main__":
    sys.exit(main())
