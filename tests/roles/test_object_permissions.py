"""Guardian object permissions: on the cycle, and on viewflow's proxy process model."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from guardian.ctypes import get_content_type
from guardian.shortcuts import assign_perm
from viewflow.workflow.models import Process

from cycle.models import CommissioningCycle
from processes import commissioning
from processes.models import CommissioningProcess
from roles import services as role_services
from roles.permissions import LEAD_PERM, REPRESENT_PERM
from tests.factories import fresh
from tests.roles.cast import Cast

pytestmark = pytest.mark.django_db


def test_object_permissions_on_the_proxy_process_use_the_proxys_own_content_type() -> None:
    proxy = get_content_type(CommissioningProcess)

    assert proxy == ContentType.objects.get_for_model(
        CommissioningProcess, for_concrete_model=False
    )
    assert proxy != get_content_type(Process)
    assert get_content_type(CommissioningCycle) == ContentType.objects.get_for_model(
        CommissioningCycle
    )


def test_the_leads_and_members_object_permissions_hold_on_their_cycle_only(
    cast: Cast, other_cast: Cast
) -> None:
    lead, member = fresh(cast.lead), fresh(cast.representative)

    assert lead.has_perm(LEAD_PERM, cast.cycle)
    assert not lead.has_perm(LEAD_PERM, other_cast.cycle)
    assert member.has_perm(REPRESENT_PERM, cast.cycle)
    assert not member.has_perm(REPRESENT_PERM, other_cast.cycle)
    assert not member.has_perm(LEAD_PERM, cast.cycle)


def test_a_permission_on_a_proxy_process_resolves_on_that_process_and_no_other(
    cast: Cast,
) -> None:
    first = commissioning.start_cycle(
        actor=cast.lead, title="Carers' breaks", organisation=cast.organisation, lead=cast.lead
    )
    second = commissioning.start_cycle(
        actor=cast.lead, title="Meals on wheels", organisation=cast.organisation, lead=cast.lead
    )
    process = CommissioningProcess.objects.for_cycle(first.pk).get()
    permission = "processes.manage_commissioningprocess"

    assign_perm(permission, cast.governor, process)

    governor = fresh(cast.governor)
    assert governor.has_perm(permission, CommissioningProcess.objects.get(pk=process.pk))
    assert not governor.has_perm(
        permission, CommissioningProcess.objects.for_cycle(second.pk).get()
    )


def test_joining_and_leaving_a_panel_opens_and_closes_the_cycles_process_to_the_member(
    cast: Cast,
) -> None:
    cycle = commissioning.start_cycle(
        actor=cast.lead, title="Carers' breaks", organisation=cast.organisation, lead=cast.lead
    )
    process = CommissioningProcess.objects.for_cycle(cycle.pk).get()
    assert not CommissioningProcess.objects.visible_to(fresh(cast.newcomer)).exists()

    role_services.membership_add(actor=cast.lead, cycle_id=cycle.pk, member=cast.newcomer)
    assert list(CommissioningProcess.objects.visible_to(fresh(cast.newcomer))) == [process]

    role_services.membership_leave(actor=cast.newcomer, cycle_id=cycle.pk)
    assert not CommissioningProcess.objects.visible_to(fresh(cast.newcomer)).exists()
