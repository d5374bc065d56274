"""Requests generated from the API's own schema (Schemathesis): no 5xx, every answer matches.

Each generated request is sent once with each demo role's bearer token. No answer may be a
5xx, every answer must match the schema (body and content type) and no status code may be one
the schema does not document. Each operation is tried with valid requests and with requests that
break the schema, each both at whatever ids the schema allows and at the day-services cycle's real
ids, so both the found and the not-found paths are tried.

Two runs of the same loop (``fuzz``):

- ``test_generated_requests_get_no_5xx_and_answers_match_the_schema`` sends them to the
  application in process, inside the test's transaction, with every scenario and demo account
  loaded as ``manage.py demo`` loads them. Part of the suite, on SQLite and PostgreSQL.
- ``test_generated_requests_to_a_live_server_get_no_5xx_and_answers_match_the_schema`` sends them
  over HTTP to a running server, whose address is ``API_FUZZ_LIVE_URL`` and whose demo roles'
  tokens are ``API_FUZZ_TOKENS`` (``role=token,…``); skipped without them. ``.ci/api-fuzz-live``
  sets up a PostgreSQL database with ``manage.py demo``, makes the tokens with ``manage.py
  api_token create``, serves it with ``DEBUG=false`` and runs this test against it; CI runs that
  script and fails if the test did not run.

Bounded: ``API_FUZZ_EXAMPLES`` examples per operation and kind (default 2, a fixed seed). Each
run prints how many cases it generated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "2"))
ROLES = 6  # one demo account per role (fixtures/demo-accounts.toml)


@pytest.fixture
def demo_data(db: None) -> Iterator[None]:
    """The scenarios and demo accounts, inside the test's transaction (rolled back after it).

    Requests go straight to the WSGI application, so, as Django's own test client does, the
    connection is not closed at the end of each request: inside the test's transaction that would
    close it (PostgreSQL; SQLite's in-memory test database ignores the close).
    """
    from django.contrib.contenttypes.models import ContentType
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from tests import scenario_cache

    scenario_cache.load_demo()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        # The test's transaction is rolled back after this, to rows whose content types may have
        # other keys than the copy's; they are looked up afresh.
        ContentType.objects.clear_cache()


def _fuzz(
    strategy: Any,
    label: str,
    tokens: dict[str, str],
    tally: dict[str, Any],
    before_each: Callable[[], None],
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        tally["cases"] += 1
        for token in tokens.values():
            before_each()
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )
            tally["operations"].add(label)
            tally["requests"] += 1
            status = response.status_code
            tally["statuses"][status] = tally["statuses"].get(status, 0) + 1

    run()


def fuzz_schema(
    schema: Any,
    tokens: dict[str, str],
    real_ids: dict[str, int | None],
    where: str,
    before_each: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Every operation of ``schema``, valid and invalid requests, at any id and at ``real_ids``,
    each sent with every token; a failed check raises. Prints and returns the tally."""
    tally: dict[str, Any] = {"operations": set(), "cases": 0, "requests": 0, "statuses": {}}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        fixed = {name: value for name, value in real_ids.items() if name in names and value}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for ids in ({}, fixed) if fixed else ({},):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids or None)
                _fuzz(strategy, operation.label, tokens, tally, before_each)
    print(
        f"\nschemathesis ({where}): {tally['cases']} cases, {tally['requests']} requests over "
        f"{len(tally['operations'])} operations as {len(tokens)} roles; "
        f"by status {dict(sorted(tally['statuses'].items()))}"
    )
    assert len(tally["operations"]) == len(operations) >= 40
    assert len(tokens) == ROLES
    assert any(200 <= status < 300 for status in tally["statuses"])
    return tally


@pytest.mark.fuzz
def test_generated_requests_get_no_5xx_and_answers_match_the_schema(
    demo_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.cache import cache

    from cycle import scenarios
    from cycle.conf.wsgi import application
    from cycle.models import CommissioningCycle, UserInput
    from cycle.procurement.models import Bid, Representation
    from roles import api_tokens
    from roles.models import PanelMembership

    users = {a.role: scenarios.ensure_demo_account(a) for a in scenarios.demo_accounts()}
    tokens = {
        role: api_tokens.token_create(actor=user, name="fuzz").secret
        for role, user in users.items()
    }
    cycle = CommissioningCycle.objects.get(lead_commissioner=users["commissioner"])
    real_ids = {
        "cycle_id": cycle.pk,
        "input_id": UserInput.objects.filter(cycle=cycle).values_list("pk", flat=True).first(),
        "membership_id": PanelMembership.objects.filter(cycle=cycle).values_list("pk").first()[0],
        "bid_id": Bid.objects.filter(tender__cycle=cycle).values_list("pk", flat=True).first(),
        "meeting_id": cycle.decision_meetings.values_list("pk", flat=True).first(),
        "representation_id": Representation.objects.filter(notice__decision__tender__cycle=cycle)
        .values_list("pk", flat=True)
        .first(),
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    with capsys.disabled():
        # Throttling is tested on its own: each request starts with fresh counts.
        fuzz_schema(schema, tokens, real_ids, "in process", before_each=cache.clear)


def _live_tokens() -> dict[str, str]:
    pairs = [pair.partition("=") for pair in os.environ["API_FUZZ_TOKENS"].split(",") if pair]
    return {role: token for role, _, token in pairs}


def _live_real_ids(base: str, commissioner_token: str) -> dict[str, int | None]:
    """The ids of the commissioner's cycle and of the first of its records that paths name,
    read through the API itself (the test has no access to the server's database)."""
    import requests

    def get(path: str) -> Any:
        answer = requests.get(
            f"{base}/api/v1/{path}",
            headers={"Authorization": f"Bearer {commissioner_token}"},
            timeout=60,
        )
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        return answer.json()

    me = get("tokens/")["results"][0]["user"]
    cycles = get("cycles/?page_size=200")["results"]
    cycle = next(c["id"] for c in cycles if c["lead_commissioner"] == me)
    first = {
        name: get(f"cycles/{cycle}/{path}")["results"][:1]
        for name, path in (
            ("input_id", "inputs/"),
            ("membership_id", "panel/"),
            ("bid_id", "procurement/bids/"),
            ("meeting_id", "meetings/"),
            ("representation_id", "procurement/representations/"),
        )
    }
    return {"cycle_id": cycle} | {
        name: rows[0]["id"] if rows else None for name, rows in first.items()
    }


@pytest.mark.fuzz
@pytest.mark.skipif(
    not os.environ.get("API_FUZZ_LIVE_URL"),
    reason="needs a live server: API_FUZZ_LIVE_URL and API_FUZZ_TOKENS (.ci/api-fuzz-live)",
)
def test_generated_requests_to_a_live_server_get_no_5xx_and_answers_match_the_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = os.environ["API_FUZZ_LIVE_URL"].rstrip("/")
    tokens = _live_tokens()
    from cycle import scenarios

    assert sorted(tokens) == sorted(account.role for account in scenarios.demo_accounts())
    real_ids = _live_real_ids(base, tokens["commissioner"])
    assert all(real_ids[name] for name in ("cycle_id", "input_id", "membership_id", "bid_id"))
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/?format=json")
    with capsys.disabled():
        fuzz_schema(schema, tokens, real_ids, f"live server {base}")
