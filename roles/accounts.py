"""Who may do what, changed only here: accounts, role groups, staff and governance boards.

Each change of access is one service that locks the row it changes, checks who is asking,
validates, writes and appends one ledger event; a refusal is a coded ``Forbidden`` that is on the
ledger too. The admin, the command line and the tests call these; nothing else adds a user to a
role group, an organisation's staff or a governance board, or activates or deactivates an account.

Rules every service here keeps, whoever asks:

- an administrator (``auth.change_user``, ``cycle.change_organisation``,
  ``roles.change_governanceboard``, granted by the Administrator role) or a superuser may ask;
- nobody changes their own access (``forbidden.own_access``): an administrator cannot make
  themselves a commissioner, join a board or an organisation's staff, or switch their own account;
- a superuser's account is changed by a superuser only (``forbidden.superuser_account``). A
  superuser is an operator account made with ``manage.py createsuperuser``; no service makes one,
  and no role is one;
- someone else's password is set by a superuser only (``forbidden.password_of_another``);
  everyone may set their own. The password itself is never on the ledger;
- the Administrator role is what lets an account into the admin: granting it makes the account
  staff, revoking it makes it staff no more. No other role is staff.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from cycle import ledger
from cycle.actions import LedgerAction
from cycle.errors import Conflict, Forbidden, InvalidRequest, NotFound
from cycle.i18n import gettext_lazy as _
from cycle.models import Organisation
from cycle.service_support import service

from . import definitions
from .models import GovernanceBoard

ACCOUNTS_PERM = "auth.change_user"
CREATE_ACCOUNT_PERM = "auth.add_user"
STAFF_PERM = "cycle.change_organisation"
BOARD_PERM = "roles.change_governanceboard"

_WHO_MAY: dict[str, str] = {
    ACCOUNTS_PERM: _("Only an administrator can change user accounts and their roles."),
    CREATE_ACCOUNT_PERM: _("Only an administrator can create user accounts."),
    STAFF_PERM: _("Only an administrator can change who works for an organisation."),
    BOARD_PERM: _(
        "Only an administrator can change who sits on a governance board and what it oversees."
    ),
}


def _require(actor: Any, permission: str) -> None:
    if (
        actor is None
        or not actor.is_authenticated
        or not actor.is_active
        or not actor.has_perm(permission)
    ):
        raise Forbidden(_WHO_MAY[permission], code="forbidden.manage_access")


def _require_other(actor: Any, user: Any) -> None:
    """Nobody changes their own access; only a superuser changes a superuser's account."""
    if user.pk == actor.pk:
        raise Forbidden(
            _(
                "Nobody can change their own access: another administrator must do it.",
            ),
            code="forbidden.own_access",
        )
    if user.is_superuser and not actor.is_superuser:
        raise Forbidden(
            _(
                "%(name)s is an operator (superuser) account, which only a superuser can change.",
                name=user.get_username(),
            ),
            code="forbidden.superuser_account",
        )


def _lock_user(user: Any) -> Any:
    found = get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
    if found is None:
        raise NotFound(
            _(
                "There is no user account %(pk)s.",
                pk=user.pk,
            ),
            code="user.not_found",
        )
    return found


def _lock_organisation(pk: int) -> Organisation:
    found = Organisation.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(
            _(
                "There is no organisation %(pk)s.",
                pk=pk,
            ),
            code="organisation.not_found",
        )
    return found


def _lock_board(pk: int) -> GovernanceBoard:
    found = GovernanceBoard.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(
            _(
                "There is no governance board %(pk)s.",
                pk=pk,
            ),
            code="board.not_found",
        )
    return found


def _role_group(role: str) -> Group:
    names = {spec["name"] for spec in definitions.load_roles().values()}
    if role not in names:
        raise InvalidRequest(
            _(
                "%(role)s is not a role; the roles are: %(roles)s.",
                role=repr(role),
                roles=", ".join(sorted(names)),
            ),
            code="invalid.role",
        )
    return Group.objects.get(name=role)


def _account(user: Any) -> dict[str, Any]:
    return {"user": user.get_username()}


def _set_membership(
    actor: Any,
    members: Any,
    user: Any,
    *,
    present: bool,
    action: LedgerAction,
    obj: Any,
    payload: dict[str, Any],
) -> None:
    """Put ``user`` in or out of ``members`` (a many-to-many manager) and record it, unless
    they already are where they are asked to be: then nothing changes and nothing is recorded."""
    if members.filter(pk=user.pk).exists() == present:
        return
    (members.add if present else members.remove)(user)
    ledger.append(actor=actor, action=action, obj=obj, payload={**_account(user), **payload})


