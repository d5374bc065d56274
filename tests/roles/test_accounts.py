"""Who may do what changes only through ``roles.accounts``, and every change is on the ledger.

Through the services and through the admin's pages: an administrator can neither make themselves
a superuser, nor give themselves a role, nor set someone else's password and sign in as them;
each change they may make writes one ledger event, and each refusal is coded and recorded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from cycle.errors import Forbidden
from cycle.models import AuditEvent, Organisation
from cycle.scenarios import DemoAccount, ensure_demo_account
from roles import accounts, definitions
from roles.models import GovernanceBoard
from tests.factories import OrganisationFactory, UserFactory, fresh, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator() -> User:
    admin = user_with_role(definitions.ADMINISTRATOR, "sam.carter", is_staff=True)
    return fresh(admin)


@pytest.fixture
def operator() -> User:
    return User.objects.create_superuser("operator", "operator@example.org", "pw")


def events(action: str | None = None, outcome: str = AuditEvent.Outcome.DONE) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(outcome=outcome)
    if action is not None:
        found = found.filter(action=action)
    return list(found.order_by("seq"))


def refused() -> list[tuple[str, str]]:
    return [
        (event.action, json.loads(event.payload)["code"])
        for event in events(outcome=AuditEvent.Outcome.REFUSED)
    ]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_url(name: str, *args: Any) -> str:
    return reverse(f"admin:{name}", args=args)


# The services


def test_granting_a_role_is_one_ledger_event_and_the_administrator_role_makes_staff(
    administrator: User,
) -> None:
    person = UserFactory(username="new.starter")

    accounts.role_grant(actor=administrator, user=person, role=definitions.COMMISSIONER)
    accounts.role_grant(actor=administrator, user=person, role=definitions.ADMINISTRATOR)
    staff_after_grant = fresh(person).is_staff
    accounts.role_revoke(actor=administrator, user=person, role=definitions.ADMINISTRATOR)

    person = fresh(person)
    assert staff_after_grant is True
    assert person.is_staff is False
    assert list(person.groups.values_list("name", flat=True)) == [definitions.COMMISSIONER]
    assert [(e.action, json.loads(e.payload)["role"]) for e in events()] == [
        ("role.granted", definitions.COMMISSIONER),
        ("role.granted", definitions.ADMINISTRATOR),
        ("role.revoked", definitions.ADMINISTRATOR),
    ]
    assert {e.actor_id for e in events()} == {administrator.pk}


def test_staff_boards_and_activation_are_each_one_ledger_event(administrator: User) -> None:
    person = UserFactory(username="d.achebe")
    organisation = OrganisationFactory(name="Northshire Council")
    board = GovernanceBoard.objects.create(name="Northshire audit committee")

    accounts.staff_add(actor=administrator, organisation_id=organisation.pk, user=person)
    accounts.staff_remove(actor=administrator, organisation_id=organisation.pk, user=person)
    accounts.board_member_add(actor=administrator, board_id=board.pk, user=person)
    accounts.board_oversight_add(
        actor=administrator, board_id=board.pk, organisation_id=organisation.pk
    )
    accounts.board_member_remove(actor=administrator, board_id=board.pk, user=person)
    accounts.board_oversight_remove(
        actor=administrator, board_id=board.pk, organisation_id=organisation.pk
    )
    accounts.account_deactivate(actor=administrator, user=person, reason="Left the council.")
    accounts.account_activate(actor=administrator, user=person)
    accounts.account_activate(actor=administrator, user=person)  # no change, no event

    assert [e.action for e in events()] == [
        "staff.added",
        "staff.removed",
        "board.member_added",
        "board.oversight_added",
        "board.member_removed",
        "board.oversight_removed",
        "account.deactivated",
        "account.activated",
    ]
    assert not organisation.staff.exists() and not board.members.exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda a, me: accounts.role_grant(actor=a, user=me, role="Commissioner"), "own_access"),
        (
            lambda a, me: accounts.staff_add(
                actor=a, organisation_id=OrganisationFactory().pk, user=me
            ),
            "own_access",
        ),
        (
            lambda a, me: accounts.board_member_add(
                actor=a, board_id=GovernanceBoard.objects.create(name="B").pk, user=me
            ),
            "own_access",
        ),
        (lambda a, me: accounts.account_deactivate(actor=a, user=me), "own_access"),
    ],
    ids=["role", "staff", "board", "activation"],
)
def test_nobody_changes_their_own_access(administrator: User, change: Any, code: str) -> None:
    with pytest.raises(Forbidden) as refusal:
        change(administrator, administrator)

    assert refusal.value.code == f"forbidden.{code}"
    assert len(refused()) == 1 and refused()[0][1] == f"forbidden.{code}"
    assert events() == []


def test_someone_without_the_administrator_role_changes_nobodys_access() -> None:
    commissioner = fresh(user_with_role(definitions.COMMISSIONER, "gillian.marsh"))
    person = UserFactory(username="p.dobson")

    with pytest.raises(Forbidden) as refusal:
        accounts.role_grant(actor=commissioner, user=person, role=definitions.COMMISSIONER)

    assert refusal.value.code == "forbidden.manage_access"
    assert refused() == [("role_grant", "forbidden.manage_access")]
    assert not person.groups.exists()


def test_only_a_superuser_sets_another_accounts_password(
    administrator: User, operator: User
) -> None:
    person = UserFactory(username="catherine.holt")

    with pytest.raises(Forbidden) as refusal:
        accounts.account_set_password(actor=administrator, user=person, password="taken-over")
    accounts.account_set_password(actor=administrator, user=administrator, password="my-own-new")
    accounts.account_set_password(actor=operator, user=person, password="reset-by-operator")

    assert refusal.value.code == "forbidden.password_of_another"
    assert not fresh(person).check_password("taken-over")
    assert fresh(person).check_password("reset-by-operator")
    assert [(e.action, e.actor_name) for e in events()] == [
        ("account.password_set", "sam.carter"),
        ("account.password_set", "operator"),
    ]
    assert all("reset-by-operator" not in e.payload for e in AuditEvent.objects.all())


def test_an_administrator_cannot_change_an_operator_account(
    administrator: User, operator: User
) -> None:
    with pytest.raises(Forbidden) as refusal:
        accounts.account_deactivate(actor=administrator, user=operator)

    assert refusal.value.code == "forbidden.superuser_account"
    assert fresh(operator).is_active


# The admin's pages


def account_form(user: User, **changes: Any) -> dict[str, Any]:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "active": "on" if user.is_active else "",
        "roles": [group.pk for group in user.groups.all()],
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_an_administrator_cannot_make_themselves_a_superuser_in_the_admin(
    administrator: User,
) -> None:
    client = signed_in(administrator)
    url = admin_url("auth_user_change", administrator.pk)

    page = client.get(url)
    client.post(
        url,
        account_form(
            administrator,
            is_superuser="on",
            is_staff="on",
            groups=[Group.objects.get(name=definitions.COMMISSIONER).pk],
            user_permissions=[Permission.objects.get(codename="override_gate").pk],
            roles=[Group.objects.get(name=definitions.GOVERNANCE).pk],
        ),
    )

    administrator = fresh(administrator)
    assert page.status_code == 200
    for field in ("is_superuser", "groups", "user_permissions", "roles"):
        assert f'name="{field}"' not in page.text, field
    assert not administrator.is_superuser
    assert list(administrator.groups.values_list("name", flat=True)) == [definitions.ADMINISTRATOR]
    assert not administrator.user_permissions.exists()
    assert not administrator.has_perm("cycle.override_gate")


def test_an_administrator_cannot_set_another_accounts_password_in_the_admin(
    administrator: User,
) -> None:
    person = UserFactory(username="catherine.holt")
    client = signed_in(administrator)
    url = admin_url("auth_user_password_change", person.pk)
    new = {"password1": "i-am-catherine-now", "password2": "i-am-catherine-now"}

    assert client.get(url).status_code == 403
    assert client.post(url, {**new, "usable_password": "true"}).status_code == 403
    assert not fresh(person).check_password("i-am-catherine-now")
    page = client.get(admin_url("auth_user_change", person.pk)).text
    own_page = client.get(admin_url("auth_user_change", administrator.pk)).text
    assert "../password/" not in page
    assert "../password/" in own_page


def test_a_superuser_sets_a_password_in_the_admin_and_it_is_on_the_ledger(
    operator: User,
) -> None:
    person = UserFactory(username="catherine.holt")
    url = admin_url("auth_user_password_change", person.pk)

    response = signed_in(operator).post(
        url, {"password1": "a-long-new-pass-77", "password2": "a-long-new-pass-77"}
    )

    assert response.status_code == 302
    assert fresh(person).check_password("a-long-new-pass-77")
    assert [(e.action, e.actor_name) for e in events()] == [("account.password_set", "operator")]


def test_roles_and_activation_changed_in_the_admin_go_through_the_services(
    administrator: User,
) -> None:
    person = user_with_role(definitions.REPRESENTATIVE, "pauline.dobson")
    commissioner = Group.objects.get(name=definitions.COMMISSIONER)

    response = signed_in(administrator).post(
        admin_url("auth_user_change", person.pk),
        account_form(person, roles=[commissioner.pk], active=""),
    )

    person = fresh(person)
    assert response.status_code == 302
    assert list(person.groups.values_list("name", flat=True)) == [definitions.COMMISSIONER]
    assert not person.is_active
    assert [e.action for e in events()] == ["account.deactivated", "role.granted", "role.revoked"]


def test_staff_and_board_members_changed_in_the_admin_go_through_the_services(
    administrator: User,
) -> None:
    person = UserFactory(username="d.achebe")
    organisation = OrganisationFactory(name="Northshire Council")
    board = GovernanceBoard.objects.create(name="Northshire audit committee")
    client = signed_in(administrator)

    client.post(
        admin_url("cycle_organisation_change", organisation.pk),
        {
            "name": organisation.name,
            "staff": [person.pk],
            "bank_holidays": organisation.bank_holidays,
            "reminder_days": organisation.reminder_days,
            "escalate_to_lead_days": organisation.escalate_to_lead_days,
            "escalate_to_board_days": organisation.escalate_to_board_days,
        },
    )
    client.post(
        admin_url("roles_governanceboard_change", board.pk),
        {"name": board.name, "members": [person.pk], "organisations": [organisation.pk]},
    )
    client.post(
        admin_url("roles_governanceboard_change", board.pk),
        {
            "name": board.name,
            "members": [person.pk, administrator.pk],
            "organisations": [organisation.pk],
        },
    )

    assert list(Organisation.objects.get(pk=organisation.pk).staff.all()) == [person]
    assert list(board.members.all()) == [person]
    assert [e.action for e in events()] == [
        "staff.added",
        "board.member_added",
        "board.oversight_added",
    ]
    assert refused() == [("board_member_add", "forbidden.own_access")]


def test_an_administrator_cannot_open_an_operator_account_nor_delete_any(
    administrator: User, operator: User
) -> None:
    client = signed_in(administrator)

    response = client.post(
        admin_url("auth_user_change", operator.pk), account_form(operator, active="")
    )
    deleted = client.post(admin_url("auth_user_delete", administrator.pk), {"post": "yes"})

    assert response.status_code == 403
    assert deleted.status_code == 403
    assert fresh(operator).is_active


def test_role_groups_are_read_only_in_the_admin(operator: User) -> None:
    group = Group.objects.get(name=definitions.REPRESENTATIVE)

    response = signed_in(operator).post(
        admin_url("auth_group_change", group.pk),
        {"name": group.name, "permissions": [Permission.objects.get(codename="override_gate").pk]},
    )

    assert response.status_code == 403
    assert not group.permissions.filter(codename="override_gate").exists()


# The demo accounts


@pytest.mark.parametrize(
    ("role", "staff"),
    [(key, key == "administrator") for key in definitions.load_roles()],
)
def test_only_the_administrator_demo_account_is_staff_and_none_is_a_superuser(
    role: str, staff: bool
) -> None:
    UserFactory(username=f"demo-{role}", is_staff=True, is_superuser=True)
    account = DemoAccount(role=role, username=f"demo-{role}", password="demo", name="Demo Person")

    user = ensure_demo_account(account)

    assert (user.is_staff, user.is_superuser) == (staff, False)


def test_an_organisations_calendar_and_reminder_days_are_set_in_the_admin_in_order(
    administrator: User,
) -> None:
    organisation = OrganisationFactory(name="Highland Council")
    client = signed_in(administrator)
    form = {"name": organisation.name, "staff": [], "bank_holidays": "scotland"}

    refused = client.post(
        admin_url("cycle_organisation_change", organisation.pk),
        {**form, "reminder_days": 5, "escalate_to_lead_days": 5, "escalate_to_board_days": 4},
    )
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "__all__": [
            "Remind the member after at least 1 working day, tell the involvement lead later "
            "than that, and tell the governance board later still."
        ]
    }
    organisation.refresh_from_db()
    assert organisation.bank_holidays == "england-and-wales"

    client.post(
        admin_url("cycle_organisation_change", organisation.pk),
        {**form, "reminder_days": 2, "escalate_to_lead_days": 4, "escalate_to_board_days": 8},
    )
    organisation.refresh_from_db()
    assert (organisation.bank_holidays, organisation.reminder_days) == ("scotland", 2)
    assert (organisation.escalate_to_lead_days, organisation.escalate_to_board_days) == (4, 8)
