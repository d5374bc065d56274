"""The permission matrix in docs/permissions.md, tried cell by cell against the services.

The tables are read from the document, so the document and the code cannot drift apart: a cell
that says "yes" must go ahead without any error, and a cell that says "no" must be refused with
``Forbidden``, write exactly one ``refused`` ledger event and change nothing.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from cycle import duty_services, selectors, services
from cycle.errors import Conflict, Forbidden
from cycle.models import AuditEvent
from roles import accounts
from roles import services as role_services
from tests.factories import fresh
from tests.roles.cast import AGREEMENT, Cast, build_cast

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"

ROLE_COLUMNS = {
    "Lead commissioner": "lead",
    "Commissioner, same organisation": "colleague",
    "Involvement lead": "involvement_lead",
    "User representative on the panel": "representative",
    "Decision-maker": "decision_maker",
    "Governance board member": "governor",
    "Administrator": "administrator",
}
TABLES = {"own": "## On their own cycle", "other": "## On another organisation's cycle"}
ACCOUNT_TABLES = {"accounts": "## Accounts, staff and boards"}
VISIBILITY = "cycles_visible_to"


@dataclass(frozen=True)
class Cell:
    scope: str  # "own" or "other"
    service: str
    role: str  # an attribute of Cast
    allowed: bool

    @property
    def id(self) -> str:
        return f"{self.scope}-{self.role}-{self.service}"


def _table_after(text: str, heading: str) -> list[list[str]]:
    lines = text[text.index(heading) :].splitlines()[1:]
    rows: list[list[str]] = []
    for line in lines:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows


def read_matrix(tables: dict[str, str] = TABLES) -> list[Cell]:
    text = DOC.read_text()
    cells: list[Cell] = []
    for scope, heading in tables.items():
        header, rule, *body = _table_after(text, heading)
        assert set(rule) == {"---"}, f"{heading}: the second line must be the header rule"
        roles = header[2:]
        assert sorted(roles) == sorted(ROLE_COLUMNS), f"{heading}: unexpected columns {roles}"
        for row in body:
            match = re.fullmatch(r"`(\w+)`", row[1])
            assert match, f"{heading}: {row[1]!r} is not a `service` name"
            for role, value in zip(roles, row[2:], strict=True):
                assert value in ("yes", "no"), f"{heading}: {row[1]} / {role}: {value!r}"
                cells.append(Cell(scope, match.group(1), ROLE_COLUMNS[role], value == "yes"))
    return cells


MATRIX = read_matrix()
ACCOUNT_MATRIX = read_matrix(ACCOUNT_TABLES)


# --- how to try each service: what the cycle needs first, then the call ---------------------


def _nothing(target: Cast) -> None:
    return None


def _signoff_ready(target: Cast) -> None:
    target.agree_boundaries()
    target.disclose_budget()
    target.acknowledge(target.representative)


def _dissent_open(target: Cast) -> None:
    services.signoff_record(
        actor=target.representative,
        cycle_id=target.id,
        dissent="We were not shown the budget before the meeting.",
    )


def _framework_passed(target: Cast) -> None:
    target.open_framework_gate()
    target.advance()


def _input_given(target: Cast) -> None:
    services.input_submit(
        actor=target.representative,
        cycle_id=target.id,
        text="Fewer, bigger hubs mean longer bus rides.",
    )


def _agreement_on_record(target: Cast) -> None:
    target.record_agreement()


CONSULTATION = {
    "title": "Day services: six hubs or eight?",
    "document": "The options paper, on the council's website.",
    "opens_on": date(2026, 3, 2),
    "closes_on": date(2026, 5, 25),
    "equality_kind": "assessment",
    "equality_reference": "EIA-2026-014",
}


def _consultation_opened(target: Cast) -> None:
    duty_services.consultation_open(actor=target.lead, cycle_id=target.id, **CONSULTATION)


PRESSURE = {
    "category": "political-control",
    "title": "The new council has promised no council tax rise",
    "implication": "There is less money, so some options may no longer be affordable.",
}


def _pressure_withheld(target: Cast) -> None:
    duty_services.pressure_record(
        actor=target.lead,
        cycle_id=target.id,
        **PRESSURE,
        disclosed=False,
        withheld_reason="The budget is not yet published.",
    )


def _group_added(target: Cast) -> None:
    duty_services.coverage_group_add(
        actor=target.lead, cycle_id=target.id, name="Young carers", kind="easy-to-overlook"
    )


def self_assessment_scores() -> list[dict[str, Any]]:
    """A score of 2 for every stage of the tool: no evidence needed."""
    from cycle.self_assessment import DIMENSION_KEYS

    return [{"dimension": key, "score": 2} for key in DIMENSION_KEYS]


def _ask_for_signoff(actor: Any, target: Cast) -> None:
    """The cast's cycle runs no process, so a permitted request finds nobody to ask (a conflict,
    checked after who is asking); a refused one is Forbidden like any other."""
    with contextlib.suppress(Conflict):
        services.signoff_request(actor=actor, cycle_id=target.id)


Try = tuple[Callable[[Cast], Any], Callable[[Any, Cast], Any]]

TRIES: dict[str, Try] = {
    "cycle_create": (
        _nothing,
        lambda actor, t: services.cycle_create(
            actor=actor, title="Carers' breaks", organisation=t.organisation, lead=t.lead
        ),
    ),
    "involvement_lead_name": (
        _nothing,
        lambda actor, t: services.involvement_lead_name(
            actor=actor, cycle_id=t.id, lead=t.colleague
        ),
    ),
    "boundaries_agree": (
        _nothing,
        lambda actor, t: services.boundaries_agree(
            actor=actor,
            cycle_id=t.id,
            purpose="Agree how the panel works.",
            user_role="Write the working agreement with us.",
            influence="co-decide",
            decision_maker="The joint commissioning board.",
        ),
    ),
    "budget_disclose": (
        _nothing,
        lambda actor, t: services.budget_disclose(actor=actor, cycle_id=t.id, amount="900000"),
    ),
    "boundaries_acknowledge": (
        lambda t: t.agree_boundaries() and None,
        lambda actor, t: services.boundaries_acknowledge(actor=actor, cycle_id=t.id),
    ),
    "signoff_record": (
        _signoff_ready,
        lambda actor, t: services.signoff_record(actor=actor, cycle_id=t.id),
    ),
    "dissent_withdraw": (
        _dissent_open,
        lambda actor, t: services.dissent_withdraw(actor=actor, cycle_id=t.id),
    ),
    "input_submit": (
        _nothing,
        lambda actor, t: services.input_submit(
            actor=actor, cycle_id=t.id, text="Keep a hub open on Saturdays for people in work."
        ),
    ),
    "input_respond": (
        _input_given,
        lambda actor, t: services.input_respond(
            actor=actor,
            cycle_id=t.id,
            input_id=t.cycle.inputs.get().pk,
            kind="we-did",
            text="The specification asks for Saturday opening at two hubs.",
        ),
    ),
    "signoff_request": (_nothing, lambda actor, t: _ask_for_signoff(actor, t)),
    "stage_advance": (
        lambda t: t.open_framework_gate(),
        lambda actor, t: services.stage_advance(actor=actor, cycle_id=t.id),
    ),
    "stage_reopen": (
        _framework_passed,
        lambda actor, t: services.stage_reopen(
            actor=actor, cycle_id=t.id, stage_key="framework", reason="A new carers' group formed."
        ),
    ),
    "gate_override": (
        _signoff_ready,
        lambda actor, t: services.gate_override(
            actor=actor, cycle_id=t.id, reason="The panel asked to start before the summer break."
        ),
    ),
    "decision_record": (
        _nothing,
        lambda actor, t: services.decision_record(
            actor=actor, cycle_id=t.id, summary="Re-commission day services as six hubs."
        ),
    ),
    "membership_add": (
        _nothing,
        lambda actor, t: role_services.membership_add(
            actor=actor, cycle_id=t.id, member=t.newcomer, represents="young carers"
        ),
    ),
    "membership_remove": (
        _nothing,
        lambda actor, t: role_services.membership_remove(
            actor=actor, cycle_id=t.id, member=t.second_representative, reason="Moved away."
        ),
    ),
    "membership_leave": (
        _nothing,
        lambda actor, t: role_services.membership_leave(
            actor=actor, cycle_id=t.id, reason="No longer able to attend."
        ),
    ),
    "membership_set_tender_panel": (
        _nothing,
        lambda actor, t: role_services.membership_set_tender_panel(
            actor=actor, cycle_id=t.id, member=t.second_representative, tender_panel=False
        ),
    ),
    "agreement_record": (
        _nothing,
        lambda actor, t: role_services.agreement_record(actor=actor, cycle_id=t.id, **AGREEMENT),
    ),
    "agreement_sign": (
        _agreement_on_record,
        lambda actor, t: role_services.agreement_sign(actor=actor, cycle_id=t.id),
    ),
    "conflict_declare": (
        _nothing,
        lambda actor, t: role_services.conflict_declare(
            actor=actor, cycle_id=t.id, interest="none"
        ),
    ),
    "duty_assess": (
        _nothing,
        lambda actor, t: duty_services.duty_assess(
            actor=actor,
            cycle_id=t.id,
            proposal="Re-commission day services as six hubs.",
            body_type="icb",
            activity="planning",
        ),
    ),
    "proposal_change_record": (
        _nothing,
        lambda actor, t: duty_services.proposal_change_record(
            actor=actor, cycle_id=t.id, summary="Five hubs, not six."
        ),
    ),
    "consultation_open": (
        _nothing,
        lambda actor, t: duty_services.consultation_open(
            actor=actor, cycle_id=t.id, **CONSULTATION
        ),
    ),
    "consultation_consider": (
        _consultation_opened,
        lambda actor, t: duty_services.consultation_consider(
            actor=actor,
            cycle_id=t.id,
            consultation_id=t.cycle.consultations.get().pk,
            responses=212,
            analysis="Most people want a hub within one bus ride.",
            statement="The specification now asks for hubs on the main bus routes.",
        ),
    ),
    "pressure_record": (
        _nothing,
        lambda actor, t: duty_services.pressure_record(actor=actor, cycle_id=t.id, **PRESSURE),
    ),
    "pressure_disclose": (
        _pressure_withheld,
        lambda actor, t: duty_services.pressure_disclose(
            actor=actor, cycle_id=t.id, pressure_id=t.cycle.external_pressures.get().pk
        ),
    ),
    "self_assessment_record": (
        _nothing,
        lambda actor, t: duty_services.self_assessment_record(
            actor=actor, organisation_id=t.organisation.pk, scores=self_assessment_scores()
        ),
    ),
    "coverage_group_add": (
        _nothing,
        lambda actor, t: duty_services.coverage_group_add(
            actor=actor, cycle_id=t.id, name="Travellers", kind="easy-to-overlook"
        ),
    ),
    "coverage_record": (
        _group_added,
        lambda actor, t: duty_services.coverage_record(
            actor=actor,
            cycle_id=t.id,
            group_id=t.cycle.coverage_groups.get().pk,
            member_ids=[t.representative.pk],
        ),
    ),
}


def _added_to_staff(target: Cast) -> None:
    accounts.staff_add(
        actor=target.administrator, organisation_id=target.organisation.pk, user=target.newcomer
    )


def _seated_on_board(target: Cast) -> None:
    accounts.board_member_add(
        actor=target.administrator, board_id=target.board.pk, user=target.newcomer
    )


def _deactivated(target: Cast) -> None:
    accounts.account_deactivate(actor=target.administrator, user=target.newcomer)


def _given_a_role(target: Cast) -> None:
    accounts.role_grant(actor=target.administrator, user=target.newcomer, role="Commissioner")


def _overseeing(target: Cast) -> None:
    accounts.board_oversight_add(
        actor=target.administrator, board_id=target.board.pk, organisation_id=target.elsewhere.pk
    )


ACCOUNT_TRIES: dict[str, Try] = {
    "account_create": (
        _nothing,
        lambda actor, t: accounts.account_create(actor=actor, username="new.starter"),
    ),
    "account_deactivate": (
        _nothing,
        lambda actor, t: accounts.account_deactivate(actor=actor, user=t.newcomer),
    ),
    "account_activate": (
        _deactivated,
        lambda actor, t: accounts.account_activate(actor=actor, user=t.newcomer),
    ),
    "account_set_password": (
        _nothing,
        lambda actor, t: accounts.account_set_password(
            actor=actor, user=t.newcomer, password="someone-elses-now"
        ),
    ),
    "role_grant": (
        _nothing,
        lambda actor, t: accounts.role_grant(actor=actor, user=t.newcomer, role="Commissioner"),
    ),
    "role_revoke": (
        _given_a_role,
        lambda actor, t: accounts.role_revoke(actor=actor, user=t.newcomer, role="Commissioner"),
    ),
    "staff_add": (
        _nothing,
        lambda actor, t: accounts.staff_add(
            actor=actor, organisation_id=t.organisation.pk, user=t.newcomer
        ),
    ),
    "staff_remove": (
        _added_to_staff,
        lambda actor, t: accounts.staff_remove(
            actor=actor, organisation_id=t.organisation.pk, user=t.newcomer
        ),
    ),
    "board_member_add": (
        _nothing,
        lambda actor, t: accounts.board_member_add(
            actor=actor, board_id=t.board.pk, user=t.newcomer
        ),
    ),
    "board_member_remove": (
        _seated_on_board,
        lambda actor, t: accounts.board_member_remove(
            actor=actor, board_id=t.board.pk, user=t.newcomer
        ),
    ),
    "board_oversight_add": (
        _nothing,
        lambda actor, t: accounts.board_oversight_add(
            actor=actor, board_id=t.board.pk, organisation_id=t.elsewhere.pk
        ),
    ),
    "board_oversight_remove": (
        _overseeing,
        lambda actor, t: accounts.board_oversight_remove(
            actor=actor, board_id=t.board.pk, organisation_id=t.elsewhere.pk
        ),
    ),
}


def _ledger_counts() -> tuple[int, int]:
    done = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DONE).count()
    refused = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED).count()
    return done, refused


def try_service(
    tries: Mapping[str, Try], service: str, actor: Any, target: Cast
) -> tuple[bool, int]:
    """Prepare the target, call the service as the actor: whether it was refused, and how many
    events it wrote done. A refusal writes one refused event and nothing else; a call that goes
    through writes no refused event."""
    prepare, call = tries[service]
    prepare(target)
    done_before, refused_before = _ledger_counts()
    try:
        call(actor, target)
    except Forbidden:
        assert _ledger_counts() == (done_before, refused_before + 1), "one refused event only"
        return True, 0
    done_after, refused_after = _ledger_counts()
    assert refused_after == refused_before
    return False, done_after - done_before


def _refused(service: str, actor: Any, target: Cast) -> bool:
    if service == VISIBILITY:
        return not selectors.cycles_visible_to(actor).filter(pk=target.id).exists()
    refused, _done = try_service({**TRIES, **ACCOUNT_TRIES}, service, actor, target)
    return refused


@pytest.fixture(scope="module")
def casts(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Cast, Cast]]:
    """Two organisations' casts, built once; each test runs in a savepoint rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_cast("north"), build_cast("south")
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_matrix_cell_holds(cell: Cell, casts: tuple[Cast, Cast]) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    actor = fresh(getattr(own, cell.role))

    refused = _refused(cell.service, actor, target)

    assert refused is not cell.allowed, (
        f"docs/permissions.md says {cell.role} {'may' if cell.allowed else 'may not'} "
        f"{cell.service} on {'their own' if cell.scope == 'own' else 'another'} cycle"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("cell", ACCOUNT_MATRIX, ids=[cell.id for cell in ACCOUNT_MATRIX])
def test_the_account_matrix_cell_holds(cell: Cell, casts: tuple[Cast, Cast]) -> None:
    own, _other = casts
    actor = fresh(getattr(own, cell.role))

    refused = _refused(cell.service, actor, own)

    assert refused is not cell.allowed, (
        f"docs/permissions.md says {cell.role} {'may' if cell.allowed else 'may not'} "
        f"{cell.service}"
    )


def _service_functions(*modules: Any) -> dict[str, Any]:
    return {
        name: function
        for module in modules or (services, role_services, duty_services)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and hasattr(function, "__wrapped__")
    }


def test_every_service_a_person_calls_has_a_row_in_both_tables() -> None:
    functions = _service_functions()
    acted = {name for name, f in functions.items() if "actor" in inspect.signature(f).parameters}
    for scope in TABLES:
        documented = {cell.service for cell in MATRIX if cell.scope == scope} - {VISIBILITY}
        assert documented == acted, f"{scope}: rows differ from the services"
    assert set(TRIES) == acted
    text = DOC.read_text()
    for name in set(functions) - acted:
        assert f"`{name}`" in text, f"system action {name} is not mentioned in the document"


def test_every_service_that_changes_access_has_a_row_in_the_accounts_table() -> None:
    documented = {cell.service for cell in ACCOUNT_MATRIX}
    assert documented == set(_service_functions(accounts)) == set(ACCOUNT_TRIES)
