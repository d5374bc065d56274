"""The governance board member's pages through Django's test client: who may see what (another
organisation's cycle is "not found"), what each page says, the error summary on bad input, the
override through the service, the downloads, and query counts that do not grow with the data."""

from __future__ import annotations

import csv
import io
import json
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cycle import chain, ledger, selectors, services
from cycle.models import GateOverride
from cycle.verify_export import read_export
from roles import definitions
from roles import services as role_services
from tests.cycle.test_ledger import tamper
from tests.factories import CycleWorld, fresh, governance_member
from tests.web.pages import error_summary as raw_error_summary
from tests.web.pages import h1_count, text

pytestmark = pytest.mark.django_db


def error_summary(response) -> list[str]:
    return [unescape(line) for line in raw_error_summary(response)]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dissent(world: CycleWorld, member: int = 0, reasons: str = "We never saw the papers."):
    return services.signoff_record(actor=world.panel[member], cycle_id=world.id, dissent=reasons)


def held_by_dissent(world: CycleWorld) -> None:
    """The cycle's current gate met but for one open dissent."""
    world.agree_boundaries()
    if not world.cycle.budget_disclosures.exists():
        world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    world.attest(world.panel[1:])
    dissent(world)


def governor_leads_involvement(world: CycleWorld) -> None:
    """The board member also becomes the cycle's involvement lead: now they take part in it."""
    world.governor.groups.add(Group.objects.get(name=definitions.INVOLVEMENT_LEAD))
    world.governor = fresh(world.governor)
    services.involvement_lead_name(actor=world.lead, cycle_id=world.id, lead=world.governor)


@pytest.fixture
def ours() -> CycleWorld:
    world = CycleWorld(title="Day services")
    world.pass_gate()
    return world


@pytest.fixture
def theirs() -> CycleWorld:
    world = CycleWorld(title="Respite care")
    world.pass_gate()
    return world


def url(name: str, *args) -> str:
    return reverse(f"web:{name}", args=args)


# Who may see what


@pytest.mark.parametrize(
    "name",
    [
        "governance-cycle",
        "governance-override",
        "governance-verify-cycle",
        "governance-ledger-jsonl",
        "governance-ledger-csv",
    ],
)
def test_another_organisations_cycle_is_not_found(ours, theirs, name):
    client = signed_in(ours.governor)
    assert client.get(url(name, theirs.id)).status_code == 404
    assert client.get(url(name, 999_999)).status_code == 404
    assert client.get(url(name, ours.id)).status_code == 200


def test_a_post_to_another_organisations_cycle_is_not_found_and_changes_nothing(ours, theirs):
    held_by_dissent(theirs)
    client = signed_in(ours.governor)
    response = client.post(
        url("governance-override", theirs.id),
        {"codes": ["signoff.dissent"], "reason": "Not ours to decide."},
    )
    assert response.status_code == 404
    assert client.post(url("governance-verify-cycle", theirs.id)).status_code == 404
    assert not GateOverride.objects.exists()


@pytest.mark.parametrize(
    "name", ["governance-dashboard", "governance-audit", "governance-verify", "governance-report"]
)
def test_people_on_no_board_find_no_governance_pages(ours, name):
    for person in (ours.lead, ours.panel[0], governance_member(username="boardless")):
        assert signed_in(person).get(url(name)).status_code == 404


