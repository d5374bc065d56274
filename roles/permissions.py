"""Who may do what: the two permission layers every service checks.

Model permissions (through role groups) answer "may this kind of user ever do this"; guardian
object permissions on the cycle answer "on this cycle". Governance oversight comes from board
membership. Services call :func:`require`; a hidden button is not a check.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from cycle.errors import Forbidden

if TYPE_CHECKING:
    from cycle.models import CommissioningCycle, Organisation


def get_concrete_content_type(obj: models.Model | type[models.Model]) -> ContentType:
    """Guardian's content type lookup; proxy models (viewflow's) resolve to the concrete model."""
    return ContentType.objects.get_for_model(obj, for_concrete_model=True)


class Action(StrEnum):
    CREATE_CYCLE = "create_cycle"
    LEAD = "lead"
    MANAGE_PANEL = "manage_panel"
    REPRESENT = "represent"
    OVERRIDE = "override"
    AUDIT = "audit"
    DECIDE = "decide"


LEAD_PERM = "cycle.lead_cycle"
REPRESENT_PERM = "cycle.represent_on_cycle"
OVERRIDE_PERM = "cycle.override_gate"
AUDIT_PERM = "cycle.audit_cycle"
CREATE_PERM = "cycle.add_commissioningcycle"
PANEL_PERM = "roles.add_panelmembership"
DECIDE_PERM = "cycle.record_decision"

_REFUSALS = {
    Action.CREATE_CYCLE: "Only a commissioner of the organisation can start a cycle for it.",
    Action.LEAD: "Only the cycle's lead commissioner can record gate evidence or move its stages.",
    Action.MANAGE_PANEL: "Only the lead commissioner or the named involvement lead can change "
    "the panel.",
    Action.REPRESENT: "Only an active user representative on this cycle's panel can do this, "
    "and only for themselves.",
    Action.OVERRIDE: "Only a member of a governance board that oversees this organisation can "
    "override a gate.",
    Action.AUDIT: "Only a governance board member overseeing this organisation can audit it.",
    Action.DECIDE: "Only a decision-maker of the organisation can record its decisions.",
}


def oversees(user: Any, organisation: Organisation | int) -> bool:
    from .models import GovernanceBoard

    org_id = organisation if isinstance(organisation, int) else organisation.pk
    return GovernanceBoard.objects.filter(members=user, organisations=org_id).exists()


def allowed(
    user: Any,
    action: Action,
    cycle: CommissioningCycle | None = None,
    organisation: Organisation | None = None,
) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if action is Action.CREATE_CYCLE:
        assert organisation is not None
        return bool(user.has_perm(CREATE_PERM)) and (
            user.is_superuser or organisation.staff.filter(pk=user.pk).exists()
        )
    assert cycle is not None
    if action is Action.LEAD:
        return bool(user.has_perm(LEAD_PERM) and user.has_perm(LEAD_PERM, cycle))
    if action is Action.MANAGE_PANEL:
        if user.has_perm(LEAD_PERM) and user.has_perm(LEAD_PERM, cycle):
            return True
        return cycle.involvement_lead_id == user.pk and bool(user.has_perm(PANEL_PERM))
    if action is Action.REPRESENT:
        return bool(user.has_perm(REPRESENT_PERM) and user.has_perm(REPRESENT_PERM, cycle))
    if action is Action.OVERRIDE:
        return bool(user.has_perm(OVERRIDE_PERM)) and oversees(user, cycle.organisation_id)
    if action is Action.AUDIT:
        return bool(user.has_perm(AUDIT_PERM)) and oversees(user, cycle.organisation_id)
    if action is Action.DECIDE:
        return bool(user.has_perm(DECIDE_PERM)) and (
            user.is_superuser or cycle.organisation.staff.filter(pk=user.pk).exists()
        )
    raise ValueError(action)


def require(
    user: Any,
    action: Action,
    cycle: CommissioningCycle | None = None,
    organisation: Organisation | None = None,
) -> None:
    if not allowed(user, action, cycle=cycle, organisation=organisation):
        raise Forbidden(_REFUSALS[action], code=f"forbidden.{action}")
