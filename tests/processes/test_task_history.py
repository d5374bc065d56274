"""An advance through the flow leaves the task history viewflow would leave: the stage task done,
then the close of the sign-off requests, the gateway and the split, each done, each linked to
the one before, and the next stage's tasks linked to the split; the unanswered requests
cancelled."""

from __future__ import annotations

from typing import Any

import pytest
from viewflow.workflow.status import PROCESS, STATUS

from cycle.gates import quorum_for
from cycle.models import CommissioningCycle
from processes import commissioning
from processes.commissioning import CommissioningFlow
from tests.processes.worlds import FlowWorld

pytestmark = pytest.mark.django_db


def test_an_advance_leaves_each_step_done_and_linked_to_the_one_before() -> None:
    world = FlowWorld(panel_size=5)
    world.pass_gate_through_the_flow()
    world.agree_boundaries()
    world.acknowledge_all()
    world.meet_stage_conditions()
    for member in world.panel[: quorum_for(5)]:
        commissioning.signoff(actor=member, cycle_id=world.id)
    stage = world.stage_task()
    unanswered = set(world.signoff_tasks().values_list("pk", flat=True))

    commissioning.advance(actor=world.lead, cycle_id=world.id)

    def after(task: Any, node: Any) -> Any:
        following = task.leading.get(flow_task=node)
        assert following.status == STATUS.DONE and following.finished is not None
        assert list(following.previous.all()) == [task]
        return following

    stage.refresh_from_db()
    assert stage.status == STATUS.DONE
    closed = after(stage, CommissioningFlow.close_signoffs)
    gateway = after(closed, CommissioningFlow.last_stage_passed)
    split = after(gateway, CommissioningFlow.open_stage)
    opened = split.leading.all()
    assert {task.flow_task for task in opened} == {
        CommissioningFlow.stage,
        CommissioningFlow.signoff,
    }
    assert opened.filter(flow_task=CommissioningFlow.signoff).count() == 5
    assert all(task.status == STATUS.ASSIGNED and task.owner_id for task in opened)
    assert set(
        world.tasks(CommissioningFlow.signoff, open_only=False)
        .filter(pk__in=unanswered)
        .values_list("status", flat=True)
    ) == {STATUS.CANCELED}


def test_the_last_advance_ends_the_process_after_the_gateway() -> None:
    world = FlowWorld(template_key="self-assessment")
    while world.refresh().status == CommissioningCycle.Status.ACTIVE:
        world.pass_gate_through_the_flow()

    assert world.process.status == PROCESS.DONE
    end = world.tasks(CommissioningFlow.end, open_only=False).get()
    gateway = end.previous.get()
    assert gateway.flow_task == CommissioningFlow.last_stage_passed
    assert gateway.status == STATUS.DONE
    assert gateway.previous.get().flow_task == CommissioningFlow.close_signoffs


def test_the_tasks_a_move_completes_are_written_done_by_whom_when_and_with_what() -> None:
    world = FlowWorld(panel_size=3)
    world.pass_gate_through_the_flow()
    world.agree_boundaries()
    world.acknowledge_all()
    world.meet_stage_conditions()
    answering = world.panel[: quorum_for(3)]
    for member in answering:
        commissioning.signoff(actor=member, cycle_id=world.id)
    stage = world.stage_task()
    before = stage.data
    unanswered = world.signoff_tasks().get()

    commissioning.advance(actor=world.lead, cycle_id=world.id)

    stage.refresh_from_db()
    assert stage.status == STATUS.DONE and stage.owner_id == world.lead.pk
    assert stage.started is not None and stage.finished is not None
    assert stage.started <= stage.finished
    assert stage.data == {**before, "outcome": "advanced", "to": world.refresh().current_stage}
    unanswered.refresh_from_db()
    assert unanswered.status == STATUS.CANCELED and unanswered.finished > stage.finished
    answered = world.tasks(CommissioningFlow.signoff, open_only=False).filter(
        owner__in=answering, previous__in=stage.previous.all()
    )
    assert answered.count() == len(answering)
    for task in answered:
        assert task.status == STATUS.DONE and task.started <= task.finished
        assert task.data["kind"] == "attest" and task.data["signoff_id"]
