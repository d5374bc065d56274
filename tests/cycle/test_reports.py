"""The report on involvement, generated for a seeded scenario: every decision with its involvement
and influence, nothing of any other organisation, in a fixed number of queries."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cycle import chain, services
from cycle.models import Decision, Organisation
from cycle.reports import (
    CSV_COLUMNS,
    ReportUnavailable,
    involvement_report,
    render_csv,
    render_html,
    render_pdf,
    spreadsheet_safe,
)
from cycle.verify_export import verify_file
from roles import definitions
from roles import services as role_services
from tests.factories import (
    CycleWorld,
    OrganisationFactory,
    commissioner,
    representative,
    user_with_role,
)

pytestmark = pytest.mark.django_db

START = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)
PERIOD = (date(2024, 4, 1), date(2025, 3, 31))


class Clock:
    def __init__(self) -> None:
        self.now = START

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    clock = Clock()
    with mock.patch("django.utils.timezone.now", lambda: clock.now):
        yield clock


class Scenario:
    """Re-commissioning day and vocational services (seed 004), in one organisation, beside a
    neighbouring organisation whose records must never appear in the first one's report."""

    def __init__(self, clock: Clock, organisation: str = "Northbridge City Council") -> None:
        self.clock = clock
        self.world = CycleWorld(panel_size=0, title="Day and vocational services")
        world = self.world
        Organisation.objects.filter(pk=world.organisation.pk).update(name=organisation)
        world.organisation.refresh_from_db()
        world.panel = []
        for represents, tier in (
            ("day service users", "decision-forum"),
            ("day service users", "reference-group"),
            ("carers", "reference-group"),
        ):
            member = representative()
            role_services.membership_add(
                actor=world.lead, cycle_id=world.id, member=member, represents=represents, tier=tier
            )
            world.panel.append(member)
        self.decider = user_with_role(definitions.DECISION_MAKER, first_name="Jo", last_name="Bell")
        world.organisation.staff.add(self.decider)

        world.pass_gate()  # framework
        clock.advance(days=10)
        self.hubs = self.say(0, "Keep a drop-in on Tuesdays at every hub.")
        self.transport = self.say(2, "Carers cannot drive people to a hub across the city.")
        world.pass_gate()  # needs
        clock.advance(days=10)
        world.pass_gate()  # review
        clock.advance(days=10)
        self.six_hubs = self.decide("Re-provide the thirteen services as six resource hubs.")
        self.respond(self.hubs, "considering", "Costing it with the providers.")
        self.respond(
            self.hubs,
            "we-did",
            "Every hub specification now includes a Tuesday drop-in.",
            self.six_hubs,
        )
        self.respond(
            self.transport,
            "we-could-not",
            "Transport is outside this budget; the council's travel scheme will be asked.",
            self.six_hubs,
        )
        world.pass_gate()  # priorities
        clock.advance(days=30)
        walk_to(world, "decision")
        clock.advance(days=30)
        self.jargon = self.say(1, "The tender papers were full of jargon.", source="panel")
        self.award = self.decide("Award five hubs to four third-sector providers.")
        self.after = self.say(1, "Thank you for listening about the drop-in.")
        self.respond(
            self.jargon,
            "we-did",
            "Plain-English summaries were added to every tender paper.",
            self.award,
        )
        self.unlinked = self.say(2, "Could the hubs open on Saturdays?", method="survey")

        # A decision after the period, and a neighbouring organisation's work in the period.
        clock.advance(days=400)
        self.later = self.decide("Extend the contracts by a year.")
        self.neighbour = CycleWorld(title="Neighbouring meals on wheels")
        Organisation.objects.filter(pk=self.neighbour.organisation.pk).update(
            name="Southfield Borough Council"
        )
        clock.now = START + timedelta(days=50)
        neighbour_says = services.input_submit(
            actor=self.neighbour.panel[0],
            cycle_id=self.neighbour.id,
            text="Hot meals, not frozen ones, please.",
        )
        neighbour_decider = user_with_role(definitions.DECISION_MAKER)
        self.neighbour.organisation.staff.add(neighbour_decider)
        cut = services.decision_record(
            actor=neighbour_decider,
            cycle_id=self.neighbour.id,
            summary="Cut the meals budget by a third.",
        )
        services.input_respond(
            actor=self.neighbour.lead,
            cycle_id=self.neighbour.id,
            input_id=neighbour_says.pk,
            kind="we-could-not",
            text="Frozen meals cost less.",
            decision_id=cut.pk,
        )
        clock.now = START + timedelta(days=200)

    def say(self, member: int, text: str, **kwargs):
        self.clock.advance(hours=1)
        return services.input_submit(
            actor=self.world.panel[member], cycle_id=self.world.id, text=text, **kwargs
        )

    def respond(self, user_input, kind: str, text: str, decision: Decision | None = None):
        self.clock.advance(hours=1)
        return services.input_respond(
            actor=self.world.lead,
            cycle_id=self.world.id,
            input_id=user_input.pk,
            kind=kind,
            text=text,
            decision_id=decision.pk if decision else None,
        )

    def decide(self, summary: str) -> Decision:
        self.clock.advance(hours=1)
        return services.decision_record(
            actor=self.decider, cycle_id=self.world.id, summary=summary, forum="Cabinet"
        )

    def report(self):
        return involvement_report(self.world.organisation, *PERIOD)


