"""Role groups are data (``fixtures/roles.json``); this module loads and applies them.

The groups are brought in line with the file by the data migration and again after every
``migrate`` (``roles.apps``), so a change to the file takes effect without a new migration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROLES_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "roles.json"

COMMISSIONER = "Commissioner"
REPRESENTATIVE = "User representative"
INVOLVEMENT_LEAD = "Involvement lead"
DECISION_MAKER = "Decision-maker"
GOVERNANCE = "Governance board member"
ADMINISTRATOR = "Administrator"


def load_roles() -> dict[str, dict[str, Any]]:
    return dict(json.loads(ROLES_FILE.read_text()))


def sync_role_groups(group_model: Any, permission_model: Any, *, strict: bool = True) -> None:
    """Create or update one group per role with exactly the permissions the file lists.

    With ``strict=False`` (inside a migration, where later models may not exist yet) permissions
    that do not exist yet are left out; the sync after ``migrate`` adds them.
    """
    for spec in load_roles().values():
        group, _ = group_model.objects.get_or_create(name=spec["name"])
        perms = []
        for label in spec["permissions"]:
            app_label, codename = label.split(".")
            found = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is None:
                if strict:
                    raise LookupError(f"role {spec['name']!r} names unknown permission {label!r}")
                continue
            perms.append(found)
        group.permissions.set(perms)
