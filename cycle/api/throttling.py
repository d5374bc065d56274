"""Request throttling for token-authenticated scripts, per token; browser sessions are not
throttled here. The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]``
(``API_TOKEN_RATE`` in the environment), read at request time. Counts live in Django's cache:
give every process the same cache (Redis, Memcached) for one limit across workers."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from roles.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str | None:
        rate: str | None = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return rate

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
