"""A cycle started through the flow, so that it has a running process, and helpers to drive it."""

from __future__ import annotations

from typing import Any

from viewflow.workflow.status import STATUS

from processes import commissioning
from processes.commissioning import CommissioningFlow
from processes.models import CommissioningProcess, CommissioningTask
from tests.factories import CycleWorld

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class FlowWorld(CycleWorld):
    """A ``CycleWorld`` whose cycle was started through ``processes.commissioning``."""

    start = staticmethod(commissioning.start_cycle)

    @property
    def process(self) -> CommissioningProcess:
        return CommissioningProcess.objects.for_cycle(self.id).order_by("-pk").first()

    def tasks(self, node: Any, *, open_only: bool = True) -> Any:
        tasks = CommissioningTask.objects.filter(process=self.process, flow_task=node)
        return tasks.filter(status__in=OPEN) if open_only else tasks

    def stage_task(self) -> CommissioningTask:
        return self.tasks(CommissioningFlow.stage).get()

    def signoff_tasks(self) -> Any:
        return self.tasks(CommissioningFlow.signoff)

    def meet_gate_through_the_flow(self) -> None:
        """Record what the current gate needs; the panel signs off through its tasks."""
        self.agree_boundaries()
        if self.cycle.budget_disclosures.count() == 0:
            self.disclose_budget()
        self.acknowledge_all()
        self.meet_stage_conditions()
        for member in self.panel:
            commissioning.signoff(actor=member, cycle_id=self.id)

    def pass_gate_through_the_flow(self) -> Any:
        self.meet_gate_through_the_flow()
        return commissioning.advance(actor=self.lead, cycle_id=self.id)
