"""The permission matrix of docs/permissions.md, tried cell by cell through the web pages and the
admin.

The same tables and preparations as ``tests/roles/test_permission_matrix.py``; each call is the
form a person would post. Through the web pages a "yes" goes ahead (the page sends them on, and
no refusal is on the ledger); a "no" changes nothing: on a cycle they may see, the service's
refusal is on the ledger (or the page offers no such choice), and on a cycle they may not see the
page is "not found" and nothing is written.

The admin is for the Administrator: nobody else is staff, so everyone else is sent to its sign-in
page, whatever they ask. To show the admin gives nobody more than the tables either, each person
is also made staff for the test: the admin's only ways to act on a cycle (seeing it, and moving it
on) and every page that changes access then agree with the tables too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import reverse

from cycle import selectors
from cycle.gates import waivable
from cycle.models import CommissioningCycle, Organisation
from roles import definitions
from roles.models import GovernanceBoard
from tests.factories import fresh
from tests.roles.cast import AGREEMENT, BOUNDARIES, Cast, build_cast
from tests.roles.test_permission_matrix import (
    ACCOUNT_MATRIX,
    ACCOUNT_TRIES,
    CONSULTATION,
    MATRIX,
    PRESSURE,
    TRIES,
    VISIBILITY,
    Cell,
    _ledger_counts,
    self_assessment_scores,
)

Form = Callable[[Any, Cast], tuple[str, dict[str, Any]]]
DUTY_QUESTIONS = (
    "affects_other_services",
    "affects_delivery",
    "affects_range",
    "already_involved",
    "substantial",
    "urgent_safety_risk",
)


def _cycle(name: str, t: Cast, *args: Any) -> str:
    return reverse(name, args=[t.id, *args])


def _override(actor: Any, t: Cast) -> tuple[str, dict[str, Any]]:
    codes = [item.code for item in selectors.gate_state(t.cycle).unmet if waivable(item.code)]
    return _cycle("web:governance-override", t), {
        "codes": codes,
        "reason": "The panel asked to start before the summer break.",
    }


FORMS: dict[str, Form] = {
    "cycle_create": lambda a, t: (
        reverse("web:cycle-create"),
        {"title": "Carers' breaks", "organisation": t.organisation.pk, "template_key": "default"},
    ),
    "involvement_lead_name": lambda a, t: (
        _cycle("web:involvement-lead", t),
        {"lead": t.involvement_lead.pk},
    ),
    "boundaries_agree": lambda a, t: (_cycle("web:boundaries-edit", t), BOUNDARIES),
    "budget_disclose": lambda a, t: (
        _cycle("web:budget-edit", t),
        {"choice": "amount", "amount": "900000"},
    ),
    "boundaries_acknowledge": lambda a, t: (_cycle("web:boundaries-acknowledge", t), {}),
    "signoff_record": lambda a, t: (_cycle("web:signoff", t), {"answer": "attest"}),
    "dissent_withdraw": lambda a, t: (_cycle("web:dissent-withdraw", t), {}),
    "input_submit": lambda a, t: (
        _cycle("web:input-new", t),
        {
            "text": "Keep a hub open on Saturdays for people in work.",
            "source": "representative",
            "method": "written",
        },
    ),
    "input_respond": lambda a, t: (
        _cycle("web:input-respond", t, t.cycle.inputs.get().pk),
        {"kind": "we-did", "text": "The specification asks for Saturday opening at two hubs."},
    ),
    "signoff_request": lambda a, t: (_cycle("web:signoff-request", t), {}),
    "stage_advance": lambda a, t: (_cycle("web:cycle", t), {}),
    "stage_reopen": lambda a, t: (
        _cycle("web:reopen", t),
        {"stage": "framework", "reason": "A new carers' group formed."},
    ),
    "gate_override": _override,
    "decision_record": lambda a, t: (
        _cycle("web:decision-record", t),
        {"summary": "Re-commission day services as six hubs."},
    ),
    "membership_add": lambda a, t: (
        _cycle("web:panel-add", t),
        {"member": t.newcomer.pk, "represents": "young carers", "tier": "reference-group"},
    ),
    "membership_remove": lambda a, t: (
        _cycle("web:panel-remove", t),
        {"member": t.second_representative.pk, "reason": "Moved away."},
    ),
    # Stepping down is taking oneself off the panel.
    "membership_leave": lambda a, t: (
        _cycle("web:panel-remove", t),
        {"member": a.pk, "reason": "No longer able to attend."},
    ),
    "membership_set_tender_panel": lambda a, t: (
        _cycle("web:panel-tender", t),
        {"member": t.second_representative.pk},
    ),
    "agreement_record": lambda a, t: (_cycle("web:agreement-edit", t), AGREEMENT),
    "agreement_sign": lambda a, t: (_cycle("web:agreement-sign", t), {}),
    "conflict_declare": lambda a, t: (_cycle("web:interests", t), {"interest": "none"}),
    "duty_assess": lambda a, t: (
        _cycle("web:duty-assess", t),
        {
            "proposal": "Re-commission day services as six hubs.",
            "body_type": "icb",
            "wording": "current",
            "activity": "planning",
            **dict.fromkeys(DUTY_QUESTIONS, "no"),
            "responsible": "yes",
        },
    ),
    "proposal_change_record": lambda a, t: (
        _cycle("web:duty-change", t),
        {"summary": "Five hubs, not six."},
    ),
    "consultation_open": lambda a, t: (
        _cycle("web:consultation-open", t),
        {**CONSULTATION, "opens_on": "02/03/2026", "closes_on": "25/05/2026"},
    ),
    "consultation_consider": lambda a, t: (
        _cycle("web:consultation-consider", t, t.cycle.consultations.get().pk),
        {"responses": "212", "analysis": "Hubs near buses.", "statement": "The spec says so."},
    ),
    "pressure_record": lambda a, t: (
        _cycle("web:pressure-record", t),
        {**PRESSURE, "disclosed": "yes"},
    ),
    "pressure_disclose": lambda a, t: (
        _cycle("web:pressure-disclose", t, t.cycle.external_pressures.get().pk),
        {},
    ),
    "self_assessment_record": lambda a, t: (
        reverse("web:governance-self-assessment-record", args=[t.organisation.pk]),
        {
            "assessed_on": "02/03/2026",
            **{f"{s['dimension']}-score": "2" for s in self_assessment_scores()},
        },
    ),
    "coverage_group_add": lambda a, t: (
        _cycle("web:coverage-add", t),
        {"name": "Travellers", "kind": "easy-to-overlook"},
    ),
    "coverage_record": lambda a, t: (
        _cycle("web:coverage-record", t, t.cycle.coverage_groups.get().pk),
        {"members": [str(t.representative.pk)]},
    ),
}

SEES = {(cell.scope, cell.role): cell.allowed for cell in MATRIX if cell.service == VISIBILITY}


@pytest.fixture(scope="module")
def casts(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Cast, Cast]]:
    """Two organisations' casts, built once; each test runs in a savepoint rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_cast("north"), build_cast("south")
        transaction.set_rollback(True)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(fresh(user))
    return client


