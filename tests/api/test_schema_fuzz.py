"""Requests generated from the API's own schema (Schemathesis), for every operation, as every role.

Each generated request is sent in process, once with each role's bearer token, on a database
seeded with a cycle that has a person in every role (``tests.roles.cast``). No answer may be a
5xx, every answer must match the schema (body and content type) and no status code may be one the
schema does not document. Half the examples aim at the seeded cycle's real ids, half at whatever
the schema allows, so both the found and the not-found paths are tried.

Bounded: ``API_FUZZ_EXAMPLES`` examples per operation and pass (default 3); marked ``fuzz``
(deselect with ``-m 'not fuzz'``). docs/api.md shows the same run against a live server.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from roles import api_tokens  # noqa: E402
from tests.roles.cast import build_cast  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = (
    "lead",
    "involvement_lead",
    "representative",
    "decision_maker",
    "governor",
    "administrator",
)
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))


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
        for role in ROLES:
            cache.clear()  # throttling is tested on its own
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {tokens[role]}"}, checks=CHECKS
            )
            tally["operations"].add(label)
            tally["requests"] += 1
            status = response.status_code
            tally["statuses"][status] = tally["statuses"].get(status, 0) + 1

    run()


@pytest.mark.fuzz
@pytest.mark.django_db
def test_generated_requests_get_no_5xx_and_answers_match_the_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cycle import services
    from cycle.conf.wsgi import application

    cast = build_cast("fuzz")
    cast.evidence_for_signoff()
    user_input = services.input_submit(
        actor=cast.representative, cycle_id=cast.id, text="Keep a hub open on Saturdays."
    )
    tokens = {
        role: api_tokens.token_create(actor=getattr(cast, role), name="fuzz").secret
        for role in ROLES
    }
    membership = cast.cycle.memberships.order_by("id").first()
    assert membership is not None
    real_ids = {"cycle_id": cast.id, "input_id": user_input.pk, "membership_id": membership.pk}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    tally: dict[str, Any] = {"operations": set(), "requests": 0, "statuses": {}}

    for result in schema.get_all_operations():
        operation = result.ok()
        names = {parameter.name for parameter in operation.path_parameters}
        fixed = {name: value for name, value in real_ids.items() if name in names}
        _fuzz(operation.as_strategy(), operation.label, tokens, tally)
        if fixed:
            strategy = operation.as_strategy(path_parameters=fixed)
            _fuzz(strategy, operation.label, tokens, tally)

    with capsys.disabled():
        print(
            f"\nschemathesis: {tally['requests']} requests over {len(tally['operations'])} "
            f"operations, {len(ROLES)} roles; by status {dict(sorted(tally['statuses'].items()))}"
        )
    assert len(tally["operations"]) == len(list(schema.get_all_operations()))
    assert any(200 <= status < 300 for status in tally["statuses"])