# Accounts


@service(LedgerAction.ACCOUNT_CREATED)
def account_create(
    *,
    actor: Any,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
) -> Any:
    """Create an account with no role: it can sign in (with ``password``) but do nothing yet.

    Without a password the account cannot sign in until its owner is given one.
    """
    _require(actor, CREATE_ACCOUNT_PERM)
    user_model = get_user_model()
    username = (username or "").strip()
    if not username:
        raise InvalidRequest(
            _(
                "An account needs a username.",
            ),
            code="invalid.username",
        )
    if len(username) > 150:
        raise InvalidRequest(
            _(
                "A username must be at most 150 characters.",
            ),
            code="invalid.too_long",
        )
    if user_model._default_manager.filter(username=username).exists():
        raise Conflict(
            _(
                "There is already an account %(name)s.",
                name=username,
            ),
            code="account.exists",
        )
    user = user_model(
        username=username,
        email=email.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    ledger.append(
        actor=actor,
        action=LedgerAction.ACCOUNT_CREATED,
        obj=user,
        payload={**_account(user), "email": user.email, "password_set": bool(password)},
    )
    return user


@service(LedgerAction.ACCOUNT_PASSWORD_SET)
def account_set_password(*, actor: Any, user: Any, password: str | None) -> Any:
    """Set an account's password: one's own, or as a superuser anyone's. Never on the ledger.

    ``None`` switches signing in with a password off for the account.
    """
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise Forbidden(
            _(
                "Sign in to change a password.",
            ),
            code="forbidden.manage_access",
        )
    if user.pk != actor.pk and not actor.is_superuser:
        raise Forbidden(
            _(
                "Only the account's owner, or an operator (superuser), can set its password: "
                "nobody may sign in as someone else.",
            ),
            code="forbidden.password_of_another",
        )
    if password is not None and not password:
        raise InvalidRequest(
            _(
                "Give the new password.",
            ),
            code="invalid.password",
        )
    user = _lock_user(user)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    ledger.append(
        actor=actor,
        action=LedgerAction.ACCOUNT_PASSWORD_SET,
        obj=user,
        payload={**_account(user), "own": user.pk == actor.pk, "usable": password is not None},
    )
    return user


def _set_active(actor: Any, user: Any, active: bool, reason: str) -> Any:
    _require(actor, ACCOUNTS_PERM)
    _require_other(actor, user)
    user = _lock_user(user)
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    ledger.append(
        actor=actor,
        action=LedgerAction.ACCOUNT_ACTIVATED if active else LedgerAction.ACCOUNT_DEACTIVATED,
        obj=user,
        payload={**_account(user), "reason": reason.strip()},
    )
    return user


@service(LedgerAction.ACCOUNT_ACTIVATED)
def account_activate(*, actor: Any, user: Any, reason: str = "") -> Any:
    """Let an account sign in again."""
    return _set_active(actor, user, True, reason)


@service(LedgerAction.ACCOUNT_DEACTIVATED)
def account_deactivate(*, actor: Any, user: Any, reason: str = "") -> Any:
    """Stop an account signing in or acting, at once; its records stay as they are."""
    return _set_active(actor, user, False, reason)


# Role groups


@service(LedgerAction.ROLE_GRANTED)
def role_grant(*, actor: Any, user: Any, role: str) -> Any:
    """Give an account a role (a group of ``fixtures/roles.json``); the Administrator role makes
    it staff, so that it may sign in to the admin."""
    _require(actor, ACCOUNTS_PERM)
    _require_other(actor, user)
    group = _role_group(role)
    user = _lock_user(user)
    if user.groups.filter(pk=group.pk).exists():
        return user
    user.groups.add(group)
    if role == definitions.ADMINISTRATOR and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    ledger.append(
        actor=actor,
        action=LedgerAction.ROLE_GRANTED,
        obj=user,
        payload={**_account(user), "role": role, "staff": user.is_staff},
    )
    return user


@service(LedgerAction.ROLE_REVOKED)
def role_revoke(*, actor: Any, user: Any, role: str) -> Any:
    """Take a role away from an account; without the Administrator role it is staff no more."""
    _require(actor, ACCOUNTS_PERM)
    _require_other(actor, user)
    group = _role_group(role)
    user = _lock_user(user)
    if not user.groups.filter(pk=group.pk).exists():
        return user
    user.groups.remove(group)
    if role == definitions.ADMINISTRATOR and user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    ledger.append(
        actor=actor,
        action=LedgerAction.ROLE_REVOKED,
        obj=user,
        payload={**_account(user), "role": role, "staff": user.is_staff},
    )
    return user


# An organisation's staff


@service(LedgerAction.STAFF_ADDED)
def staff_add(*, actor: Any, organisation_id: int, user: Any) -> Organisation:
    """Put someone on an organisation's staff: its commissioners and decision-makers act for it.

    Someone on the staff can no longer sit on the user panel of the organisation's cycles.
    """
    _require(actor, STAFF_PERM)
    _require_other(actor, user)
    organisation = _lock_organisation(organisation_id)
    _set_membership(
        actor,
        organisation.staff,
        user,
        present=True,
        action=LedgerAction.STAFF_ADDED,
        obj=organisation,
        payload={"organisation": organisation.name},
    )
    return organisation


@service(LedgerAction.STAFF_REMOVED)
def staff_remove(*, actor: Any, organisation_id: int, user: Any) -> Organisation:
    """Take someone off an organisation's staff."""
    _require(actor, STAFF_PERM)
    _require_other(actor, user)
    organisation = _lock_organisation(organisation_id)
    _set_membership(
        actor,
        organisation.staff,
        user,
        present=False,
        action=LedgerAction.STAFF_REMOVED,
        obj=organisation,
        payload={"organisation": organisation.name},
    )
    return organisation


# Governance boards


@service(LedgerAction.BOARD_MEMBER_ADDED)
def board_member_add(*, actor: Any, board_id: int, user: Any) -> GovernanceBoard:
    """Seat someone on a governance board: they audit the organisations it oversees."""
    _require(actor, BOARD_PERM)
    _require_other(actor, user)
    board = _lock_board(board_id)
    _set_membership(
        actor,
        board.members,
        user,
        present=True,
        action=LedgerAction.BOARD_MEMBER_ADDED,
        obj=board,
        payload={"board": board.name},
    )
    return board


@service(LedgerAction.BOARD_MEMBER_REMOVED)
def board_member_remove(*, actor: Any, board_id: int, user: Any) -> GovernanceBoard:
    """Take someone off a governance board."""
    _require(actor, BOARD_PERM)
    _require_other(actor, user)
    board = _lock_board(board_id)
    _set_membership(
        actor,
        board.members,
        user,
        present=False,
        action=LedgerAction.BOARD_MEMBER_REMOVED,
        obj=board,
        payload={"board": board.name},
    )
    return board


@service(LedgerAction.BOARD_OVERSIGHT_ADDED)
def board_oversight_add(*, actor: Any, board_id: int, organisation_id: int) -> GovernanceBoard:
    """Let a governance board oversee an organisation: its members audit the organisation's
    cycles and may override their gates."""
    _require(actor, BOARD_PERM)
    board = _lock_board(board_id)
    if board.members.filter(pk=actor.pk).exists():
        raise Forbidden(
            _(
                "You sit on this board, so you cannot change what it oversees.",
            ),
            code="forbidden.own_access",
        )
    organisation = _lock_organisation(organisation_id)
    if board.organisations.filter(pk=organisation.pk).exists():
        return board
    board.organisations.add(organisation)
    ledger.append(
        actor=actor,
        action=LedgerAction.BOARD_OVERSIGHT_ADDED,
        obj=board,
        payload={"board": board.name, "organisation": organisation.name},
    )
    return board


@service(LedgerAction.BOARD_OVERSIGHT_REMOVED)
def board_oversight_remove(*, actor: Any, board_id: int, organisation_id: int) -> GovernanceBoard:
    """A governance board no longer oversees an organisation."""
    _require(actor, BOARD_PERM)
    board = _lock_board(board_id)
    if board.members.filter(pk=actor.pk).exists():
        raise Forbidden(
            _(
                "You sit on this board, so you cannot change what it oversees.",
            ),
            code="forbidden.own_access",
        )
    organisation = _lock_organisation(organisation_id)
    if not board.organisations.filter(pk=organisation.pk).exists():
        return board
    board.organisations.remove(organisation)
    ledger.append(
        actor=actor,
        action=LedgerAction.BOARD_OVERSIGHT_REMOVED,
        obj=board,
        payload={"board": board.name, "organisation": organisation.name},
    )
    return board