def test_the_governance_pages_ask_for_sign_in(ours):
    response = Client().get(url("governance-dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# The dashboard


def test_the_dashboard_shows_each_organisation_overseen_with_its_charts_and_tables(ours, theirs):
    held_by_dissent(ours)
    services.gate_override(actor=ours.governor, cycle_id=ours.id, reason="Minute 14.")
    services.stage_advance(actor=ours.lead, cycle_id=ours.id)

    response = signed_in(ours.governor).get(url("governance-dashboard"))

    assert response.status_code == 200
    assert h1_count(response) == 1
    page = text(response)
    assert ours.organisation.name in page
    assert theirs.organisation.name not in page
    assert "Respite care" not in page
    html = response.content.decode()
    # Gates, time to quorum and involvement; no budget change and no input to draw.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 3
    assert "The budget has not changed after it was first disclosed." in page
    assert "Every piece of input from users has an answer." in page
    assert "1 gate was passed normally and 1 gate was passed by a governance board override" in page
    assert url("governance-cycle", ours.id) in html


def test_a_board_member_overseeing_two_organisations_sees_both(ours, theirs):
    both = governance_member(ours.organisation, theirs.organisation, username="both-boards")
    page = text(signed_in(both).get(url("governance-dashboard")))
    assert ours.organisation.name in page and theirs.organisation.name in page
    assert "Day services" in page and "Respite care" in page


def busy_organisation(cycles: int) -> CycleWorld:
    """An organisation with ``cycles`` more cycles, each with a panel and some history."""
    world = CycleWorld()
    for number in range(cycles):
        cycle = services.cycle_create(
            actor=world.lead,
            title=f"Cycle {number}",
            organisation=world.organisation,
            lead=world.lead,
        )
        for member in world.panel:
            role_services.membership_add(actor=world.lead, cycle_id=cycle.pk, member=member)
        services.input_submit(actor=world.panel[0], cycle_id=cycle.pk, text="More evenings.")
    world.pass_gate()
    held_by_dissent(world)
    world.disclose_budget("1000")
    return world


def queries(client: Client, path: str, method: str = "get", data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data or {})
    assert response.status_code == 200, response.status_code
    return len(captured)


def test_the_dashboards_query_count_does_not_grow_with_the_cycles():
    small, large = busy_organisation(cycles=1), busy_organisation(cycles=8)
    counts = [
        queries(signed_in(world.governor), url("governance-dashboard")) for world in (small, large)
    ]
    print(f"\ngovernance dashboard: {counts[0]} queries (2 cycles), {counts[1]} (9 cycles)")
    assert counts[0] == counts[1]


# A cycle's record


def test_a_cycles_record_shows_its_gate_dissents_and_latest_events(ours):
    held_by_dissent(ours)
    response = signed_in(ours.governor).get(url("governance-cycle", ours.id))

    page = text(response)
    assert h1_count(response) == 1
    assert "The gate of “Assess needs and operating context” is closed" in page
    assert "We never saw the papers." in page
    assert "Still open" in page
    assert "signoff.dissented" in page
    assert url("governance-override", ours.id) in response.content.decode()


def test_a_board_member_who_runs_the_cycle_is_not_offered_the_override(ours):
    held_by_dissent(ours)
    governor_leads_involvement(ours)
    response = signed_in(ours.governor).get(url("governance-cycle", ours.id))
    assert url("governance-override", ours.id) not in response.content.decode()
    assert "You cannot override this gate" in text(response)


def test_a_cycles_records_query_count_does_not_grow_with_its_history():
    # Both at the same stage, whose gate asks for the same records; one with a longer history.
    short, long = CycleWorld(panel_size=3), CycleWorld(panel_size=12)
    for _ in range(4):
        short.pass_gate()
        long.pass_gate()
    for amount in ("1000", "950", "900"):
        long.disclose_budget(amount)
    dissent(long)
    counts = [queries(signed_in(w.governor), url("governance-cycle", w.id)) for w in (short, long)]
    print(f"\ngovernance cycle record: {counts[0]} queries (short), {counts[1]} (long history)")
    assert counts[0] == counts[1]


# Overriding a gate


def test_the_override_form_lists_the_current_unmet_conditions(ours):
    held_by_dissent(ours)
    response = signed_in(ours.governor).get(url("governance-override", ours.id))
    html = response.content.decode()
    assert h1_count(response) == 1
    assert 'type="checkbox" value="signoff.dissent"' in html
    assert html.count('name="codes"') == 1
    assert "1 member recorded dissent: they say involvement did not happen as agreed." in text(
        response
    )


def test_an_override_with_reasons_is_recorded_through_the_service(ours):
    held_by_dissent(ours)
    client = signed_in(ours.governor)
    response = client.post(
        url("governance-override", ours.id),
        {"codes": ["signoff.dissent"], "reason": "Papers were sent; the chair confirmed it."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("governance-cycle", ours.id)
    assert "You overrode the gate of “Assess needs and operating context”" in text(response)
    override = GateOverride.objects.get()
    assert override.reason == "Papers were sent; the chair confirmed it."
    assert override.by == ours.governor
    assert override.unmet_codes == "signoff.dissent"
    assert ours.cycle.audit_events.filter(action="gate.overridden").count() == 1


@pytest.mark.parametrize(
    ("data", "summary"),
    [
        (
            {"codes": ["signoff.dissent"], "reason": ""},
            ["Enter the board's reasons for the override"],
        ),
        (
            {"codes": ["signoff.dissent"], "reason": "   "},
            ["Enter the board's reasons for the override"],
        ),
        ({"reason": "Good reasons."}, ["Tick at least one condition the board departs from"]),
        (
            {"codes": ["budget.missing"], "reason": "Good reasons."},
            ["The gate has changed since this page was opened. Check the conditions again."],
        ),
        (
            {"codes": ["signoff.dissent"], "reason": "x" * 4001},
            ["The reasons must be 4000 characters or fewer"],
        ),
    ],
)
def test_bad_override_input_is_shown_in_the_error_summary_and_nothing_is_written(
    ours, data, summary
):
    held_by_dissent(ours)
    events = ours.cycle.audit_events.count()
    response = signed_in(ours.governor).post(url("governance-override", ours.id), data)
    assert response.status_code == 200
    assert error_summary(response) == summary
    assert "<title>Error: " in response.content.decode()
    assert not GateOverride.objects.exists()
    assert ours.cycle.audit_events.count() == events


def test_the_services_refusal_is_shown_in_the_error_summary(ours):
    held_by_dissent(ours)
    client = signed_in(ours.governor)
    page = client.get(url("governance-override", ours.id))
    assert page.status_code == 200
    # Meanwhile the board member is named the cycle's involvement lead: the service refuses.
    governor_leads_involvement(ours)
    response = client.post(
        url("governance-override", ours.id),
        {"codes": ["signoff.dissent"], "reason": "Good reasons."},
    )
    assert response.status_code == 200
    [line] = error_summary(response)
    assert line.startswith("You take part in running this cycle, so you cannot override its gate")
    assert not GateOverride.objects.exists()
    refused = ours.cycle.audit_events.filter(outcome="refused").get()
    assert refused.action == "gate_override"


def test_an_override_departs_only_from_the_conditions_ticked(ours):
    ours.agree_boundaries()
    ours.acknowledge_all()
    ours.meet_stage_conditions()
    ours.attest(ours.panel[2:])
    dissent(ours)  # unmet now: quorum (1 of 3 attest) and the dissent
    response = signed_in(ours.governor).post(
        url("governance-override", ours.id),
        {"codes": ["signoff.dissent"], "reason": "The dissent goes to the board's next meeting."},
        follow=True,
    )
    assert "the gate is still closed by the conditions you did not tick" in text(response)
    assert GateOverride.objects.get().unmet_codes == "signoff.dissent"
    assert not selectors.gate_state(ours.refresh()).passable


def test_a_condition_no_override_can_stand_in_for_is_refused_with_what_to_record(db):
    world = CycleWorld()  # at the first stage, with nothing recorded
    client = signed_in(world.governor)
    page = client.get(url("governance-override", world.id))
    assert "First, what no override can stand in for" in text(page)
    response = client.post(
        url("governance-override", world.id),
        {"codes": ["signoff.quorum"], "reason": "The panel cannot meet this month."},
    )
    assert response.status_code == 200
    [line] = error_summary(response)
    assert line.startswith("boundaries.missing cannot be overridden: Record the role boundaries")
    assert "budget.missing cannot be overridden: Disclose the budget" in line
    assert not GateOverride.objects.exists()
    refused = world.cycle.audit_events.filter(outcome="refused").get()
    assert refused.action == "gate_override"


def test_an_open_gate_has_nothing_to_override(ours):
    ours.meet_gate()
    response = signed_in(ours.governor).get(url("governance-override", ours.id))
    assert "Every condition of this gate is met. There is nothing to override." in text(response)
    assert 'name="codes"' not in response.content.decode()


def test_the_override_pages_query_count_does_not_grow_with_the_panel():
    counts = []
    for size in (3, 15):
        world = CycleWorld(panel_size=size)
        world.pass_gate()
        held_by_dissent(world)
        counts.append(queries(signed_in(world.governor), url("governance-override", world.id)))
    print(f"\ngovernance override page: {counts[0]} queries (3 members), {counts[1]} (15)")
    assert counts[0] == counts[1]


# The audit trail and Verify


def test_the_audit_trail_lists_only_the_events_of_cycles_overseen(ours, theirs):
    response = signed_in(ours.governor).get(url("governance-audit"))
    page = text(response)
    assert h1_count(response) == 1
    assert "Day services" in page
    assert "Respite care" not in page
    assert "stage.advanced" in page


def test_the_audit_trail_filters_and_pages(ours):
    client = signed_in(ours.governor)
    response = client.get(url("governance-audit"), {"action": "boundaries.acknowledged"})
    page = text(response)
    assert page.count("boundaries.acknowledged") >= len(ours.panel)
    assert "stage.advanced" not in page.split("Events of the ledger")[-1]

    first = client.get(url("governance-audit"), {"before": "10"})
    assert "#9" in text(first)
    assert "#10 " not in text(first)


def test_the_audit_trail_shows_bad_filters_in_the_error_summary(ours):
    response = signed_in(ours.governor).get(
        url("governance-audit"),
        {"period_from": "2025-02-30", "period_to": "2024-01-01", "outcome": "maybe"},
    )
    assert response.status_code == 200
    assert error_summary(response) == [
        "Select a valid choice. maybe is not one of the available choices.",
        "Enter the first day as a date, for example 2025-04-01",
    ]


def test_the_audit_trails_query_count_does_not_grow_with_the_ledger():
    short, long = CycleWorld(), CycleWorld()
    for _ in range(5):
        long.pass_gate()
    counts = [queries(signed_in(w.governor), url("governance-audit")) for w in (short, long)]
    print(f"\ngovernance audit trail: {counts[0]} queries (short ledger), {counts[1]} (long)")
    assert counts[0] == counts[1]


def test_verify_shows_the_ledgers_verdict(ours):
    response = signed_in(ours.governor).post(url("governance-verify"))
    page = text(response)
    seq, digest = ledger.head()
    assert f"All {seq} events of the ledger verify" in page
    assert digest[:16] in page
    assert error_summary(response) == []


def test_verify_names_the_first_event_that_does_not_verify(ours):
    seq = ours.cycle.audit_events.order_by("seq")[3].seq
    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"x":"1"}', seq])
    response = signed_in(ours.governor).post(url("governance-verify"))
    [line] = error_summary(response)
    assert line.startswith(f"event #{seq} (")
    assert line.endswith("its contents do not match its hash")
    assert "The ledger does not verify" in text(response)


def test_verifying_one_cycle_checks_its_own_chain(ours, theirs):
    seq = theirs.cycle.audit_events.order_by("seq")[3].seq
    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"x":"1"}', seq])
    client = signed_in(ours.governor)
    page = text(client.post(url("governance-verify-cycle", ours.id)))
    assert f"All {ours.cycle.audit_events.count()} events of this cycle verify" in page
    whole = client.post(url("governance-verify"))
    assert error_summary(whole) == [
        f"event #{seq} (outside the organisations you oversee): its contents do not match its hash"
    ]


# Downloads


def test_a_cycles_ledger_downloads_as_json_lines_and_csv_that_verify_offline(ours, theirs):
    client = signed_in(ours.governor)
    for name in ("governance-ledger-jsonl", "governance-ledger-csv"):
        response = client.get(url(name, ours.id))
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        body = b"".join(response.streaming_content).decode()
        records = list(read_export(io.StringIO(body)))
        assert {record["cycle_id"] for record in records} == {ours.id}
        assert len(records) == ours.cycle.audit_events.count()
        assert chain.verify_records(records, per_cycle=True).ok
    first = json.loads(
        b"".join(client.get(url("governance-ledger-jsonl", ours.id)).streaming_content)
        .decode()
        .splitlines()[0]
    )
    assert first["action"] == "cycle.created"
    header = next(
        csv.reader(
            io.StringIO(
                b"".join(
                    client.get(url("governance-ledger-csv", ours.id)).streaming_content
                ).decode()
            )
        )
    )
    assert tuple(header) == chain.EXPORT_FIELDS


@pytest.mark.parametrize(
    ("fmt", "content_type", "start"),
    [
        ("html", "text/html; charset=utf-8", b"<!DOCTYPE html>"),
        ("csv", "text/csv; charset=utf-8", b"organisation,period_from"),
        ("pdf", "application/pdf", b"%PDF"),
    ],
)
def test_the_report_downloads_in_each_format(ours, fmt, content_type, start):
    response = signed_in(ours.governor).get(
        url("governance-report"),
        {
            "organisation": ours.organisation.pk,
            "period_from": "2020-01-01",
            "period_to": "2099-12-31",
            "format": fmt,
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith('attachment; filename="involvement-')
    assert response.content.lstrip().startswith(start)


def test_the_report_page_offers_only_the_organisations_overseen(ours, theirs):
    client = signed_in(ours.governor)
    response = client.get(url("governance-report"))
    assert h1_count(response) == 1
    html = response.content.decode()
    assert ours.organisation.name in html
    assert theirs.organisation.name not in html
    refused = client.get(
        url("governance-report"),
        {
            "organisation": theirs.organisation.pk,
            "period_from": "2020-01-01",
            "period_to": "2099-12-31",
            "format": "csv",
        },
    )
    assert refused.status_code == 200
    assert error_summary(refused) == ["Choose one of the organisations your board oversees"]


def test_bad_report_input_is_shown_in_the_error_summary(ours):
    response = signed_in(ours.governor).get(
        url("governance-report"),
        {
            "organisation": ours.organisation.pk,
            "period_from": "2025-04-01",
            "period_to": "2025-03-31",
            "format": "pdf",
        },
    )
    assert error_summary(response) == ["The last day must be on or after the first day"]
    response = signed_in(ours.governor).get(
        url("governance-report"),
        {
            "organisation": ours.organisation.pk,
            "period_from": "",
            "period_to": "soon",
            "format": "doc",
        },
    )
    assert error_summary(response) == [
        "Enter the first day of the period",
        "Enter the last day as a date, for example 2026-03-31",
        "Choose a format: a web page, a spreadsheet or a printable document",
    ]


def test_the_report_form_starts_with_the_last_twelve_months_as_dates_a_date_input_takes(ours):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    html = signed_in(ours.governor).get(url("governance-report")).content.decode()
    assert f'value="{(today - timedelta(days=364)).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html
    assert 'type="date"' in html


def test_a_cycles_record_says_when_an_override_stands(ours):
    held_by_dissent(ours)
    services.gate_override(
        actor=ours.governor, cycle_id=ours.id, reason="Minute 14.", codes=["signoff.dissent"]
    )
    response = signed_in(ours.governor).get(url("governance-cycle", ours.id))
    page = text(response)
    assert "The gate of “Assess needs and operating context” is overridden" in page
    assert "is closed" not in page
    assert url("governance-override", ours.id) not in response.content.decode()


def test_a_pdf_that_cannot_be_made_here_is_explained_in_the_error_summary(ours, monkeypatch):
    from cycle.reports import ReportUnavailable
    from cycle.web.governance import views

    def no_pango(report):
        raise ReportUnavailable("PDF output needs WeasyPrint and the Pango library.")

    monkeypatch.setattr(views, "render_pdf", no_pango)
    response = signed_in(ours.governor).get(
        url("governance-report"),
        {
            "organisation": ours.organisation.pk,
            "period_from": "2020-01-01",
            "period_to": "2099-12-31",
            "format": "pdf",
        },
    )
    assert response.status_code == 200
    assert error_summary(response) == ["PDF output needs WeasyPrint and the Pango library."]
