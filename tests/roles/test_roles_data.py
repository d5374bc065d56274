"""Roles are data: one group per role in fixtures/roles.json, with exactly its permissions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from roles import definitions
from roles.apps import sync_roles_after_migrate

pytestmark = pytest.mark.django_db


def group_permissions(name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_there_is_a_group_for_each_of_the_six_roles() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {
        definitions.COMMISSIONER,
        definitions.REPRESENTATIVE,
        definitions.INVOLVEMENT_LEAD,
        definitions.DECISION_MAKER,
        definitions.GOVERNANCE,
        definitions.ADMINISTRATOR,
    }


@pytest.mark.parametrize("role", sorted(definitions.load_roles()))
def test_each_role_group_holds_exactly_the_permissions_the_file_lists(role: str) -> None:
    spec = definitions.load_roles()[role]
    assert group_permissions(spec["name"]) == set(spec["permissions"])


def test_no_role_but_the_administrator_holds_change_or_delete_permissions() -> None:
    for spec in definitions.load_roles().values():
        if spec["name"] == definitions.ADMINISTRATOR:
            continue
        changing = {
            label
            for label in spec["permissions"]
            if label.split(".")[1].startswith(("change_", "delete_"))
        }
        assert changing == set(), spec["name"]


def test_groups_are_brought_back_in_line_with_the_file_after_migrate() -> None:
    governance = Group.objects.get(name=definitions.GOVERNANCE)
    governance.permissions.add(Permission.objects.get(codename="change_signoff"))
    governance.permissions.remove(Permission.objects.get(codename="override_gate"))

    sync_roles_after_migrate(sender=apps.get_app_config("roles"))

    assert group_permissions(definitions.GOVERNANCE) == set(
        definitions.load_roles()["governance"]["permissions"]
    )


def test_a_role_naming_an_unknown_permission_stops_the_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roles_file = tmp_path / "roles.json"
    roles_file.write_text(
        json.dumps({"auditor": {"name": "Auditor", "permissions": ["cycle.audit_everything"]}})
    )
    monkeypatch.setattr(definitions, "ROLES_FILE", roles_file)

    with pytest.raises(LookupError, match=r"cycle\.audit_everything"):
        definitions.sync_role_groups(Group, Permission)
    definitions.sync_role_groups(Group, Permission, strict=False)
    assert not Group.objects.get(name="Auditor").permissions.exists()