def test_every_service_of_the_matrix_has_a_web_page() -> None:
    assert set(FORMS) == set(TRIES)


def _went_ahead(response: Any, service: str) -> bool:
    if service == "signoff_request" and response.status_code == 200:
        # The cast's cycle runs no process: a permitted request finds nobody to ask.
        return "process.not_running" in [
            error.code for error in response.context["form"].non_field_errors().as_data()
        ]
    return response.status_code == 302 and "/accounts/login/" not in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_matrix_cell_holds_through_the_web_pages(cell: Cell, casts: tuple[Cast, Cast]) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    actor = getattr(own, cell.role)
    client = signed_in(actor)

    if cell.service == VISIBILITY:
        response = client.get(reverse("web:cycle", args=[target.id]))
        assert response.status_code == (200 if cell.allowed else 404)
        return

    prepare, _ = TRIES[cell.service]
    prepare(target)
    before = _ledger_counts()
    url, data = FORMS[cell.service](fresh(actor), target)
    response = client.post(url, data)
    after = _ledger_counts()

    if cell.allowed:
        assert _went_ahead(response, cell.service), (response.status_code, response.content[:2000])
        assert after[1] == before[1], "no refusal on the ledger"
        return
    assert not _went_ahead(response, cell.service), response.status_code
    assert after[0] == before[0], "nothing done"
    if SEES[(cell.scope, cell.role)] or cell.service == "cycle_create":
        assert after[1] - before[1] <= 1, "at most the one refusal"
    else:
        assert response.status_code == 404
        assert after == before, "nothing written for a cycle the caller may not see"


