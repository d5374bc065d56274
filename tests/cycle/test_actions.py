"""The ledger's vocabulary (``cycle/actions.py``) is the only place an action is spelled."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cycle import compliance, duty_services, meetings, reminders, services
from cycle.actions import LedgerAction, Operation
from cycle.errors import Forbidden
from cycle.models import AuditEvent
from cycle.procurement import services as procurement_services
from cycle.service_support import service
from roles import accounts, api_tokens
from roles import services as role_services
from tests.factories import CycleWorld

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


def _services() -> dict[str, tuple[LedgerAction, ...]]:
    found = {}
    for module in SERVICE_MODULES:
        for name, value in vars(module).items():
            declared = getattr(value, "ledger_actions", None)
            if declared is not None and value.__module__ == module.__name__:
                found[name] = declared
    return found


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


def test_compliance_fails_loudly_on_a_payload_without_a_key_it_reads() -> None:
    with pytest.raises(compliance.LedgerPayloadMissing, match="'signoffs_voided'"):
        compliance.recorded({"version": 2, "amount": "950000.00"}, "signoffs_voided")