def walk_to(world: CycleWorld, stage_key: str) -> None:
    while world.refresh().current_stage != stage_key:
        world.pass_gate()


@pytest.fixture
def scenario(clock):
    return Scenario(clock)


NEIGHBOUR_DATA = (
    "Southfield Borough Council",
    "Neighbouring meals on wheels",
    "Hot meals, not frozen ones, please.",
    "Cut the meals budget by a third.",
    "Frozen meals cost less.",
)


# What the report holds


def test_the_report_holds_every_decision_of_the_period_and_no_other(scenario):
    report = scenario.report()

    assert report.organisation == "Northbridge City Council"
    assert [entry.decision_id for entry in report.decisions] == [
        scenario.six_hubs.pk,
        scenario.award.pk,
    ]
    assert [entry.summary for entry in report.decisions] == [
        "Re-provide the thirteen services as six resource hubs.",
        "Award five hubs to four third-sector providers.",
    ]
    first = report.decisions[0]
    assert first.decided_by == "Jo Bell"
    assert first.forum == "Cabinet"
    assert first.stage_name == "Decide priorities and strategy"


def test_each_decision_shows_the_involvement_carried_out_before_it(scenario):
    six_hubs, award = scenario.report().decisions

    assert six_hubs.involved_before
    assert six_hubs.first_involvement_at is not None
    assert six_hubs.first_involvement_at < six_hubs.decided_at
    # Nothing was agreed or done at the priorities stage before the decision was taken there.
    assert [stage.stage_key for stage in six_hubs.involvement] == ["framework", "needs", "review"]
    needs = six_hubs.involvement[1]
    assert needs.influence == "Influence"
    assert needs.user_role == "Co-author the outcomes section; comment on the rest."
    assert (needs.acknowledged, needs.attested, needs.inputs, needs.people) == (3, 3, 2, 3)
    assert six_hubs.describe_panel() == (
        "3 representatives: day service users, Decision forum (steering group) (1); "
        "day service users, Reference group (working group) (1); "
        "carers, Reference group (working group) (1)"
    )

    decision_stage = award.involvement[-1]
    assert decision_stage.stage_key == "decision"
    assert decision_stage.inputs == 1  # the input given after the award is not counted


