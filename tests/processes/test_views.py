"""The flow's web pages: they cannot move a cycle past a closed gate, nor show other cycles."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import NoReverseMatch
from viewflow.workflow.status import STATUS

import processes.urls  # noqa: F401 - builds the flow's URL namespaces before any reverse()
from cycle.models import SignOff
from processes import commissioning
from processes.commissioning import CommissioningFlow
from processes.models import CommissioningProcess, CommissioningTask
from tests.factories import commissioner
from tests.processes.test_commissioning import FRAMEWORK_GATE_WITH_NOTHING_RECORDED, walk_to
from tests.processes.worlds import FlowWorld
from tests.web.pages import without_tokens

pytestmark = pytest.mark.django_db

flow = CommissioningFlow.instance


def execute_url(task: CommissioningTask) -> str:
    return str(task.flow_task.reverse("execute", args=[task.process_id, task.pk]))


def detail_url(task: CommissioningTask) -> str:
    return str(task.flow_task.reverse("detail", args=[task.process_id, task.pk]))


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def error_codes(response: Any) -> list[str]:
    return [error.code for error in response.context["form"].non_field_errors().as_data()]


def test_the_stage_page_shows_the_lead_what_the_gate_still_needs(flow_world):
    response = signed_in(flow_world.lead).get(execute_url(flow_world.stage_task()))

    assert response.status_code == 200
    assert response.context["gate"].codes == FRAMEWORK_GATE_WITH_NOTHING_RECORDED
    assert "The involvement gate is closed. Still needed:" in response.text
    assert "No involvement lead has been named for this cycle." in response.text


def test_the_stage_page_refuses_to_advance_past_a_closed_gate(flow_world):
    task = flow_world.stage_task()

    response = signed_in(flow_world.lead).post(execute_url(task), {"action": "advance"})

    assert response.status_code == 200
    assert error_codes(response) == list(FRAMEWORK_GATE_WITH_NOTHING_RECORDED)
    assert "The budget has not been disclosed, nor a reason given for withholding it." in (
        response.text
    )
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED
    assert flow_world.refresh().current_stage == "framework"


def test_the_stage_page_advances_once_the_gate_is_open(flow_world):
    flow_world.meet_gate_through_the_flow()
    task = flow_world.stage_task()

    response = signed_in(flow_world.lead).post(execute_url(task), {"action": "advance"})

    assert response.status_code == 302
    assert response["Location"] == flow.reverse("process_detail", args=[task.process_id])
    assert flow_world.refresh().current_stage == "needs"
    task.refresh_from_db()
    assert task.status == STATUS.DONE


def test_the_stage_page_reopens_an_earlier_stage_only_with_a_reason(flow_world):
    walk_to(flow_world, "needs")
    client = signed_in(flow_world.lead)
    url = execute_url(flow_world.stage_task())

    refused = client.post(url, {"action": "reopen", "stage": "framework", "reason": " "})
    reopened = client.post(url, {"action": "reopen", "stage": "framework", "reason": "Start over."})

    assert error_codes(refused) == ["invalid.reason"]
    assert reopened.status_code == 302
    assert flow_world.refresh().current_stage == "framework"
    assert flow_world.stage_task().data["stage"] == "framework"


def test_the_stage_page_asks_the_panel_for_signoff(flow_world):
    response = signed_in(flow_world.lead).post(
        execute_url(flow_world.stage_task()), {"action": "request_signoff"}
    )

    assert response.status_code == 302
    assert {task.owner for task in flow_world.signoff_tasks()} == set(flow_world.panel)


def test_only_the_lead_can_open_the_stage_task(flow_world):
    task = flow_world.stage_task()
    member = signed_in(flow_world.panel[0])

    assert member.get(execute_url(task)).status_code == 403
    assert member.post(execute_url(task), {"action": "advance"}).status_code == 403
    assert flow_world.refresh().current_stage == "framework"


def test_a_member_acknowledges_and_attests_on_their_signoff_page(flow_world):
    walk_to(flow_world, "needs")
    flow_world.agree_boundaries()
    member = flow_world.panel[0]
    task = flow_world.signoff_tasks().get(owner=member)

    page = signed_in(member).get(execute_url(task))
    response = signed_in(member).post(
        execute_url(task), {"acknowledge": "on", "position": "attest"}
    )

    assert "Role boundaries, version 1" in page.text
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    signoff = SignOff.objects.get(pk=task.data["signoff_id"])
    assert (signoff.member, signoff.kind) == (member, SignOff.Kind.ATTEST)


def test_dissent_without_reasons_is_refused_on_the_signoff_page(flow_world):
    walk_to(flow_world, "needs")
    member = flow_world.panel[0]
    task = flow_world.signoff_tasks().get(owner=member)

    response = signed_in(member).post(execute_url(task), {"position": "dissent", "reasons": ""})

    assert error_codes(response) == ["invalid.dissent_reasons"]
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED


def test_a_member_cannot_use_someone_elses_signoff_page(flow_world):
    walk_to(flow_world, "needs")
    owner, intruder, _ = flow_world.panel
    task = flow_world.signoff_tasks().get(owner=owner)

    response = signed_in(intruder).post(execute_url(task), {"position": "attest"})

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED


@pytest.fixture
def two_organisations(db):
    ours = FlowWorld(title="Day services in Northshire")
    theirs = FlowWorld(title="Meals on wheels in Southshire")
    commissioning.request_signoff(actor=ours.lead, cycle_id=ours.id)
    commissioning.request_signoff(actor=theirs.lead, cycle_id=theirs.id)
    return ours, theirs


def test_process_and_task_lists_show_only_the_cycles_a_user_may_see(two_organisations):
    ours, theirs = two_organisations
    colleague = signed_in(commissioner(ours.organisation))

    pages = {
        name: colleague.get(flow.reverse(name))
        for name in ("index", "process_list", "task_list", "queue", "archive")
    }

    for name, page in pages.items():
        assert page.status_code == 200, name
        assert theirs.cycle.title not in page.text, name
    assert "Day services in Northshire" in pages["process_list"].text
    listed = {task.process_id for task in pages["task_list"].context["object_list"]}
    assert listed == {ours.process.pk}
    dashboard = {
        task.process_id for column in pages["index"].context["columns"] for task in column["tasks"]
    }
    assert dashboard == {ours.process.pk}


def test_a_members_inbox_holds_their_own_signoff_task_only(two_organisations):
    ours, _theirs = two_organisations
    member = ours.panel[0]

    inbox = signed_in(member).get(flow.reverse("inbox"))

    assert inbox.status_code == 200
    assert [(task.owner, task.flow_task) for task in inbox.context["object_list"]] == [
        (member, CommissioningFlow.signoff)
    ]


def test_another_organisations_process_and_tasks_are_not_found(two_organisations):
    ours, theirs = two_organisations
    client = signed_in(ours.lead)
    their_task = theirs.stage_task()
    their_signoff = theirs.signoff_tasks().first()
    missing = their_task.pk + 10_000

    hidden = {
        "process": flow.reverse("process_detail", args=[theirs.process.pk]),
        "chart": flow.reverse("process_chart", args=[theirs.process.pk]),
        "task": detail_url(their_task),
        "index": str(
            their_task.flow_task.reverse("index", args=[theirs.process.pk, their_task.pk])
        ),
        "execute": execute_url(their_task),
        "signoff": execute_url(their_signoff),
    }
    absent = {
        "process": flow.reverse("process_detail", args=[missing]),
        "chart": flow.reverse("process_chart", args=[missing]),
        "task": str(their_task.flow_task.reverse("detail", args=[missing, missing])),
    }

    for name, url in hidden.items():
        response = client.get(url)
        posted = client.post(url, {"action": "advance", "position": "attest"})
        assert (response.status_code, posted.status_code) == (404, 404), name
        assert without_tokens(response) == without_tokens(
            client.get(absent.get(name, absent["task"]))
        ), name
    assert client.get(flow.reverse("process_detail", args=[ours.process.pk])).status_code == 200
    assert client.get(flow.reverse("process_chart", args=[ours.process.pk])).status_code == 200
    assert theirs.refresh().current_stage == "framework"


def test_a_task_url_whose_process_is_not_the_tasks_own_is_not_found(two_organisations):
    ours, _theirs = two_organisations
    second = commissioning.start_cycle(
        actor=ours.lead, title="Carers' breaks", organisation=ours.organisation, lead=ours.lead
    )
    client = signed_in(ours.lead)
    task = ours.stage_task()
    other_process = CommissioningProcess.objects.for_cycle(second.pk).get().pk

    wrong_process = task.flow_task.reverse("execute", args=[other_process, task.pk])
    wrong_node = str(task.flow_task.reverse("execute", args=[task.process_id, task.pk])).replace(
        "/stage/", "/signoff/"
    )

    assert client.get(execute_url(task)).status_code == 200
    assert client.get(wrong_process).status_code == 404
    assert client.post(wrong_process, {"action": "request_signoff"}).status_code == 404
    assert client.get(wrong_node).status_code == 404
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED


@pytest.mark.parametrize("action", ["assign", "unassign", "cancel", "undo", "revive"])
def test_no_page_can_reassign_cancel_or_rewind_a_stage_task(flow_world, action):
    task = flow_world.stage_task()
    superuser = signed_in(User.objects.create_superuser("root", "root@example.org", "pw"))

    with pytest.raises(NoReverseMatch):
        task.flow_task.reverse(action, args=[task.process_id, task.pk])
    url = execute_url(task).replace("/execute/", f"/{action}/")
    assert superuser.post(url).status_code == 404
    task.refresh_from_db()
    assert (task.status, task.owner) == (STATUS.ASSIGNED, flow_world.lead)


def test_no_page_can_cancel_a_process(flow_world):
    with pytest.raises(NoReverseMatch):
        flow.reverse("process_cancel", args=[flow_world.process.pk])
