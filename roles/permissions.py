"""Who may do what: the two permission layers every service checks.

Model permissions (through role groups) answer "may this kind of user ever do this"; the object
layer answers "on this cycle": guardian object permissions for the lead commissioner and the panel,
the cycle's named involvement lead, the organisation's staff for its decision-makers, and board
membership for governance oversight. Services call :func:`require`; a hidden button is not a check.

Separation of duties is part of the object layer: people on the commissioning side of a cycle (its
lead commissioner, its involvement lead, the organisation's staff) and the governance board members
who oversee it can never act as user representatives on it, and nobody who runs a cycle or sits on
its panel can override its gate.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cycle.errors import Forbidden
from cycle.i18n import gettext_lazy as _
from cycle.models import CommissioningCycle, Organisation

from .backends import holds_on
from .models import GovernanceBoard, PanelMembership


class Action(StrEnum):
    CREATE_CYCLE = "create_cycle"
    LEAD = "lead"
    MANAGE_PANEL = "manage_panel"
    REPRESENT = "represent"
    OVERRIDE = "override"
    AUDIT = "audit"
    DECIDE = "decide"


VIEW_PERM = "cycle.view_commissioningcycle"
LEAD_PERM = "cycle.lead_cycle"
REPRESENT_PERM = "cycle.represent_on_cycle"
OVERRIDE_PERM = "cycle.override_gate"
AUDIT_PERM = "cycle.audit_cycle"
CREATE_PERM = "cycle.add_commissioningcycle"
PANEL_PERM = "roles.add_panelmembership"
DECIDE_PERM = "cycle.record_decision"

_REFUSALS: dict[Action, str] = {
    Action.CREATE_CYCLE: _("Only a commissioner of the organisation can start a cycle for it."),
    Action.LEAD: _(
        "Only the cycle's lead commissioner can record gate evidence or move its stages."
    ),
    Action.MANAGE_PANEL: _(
        "Only the lead commissioner or the named involvement lead can change the panel."
    ),
    Action.REPRESENT: _(
        "Only an active user representative on this cycle's panel can do this, "
        "and only for themselves."
    ),
    Action.OVERRIDE: _(
        "Only a member of a governance board that oversees this organisation can override a gate."
    ),
    Action.AUDIT: _("Only a governance board member overseeing this organisation can audit it."),
    Action.DECIDE: _("Only a decision-maker of the organisation can record its decisions."),
}


def works_for(user: Any, organisation: Organisation | int) -> bool:
    """Whether the user is on the organisation's staff."""
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    return Organisation.staff.through.objects.filter(
        organisation_id=org_id, user_id=user.pk
    ).exists()


def oversees(user: Any, organisation: Organisation | int) -> bool:
    """Whether the user sits on a governance board that oversees the organisation."""
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    return GovernanceBoard.objects.filter(members=user, organisations=org_id).exists()


def on_panel(user: Any, cycle: CommissioningCycle) -> bool:
    """Whether the user is an active member of the cycle's panel."""
    return PanelMembership.objects.active().filter(cycle=cycle, member_id=user.pk).exists()


def panel_bar(user: Any, cycle: CommissioningCycle) -> Forbidden | None:
    """Why ``user`` may not sit on the cycle's panel or act as a representative on it, if so.

    The commissioning side of a cycle and the governance board members who oversee it do not
    represent users on it: users inform and influence, the others decide or audit.
    """
    name = user.get_username()
    if user.pk == cycle.lead_commissioner_id or works_for(user, cycle.organisation_id):
        return Forbidden(
            _(
                "%(name)s works for the commissioning organisation or leads this cycle, so "
                "cannot sit on its user panel or act as a user representative on it.",
                name=name,
            ),
            code="forbidden.commissioner_on_panel",
        )
    if user.pk == cycle.involvement_lead_id:
        return Forbidden(
            _(
                "%(name)s is this cycle's involvement lead, so cannot sit on its user panel or "
                "act as a user representative on it.",
                name=name,
            ),
            code="forbidden.involvement_lead_on_panel",
        )
    if oversees(user, cycle.organisation_id):
        return Forbidden(
            _(
                "%(name)s sits on a governance board that oversees this organisation, so "
                "cannot sit on the user panel of its cycles or act as a user representative on "
                "them.",
                name=name,
            ),
            code="forbidden.governance_on_panel",
        )
    return None


