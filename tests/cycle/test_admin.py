"""The admin shows the record but cannot change it, and cannot move a cycle past a closed gate."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import reverse
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from cycle import services
from cycle.models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    GateOverride,
    Organisation,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)
from roles.models import (
    AgreementSignature,
    ConflictDeclaration,
    GovernanceBoard,
    PanelMembership,
    WorkingAgreement,
)
from tests.factories import CycleWorld, commissioner
from tests.processes.worlds import FlowWorld

pytestmark = pytest.mark.django_db

GATE_RECORDS = [
    RoleBoundaryAgreement,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    SignOff,
    GateOverride,
    StageVisit,
    Decision,
    AuditEvent,
    PanelMembership,
    WorkingAgreement,
    AgreementSignature,
    ConflictDeclaration,
]
EDITABLE_IN_THE_ADMIN = {Organisation, GovernanceBoard}


def admin_url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def meet_the_gate(world: CycleWorld) -> None:
    world.agree_boundaries()
    if not world.cycle.budget_disclosures.exists():
        world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    world.attest()


def advance_in_the_admin(client: Client, *cycles: CommissioningCycle) -> list[Any]:
    response = client.post(
        admin_url(CommissioningCycle, "changelist"),
        {"action": "advance_through_gate", "_selected_action": [cycle.pk for cycle in cycles]},
        follow=True,
    )
    assert response.status_code == 200
    return list(get_messages(response.wsgi_request))


@pytest.fixture
def superuser_request(admin_user: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    return request


def test_the_admin_shows_a_cycle_but_cannot_change_its_stage_or_status(admin_client, world):
    url = admin_url(CommissioningCycle, "change", world.id)

    page = admin_client.get(url)
    response = admin_client.post(
        url, {"title": world.cycle.title, "current_stage": "procurement", "status": "completed"}
    )

    assert page.status_code == 200
    assert 'name="current_stage"' not in page.text
    assert 'name="status"' not in page.text
    assert response.status_code == 403
    cycle = world.refresh()
    assert (cycle.current_stage, cycle.status) == ("framework", "active")


def test_the_admin_cannot_add_or_delete_a_cycle(admin_client, world):
    assert admin_client.get(admin_url(CommissioningCycle, "add")).status_code == 403
    assert admin_client.post(admin_url(CommissioningCycle, "delete", world.id)).status_code == 403
    assert CommissioningCycle.objects.filter(pk=world.id).exists()


@pytest.mark.parametrize("model", GATE_RECORDS, ids=lambda model: model.__name__)
def test_gate_records_are_read_only_in_the_admin(model, superuser_request):
    model_admin = admin.site._registry[model]

    assert model_admin.has_view_permission(superuser_request)
    assert not model_admin.has_add_permission(superuser_request)
    assert not model_admin.has_change_permission(superuser_request)
    assert not model_admin.has_delete_permission(superuser_request)


def test_changing_or_deleting_a_gate_record_through_the_admin_is_refused(admin_client, world):
    agreement = world.agree_boundaries()
    budget = world.disclose_budget()
    boundary_url = admin_url(RoleBoundaryAgreement, "change", agreement.pk)

    changed = admin_client.post(boundary_url, {"purpose": "Something else", "influence": "inform"})
    deleted = admin_client.post(admin_url(BudgetDisclosure, "delete", budget.pk), {"post": "yes"})
    added = admin_client.post(admin_url(SignOff, "add"), {"kind": "attest"})

    assert [changed.status_code, deleted.status_code, added.status_code] == [403, 403, 403]
    agreement.refresh_from_db()
    assert agreement.purpose.startswith("Shape the service specification")
    assert BudgetDisclosure.objects.filter(pk=budget.pk).exists()
    assert not SignOff.objects.exists()


def test_every_model_of_the_cycle_and_roles_apps_is_in_the_admin_and_read_only_but_two(
    superuser_request,
):
    for app_label in ("cycle", "roles"):
        for model in apps.get_app_config(app_label).get_models():
            model_admin = admin.site._registry[model]
            editable = model_admin.has_change_permission(superuser_request)
            assert editable == (model in EDITABLE_IN_THE_ADMIN), model.__name__


@pytest.mark.parametrize("model", [Process, Task], ids=lambda model: model.__name__)
def test_the_flows_process_and_task_records_are_read_only_in_the_admin(model, superuser_request):
    model_admin = admin.site._registry[model]

    assert model_admin.has_view_permission(superuser_request)
    assert not model_admin.has_add_permission(superuser_request)
    assert not model_admin.has_change_permission(superuser_request)
    assert not model_admin.has_delete_permission(superuser_request)


def test_the_advance_action_is_refused_with_the_gates_messages_while_it_is_closed(
    admin_client, world
):
    world.agree_boundaries()

    messages = advance_in_the_admin(admin_client, world.cycle)

    assert [message.level_tag for message in messages] == ["error"]
    text = str(messages[0])
    assert "stays at stage framework: the involvement gate is closed." in text
    for line in (
        "boundaries.unacknowledged: 3 members of the panel have not acknowledged version 1 of "
        "the role boundaries.",
        "budget.missing: The budget has not been disclosed, nor a reason given for withholding it.",
        "signoff.quorum: 0 of 3 panel members have attested against the current boundaries and "
        "budget; 2 are needed.",
        "agreement.unsigned: 3 members of the panel have not signed the current working "
        "agreement; an attestation counts only from a member who has.",
        "lead.missing: No involvement lead has been named for this cycle.",
    ):
        assert f"<li>{line}</li>" in text
    assert world.refresh().current_stage == "framework"
    refusal = AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED)
    assert refusal.action == "stage_advance"


def test_the_advance_action_moves_the_cycle_once_the_gate_is_open(admin_client, world):
    meet_the_gate(world)

    messages = advance_in_the_admin(admin_client, world.cycle)

    assert [message.level_tag for message in messages] == ["success"]
    assert world.refresh().current_stage == "needs"


def test_the_advance_action_completes_the_stage_task_of_a_cycle_with_a_process(
    admin_client, admin_user
):
    world = FlowWorld()
    task = world.stage_task()

    refused = advance_in_the_admin(admin_client, world.cycle)
    task.refresh_from_db()
    assert [message.level_tag for message in refused] == ["error"]
    assert task.status == STATUS.ASSIGNED

    meet_the_gate(world)
    advanced = advance_in_the_admin(admin_client, world.cycle)

    task.refresh_from_db()
    assert [message.level_tag for message in advanced] == ["success"]
    assert (task.status, task.owner) == (STATUS.DONE, admin_user)
    assert world.stage_task().data["stage"] == "needs"


def test_staff_who_are_not_superusers_see_only_the_cycles_they_may_see(world):
    other = CycleWorld(title="Meals on wheels")
    colleague = commissioner(world.organisation)
    colleague.is_staff = True
    colleague.save()
    colleague.user_permissions.add(Permission.objects.get(codename="view_stagevisit"))
    client = Client()
    client.force_login(colleague)

    cycles = client.get(admin_url(CommissioningCycle, "changelist"))
    visits = client.get(admin_url(StageVisit, "changelist"))

    assert [cycle.pk for cycle in cycles.context["cl"].result_list] == [world.id]
    assert {visit.cycle_id for visit in visits.context["cl"].result_list} == {world.id}
    assert client.get(admin_url(CommissioningCycle, "change", other.id)).status_code == 302


def test_a_cycle_with_an_override_on_record_can_be_advanced_from_the_admin(admin_client, world):
    world.meet_gate()
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not involved.")
    services.gate_override(actor=world.governor, cycle_id=world.id, reason="Urgent re-provision.")

    messages = advance_in_the_admin(admin_client, world.cycle)

    assert [message.level_tag for message in messages] == ["success"]
    assert world.refresh().current_stage == "needs"


def test_the_admins_filters_and_flow_records_show_no_other_organisations(world):
    from processes.models import CommissioningProcess
    from roles import definitions
    from tests.factories import fresh

    theirs = FlowWorld(title="Meals on wheels in Southshire")
    ours = FlowWorld(title="Day services in Northshire")
    also_ours = FlowWorld(title="Carers' breaks in Eastshire")
    colleague = commissioner(ours.organisation)
    also_ours.organisation.staff.add(colleague)
    colleague.groups.add(Group.objects.get(name=definitions.ADMINISTRATOR))
    colleague.is_staff = True
    colleague.save()
    colleague.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_process", "view_task"])
    )
    client = Client()
    client.force_login(fresh(colleague))

    cycles = client.get(admin_url(CommissioningCycle, "changelist"))
    processes = client.get(admin_url(Process, "changelist"))
    tasks = client.get(admin_url(Task, "changelist"))
    their_process = CommissioningProcess.objects.for_cycle(theirs.id).get()

    organisation_filter = next(
        spec for spec in cycles.context["cl"].filter_specs if spec.title == "organisation"
    )
    assert sorted(name for _pk, name in organisation_filter.lookup_choices) == sorted(
        [ours.organisation.name, also_ours.organisation.name]
    )
    assert theirs.organisation.name not in cycles.text
    mine = {ours.process.pk, also_ours.process.pk}
    assert {p.pk for p in processes.context["cl"].result_list} == mine
    assert {t.process_id for t in tasks.context["cl"].result_list} == mine
    assert client.get(admin_url(Process, "change", their_process.pk)).status_code == 302