def test_each_decision_shows_what_was_said_and_how_it_influenced_the_decision(scenario):
    six_hubs, award = scenario.report().decisions

    said = [(item.text, item.status, item.response) for item in six_hubs.inputs]
    assert said == [
        (
            "Keep a drop-in on Tuesdays at every hub.",
            "we-did",
            "Every hub specification now includes a Tuesday drop-in.",
        ),
        (
            "Carers cannot drive people to a hub across the city.",
            "we-could-not",
            "Transport is outside this budget; the council's travel scheme will be asked.",
        ),
    ]
    hubs, transport = six_hubs.inputs
    assert hubs.represents == "day service users"
    assert transport.represents == "carers"
    assert hubs.stage_name == "Assess needs and operating context"
    assert hubs.earlier_responses == 1  # "still considering" came first
    assert hubs.responded_at is not None
    [jargon] = award.inputs
    assert jargon.source == "The panel as a whole"
    assert jargon.status_label == "We did"


def test_input_not_linked_to_any_decision_is_listed_after_the_decisions(scenario):
    unlinked = scenario.report().unlinked_inputs
    assert [item.text for item in unlinked] == [
        "Thank you for listening about the drop-in.",
        "Could the hubs open on Saturdays?",
    ]
    assert unlinked[1].status == "awaiting"
    assert unlinked[1].method == "Survey or questionnaire"


def test_the_html_report_shows_every_decision_with_its_involvement_and_influence(scenario):
    text = html.unescape(render_html(scenario.report()))

    for expected in (
        "Northbridge City Council",
        "1 April 2024 to 31 March 2025",
        "Re-provide the thirteen services as six resource hubs.",
        "Award five hubs to four third-sector providers.",
        "Co-author the outcomes section; comment on the rest.",
        "Keep a drop-in on Tuesdays at every hub.",
        "Every hub specification now includes a Tuesday drop-in.",
        "We couldn't, because …",
        "Transport is outside this budget; the council's travel scheme will be asked.",
        "Plain-English summaries were added to every tender paper.",
        "Could the hubs open on Saturdays?",
        "after 1 earlier response",
    ):
        assert expected in text
    assert "Extend the contracts by a year." not in text
    for foreign in NEIGHBOUR_DATA:
        assert foreign not in text


def test_what_people_said_is_escaped_in_the_html_report(clock):
    scenario = Scenario(clock)
    services.input_submit(
        actor=scenario.world.panel[0], cycle_id=scenario.world.id, text="<script>x()</script>"
    )
    text = render_html(scenario.report())
    assert "<script>" not in text
    assert "&lt;script&gt;x()&lt;/script&gt;" in text


def test_the_csv_report_has_a_row_per_decision_and_input(scenario):
    rows = list(csv.DictReader(io.StringIO(render_csv(scenario.report()))))

    assert tuple(rows[0]) == CSV_COLUMNS
    linked = [
        (row["decision"], row["what_they_said"], row["influence_on_decision"]) for row in rows
    ]
    assert linked == [
        (
            "Re-provide the thirteen services as six resource hubs.",
            "Keep a drop-in on Tuesdays at every hub.",
            "We did",
        ),
        (
            "Re-provide the thirteen services as six resource hubs.",
            "Carers cannot drive people to a hub across the city.",
            "We couldn't, because …",
        ),
        (
            "Award five hubs to four third-sector providers.",
            "The tender papers were full of jargon.",
            "We did",
        ),
        ("", "Thank you for listening about the drop-in.", "Awaiting a response"),
        ("", "Could the hubs open on Saturdays?", "Awaiting a response"),
    ]
    assert rows[0]["involved_before_decision"] == "yes"
    assert rows[0]["who_was_involved"].startswith("3 representatives")
    assert "Assess needs and operating context: Influence" in rows[0]["involvement_by_stage"]
    assert rows[1]["what_changed_or_why_not"].startswith("Transport is outside this budget")
    assert rows[0]["feedback_given_at"]
    assert all(row["organisation"] == "Northbridge City Council" for row in rows)
    everything = "\n".join(",".join(row.values()) for row in rows)
    for foreign in NEIGHBOUR_DATA:
        assert foreign not in everything


