"""The API over the services: reads, writes, problems, authentication and throttling."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from cycle import services
from cycle.models import AuditEvent
from roles import api_tokens
from roles.models import ApiToken
from tests.api.conftest import Caller, body
from tests.factories import OrganisationFactory, commissioner, fresh, representative

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    data = body(response)
    assert data["code"] == code
    assert data["status"] == status
    assert data["type"] == f"urn:commissioning-cycle:problem:{code}"
    assert data["title"] and data["detail"]
    return data


@pytest.mark.django_db
class TestCycles:
    def test_the_list_holds_only_the_cycles_the_caller_may_see(self, world: Any) -> None:
        other_org = OrganisationFactory()
        other_lead = commissioner(other_org)
        services.cycle_create(
            actor=other_lead, title="Elsewhere", organisation=other_org, lead=other_lead
        )
        response = Caller(world.lead).get("cycles/")
        assert response.status_code == 200
        data = body(response)
        assert data["count"] == 1
        assert [c["id"] for c in data["results"]] == [world.id]
        assert data["results"][0]["stage"] == {
            "key": "framework",
            "name": data["results"][0]["stage"]["name"],
            "position": 1,
        }

    def test_the_detail_gives_the_stage_and_every_unmet_condition(self, world: Any) -> None:
        data = body(Caller(world.panel[0]).get(f"cycles/{world.id}/"))
        assert data["stage"]["key"] == "framework"
        assert data["gate"]["open"] is False
        assert data["gate"]["passable"] is False
        codes = [item["code"] for item in data["gate"]["unmet"]]
        assert codes == [
            "boundaries.missing",
            "budget.missing",
            "signoff.quorum",
            "agreement.unsigned",
            "lead.missing",
        ]
        assert all(item["message"] for item in data["gate"]["unmet"])
        assert data["budget"] is None

    def test_a_commissioner_starts_a_cycle_with_its_process(self, world: Any) -> None:
        response = Caller(world.lead).post(
            "cycles/",
            {"title": "Carers' breaks", "organisation": world.organisation.name},
        )
        assert response.status_code == 201, response.content
        data = body(response)
        assert data["title"] == "Carers' breaks"
        assert data["lead_commissioner"] == world.lead.username
        assert data["stage"]["key"] == "framework"
        from processes.commissioning import process_for

        assert process_for(data["id"]) is not None

    def test_an_invisible_cycle_answers_exactly_as_a_missing_one(self, world: Any) -> None:
        stranger = Caller(commissioner(OrganisationFactory()))
        missing = world.id + 1000
        for path in ("", "budget/", "audit/", "panel/"):
            hidden = stranger.get(f"cycles/{world.id}/{path}")
            absent = stranger.get(f"cycles/{missing}/{path}")
            hidden_body = _problem(hidden, 404, "cycle.not_found")
            absent_body = _problem(absent, 404, "cycle.not_found")
            assert hidden_body["detail"].replace(str(world.id), "N") == absent_body[
                "detail"
            ].replace(str(missing), "N")
            assert set(hidden_body) == set(absent_body)

    def test_a_write_to_an_invisible_cycle_answers_404_and_writes_nothing(self, world: Any) -> None:
        stranger = Caller(commissioner(OrganisationFactory()))
        before = AuditEvent.objects.count()
        response = stranger.post(f"cycles/{world.id}/budget/", {"amount": "1"})
        _problem(response, 404, "cycle.not_found")
        assert AuditEvent.objects.count() == before
        assert not world.cycle.budget_disclosures.exists()

    def test_an_id_too_large_for_the_database_is_simply_not_found(self, world: Any) -> None:
        _problem(Caller(world.lead).get("cycles/99999999999999999999/"), 404, "not_found")
        _problem(Caller(world.lead).get("cycles/9999999999999999999/"), 404, "cycle.not_found")


@pytest.mark.django_db
class TestProblems:
    def test_a_refusal_carries_the_service_code_and_is_on_the_ledger(self, world: Any) -> None:
        before = AuditEvent.objects.filter(outcome="refused").count()
        response = Caller(world.panel[0]).post(f"cycles/{world.id}/budget/", {"amount": "5"})
        _problem(response, 403, "forbidden.lead")
        assert AuditEvent.objects.filter(outcome="refused").count() == before + 1

    def test_a_closed_gate_answers_409_with_every_unmet_condition(self, world: Any) -> None:
        world.agree_boundaries()
        world.disclose_budget()
        response = Caller(world.lead).post(f"cycles/{world.id}/advance/")
        data = _problem(response, 409, "gate.closed")
        assert data["stage"] == "framework"
        assert [u["code"] for u in data["unmet"]] == [
            "boundaries.unacknowledged",
            "signoff.quorum",
            "agreement.unsigned",
            "lead.missing",
        ]
        assert all(u["message"] for u in data["unmet"])
        assert world.refresh().current_stage == "framework"

    def test_a_service_check_keeps_its_code(self, world: Any) -> None:
        response = Caller(world.lead).post(
            f"cycles/{world.id}/boundaries/",
            {"purpose": "  ", "user_role": "x", "influence": "consult", "decision_maker": "y"},
        )
        _problem(response, 400, "invalid.purpose")

    def test_a_request_of_the_wrong_shape_names_each_field(self, world: Any) -> None:
        response = Caller(world.lead).post(
            f"cycles/{world.id}/boundaries/", {"influence": "total control"}
        )
        data = _problem(response, 400, "invalid")
        fields = {e["field"]: e["code"] for e in data["errors"]}
        assert fields == {
            "purpose": "required",
            "user_role": "required",
            "decision_maker": "required",
        }
        assert not world.cycle.boundary_agreements.exists()

    def test_a_conflict_answers_409_with_its_code(self, world: Any) -> None:
        response = Caller(world.panel[0]).post(f"cycles/{world.id}/signoffs/withdraw-dissent/")
        _problem(response, 409, "dissent.none")

    def test_broken_json_is_a_problem_too(self, world: Any) -> None:
        caller = Caller(world.lead)
        response = caller.client.post(
            f"/api/v1/cycles/{world.id}/budget/", "{not json", content_type="application/json"
        )
        _problem(response, 400, "invalid.json")

    def test_a_fault_of_the_server_is_a_problem_too(self, world: Any, monkeypatch: Any) -> None:
        from cycle.api import views

        def broken(cycle: Any) -> Any:
            raise RuntimeError("a bug")

        monkeypatch.setattr(views, "cycle_detail", broken)
        _problem(Caller(world.lead).get(f"cycles/{world.id}/"), 500, "server_error")

    def test_an_unknown_endpoint_is_a_problem_not_a_page(self, db: None) -> None:
        _problem(APIClient().get("/api/v1/nothing-here/"), 404, "not_found")
        _problem(APIClient().get("/api/v1/cycles/%F1%AA%AE%AA%0A/"), 404, "not_found")
        _problem(APIClient().get("/api/v1/cycles"), 404, "not_found")  # no redirect either

    def test_the_frameworks_own_errors_are_problems_with_stable_codes(self, world: Any) -> None:
        caller = Caller(world.lead)
        cycle = f"/api/v1/cycles/{world.id}/"
        _problem(caller.client.delete(cycle), 405, "method_not_allowed")
        _problem(caller.client.get(cycle, HTTP_ACCEPT="text/html"), 406, "not_acceptable")
        form = caller.client.post(
            f"{cycle}budget/", "amount=10", content_type="application/x-www-form-urlencoded"
        )
        _problem(form, 415, "unsupported_media_type")
        assert not world.cycle.budget_disclosures.exists()
        _problem(APIClient().get("/api/v1/cycles/"), 401, "auth.required")
        bad = APIClient(HTTP_AUTHORIZATION="Bearer cyc_not-a-token").get("/api/v1/cycles/")
        _problem(bad, 401, "auth.invalid_token")

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"page": "x"}, "page"),
            ({"page": "0"}, "page"),
            ({"page_size": "x"}, "page_size"),
            ({"page_size": "201"}, "page_size"),
        ],
    )
    def test_a_page_or_size_that_is_not_a_number_in_range_is_refused(
        self, world: Any, query: dict[str, str], field: str
    ) -> None:
        problem = _problem(Caller(world.lead).get("cycles/", **query), 400, "invalid")
        assert [error["field"] for error in problem["errors"]] == [field]

    def test_a_page_past_the_last_is_not_found(self, world: Any) -> None:
        caller = Caller(world.lead)
        assert body(caller.get("cycles/", page=1, page_size=1))["count"] == 1
        problem = _problem(caller.get("cycles/", page=2), 404, "not_found")
        assert "There is no page 2" in problem["detail"]

    def test_a_yes_or_no_filter_takes_only_true_or_false(self, world: Any) -> None:
        caller = Caller(world.lead)
        problem = _problem(
            caller.get(f"cycles/{world.id}/signoffs/", current="maybe"), 400, "invalid"
        )
        assert problem["errors"][0]["field"] == "current"
        _problem(caller.get(f"cycles/{world.id}/panel/", include_former="yes"), 400, "invalid")
        everyone = body(caller.get(f"cycles/{world.id}/panel/", include_former="true"))
        assert everyone["count"] == len(world.panel)


@pytest.mark.django_db
class TestTokens:
    def test_no_credentials_answer_401_with_the_scheme(self, world: Any) -> None:
        response = APIClient().get("/api/v1/cycles/")
        _problem(response, 401, "auth.required")
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_only_a_hash_of_the_token_is_stored_and_it_is_shown_once(self, world: Any) -> None:
        caller = Caller(world.lead)
        response = caller.post("tokens/", {"name": "board papers"})
        assert response.status_code == 201
        secret = body(response)["token"]
        assert secret.startswith("cyc_") and len(secret) > 40
        stored = ApiToken.objects.get(pk=body(response)["id"])
        assert secret not in {stored.key_hash, stored.prefix, stored.name}
        assert stored.key_hash == api_tokens.hash_token(secret)
        listing = body(caller.get("tokens/"))
        assert all("token" not in item for item in listing["results"])
        event = AuditEvent.objects.filter(action="token.created").latest("seq")
        assert secret not in event.payload and event.actor_id == world.lead.pk
        assert (
            body(APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/cycles/"))["count"]
            == 1
        )

    def test_a_revoked_token_stops_working_at_once_and_the_revocation_is_on_record(
        self, world: Any
    ) -> None:
        caller = Caller(world.lead)
        token = ApiToken.objects.get(key_hash=api_tokens.hash_token(caller.token))
        assert caller.get("cycles/").status_code == 200
        response = caller.post(f"tokens/{token.pk}/revoke/")
        assert response.status_code == 200
        assert body(response)["revoked_at"] is not None
        _problem(caller.get("cycles/"), 401, "auth.invalid_token")
        assert AuditEvent.objects.filter(action="token.revoked", object_id=str(token.pk)).exists()

    def test_an_expired_token_stops_working(self, world: Any) -> None:
        from datetime import timedelta

        from django.utils import timezone

        caller = Caller(world.lead)
        assert caller.get("cycles/").status_code == 200
        ApiToken.objects.filter(key_hash=api_tokens.hash_token(caller.token)).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        _problem(caller.get("cycles/"), 401, "auth.invalid_token")

    def test_the_command_line_creates_lists_and_revokes_tokens(self, world: Any) -> None:
        from io import StringIO

        from django.core.management import call_command

        out = StringIO()
        call_command("api_token", "create", "--as", world.lead.username, "--name", "x", stdout=out)
        secret = out.getvalue().strip()
        client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert client.get("/api/v1/cycles/").status_code == 200
        token = ApiToken.objects.get(key_hash=api_tokens.hash_token(secret))
        listing = StringIO()
        call_command("api_token", "list", "--as", world.lead.username, stdout=listing)
        assert f"{token.pk}\t{token.prefix}…\tactive\tx" in listing.getvalue()
        assert secret not in listing.getvalue()
        call_command("api_token", "revoke", str(token.pk), "--as", world.lead.username)
        _problem(client.get("/api/v1/cycles/"), 401, "auth.invalid_token")

    def test_someone_elses_token_cannot_be_revoked_and_looks_missing(self, world: Any) -> None:
        owner = Caller(world.lead)
        token = ApiToken.objects.get(key_hash=api_tokens.hash_token(owner.token))
        response = Caller(world.panel[0]).post(f"tokens/{token.pk}/revoke/")
        _problem(response, 404, "token.not_found")
        assert owner.get("cycles/").status_code == 200

    def test_requests_with_a_token_are_throttled(self, world: Any, settings: Any) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
        }
        caller = Caller(world.lead)
        assert [caller.get("cycles/").status_code for _ in range(3)] == [200, 200, 200]
        response = caller.get("cycles/")
        _problem(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
        assert Caller(world.panel[0]).get("cycles/").status_code == 200

    def test_a_browser_session_works_and_needs_its_csrf_token_to_write(self, world: Any) -> None:
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(fresh(world.lead))
        assert client.get("/api/v1/cycles/").status_code == 200
        response = client.post(
            f"/api/v1/cycles/{world.id}/budget/", {"amount": "10"}, format="json"
        )
        _problem(response, 403, "forbidden")
        assert not world.cycle.budget_disclosures.exists()


@pytest.mark.django_db
class TestGateRecords:
    def test_a_budget_cut_voids_the_attestations_and_reattesting_reopens_the_gate(
        self, world: Any
    ) -> None:
        lead = Caller(world.lead)
        world.meet_gate()
        assert body(lead.get(f"cycles/{world.id}/"))["gate"]["open"] is True
        response = lead.post(f"cycles/{world.id}/budget/", {"amount": "900000.00"})
        assert response.status_code == 201
        assert body(response)["version"] == 2
        gate = body(lead.get(f"cycles/{world.id}/"))["gate"]
        assert [u["code"] for u in gate["unmet"]] == ["signoff.stale", "signoff.quorum"]
        for member in world.panel[:2]:
            assert (
                Caller(member).post(f"cycles/{world.id}/signoffs/", {"kind": "attest"}).status_code
                == 201
            )
        response = lead.post(f"cycles/{world.id}/advance/")
        assert response.status_code == 200, response.content
        assert body(response)["left"] == "framework"
        assert body(response)["cycle"]["stage"]["key"] == "needs"
        signoffs = body(lead.get(f"cycles/{world.id}/signoffs/", current="true", stage="framework"))
        assert sorted(s["budget_version"] for s in signoffs["results"]) == [1, 2, 2]

    def test_a_dissent_is_recorded_and_withdrawn(self, world: Any) -> None:
        member = Caller(world.panel[0])
        response = member.post(
            f"cycles/{world.id}/signoffs/", {"kind": "dissent", "reasons": "Not told the budget."}
        )
        assert response.status_code == 201
        assert body(response)["kind"] == "dissent"
        response = member.post(f"cycles/{world.id}/signoffs/withdraw-dissent/")
        assert response.status_code == 200
        assert body(response)["withdrawn"] is True

    def test_an_attestation_with_reasons_is_refused_as_the_wrong_shape(self, world: Any) -> None:
        response = Caller(world.panel[0]).post(
            f"cycles/{world.id}/signoffs/", {"kind": "attest", "reasons": "I approve"}
        )
        data = _problem(response, 400, "invalid")
        assert data["errors"][0]["field"] == "reasons"

    def test_an_override_names_what_it_departs_from_and_never_the_records(self, world: Any) -> None:
        governor = Caller(world.governor)
        path = f"cycles/{world.id}/overrides/"
        refused = governor.post(path, {"reason": "Statutory deadline."})
        assert (
            "boundaries.missing cannot be overridden"
            in _problem(refused, 403, "override.not_waivable")["detail"]
        )
        world.meet_gate()
        services.signoff_record(actor=world.panel[2], cycle_id=world.id, dissent="Not shown.")
        wrong = governor.post(path, {"reason": "Deadline.", "codes": ["signoff.quorum"]})
        _problem(wrong, 400, "invalid.override_codes")
        made = governor.post(path, {"reason": "Deadline.", "codes": ["signoff.dissent"]})
        assert made.status_code == 201, made.content
        assert body(made)["departs_from"] == [
            {"code": "signoff.dissent", "members": [world.panel[2].username]}
        ]
        assert body(governor.get(path))["results"][0]["unmet_codes"] == ["signoff.dissent"]
        moved = Caller(world.lead).post(f"cycles/{world.id}/advance/")
        assert moved.status_code == 200 and body(moved)["cycle"]["stage"]["key"] == "needs"

    def test_the_panel_and_its_history(self, world: Any) -> None:
        lead = Caller(world.lead)
        newcomer = representative()
        response = lead.post(
            f"cycles/{world.id}/panel/", {"member": newcomer.username, "represents": "carers"}
        )
        assert response.status_code == 201
        membership = body(response)["id"]
        response = lead.post(f"cycles/{world.id}/panel/{membership}/remove/", {"reason": "Moved."})
        assert response.status_code == 200 and body(response)["active"] is False
        assert body(lead.get(f"cycles/{world.id}/panel/"))["count"] == 3
        assert body(lead.get(f"cycles/{world.id}/panel/", include_former="true"))["count"] == 4


@pytest.mark.django_db
class TestAudit:
    def test_the_trail_is_paged_by_sequence_and_filtered(self, world: Any) -> None:
        lead = Caller(world.lead)
        world.meet_gate()
        everything = [
            e["seq"] for e in body(lead.get(f"cycles/{world.id}/audit/", limit=1000))["results"]
        ]
        assert everything == sorted(everything)
        assert len(everything) == AuditEvent.objects.filter(cycle=world.cycle).count()
        first = body(lead.get(f"cycles/{world.id}/audit/", limit=3))
        assert [e["seq"] for e in first["results"]] == everything[:3]
        assert first["last_seq"] == everything[2]
        second = body(lead.client.get(first["next"]))
        assert [e["seq"] for e in second["results"]] == everything[3:6]
        attested = body(lead.get(f"cycles/{world.id}/audit/", action="signoff.attested"))
        assert len(attested["results"]) == 3
        assert {e["actor"] for e in attested["results"]} == {m.username for m in world.panel}

    def test_the_chain_verifies_and_the_export_verifies_without_a_database(
        self, world: Any, tmp_path: Any
    ) -> None:
        from cycle.verify_export import main as verify_export

        lead = Caller(world.lead)
        world.meet_gate()
        verdict = body(lead.get(f"cycles/{world.id}/audit/verify/"))
        assert verdict["ok"] is True
        assert verdict["checked"] == AuditEvent.objects.filter(cycle=world.cycle).count()
        for fmt in ("jsonl", "csv"):
            response = lead.client.get(f"/api/v1/cycles/{world.id}/audit/export/", {"as": fmt})
            assert response.status_code == 200
            path = tmp_path / f"export.{fmt}"
            path.write_bytes(b"".join(response.streaming_content))
            assert verify_export([str(path), "--cycle"]) == 0

    def test_only_governance_verifies_the_whole_ledger(self, world: Any) -> None:
        _problem(Caller(world.lead).get("audit/verify/"), 403, "forbidden.audit")
        assert body(Caller(world.governor).get("audit/verify/"))["ok"] is True


@pytest.mark.django_db
def test_the_schema_and_the_reference_are_served_without_a_cdn(client: Any) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "https://" not in html and "http://" not in html
    assert "<script>" not in html and "<style>" not in html
    assert "cdn" not in html.lower()
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
