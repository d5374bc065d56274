"""The permission matrix of docs/permissions.md, tried cell by cell through the API.

The same tables as ``tests/roles/test_permission_matrix.py`` (read from the document), the same
preparations, but each call is an HTTP request with the actor's bearer token. A "yes" answers
2xx. A "no" on a cycle the actor may see answers 403 with a ``forbidden.*`` code and writes one
``refused`` event; on a cycle they may not see (the document's "See the cycle" row) it answers
404 ``cycle.not_found``, exactly as a missing cycle would, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from roles.models import PanelMembership
from tests.api.conftest import Caller, body
from tests.factories import fresh
from tests.roles.cast import AGREEMENT, BOUNDARIES, Cast, build_cast
from tests.roles.test_permission_matrix import (
    CONSULTATION,
    MATRIX,
    PRESSURE,
    TRIES,
    VISIBILITY,
    Cell,
    _ledger_counts,
    self_assessment_scores,
)


def _membership(t: Cast, member: Any) -> int:
    return PanelMembership.objects.active().get(cycle=t.cycle, member=member).pk


Request = Callable[[Caller, Cast], Any]

REQUESTS: dict[str, Request] = {
    "cycle_create": lambda c, t: c.post(
        "cycles/",
        {"title": "Carers' breaks", "organisation": t.organisation.name, "lead": t.lead.username},
    ),
    "involvement_lead_name": lambda c, t: c.put(
        f"cycles/{t.id}/involvement-lead/", {"lead": t.colleague.username}
    ),
    "boundaries_agree": lambda c, t: c.post(f"cycles/{t.id}/boundaries/", BOUNDARIES),
    "budget_disclose": lambda c, t: c.post(f"cycles/{t.id}/budget/", {"amount": "900000"}),
    "boundaries_acknowledge": lambda c, t: c.post(f"cycles/{t.id}/boundaries/acknowledge/"),
    "signoff_record": lambda c, t: c.post(f"cycles/{t.id}/signoffs/", {"kind": "attest"}),
    "dissent_withdraw": lambda c, t: c.post(f"cycles/{t.id}/signoffs/withdraw-dissent/"),
    "input_submit": lambda c, t: c.post(
        f"cycles/{t.id}/inputs/", {"text": "Keep a hub open on Saturdays for people in work."}
    ),
    "input_respond": lambda c, t: c.post(
        f"cycles/{t.id}/inputs/{t.cycle.inputs.get().pk}/responses/",
        {"kind": "we-did", "text": "The specification asks for Saturday opening at two hubs."},
    ),
    "stage_advance": lambda c, t: c.post(f"cycles/{t.id}/advance/"),
    "signoff_request": lambda c, t: c.post(f"cycles/{t.id}/signoff-request/"),
    "stage_reopen": lambda c, t: c.post(
        f"cycles/{t.id}/reopen/", {"stage": "framework", "reason": "A new carers' group formed."}
    ),
    "gate_override": lambda c, t: c.post(
        f"cycles/{t.id}/overrides/", {"reason": "The panel asked to start before the summer."}
    ),
    "decision_record": lambda c, t: c.post(
        f"cycles/{t.id}/decisions/", {"summary": "Re-commission day services as six hubs."}
    ),
    "membership_add": lambda c, t: c.post(
        f"cycles/{t.id}/panel/", {"member": t.newcomer.username, "represents": "young carers"}
    ),
    "membership_remove": lambda c, t: c.post(
        f"cycles/{t.id}/panel/{_membership(t, t.second_representative)}/remove/",
        {"reason": "Moved away."},
    ),
    "membership_leave": lambda c, t: c.post(
        f"cycles/{t.id}/panel/leave/", {"reason": "No longer able to attend."}
    ),
    "membership_set_tender_panel": lambda c, t: c.patch(
        f"cycles/{t.id}/panel/{_membership(t, t.second_representative)}/",
        {"tender_panel": False},
    ),
    "agreement_record": lambda c, t: c.post(f"cycles/{t.id}/agreements/", AGREEMENT),
    "agreement_sign": lambda c, t: c.post(f"cycles/{t.id}/agreements/sign/"),
    "conflict_declare": lambda c, t: c.post(f"cycles/{t.id}/declarations/", {"interest": "none"}),
    "duty_assess": lambda c, t: c.post(
        f"cycles/{t.id}/duty/",
        {"proposal": "Six hubs.", "body_type": "icb", "activity": "planning"},
    ),
    "proposal_change_record": lambda c, t: c.post(
        f"cycles/{t.id}/duty/proposal-changes/", {"summary": "Five hubs, not six."}
    ),
    "consultation_open": lambda c, t: c.post(
        f"cycles/{t.id}/consultations/",
        {**CONSULTATION, "opens_on": "2026-03-02", "closes_on": "2026-05-25"},
    ),
    "consultation_consider": lambda c, t: c.post(
        f"cycles/{t.id}/consultations/{t.cycle.consultations.get().pk}/consideration/",
        {"responses": 212, "analysis": "Hubs near buses.", "statement": "The spec says so."},
    ),
    "pressure_record": lambda c, t: c.post(f"cycles/{t.id}/pressures/", PRESSURE),
    "pressure_disclose": lambda c, t: c.post(
        f"cycles/{t.id}/pressures/{t.cycle.external_pressures.get().pk}/disclose/"
    ),
    "self_assessment_record": lambda c, t: c.post(
        f"organisations/{t.organisation.pk}/self-assessments/",
        {"scores": self_assessment_scores()},
    ),
    "coverage_group_add": lambda c, t: c.post(
        f"cycles/{t.id}/coverage/", {"name": "Travellers", "kind": "easy-to-overlook"}
    ),
    "coverage_record": lambda c, t: c.put(
        f"cycles/{t.id}/coverage/{t.cycle.coverage_groups.get().pk}/",
        {"members": [t.representative.username]},
    ),
}

SEES = {(cell.scope, cell.role): cell.allowed for cell in MATRIX if cell.service == VISIBILITY}


@pytest.fixture(scope="module")
def casts(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Cast, Cast]]:
    """Two organisations' casts, built once; each test runs in a savepoint rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_cast("north"), build_cast("south")
        transaction.set_rollback(True)


