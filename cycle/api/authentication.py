"""Bearer tokens for scripts (``roles.api_tokens``); the browser signs in with a session."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from roles.api_tokens import find_active


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer cyc_…``; a token acts with exactly its owner's permissions."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer' and one token.",
                code="auth.malformed",
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "The token is not valid.", code="auth.invalid_token"
            ) from None
        token = find_active(secret)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(
                "The token is not valid: unknown, revoked or expired.", code="auth.invalid_token"
            )
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cycle.api.authentication.ApiTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/tokens/ or `manage.py api_token create`.",
        }