def test_a_decision_without_involvement_says_so(clock):
    world = CycleWorld(title="Out-of-hours pharmacy")
    decider = user_with_role(definitions.DECISION_MAKER)
    world.organisation.staff.add(decider)
    services.decision_record(actor=decider, cycle_id=world.id, summary="Change the provider.")

    [entry] = involvement_report(world.organisation, *PERIOD).decisions
    assert not entry.involved_before
    assert entry.inputs == ()
    text = render_html(involvement_report(world.organisation, *PERIOD))
    assert "No involvement of people who use services was recorded before this decision." in text
    assert "No input was linked to this decision." in text


def test_the_neighbouring_organisations_report_holds_only_its_own_decision(scenario):
    report = involvement_report(scenario.neighbour.organisation, *PERIOD)
    assert [entry.summary for entry in report.decisions] == ["Cut the meals budget by a third."]
    assert [item.text for item in report.decisions[0].inputs] == [
        "Hot meals, not frozen ones, please."
    ]
    assert report.unlinked_inputs == ()


# PDF


def test_the_pdf_report_is_typeset(scenario):
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        pytest.skip(f"WeasyPrint cannot load here (it needs the Pango library): {error}")
    pdf = render_pdf(scenario.report())
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 2000


def test_without_weasyprint_the_pdf_report_is_refused_with_a_reason(scenario):
    with (
        mock.patch.dict("sys.modules", {"weasyprint": None}),
        pytest.raises(ReportUnavailable, match="needs WeasyPrint and the Pango library"),
    ):
        render_pdf(scenario.report())


# Cost


def report_queries(organisation: Organisation) -> int:
    with CaptureQueriesContext(connection) as queries:
        involvement_report(organisation, *PERIOD)
    return len(queries)


def grow(scenario: Scenario, cycles: int) -> None:
    """More cycles in the same organisation, each with decisions and input linked to them."""
    world = scenario.world
    for number in range(cycles):
        cycle = services.cycle_create(
            actor=world.lead,
            title=f"Cycle {number}",
            organisation=world.organisation,
            lead=world.lead,
        )
        member = world.panel[number % 3]
        role_services.membership_add(
            actor=world.lead, cycle_id=cycle.pk, member=member, represents="carers"
        )
        said = services.input_submit(actor=member, cycle_id=cycle.pk, text=f"Point {number}.")
        services.boundaries_agree(
            actor=world.lead,
            cycle_id=cycle.pk,
            purpose="Shape the service.",
            user_role="Comment.",
            influence="consult",
            decision_maker="The cabinet.",
        )
        for summary in (f"First decision {number}.", f"Second decision {number}."):
            decision = services.decision_record(
                actor=scenario.decider, cycle_id=cycle.pk, summary=summary
            )
        services.input_respond(
            actor=world.lead,
            cycle_id=cycle.pk,
            input_id=said.pk,
            kind="we-did",
            text="Done.",
            decision_id=decision.pk,
        )


def test_the_report_query_count_does_not_grow_with_cycles_or_decisions(scenario):
    clock_now = scenario.clock.now
    scenario.clock.now = START + timedelta(days=100)
    small = report_queries(scenario.world.organisation)
    grow(scenario, cycles=6)
    large = report_queries(scenario.world.organisation)
    scenario.clock.now = clock_now

    assert len(scenario.report().decisions) == 2 + 12
    assert small == large


# The command


def test_the_report_command_writes_each_format(scenario, tmp_path):
    name = "Northbridge City Council"
    for output_format in ("html", "csv"):
        target = tmp_path / f"report.{output_format}"
        call_command(
            "report",
            "--organisation",
            name,
            "--from",
            "2024-04-01",
            "--to",
            "2025-03-31",
            "--format",
            output_format,
            "-o",
            str(target),
        )
        text = html.unescape(target.read_text())
        assert "Award five hubs to four third-sector providers." in text
        assert "Hot meals, not frozen ones, please." not in text


