"""The commissioning flow follows the cycle, and no path through it skips an involvement gate."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from guardian.shortcuts import assign_perm
from viewflow.workflow.status import PROCESS, STATUS

from cycle import selectors, services
from cycle.errors import Conflict, Forbidden, GateClosed
from cycle.models import AuditEvent, CommissioningCycle, StageVisit
from processes import commissioning
from processes.commissioning import CommissioningFlow
from processes.models import CommissioningProcess
from roles import services as role_services
from tests.factories import CycleWorld, OrganisationFactory, UserFactory, fresh, representative
from tests.processes.worlds import FlowWorld

pytestmark = pytest.mark.django_db

FRAMEWORK_GATE_WITH_NOTHING_RECORDED = (
    "boundaries.missing",
    "budget.missing",
    "signoff.quorum",
    "agreement.unsigned",
    "lead.missing",
)


def walk_to(world: FlowWorld, stage_key: str) -> None:
    while world.refresh().current_stage != stage_key:
        world.pass_gate_through_the_flow()


def test_starting_a_cycle_starts_its_process_with_a_stage_task_for_the_lead(flow_world):
    process = flow_world.process
    task = flow_world.stage_task()

    assert process.status == PROCESS.NEW
    assert process.artifact == flow_world.cycle
    assert task.owner == flow_world.lead
    assert task.status == STATUS.ASSIGNED
    assert task.data["stage"] == "framework"
    assert task.data["visit_id"] == selectors.open_visit(flow_world.cycle).pk
    # The panel is formed after the cycle is created; each member was asked as they joined.
    assert sorted(task.owner_id for task in flow_world.signoff_tasks()) == sorted(
        member.pk for member in flow_world.panel
    )


def test_a_refused_start_creates_neither_a_cycle_nor_a_process_and_the_refusal_is_recorded(db):
    organisation = OrganisationFactory()
    outsider = representative()

    with pytest.raises(Forbidden) as refused:
        commissioning.start_cycle(
            actor=outsider, title="Day services", organisation=organisation, lead=outsider
        )

    assert refused.value.code == "forbidden.create_cycle"
    assert not CommissioningCycle.objects.exists()
    assert not CommissioningProcess.objects.exists()
    assert AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED).action == "cycle_create"


def test_each_member_gets_one_signoff_task_as_they_join_and_asking_again_adds_none(flow_world):
    tasks = list(flow_world.signoff_tasks())

    assert sorted(task.owner_id for task in tasks) == sorted(m.pk for m in flow_world.panel)
    assert all(task.data["member_id"] == task.owner_id for task in tasks)
    assert all(task.data["stage"] == "framework" for task in tasks)
    assert commissioning.request_signoff(actor=flow_world.lead, cycle_id=flow_world.id) == []
    assert flow_world.signoff_tasks().count() == 3
    requested = AuditEvent.objects.get(action="signoff.requested")
    assert json.loads(requested.payload) == {"asked": []}


def test_a_member_who_joins_mid_stage_gets_a_task_at_once_and_a_leaver_loses_theirs(flow_world):
    leaver, *stayers = flow_world.panel
    role_services.membership_remove(actor=flow_world.lead, cycle_id=flow_world.id, member=leaver)
    leavers_task = flow_world.tasks(CommissioningFlow.signoff, open_only=False).get(owner=leaver)
    assert leavers_task.status == STATUS.CANCELED

    newcomer = representative()
    role_services.membership_add(actor=flow_world.lead, cycle_id=flow_world.id, member=newcomer)

    assert {task.owner for task in flow_world.signoff_tasks()} == {*stayers, newcomer}
    [task] = flow_world.signoff_tasks().filter(owner=newcomer)
    assert task.data["stage"] == "framework"
    assert commissioning.request_signoff(actor=flow_world.lead, cycle_id=flow_world.id) == []


def test_a_member_who_joins_at_a_later_stage_is_asked_for_that_stage_at_once(flow_world):
    walk_to(flow_world, "needs")
    newcomer = representative()

    role_services.membership_add(actor=flow_world.lead, cycle_id=flow_world.id, member=newcomer)

    [task] = flow_world.signoff_tasks().filter(owner=newcomer)
    assert task.data["stage"] == "needs"


def test_only_the_lead_commissioner_can_ask_the_panel_for_signoff_and_a_refusal_is_recorded(
    flow_world,
):
    before = flow_world.signoff_tasks().count()

    with pytest.raises(Forbidden) as refused:
        commissioning.request_signoff(actor=flow_world.panel[0], cycle_id=flow_world.id)

    assert refused.value.code == "forbidden.lead"
    assert flow_world.signoff_tasks().count() == before
    refusal = AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED)
    assert (refusal.action, refusal.cycle_id) == ("signoff_request", flow_world.id)


def test_advancing_past_a_closed_gate_lists_every_unmet_condition_and_changes_nothing(flow_world):
    task = flow_world.stage_task()

    with pytest.raises(GateClosed) as closed:
        commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)

    assert closed.value.result.codes == FRAMEWORK_GATE_WITH_NOTHING_RECORDED
    task.refresh_from_db()
    assert (task.status, task.finished) == (STATUS.ASSIGNED, None)
    assert flow_world.stage_task().pk == task.pk
    assert flow_world.refresh().current_stage == "framework"
    assert StageVisit.objects.filter(cycle=flow_world.cycle).count() == 1
    refusal = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED).get()
    assert (refusal.action, refusal.cycle_id) == ("stage_advance", flow_world.id)


def test_nobody_but_the_lead_can_complete_the_stage_task(flow_world):
    flow_world.meet_gate_through_the_flow()

    with pytest.raises(Forbidden) as refused:
        commissioning.advance(actor=flow_world.panel[0], cycle_id=flow_world.id)

    assert refused.value.code == "forbidden.lead"
    assert flow_world.stage_task().status == STATUS.ASSIGNED
    assert flow_world.refresh().current_stage == "framework"


def test_once_the_evidence_is_in_place_the_flow_reaches_procurement_and_then_decision(flow_world):
    walk_to(flow_world, "procurement")
    assert flow_world.stage_task().data["stage"] == "procurement"

    flow_world.pass_gate_through_the_flow()

    assert flow_world.refresh().current_stage == "decision"
    stage_task = flow_world.stage_task()
    assert (stage_task.data["stage"], stage_task.owner) == ("decision", flow_world.lead)
    assert {task.owner for task in flow_world.signoff_tasks()} == set(flow_world.panel)
    done = flow_world.tasks(CommissioningFlow.stage, open_only=False).filter(status=STATUS.DONE)
    assert [task.data["stage"] for task in done.order_by("pk")] == [
        "framework",
        "needs",
        "review",
        "priorities",
        "design",
        "procurement",
    ]
    assert all(task.data["outcome"] == "advanced" for task in done)


def test_a_budget_change_after_signoff_keeps_the_stage_task_open_until_the_panel_re_attests(
    flow_world,
):
    walk_to(flow_world, "needs")
    flow_world.meet_gate_through_the_flow()
    assert list(flow_world.signoff_tasks()) == []  # everyone answered their task
    flow_world.disclose_budget(amount="900000")

    with pytest.raises(GateClosed) as closed:
        commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)
    assert closed.value.result.codes == ("signoff.stale", "signoff.quorum")
    assert flow_world.stage_task().data["stage"] == "needs"

    for member in flow_world.panel:  # no task left to answer: the plain service call
        commissioning.signoff(actor=member, cycle_id=flow_world.id)
    commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)

    assert flow_world.refresh().current_stage == "review"


def test_signing_off_through_the_flow_completes_the_members_own_task(flow_world):
    walk_to(flow_world, "needs")
    flow_world.agree_boundaries()
    member, *others = flow_world.panel
    services.boundaries_acknowledge(actor=member, cycle_id=flow_world.id)
    task = flow_world.signoff_tasks().get(owner=member)

    signoff = commissioning.signoff(actor=member, cycle_id=flow_world.id)

    task.refresh_from_db()
    assert task.status == STATUS.DONE
    assert (task.data["signoff_id"], task.data["kind"]) == (signoff.pk, "attest")
    assert {task.owner for task in flow_world.signoff_tasks()} == set(others)
    assert flow_world.process.status == PROCESS.NEW


def test_a_refused_signoff_leaves_the_members_task_open(flow_world):
    walk_to(flow_world, "needs")
    flow_world.agree_boundaries()
    member = flow_world.panel[0]

    with pytest.raises(Conflict) as refused:
        commissioning.signoff(actor=member, cycle_id=flow_world.id)

    assert refused.value.code == "signoff.unacknowledged"
    assert flow_world.signoff_tasks().get(owner=member).status == STATUS.ASSIGNED


def test_signoff_tasks_left_unanswered_are_cancelled_when_the_stage_closes(flow_world):
    walk_to(flow_world, "needs")
    first, second, silent = flow_world.panel
    flow_world.agree_boundaries()
    flow_world.acknowledge_all()
    flow_world.assess_duty()
    for member in (first, second):
        commissioning.signoff(actor=member, cycle_id=flow_world.id)
    closing_visit = flow_world.stage_task().data["visit_id"]

    commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)

    visit_tasks = [
        task
        for task in flow_world.tasks(CommissioningFlow.signoff, open_only=False)
        if task.data["visit_id"] == closing_visit
    ]
    assert {(task.owner, task.status) for task in visit_tasks} == {
        (first, STATUS.DONE),
        (second, STATUS.DONE),
        (silent, STATUS.CANCELED),
    }
    assert {task.data["stage"] for task in flow_world.signoff_tasks()} == {"review"}


def test_reopening_loops_the_flow_back_and_the_stage_needs_its_gate_again(flow_world):
    walk_to(flow_world, "review")
    review_task = flow_world.stage_task()

    commissioning.reopen(
        actor=flow_world.lead,
        cycle_id=flow_world.id,
        stage_key="needs",
        reason="The budget was cut; the needs assessment must be revisited with the panel.",
    )

    review_task.refresh_from_db()
    assert review_task.status == STATUS.DONE
    assert (review_task.data["outcome"], review_task.data["to"]) == ("reopened", "needs")
    reopened = selectors.open_visit(flow_world.refresh())
    assert flow_world.stage_task().data == {
        "stage": "needs",
        "stage_name": "Assess needs and operating context",
        "visit_id": reopened.pk,
    }
    assert {task.data["visit_id"] for task in flow_world.signoff_tasks()} == {reopened.pk}
    assert flow_world.signoff_tasks().count() == 3
    with pytest.raises(GateClosed) as closed:
        commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)
    assert closed.value.result.codes == ("signoff.quorum",)


def test_the_process_finishes_after_the_last_stage(db):
    world = FlowWorld(template_key="self-assessment")
    stages = 0
    while world.refresh().status == CommissioningCycle.Status.ACTIVE:
        world.pass_gate_through_the_flow()
        stages += 1

    process = world.process
    assert stages == 8
    assert process.status == PROCESS.DONE
    assert process.finished is not None
    assert not process.task_set.filter(finished__isnull=True).exists()
    last = world.tasks(CommissioningFlow.stage, open_only=False).order_by("-pk").first()
    assert (last.data["stage"], last.data["outcome"], last.data["to"]) == (
        "quality",
        "advanced",
        None,
    )


def test_reopening_a_completed_cycle_starts_a_new_run_of_its_process(db):
    world = FlowWorld(template_key="self-assessment")
    while world.refresh().status == CommissioningCycle.Status.ACTIVE:
        world.pass_gate_through_the_flow()
    finished = world.process

    commissioning.reopen(
        actor=world.lead, cycle_id=world.id, stage_key="quality", reason="Review with users again."
    )

    runs = CommissioningProcess.objects.for_cycle(world.id).order_by("pk")
    assert [run.status for run in runs] == [PROCESS.DONE, PROCESS.NEW]
    assert world.process.pk != finished.pk
    assert world.stage_task().data["stage"] == "quality"
    assert world.signoff_tasks().count() == 3


def test_a_cycle_without_a_process_is_moved_by_the_services_alone(world: CycleWorld):
    with pytest.raises(GateClosed) as closed:
        commissioning.advance(actor=world.lead, cycle_id=world.id)
    assert closed.value.result.codes == FRAMEWORK_GATE_WITH_NOTHING_RECORDED
    assert AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED).action == "stage_advance"

    world.agree_boundaries()
    world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    for member in world.panel:
        commissioning.signoff(actor=member, cycle_id=world.id)
    visit = commissioning.advance(actor=world.lead, cycle_id=world.id)
    commissioning.reopen(
        actor=world.lead, cycle_id=world.id, stage_key="framework", reason="Agree it again."
    )

    assert visit is not None and visit.stage_key == "needs"
    assert world.refresh().current_stage == "framework"
    assert not CommissioningProcess.objects.exists()


def test_a_refused_signoff_by_someone_off_the_panel_stays_on_the_ledger(flow_world):
    commissioning.request_signoff(actor=flow_world.lead, cycle_id=flow_world.id)
    outsider = representative()

    with pytest.raises(Forbidden) as refused:
        commissioning.signoff(actor=outsider, cycle_id=flow_world.id)

    assert refused.value.code == "forbidden.represent"
    refusal = AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED)
    assert (refusal.action, refusal.actor) == ("signoff_record", outsider)
    assert flow_world.signoff_tasks().count() == 3


def test_a_guardian_object_permission_lets_a_user_see_that_one_process(flow_world):
    outsider = UserFactory()
    other = FlowWorld(title="Meals on wheels")
    permission = "processes.view_commissioningprocess"

    assign_perm(permission, outsider, flow_world.process)

    outsider = fresh(outsider)
    assert outsider.has_perm(permission, flow_world.process)
    assert not outsider.has_perm(permission, other.process)
    assert CommissioningFlow.instance.has_view_permission(outsider, flow_world.process)
    assert not CommissioningFlow.instance.has_view_permission(outsider, other.process)


def test_flowexport_draws_the_flow_as_svg(tmp_path):
    output = tmp_path / "flow.svg"

    call_command(
        "flowexport", "processes/commissioning.CommissioningFlow", format="svg", output=str(output)
    )

    root = ElementTree.parse(output).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = " ".join(text.text or "" for text in root.iter("{http://www.w3.org/2000/svg}text"))
    for title in ("sign off the stage", "record the evidence", "close unanswered", "yes", "no"):
        assert title in labels.lower()


def test_flowexport_exports_the_flow_as_bpmn_with_the_loop_and_the_multi_instance_signoff(
    tmp_path,
):
    output = tmp_path / "flow.bpmn"
    bpmn = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

    call_command(
        "flowexport", "processes/commissioning.CommissioningFlow", format="bpmn", output=str(output)
    )

    process = ElementTree.parse(output).getroot().find(f"{bpmn}process")
    assert process is not None
    elements = {element.get("id"): element for element in process}
    assert elements["id_node_stage"].tag == f"{bpmn}userTask"
    assert elements["id_node_signoff"].find(f"{bpmn}multiInstanceLoopCharacteristics") is not None
    assert elements["id_node_open_stage"].tag == f"{bpmn}parallelGateway"
    assert elements["id_node_last_stage_passed"].tag == f"{bpmn}exclusiveGateway"
    flows = {
        (element.get("sourceRef"), element.get("targetRef"))
        for element in process.iter(f"{bpmn}sequenceFlow")
    }
    assert ("id_node_last_stage_passed", "id_node_open_stage") in flows
    assert ("id_node_last_stage_passed", "id_node_end") in flows
    assert ("id_node_stage", "id_node_close_signoffs") in flows
