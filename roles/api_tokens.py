"""API tokens for scripts: created and revoked through these services, each on the ledger.

A token is ``cyc_`` followed by 43 random URL-safe characters. Only its SHA-256 is stored; the
token itself is returned once, by :func:`token_create`, and cannot be shown again. Anyone who may
sign in may create tokens for themselves; a token acts with exactly its owner's permissions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from cycle import ledger
from cycle.actions import LedgerAction
from cycle.errors import Conflict, Forbidden, InvalidRequest, NotFound
from cycle.i18n import gettext_lazy as _
from cycle.service_support import service

from .models import ApiToken

TOKEN_PREFIX = "cyc_"
MAX_LIFETIME_DAYS = 3650


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just created: the stored row and the secret, which is never shown again."""

    token: ApiToken
    secret: str


def find_active(secret: str) -> ApiToken | None:
    """The live token with this secret, with its user, or None (unknown, revoked or expired)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at is not None and token.expires_at <= timezone.now()):
        return None
    return token


@service(LedgerAction.TOKEN_CREATED)
def token_create(*, actor: Any, name: str, expires_in_days: int | None = None) -> NewToken:
    """Create a token for the acting user; the secret is in the result and nowhere else."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise Forbidden(
            _(
                "Only a signed-in user can create an API token.",
            ),
            code="forbidden.token",
        )
    name = (name or "").strip()
    if not name:
        raise InvalidRequest(
            _(
                "Say what the token is for.",
            ),
            code="invalid.name",
        )
    if len(name) > 100:
        raise InvalidRequest(
            _(
                "The name must be at most 100 characters.",
            ),
            code="invalid.too_long",
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        raise InvalidRequest(
            _(
                "A token lasts from 1 to %(days)s days.",
                days=MAX_LIFETIME_DAYS,
            ),
            code="invalid.expires_in_days",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=secret[:12],
        key_hash=hash_token(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    ledger.append(
        actor=actor,
        action=LedgerAction.TOKEN_CREATED,
        obj=token,
        payload={
            "name": name,
            "prefix": token.prefix,
            "user": actor.get_username(),
            "expires_at": token.expires_at,
        },
    )
    return NewToken(token=token, secret=secret)


@service(LedgerAction.TOKEN_REVOKED)
def token_revoke(*, actor: Any, token_id: int) -> ApiToken:
    """Revoke a token: its owner may, and so may a superuser. It stops working at once."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None or (
        actor is None
        or not actor.is_authenticated
        or (token.user_id != actor.pk and not actor.is_superuser)
    ):
        # Someone else's token is answered as if it did not exist.
        raise NotFound(
            _(
                "There is no API token %(token_id)s.",
                token_id=token_id,
            ),
            code="token.not_found",
        )
    if token.revoked_at is not None:
        raise Conflict(
            _(
                "The token has already been revoked.",
            ),
            code=LedgerAction.TOKEN_REVOKED,
        )
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    ledger.append(
        actor=actor,
        action=LedgerAction.TOKEN_REVOKED,
        obj=token,
        payload={"name": token.name, "prefix": token.prefix, "user": token.user.get_username()},
    )
    return token
