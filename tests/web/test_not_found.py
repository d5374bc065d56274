"""Unknown and invisible look the same on the web pages: every page about a cycle the user may
not see answers "not found" exactly as one about a cycle that does not exist, reading or posting,
and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cycle import services
from cycle.models import AuditEvent, UserInput
from tests.roles.cast import Cast, build_cast
from tests.web.pages import without_tokens

pytestmark = pytest.mark.django_db


def cycle_page_names() -> list[tuple[str, tuple[str, ...]]]:
    """Every named web page under ``cycles/<cycle_id>/``, with its other URL arguments."""
    found: list[tuple[str, tuple[str, ...]]] = []

    def walk(patterns: Any, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, ns)
            elif (
                isinstance(pattern, URLPattern)
                and pattern.name
                and "<int:cycle_id>" in route
                and namespace.startswith("web:")
            ):
                others = tuple(
                    part.split(":")[1].rstrip(">")
                    for part in route.split("<")[1:]
                    if "cycle_id" not in part
                )
                found.append((f"{namespace}{pattern.name}", others))

    walk(get_resolver().url_patterns, "", "")
    return sorted(set(found))


PAGES = cycle_page_names()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def casts() -> tuple[Cast, Cast]:
    ours, theirs = build_cast("north"), build_cast("south")
    services.input_submit(
        actor=theirs.representative, cycle_id=theirs.id, text="Open on Saturdays."
    )
    return ours, theirs


def test_the_web_has_cycle_pages_to_try() -> None:
    names = {name for name, _ in PAGES}
    assert {"web:cycle", "web:budget-edit", "web:input-respond", "web:governance-cycle"} <= names


@pytest.mark.parametrize(("name", "others"), PAGES, ids=[name for name, _ in PAGES])
@pytest.mark.parametrize("who", ["lead", "representative", "governor", "administrator"])
def test_a_cycle_page_the_user_may_not_see_is_not_found_like_a_missing_one(
    casts: tuple[Cast, Cast], name: str, others: tuple[str, ...], who: str
) -> None:
    ours, theirs = casts
    client = signed_in(getattr(ours, who))
    their_input = UserInput.objects.get(cycle=theirs.cycle).pk
    extra = [their_input for _ in others]
    hidden = reverse(name, args=[theirs.id, *extra])
    missing = reverse(name, args=[theirs.id + 1000, *extra])
    before = AuditEvent.objects.count()

    for method in ("get", "post"):
        response = getattr(client, method)(hidden, {})
        absent = getattr(client, method)(missing, {})
        # A page that only reads answers 405 to a post (a button, 405 to a read), whichever
        # cycle it names.
        assert response.status_code == absent.status_code, method
        assert response.status_code in (404, 405), (method, response.status_code)
        assert without_tokens(response) == without_tokens(absent), method
    assert AuditEvent.objects.count() == before


def test_another_cycles_input_under_ones_own_cycle_is_not_found_like_a_missing_one(
    casts: tuple[Cast, Cast],
) -> None:
    ours, theirs = casts
    client = signed_in(ours.lead)
    their_input = UserInput.objects.get(cycle=theirs.cycle).pk
    data = {"kind": "we-did", "text": "Done."}

    hidden = client.post(reverse("web:input-respond", args=[ours.id, their_input]), data)
    missing = client.post(reverse("web:input-respond", args=[ours.id, their_input + 1000]), data)

    assert hidden.status_code == missing.status_code == 404
    assert without_tokens(hidden) == without_tokens(missing)
    assert not UserInput.objects.get(pk=their_input).responses.exists()
