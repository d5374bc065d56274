"""Role groups are data (``fixtures/roles.json``); this module loads and applies them."""

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


def sync_role_groups(group_model: Any, permission_model: Any) -> None:
    """Create or update one group per role with exactly the permissions the file lists."""
    for spec in load_roles().values():
        group, _ = group_model.objects.get_or_create(name=spec["name"])
        perms = []
        for label in spec["permissions"]:
            app_label, codename = label.split(".")
            perms.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(perms)
