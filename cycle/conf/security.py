"""Deployment security wiring: the content security policy per path, and the client's address.

The service's own pages (NHS.UK frontend, its JavaScript served from this site), the admin and
the API reference need no inline script or style, so the policy in the settings forbids both.
viewflow's process pages write ``style`` attributes and elements into their markup; under
``settings.CSP_INLINE_STYLE_PATHS`` inline style is allowed, and nothing else is relaxed.
"""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, allowing inline style on the paths that need it."""

    def get_policy_parts(
        self, request: HttpRequest, response: Any, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(tuple(settings.CSP_INLINE_STYLE_PATHS)):
            parts.update = {**(parts.update or {}), "style-src": [UNSAFE_INLINE]}
        return parts


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, for sign-in throttling.

    Behind ``settings.TRUSTED_PROXY_COUNT`` proxies that each append the address they saw to
    ``X-Forwarded-For``, the client is that many entries from the right (entries further left
    are whatever the client sent, and cannot be trusted); with none, the connection's address.
    """
    count: int = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        forwarded = [part.strip() for part in header.split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    address = request.META.get("REMOTE_ADDR")
    return None if address is None else str(address)
