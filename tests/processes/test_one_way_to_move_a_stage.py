"""Whatever entry point moves a stage, the cycle and its process never disagree.

Each entry point (the service itself, the flow's entry point, the command line, the admin's
action and the stage task's web page) advances, and the service reopens; afterwards the cycle's
current stage is the stage of its one open stage task, and the task of the stage it left is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from viewflow.workflow.status import STATUS

import processes.urls  # noqa: F401 - builds the flow's URL namespaces before any reverse()
from cycle import services
from cycle.models import CommissioningCycle
from processes import commissioning
from processes.commissioning import CommissioningFlow
from tests.processes.worlds import FlowWorld

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def by_service(world: FlowWorld) -> None:
    services.stage_advance(actor=world.lead, cycle_id=world.id)


def by_flow(world: FlowWorld) -> None:
    commissioning.advance(actor=world.lead, cycle_id=world.id)


def by_command_line(world: FlowWorld) -> None:
    call_command("cycle", "advance", str(world.id), "--as", world.lead.username)


def by_admin(world: FlowWorld) -> None:
    from django.contrib.auth.models import User

    operator = User.objects.create_superuser("operator", "operator@example.org", "pw")
    response = signed_in(operator).post(
        reverse("admin:cycle_commissioningcycle_changelist"),
        {"action": "advance_through_gate", "_selected_action": [world.id]},
    )
    assert response.status_code == 302


def by_web_page(world: FlowWorld) -> None:
    task = world.stage_task()
    url = task.flow_task.reverse("execute", args=[task.process_id, task.pk])
    response = signed_in(world.lead).post(url, {"action": "advance"})
    assert response.status_code == 302


ENTRY_POINTS: dict[str, Callable[[FlowWorld], None]] = {
    "service": by_service,
    "flow": by_flow,
    "command line": by_command_line,
    "admin": by_admin,
    "web page": by_web_page,
}


def assert_in_agreement(world: FlowWorld) -> None:
    cycle = world.refresh()
    open_stage_tasks = list(world.tasks(CommissioningFlow.stage))
    if cycle.status == CommissioningCycle.Status.COMPLETED:
        assert open_stage_tasks == []
        return
    assert [task.data["stage"] for task in open_stage_tasks] == [cycle.current_stage]


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line closes database connections when it ends; the test's must stay open."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_entry_point_that_advances_moves_the_cycle_and_its_process_together(
    flow_world: FlowWorld, entry_point: str
) -> None:
    flow_world.meet_gate_through_the_flow()
    left = flow_world.stage_task()

    ENTRY_POINTS[entry_point](flow_world)

    assert flow_world.refresh().current_stage == "needs"
    left.refresh_from_db()
    assert left.status == STATUS.DONE
    assert_in_agreement(flow_world)
    # The new stage's sign-off tasks were opened with it.
    assert {task.data["stage"] for task in flow_world.signoff_tasks()} == {"needs"}


def test_reopening_through_the_service_moves_the_process_back_too(flow_world: FlowWorld) -> None:
    flow_world.pass_gate_through_the_flow()

    services.stage_reopen(
        actor=flow_world.lead, cycle_id=flow_world.id, stage_key="framework", reason="Redo."
    )

    assert flow_world.refresh().current_stage == "framework"
    assert_in_agreement(flow_world)


def test_reopening_a_completed_cycle_through_the_service_starts_a_new_run(
    flow_world: FlowWorld,
) -> None:
    while flow_world.refresh().status == CommissioningCycle.Status.ACTIVE:
        flow_world.meet_gate()
        services.stage_advance(actor=flow_world.lead, cycle_id=flow_world.id)
        assert_in_agreement(flow_world)

    services.stage_reopen(
        actor=flow_world.lead, cycle_id=flow_world.id, stage_key="monitoring", reason="Again."
    )

    assert_in_agreement(flow_world)
    assert flow_world.stage_task().data["stage"] == "monitoring"


def test_a_signoff_through_the_service_completes_the_members_task(flow_world: FlowWorld) -> None:
    flow_world.agree_boundaries()
    flow_world.disclose_budget()
    member = flow_world.panel[0]
    services.boundaries_acknowledge(actor=member, cycle_id=flow_world.id)
    [task] = flow_world.signoff_tasks().filter(owner=member)

    services.signoff_record(actor=member, cycle_id=flow_world.id)

    task.refresh_from_db()
    assert task.status == STATUS.DONE