def involvement_lead_bar(user: Any, cycle: CommissioningCycle) -> Forbidden | None:
    """Why ``user`` may not be named the cycle's involvement lead, if so."""
    if on_panel(user, cycle):
        return Forbidden(
            _(
                "%(name)s sits on this cycle's user panel, so cannot also be its involvement lead.",
                name=user.get_username(),
            ),
            code="forbidden.representative_as_involvement_lead",
        )
    return None


def _override_bar(user: Any, cycle: CommissioningCycle) -> Forbidden | None:
    if user.pk in (cycle.lead_commissioner_id, cycle.involvement_lead_id) or on_panel(user, cycle):
        return Forbidden(
            _(
                "You take part in running this cycle, so you cannot override its gate; another "
                "member of the governance board must decide.",
            ),
            code="forbidden.override_own_cycle",
        )
    return None


def refusal(
    user: Any,
    action: Action,
    cycle: CommissioningCycle | None = None,
    organisation: Organisation | None = None,
) -> Forbidden | None:
    """Why ``user`` may not take ``action`` (on ``cycle`` or for ``organisation``), or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return _refuse(action)
    if action is Action.CREATE_CYCLE:
        assert organisation is not None
        ok = bool(user.has_perm(CREATE_PERM)) and (
            user.is_superuser or works_for(user, organisation)
        )
        return None if ok else _refuse(action)
    if action is Action.AUDIT and cycle is None:
        assert organisation is not None
        ok = bool(user.has_perm(AUDIT_PERM)) and oversees(user, organisation)
        return None if ok else _refuse(action)
    assert cycle is not None
    if action is Action.LEAD:
        ok = holds_on(user, LEAD_PERM, cycle)
    elif action is Action.MANAGE_PANEL:
        ok = holds_on(user, LEAD_PERM, cycle) or (
            cycle.involvement_lead_id == user.pk and bool(user.has_perm(PANEL_PERM))
        )
    elif action is Action.REPRESENT:
        if not holds_on(user, REPRESENT_PERM, cycle):
            return _refuse(action)
        return panel_bar(user, cycle)
    elif action is Action.OVERRIDE:
        if not (user.has_perm(OVERRIDE_PERM) and oversees(user, cycle.organisation_id)):
            return _refuse(action)
        return _override_bar(user, cycle)
    elif action is Action.AUDIT:
        ok = bool(user.has_perm(AUDIT_PERM)) and oversees(user, cycle.organisation_id)
    elif action is Action.DECIDE:
        ok = bool(user.has_perm(DECIDE_PERM)) and (
            user.is_superuser or works_for(user, cycle.organisation_id)
        )
    else:  # pragma: no cover - every action is handled above
        raise ValueError(action)
    return None if ok else _refuse(action)


def _refuse(action: Action) -> Forbidden:
    return Forbidden(_REFUSALS[action], code=f"forbidden.{action}")


def allowed(
    user: Any,
    action: Action,
    cycle: CommissioningCycle | None = None,
    organisation: Organisation | None = None,
) -> bool:
    return refusal(user, action, cycle=cycle, organisation=organisation) is None


def require(
    user: Any,
    action: Action,
    cycle: CommissioningCycle | None = None,
    organisation: Organisation | None = None,
) -> None:
    """Raise :class:`~cycle.errors.Forbidden`, with a plain-English reason, unless allowed."""
    reason = refusal(user, action, cycle=cycle, organisation=organisation)
    if reason is not None:
        raise reason