def test_every_service_of_the_matrix_has_a_request() -> None:
    assert set(REQUESTS) == set(TRIES)


@pytest.mark.django_db
@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_the_matrix_cell_holds_through_the_api(cell: Cell, casts: tuple[Cast, Cast]) -> None:
    own, other = casts
    target = own if cell.scope == "own" else other
    caller = Caller(fresh(getattr(own, cell.role)))

    if cell.service == VISIBILITY:
        response = caller.get(f"cycles/{target.id}/")
        assert response.status_code == (200 if cell.allowed else 404), response.content
        listed = {c["id"] for c in body(caller.get("cycles/", page_size=200))["results"]}
        assert (target.id in listed) is cell.allowed
        return

    prepare, _ = TRIES[cell.service]
    prepare(target)
    before = _ledger_counts()
    response = REQUESTS[cell.service](caller, target)
    after = _ledger_counts()

    if cell.allowed:
        if cell.service == "signoff_request":
            # The cast's cycle runs no process: a permitted request finds nobody to ask.
            assert body(response)["code"] == "process.not_running", response.content
        else:
            assert 200 <= response.status_code < 300, response.content
        assert after[1] == before[1], "no refusal on the ledger"
        return
    problem = body(response)
    sees = SEES[(cell.scope, cell.role)] or cell.service == "cycle_create"
    if sees:
        assert response.status_code == 403, response.content
        assert problem["code"].startswith("forbidden"), problem
        assert after == (before[0], before[1] + 1), "exactly one refused event, nothing else"
    else:
        assert response.status_code == 404, response.content
        assert problem["code"] == (
            "organisation.not_found"
            if cell.service == "self_assessment_record"
            else "cycle.not_found"
        )
        assert after == before, "nothing written for a cycle the caller may not see"