# The admin


def _admin(name: str, *args: Any) -> str:
    return reverse(f"admin:{name}", args=args)


@pytest.mark.django_db
def test_only_the_administrator_is_let_into_the_admin(casts: tuple[Cast, Cast]) -> None:
    own, _other = casts
    for role in (
        "lead",
        "colleague",
        "involvement_lead",
        "representative",
        "decision_maker",
        "governor",
    ):
        response = signed_in(getattr(own, role)).get(_admin("index"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"], role
        assert not getattr(own, role).is_staff
    assert signed_in(own.administrator).get(_admin("index")).status_code == 200


def _account_form(user: Any, **changes: Any) -> dict[str, Any]:
    user = fresh(user)
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "roles": [group.pk for group in user.groups.all()],
        "_save": "Save",
    }
    if user.is_active:
        data["active"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _organisation_form(organisation: Organisation, staff: list[int]) -> dict[str, Any]:
    organisation = Organisation.objects.get(pk=organisation.pk)
    return {
        "name": organisation.name,
        "staff": staff,
        "bank_holidays": organisation.bank_holidays,
        "reminder_days": organisation.reminder_days,
        "escalate_to_lead_days": organisation.escalate_to_lead_days,
        "escalate_to_board_days": organisation.escalate_to_board_days,
    }


def _board_form(board: GovernanceBoard, **changes: Any) -> dict[str, Any]:
    board = GovernanceBoard.objects.get(pk=board.pk)
    data = {
        "name": board.name,
        "members": [user.pk for user in board.members.all()],
        "organisations": [org.pk for org in board.organisations.all()],
    }
    return {**data, **changes}


def _role(name: str) -> int:
    return Group.objects.get(name=name).pk


def _staff_of(t: Cast) -> list[int]:
    return list(Organisation.objects.get(pk=t.organisation.pk).staff.values_list("pk", flat=True))


ADMIN_FORMS: dict[str, Form] = {
    "account_create": lambda a, t: (
        _admin("auth_user_add"),
        {
            "username": "new.starter",
            "usable_password": "true",
            "password1": "a-first-pass-77",
            "password2": "a-first-pass-77",
        },
    ),
    "account_deactivate": lambda a, t: (
        _admin("auth_user_change", t.newcomer.pk),
        _account_form(t.newcomer, active=None),
    ),
    "account_activate": lambda a, t: (
        _admin("auth_user_change", t.newcomer.pk),
        _account_form(t.newcomer, active="on"),
    ),
    "account_set_password": lambda a, t: (
        _admin("auth_user_password_change", t.newcomer.pk),
        {"password1": "someone-elses-now-77", "password2": "someone-elses-now-77"},
    ),
    "role_grant": lambda a, t: (
        _admin("auth_user_change", t.newcomer.pk),
        _account_form(
            t.newcomer,
            roles=[_role(definitions.REPRESENTATIVE), _role(definitions.COMMISSIONER)],
        ),
    ),
    "role_revoke": lambda a, t: (
        _admin("auth_user_change", t.newcomer.pk),
        _account_form(t.newcomer, roles=[_role(definitions.REPRESENTATIVE)]),
    ),
    "staff_add": lambda a, t: (
        _admin("cycle_organisation_change", t.organisation.pk),
        _organisation_form(t.organisation, [*_staff_of(t), t.newcomer.pk]),
    ),
    "staff_remove": lambda a, t: (
        _admin("cycle_organisation_change", t.organisation.pk),
        _organisation_form(t.organisation, [pk for pk in _staff_of(t) if pk != t.newcomer.pk]),
    ),
    "board_member_add": lambda a, t: (
        _admin("roles_governanceboard_change", t.board.pk),
        _board_form(
            t.board, members=[*t.board.members.values_list("pk", flat=True), t.newcomer.pk]
        ),
    ),
    "board_member_remove": lambda a, t: (
        _admin("roles_governanceboard_change", t.board.pk),
        _board_form(
            t.board,
            members=list(t.board.members.exclude(pk=t.newcomer.pk).values_list("pk", flat=True)),
        ),
    ),
    "board_oversight_add": lambda a, t: (
        _admin("roles_governanceboard_change", t.board.pk),
        _board_form(
            t.board,
            organisations=[*t.board.organisations.values_list("pk", flat=True), t.elsewhere.pk],
        ),
    ),
    "board_oversight_remove": lambda a, t: (
        _admin("roles_governanceboard_change", t.board.pk),
        _board_form(
            t.board,
            organisations=list(
                t.board.organisations.exclude(pk=t.elsewhere.pk).values_list("pk", flat=True)
            ),
        ),
    ),
}


def test_every_service_that_changes_access_has_an_admin_page() -> None:
    assert set(ADMIN_FORMS) == set(ACCOUNT_TRIES)


def _as_staff(user: Any) -> Any:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return fresh(user)


@pytest.mark.django_db
@pytest.mark.parametrize("cell", ACCOUNT_MATRIX, ids=[cell.id for cell in ACCOUNT_MATRIX])
def test_the_account_matrix_cell_holds_through_the_admin(
    cell: Cell, casts: tuple[Cast, Cast]
) -> None:
    own, _other = casts
    actor = _as_staff(getattr(own, cell.role))
    prepare, _ = ACCOUNT_TRIES[cell.service]
    prepare(own)
    before = _ledger_counts()
    url, data = ADMIN_FORMS[cell.service](actor, own)

    response = signed_in(actor).post(url, data)
    after = _ledger_counts()

    if cell.allowed:
        assert response.status_code == 302, response.content[:3000]
        assert after == (before[0] + 1, before[1]), "one change on the ledger, no refusal"
        return
    assert after[0] == before[0], "nothing done"
    assert response.status_code == 403 or after[1] == before[1] + 1, response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cell",
    [cell for cell in MATRIX if cell.service in (VISIBILITY, "stage_advance")],
    ids=[cell.id for cell in MATRIX if cell.service in (VISIBILITY, "stage_advance")],
)
def test_the_matrix_cell_holds_through_the_admin(cell: Cell, casts: tuple[Cast, Cast]) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    actor = _as_staff(getattr(own, cell.role))
    client = signed_in(actor)

    if cell.service == VISIBILITY:
        listed = client.get(_admin("cycle_commissioningcycle_changelist"))
        shown = listed.status_code == 200 and target.id in {
            cycle.pk for cycle in listed.context["cl"].result_list
        }
        page = client.get(_admin("cycle_commissioningcycle_change", target.id))
        assert shown is cell.allowed
        assert (page.status_code == 200) is cell.allowed
        return

    TRIES["stage_advance"][0](target)
    before = _ledger_counts()
    client.post(
        _admin("cycle_commissioningcycle_changelist"),
        {"action": "advance_through_gate", "_selected_action": [target.id]},
    )
    after = _ledger_counts()

    moved = CommissioningCycle.objects.get(pk=target.id).current_stage != "framework"
    assert moved is cell.allowed
    if not cell.allowed:
        assert after[0] == before[0]
        assert after[1] - before[1] <= 1
