"""A bare viewflow 2.4 flow of the commissioning cycle's shape, for the benchmark only.

Nine sequential human tasks, one per stage of the default template, each assigned and executed
headless (no views, no gate, no ledger): what viewflow itself costs per transition. The process
row is locked with viewflow's own ``SelectForUpdateLock``, as the product locks its cycle row.
"""

from __future__ import annotations

from typing import Any

from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

STAGES = (
    "framework",
    "needs",
    "review",
    "priorities",
    "design",
    "procurement",
    "decision",
    "implementation",
    "monitoring",
)


class BareFlow(flow.Flow):  # type: ignore[misc]
    """Bare commissioning cycle"""

    process_class = Process
    task_class = Task
    lock_impl = SelectForUpdateLock(nowait=False)

    start = flow.StartHandle(this.start_process).Next(this.framework)
    framework = flow.ManualTask().Next(this.needs)
    needs = flow.ManualTask().Next(this.review)
    review = flow.ManualTask().Next(this.priorities)
    priorities = flow.ManualTask().Next(this.design)
    design = flow.ManualTask().Next(this.procurement)
    procurement = flow.ManualTask().Next(this.decision)
    decision = flow.ManualTask().Next(this.implementation)
    implementation = flow.ManualTask().Next(this.monitoring)
    monitoring = flow.ManualTask().Next(this.end)
    end = flow.End()

    def start_process(self, activation: Any) -> Any:
        return activation.process


def start() -> Any:
    """A new process, waiting at its first task."""
    return BareFlow.start.run()


def advance(process_pk: int, user: Any) -> None:
    """Assign the process's open task to ``user`` and execute it (one transition)."""
    task = Task.objects.filter(process_id=process_pk, status=STATUS.NEW).get()
    with task.activation() as activation:
        activation.assign(user)
    with task.activation() as activation:
        activation.start(None)
        activation.execute()
