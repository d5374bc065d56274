"""The ledger's vocabulary (``cycle/actions.py``) is the only place an action is spelled."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured

from cycle import duty_services, meetings, reminders, services
from cycle.actions import LedgerAction, Operation
from cycle.errors import Forbidden, ServiceError
from cycle.models import AuditEvent
from cycle.procurement import services as procurement_services
from cycle.service_support import service
from roles import accounts, api_tokens
from roles import services as role_services
from tests.factories import CycleWorld, UserFactory

ROOT = Path(__file__).resolve().parents[2]
SERVICE_MODULES = (
    services,
    role_services,
    accounts,
    api_tokens,
    meetings,
    reminders,
    procurement_services,
    duty_services,
)


def _service_functions() -> dict[str, Any]:
    found = {}
    for module in SERVICE_MODULES:
        for name, value in vars(module).items():
            if getattr(value, "ledger_actions", None) is not None and (
                value.__module__ == module.__name__
            ):
                found[name] = value
    return found


def _services() -> dict[str, tuple[LedgerAction, ...]]:
    return {name: func.ledger_actions for name, func in _service_functions().items()}


def test_every_service_is_an_operation_and_every_operation_a_service() -> None:
    assert sorted(_services()) == sorted(Operation.values)


def test_every_service_declares_the_actions_it_writes() -> None:
    declared = _services()
    assert all(declared.values()), [name for name, actions in declared.items() if not actions]
    written = {action for actions in declared.values() for action in actions}
    assert written == set(LedgerAction), set(LedgerAction) - written


def test_a_service_that_is_not_an_operation_is_refused_at_import() -> None:
    with pytest.raises(ImproperlyConfigured, match="not an Operation"):

        @service(LedgerAction.STAGE_ADVANCED)
        def stage_advance_twice() -> None:  # pragma: no cover - never defined
            return None


def _other_vocabularies(tree: ast.AST) -> set[int]:
    """Lines of other choices that may share a word (a notification kind ``panel.joined``)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            isinstance(base, ast.Attribute | ast.Name)
            and getattr(base, "attr", getattr(base, "id", "")) == "TextChoices"
            for base in node.bases
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def test_no_module_spells_a_ledger_action_as_a_string() -> None:
    spelled = []
    names = set(LedgerAction.values) | set(Operation.values)
    for package in ("cycle", "processes", "roles"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path.name == "actions.py":
                continue
            tree = ast.parse(path.read_text())
            choices = _other_vocabularies(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and node.value in names
                    and node.lineno not in choices
                ):
                    spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert spelled == []


def test_a_refusal_is_named_after_its_operation_and_carries_the_actions_it_refused(
    world: CycleWorld,
) -> None:
    world.meet_gate()

    with pytest.raises(Forbidden):
        services.stage_advance(actor=world.panel[0], cycle_id=world.id)

    refusal = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED).get()
    assert refusal.action == Operation.STAGE_ADVANCE
    assert json.loads(refusal.payload)["refused"] == [LedgerAction.STAGE_ADVANCED]


def test_a_sign_off_refusal_carries_both_actions_a_sign_off_can_write(world: CycleWorld) -> None:
    with pytest.raises(Forbidden):
        services.signoff_record(actor=world.lead, cycle_id=world.id)

    refusal = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED).get()
    assert refusal.action == Operation.SIGNOFF_RECORD
    assert json.loads(refusal.payload)["refused"] == [
        LedgerAction.SIGNOFF_DISSENTED,
        LedgerAction.SIGNOFF_ATTESTED,
    ]


UNREFUSABLE = {
    Operation.INPUT_FLAG_OVERDUE,  # tasks the system runs on its own: no actor to refuse
    Operation.REMINDERS_SEND_FOR_CYCLE,
    Operation.TOKEN_REVOKE,  # someone else's token is answered as not found, never refused
}

SIGNED_IN_IS_ENOUGH = {Operation.TOKEN_CREATE}
"""Services anyone signed in may call for themselves: only someone signed out is refused."""


def _stand_in(name: str, world: CycleWorld, outsider: Any) -> Any:
    """A value for a required argument: someone on the cycle for a person, the world's own
    records for the rest (the refusal comes before they are read)."""
    return {
        "user": world.panel[0],
        "member": world.panel[0],
        "lead": world.lead,
        "decision_maker": world.lead,
        "cycle_id": world.id,
        "organisation": world.organisation,
        "organisation_id": world.organisation.pk,
        "tender_panel": True,
        "answers": {},
        "lots": [],
        "awards": {},
        "scores": {},
    }.get(name, 1 if name.endswith("_id") else "x")


def test_every_service_refuses_an_outsider_under_its_operation_with_the_actions_it_refused(
    world: CycleWorld,
) -> None:
    outsider = UserFactory()
    refused = {}
    for name, func in _service_functions().items():
        if Operation(name) in UNREFUSABLE:
            continue
        required = [
            p.name
            for p in inspect.signature(func).parameters.values()
            if p.default is inspect.Parameter.empty and p.name != "actor"
        ]
        kwargs = {arg: _stand_in(arg, world, outsider) for arg in required}
        actor = AnonymousUser() if name in SIGNED_IN_IS_ENOUGH else outsider
        try:
            func(actor=actor, **kwargs)
        except Forbidden:
            pass
        except ServiceError as error:  # pragma: no cover - the assertion below names it
            refused[name] = ("not refused", error.code)
            continue
        else:  # pragma: no cover - the assertion below names it
            refused[name] = ("allowed", "")
            continue
        event = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED).latest("seq")
        refused[name] = (event.action, json.loads(event.payload)["refused"])

    assert refused == {
        name: (name, [str(action) for action in declared])
        for name, declared in _services().items()
        if Operation(name) not in UNREFUSABLE
    }
