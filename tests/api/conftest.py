"""Helpers for the API tests: a client acting as a user, with a real bearer token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from roles import api_tokens


class Caller:
    """Requests to /api/v1/ as one user, authenticated the way a script would be."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.token = api_tokens.token_create(actor=user, name="tests").secret
        self.client = APIClient(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def _url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"/api/v1/{path.lstrip('/')}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(self._url(path), params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(self._url(path), body or {}, format="json")

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.put(self._url(path), body, format="json")

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.patch(self._url(path), body, format="json")


def body(response: Any) -> Any:
    return json.loads(response.content)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> None:
    cache.clear()


@pytest.fixture
def as_user(db: None) -> Any:
    return Caller
