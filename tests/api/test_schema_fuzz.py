"""Requests generated from the API's own schema (Schemathesis), sent to the application in process.

The database holds every scenario and the demo accounts, as ``manage.py demo`` loads them; each
generated request is sent once with each demo role's bearer token. No answer may be a
5xx, every answer must match the schema (body and content type) and no status code may be one
the schema does not document. Each operation is tried with valid requests and with requests that
break the schema, each both at whatever ids the schema allows and at the day-services cycle's real
ids, so both the found and the not-found paths are tried. CI runs it on SQLite and PostgreSQL;
docs/api.md shows the same checks against a live server.

Bounded: ``API_FUZZ_EXAMPLES`` examples per operation and kind (default 2, a fixed seed); marked
``fuzz`` (deselect with ``-m 'not fuzz'``). docs/api.md shows a longer run against a server of
one's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture
def demo_data(db: None) -> Iterator[None]:
    """The scenarios and demo accounts, inside the test's transaction (rolled back after it).

    In process rather than on a live server: a live server needs committed data, and the flush
    after such a test would also empty what migrations put in the database for later tests.
    Requests go straight to the WSGI application, so, as Django's own test client does, the
    connection is not closed at the end of each request: inside the test's transaction that would
    close it (PostgreSQL; SQLite's in-memory test database ignores the close).
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from cycle import scenarios

    scenarios.load_all()
    for account in scenarios.demo_accounts():
        scenarios.ensure_demo_account(account)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(strategy: Any, label: str, tokens: dict[str, str], tally: dict[str, Any]) -> None:
    from django.core.cache import cache

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
            cache.clear()  # throttling is tested on its own
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )
            tally["operations"].add(label)
            tally["requests"] += 1
            status = response.status_code
            tally["statuses"][status] = tally["statuses"].get(status, 0) + 1

    run()


@pytest.mark.fuzz
def test_generated_requests_get_no_5xx_and_answers_match_the_schema(
    demo_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from cycle import scenarios
    from cycle.conf.wsgi import application
    from cycle.models import CommissioningCycle, UserInput
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
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    tally: dict[str, Any] = {"operations": set(), "cases": 0, "requests": 0, "statuses": {}}
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        fixed = {name: value for name, value in real_ids.items() if name in names and value}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for ids in ({}, fixed) if fixed else ({},):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids or None)
                _fuzz(strategy, operation.label, tokens, tally)

    with capsys.disabled():
        print(
            f"\nschemathesis: {tally['cases']} cases, {tally['requests']} requests over "
            f"{len(tally['operations'])} operations as {len(tokens)} roles; "
            f"by status {dict(sorted(tally['statuses'].items()))}"
        )
    assert len(tally["operations"]) == len(operations) >= 40
    assert len(tokens) == 6
    assert any(200 <= status < 300 for status in tally["statuses"])
