"""Where a gated advance through the flow spends its time: viewflow's code, ours, or the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cycle_bench \
        python bench/profile_flow.py [--advances 200]

PostgreSQL, the scratch database and settings of ``run.py``. ``--advances`` cycles are built at
*needs* with the gate met (``run.Pool``, a panel of 3), then each is advanced through the flow
(``processes.commissioning.advance``) while a sampling thread looks at the advancing thread's stack
every half millisecond. Each sample is given to the innermost frame that is either viewflow's
(``viewflow/``) or ours (``cycle/``, ``processes/``, ``roles/``): Django's ORM, its SQL compiler
and the database driver count for whichever of the two called them. A sample whose innermost
frame waits on the database socket is counted as the database's, whoever asked. A sampler rather
than a deterministic profiler, so that the split is not bent by the profiler's cost per call.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402 - the path is set just above

OURS = tuple(f"{os.sep}{name}{os.sep}" for name in ("cycle", "processes", "roles"))
VIEWFLOW = f"{os.sep}viewflow{os.sep}"
WAITING = ("psycopg" + os.sep, "selectors.py", "select.py")


def owner(frame: FrameType | None) -> str:
    """Who a sample belongs to: "database", "viewflow", "ours" or "other"."""
    innermost = frame
    if (
        innermost is not None
        and innermost.f_code.co_name in {"wait", "poll", "wait_c", "select"}
        and any(part in innermost.f_code.co_filename for part in WAITING)
    ):
        return "database"
    while frame is not None:
        filename = frame.f_code.co_filename
        if VIEWFLOW in filename:
            return "viewflow"
        if str(ROOT) in filename and any(part in filename for part in OURS):
            return "ours"
        frame = frame.f_back
    return "other"


class Sampler(threading.Thread):
    def __init__(self, target: threading.Thread, interval: float = 0.0005) -> None:
        super().__init__(daemon=True)
        self.target_id = target.ident
        self.interval = interval
        self.samples: collections.Counter[str] = collections.Counter()
        self.running = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            if self.running.is_set():
                frame = sys._current_frames().get(self.target_id)
                self.samples[owner(frame)] += 1
            time.sleep(self.interval)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--advances", type=int, default=200)
    args = parser.parse_args()
    sys.setswitchinterval(0.0002)  # let the sampler in often, whatever the advancing thread does

    with tempfile.TemporaryDirectory(prefix="cycle-profile-") as tmp:
        original = run.set_up_django(Path(tmp))
        from django.db import connection

        import cycle.outbox
        from processes import commissioning

        cycle.outbox.dispatch = lambda ids: 0
        try:
            pool = run.Pool(args.advances, flow=True)
            items = [(run.fresh_user(w.lead), w.id) for w in pool.take(args.advances)]
            sampler = Sampler(threading.current_thread())
            sampler.start()
            started = time.perf_counter()
            sampler.running.set()
            for actor, cycle_id in items:
                commissioning.advance(actor=actor, cycle_id=cycle_id)
            sampler.running.clear()
            seconds = time.perf_counter() - started
            sampler.stopped.set()
        finally:
            connection.close()
            connection.creation.destroy_test_db(original, verbosity=0)

    total = sum(sampler.samples.values()) or 1
    load = os.getloadavg()[0]
    print(
        f"{args.advances} gated advances through the flow in {seconds:.2f} s "
        f"({1000 * seconds / args.advances:.1f} ms each), load average {load:.1f}; "
        f"{total:,} samples"
    )
    print()
    print("| whose | share of the advance | ms per advance |")
    print("|---|---:|---:|")
    labels = {
        "viewflow": "viewflow's code (with the ORM work it asks for)",
        "ours": "our code (with the ORM work it asks for)",
        "database": "waiting on PostgreSQL",
        "other": "other (Django's transaction and connection handling outside both)",
    }
    for name, label in labels.items():
        share = sampler.samples[name] / total
        print(f"| {label} | {share:.0%} | {share * 1000 * seconds / args.advances:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