def test_the_report_command_writes_a_pdf_file(scenario, tmp_path):
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        pytest.skip(f"WeasyPrint cannot load here (it needs the Pango library): {error}")
    target = tmp_path / "report.pdf"
    call_command(
        "report",
        *("--organisation", "Northbridge City Council", "--from", "2024-04-01"),
        *("--to", "2025-03-31", "--format", "pdf", "-o", str(target)),
    )
    assert target.read_bytes().startswith(b"%PDF-")


YEAR = ("--from", "2024-04-01", "--to", "2025-03-31")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--organisation", "Nowhere", *YEAR), "no organisation named 'Nowhere'"),
        (("--organisation", "Known", "--from", "2024-13-01", "--to", "2025-03-31"), "not a date"),
        (("--organisation", "Known", "--from", "2025-04-01", "--to", "2025-03-31"), "ends before"),
        (("--organisation", "Known", *YEAR, "--format", "pdf"), "needs a file to go to"),
    ],
)
def test_the_report_command_refuses_bad_requests_in_one_line(db, arguments, message):
    commissioner(OrganisationFactory(name="Known"))
    with pytest.raises(CommandError, match=message):
        call_command("report", *arguments)


# Formula injection


FORMULAS = {
    "decision": '=HYPERLINK("http://evil.example/","Open")',
    "forum": "+1+cmd|' /C calc'!A0",
    "veto_reason": "-2+3",
    "what_they_said": "@SUM(1,2)",
    "what_changed_or_why_not": "=1+1",
}


def test_csv_cells_that_would_start_a_formula_are_neutralised(clock, tmp_path):
    scenario = Scenario(clock)
    world = scenario.world
    said = scenario.say(0, FORMULAS["what_they_said"])
    scenario.clock.advance(hours=1)
    decision = services.decision_record(
        actor=scenario.decider,
        cycle_id=world.id,
        summary=FORMULAS["decision"],
        forum=FORMULAS["forum"],
        veto_used=True,
        veto_reason=FORMULAS["veto_reason"],
    )
    scenario.respond(said, "we-did", "x", decision)
    services.input_respond(
        actor=world.lead,
        cycle_id=world.id,
        input_id=said.pk,
        kind="we-did",
        text=FORMULAS["what_changed_or_why_not"],
        decision_id=decision.pk,
    )
    target = tmp_path / "report.csv"
    call_command(
        "report",
        "--organisation",
        world.organisation.name,
        "--from",
        "2024-04-01",
        "--to",
        "2025-03-31",
        "--format",
        "csv",
        "-o",
        str(target),
    )
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    row = next(row for row in rows if row["decision_id"] == str(decision.pk))
    assert row["decision"] == "'" + FORMULAS["decision"]
    assert row["forum"] == "'" + FORMULAS["forum"]
    assert row["veto_reason"] == "'" + FORMULAS["veto_reason"]
    assert row["what_they_said"] == "'" + FORMULAS["what_they_said"]
    assert row["what_changed_or_why_not"] == "'" + FORMULAS["what_changed_or_why_not"]
    every_cell = [value for row in rows for value in row.values()]
    assert not [cell for cell in every_cell if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # Ordinary text is untouched.
    assert "Keep a drop-in on Tuesdays at every hub." in every_cell


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_owasp_names_is_neutralised(start):
    assert spreadsheet_safe(f"{start}1+1") == f"'{start}1+1"
    assert spreadsheet_safe(f"a{start}1") == f"a{start}1"
    assert spreadsheet_safe(-5) == -5


def test_the_ledger_export_keeps_the_exact_text_that_was_hashed(clock, tmp_path):
    scenario = Scenario(clock)
    scenario.decide(FORMULAS["decision"])
    target = tmp_path / "ledger.csv"
    call_command("audit", "export", "--format", "csv", "-o", str(target))
    text = target.read_text(encoding="utf-8")
    assert "'=HYPERLINK" not in text
    payload = chain.EXPORT_FIELDS.index("payload")
    payloads = [row[payload] for row in csv.reader(io.StringIO(text))][1:]
    assert FORMULAS["decision"] in [json.loads(cell).get("summary") for cell in payloads]
    assert verify_file(target).ok
