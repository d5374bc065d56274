"""The permission backends answer each check in one query, with the answers of Django's and
guardian's own backends: permissions held directly or through a group, none for the inactive,
all for superusers."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.backends import ObjectPermissionBackend as GuardianObjectPermissionBackend
from guardian.exceptions import WrongAppError
from guardian.shortcuts import assign_perm

from roles.backends import ModelBackend, ObjectPermissionBackend
from roles.permissions import AUDIT_PERM, LEAD_PERM, REPRESENT_PERM
from tests.factories import UserFactory, fresh
from tests.roles.cast import Cast

pytestmark = pytest.mark.django_db

PERMS = [LEAD_PERM, REPRESENT_PERM, AUDIT_PERM, "cycle.view_commissioningcycle"]


def answers(backend: object, user: object, obj: object = None) -> dict[str, bool]:
    return {perm: backend.has_perm(fresh(user), perm, obj) for perm in PERMS}  # type: ignore[attr-defined]


def test_model_permissions_are_those_djangos_backend_gives(cast: Cast) -> None:
    stranger = UserFactory()
    direct = UserFactory()
    direct.user_permissions.add(Permission.objects.get(codename="audit_cycle"))
    for user in (cast.lead, cast.representative, cast.governor, direct, stranger):
        assert answers(ModelBackend(), user) == answers(DjangoModelBackend(), user)
        assert fresh(user).get_all_permissions() == DjangoModelBackend().get_all_permissions(
            fresh(user)
        )


def test_model_permissions_cost_one_query_and_are_kept_for_the_request(cast: Cast) -> None:
    lead = fresh(cast.lead)
    with CaptureQueriesContext(connection) as queries:
        assert lead.has_perm(LEAD_PERM)
        assert lead.has_perm(LEAD_PERM)
    assert len(queries) == 1


def test_object_permissions_held_directly_or_through_a_group_count(
    cast: Cast, other_cast: Cast
) -> None:
    group = Group.objects.create(name="Auditors of the north")
    auditor = UserFactory()
    auditor.groups.add(group)
    assign_perm(AUDIT_PERM, group, cast.cycle)
    for user in (cast.lead, cast.representative, cast.governor, auditor, UserFactory()):
        for cycle in (cast.cycle, other_cast.cycle):
            assert answers(ObjectPermissionBackend(), user, cycle) == answers(
                GuardianObjectPermissionBackend(), user, cycle
            )
    assert ObjectPermissionBackend().has_perm(fresh(auditor), AUDIT_PERM, cast.cycle)
    assert not ObjectPermissionBackend().has_perm(fresh(auditor), AUDIT_PERM, other_cast.cycle)


def test_an_object_permission_costs_one_query(cast: Cast) -> None:
    lead = fresh(cast.lead)
    with CaptureQueriesContext(connection) as queries:
        assert ObjectPermissionBackend().has_perm(lead, LEAD_PERM, cast.cycle)
    assert len(queries) == 1


def test_inactive_users_hold_nothing_and_superusers_everything(cast: Cast) -> None:
    lead = fresh(cast.lead)
    lead.is_active = False
    assert not ObjectPermissionBackend().has_perm(lead, LEAD_PERM, cast.cycle)
    assert not ModelBackend().has_perm(lead, LEAD_PERM)
    root = UserFactory(is_superuser=True)
    assert ObjectPermissionBackend().has_perm(root, LEAD_PERM, cast.cycle)
    assert ModelBackend().has_perm(root, LEAD_PERM)


def test_a_permission_of_another_application_than_the_objects_is_refused_as_guardian_does(
    cast: Cast,
) -> None:
    with pytest.raises(WrongAppError):
        ObjectPermissionBackend().has_perm(
            fresh(cast.lead), "roles.add_panelmembership", cast.cycle
        )
