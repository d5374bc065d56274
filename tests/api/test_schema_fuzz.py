"""Requests generated from the API's own schema (Schemathesis) against a live server.

The server holds every scenario and the demo accounts, as ``manage.py demo`` loads them; each
generated request is sent over HTTP once with each demo role's bearer token. No answer may be a
5xx, every answer must match the schema (body and content type) and no status code may be one
the schema does not document. Each operation is tried with valid requests and with requests that
break the schema, each both at whatever ids the schema allows and at the day-services cycle's real
ids, so both the found and the not-found paths are tried. On PostgreSQL (CI's second run) this is
the live server on PostgreSQL.

Bounded: ``API_FUZZ_EXAMPLES`` examples per operation and kind (default 2, a fixed seed); marked
``fuzz`` (deselect with ``-m 'not fuzz'``). docs/api.md shows a longer run against a server of
one's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from roles.definitions import sync_role_groups  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "2"))
LEDGER_TRUNCATE_TRIGGER = "cycle_auditevent_no_truncate"


@pytest.fixture
def _rearm_after_flush(django_db_blocker: Any) -> Iterator[None]:
    """After the flush that empties the committed data: the ledger's trigger and the roles back."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE cycle_auditevent ENABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}"
                )
        sync_role_groups(Group, Permission)


@pytest.fixture
def demo_server(
    request: pytest.FixtureRequest, _rearm_after_flush: None, transactional_db: None
) -> Iterator[Any]:
    """A live server of its own with the scenarios and demo accounts.

    Not pytest-django's ``live_server``, whose database is set up before any other fixture: the
    data here is committed, the flush after the test truncates the tables, and the ledger refuses
    TRUNCATE, so its trigger is lifted for that flush and re-armed (``_rearm_after_flush``) after.
    ``--liveserver HOST:PORT`` chooses the address (default: any free port).
    """
    from pytest_django.live_server_helper import LiveServer

    from cycle import scenarios

    sync_role_groups(Group, Permission)
    scenarios.load_all()
    for account in scenarios.demo_accounts():
        scenarios.ensure_demo_account(account)
    server = LiveServer(request.config.getvalue("liveserver") or "localhost:0")
    yield server
    server.stop()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE cycle_auditevent DISABLE TRIGGER {LEDGER_TRUNCATE_TRIGGER}"
            )


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
    demo_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from cycle import scenarios
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
    schema = schemathesis.openapi.from_url(f"{demo_server.url}/api/schema/?format=json")
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
