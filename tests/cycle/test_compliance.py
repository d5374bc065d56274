"""Compliance measures for governance boards, each on a history built through the services."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cycle import services
from cycle.compliance import cycle_compliance, organisation_compliance, organisations_compliance
from roles import services as role_services
from tests.factories import CycleWorld, OrganisationFactory, commissioner

pytestmark = pytest.mark.django_db

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


class Clock:
    """The time every service sees, moved on by hand."""

    def __init__(self) -> None:
        self.now = START

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    clock = Clock()
    with mock.patch("django.utils.timezone.now", lambda: clock.now):
        yield clock


@pytest.fixture
def timed_world(clock):
    return CycleWorld()


def walk_to(world: CycleWorld, stage_key: str) -> None:
    while world.refresh().current_stage != stage_key:
        world.pass_gate()


def override(world: CycleWorld, reason: str = "The board accepts the reasons given.") -> None:
    world.record_the_records()
    services.gate_override(actor=world.governor, cycle_id=world.id, reason=reason)
    services.stage_advance(actor=world.lead, cycle_id=world.id)


def dissent(world: CycleWorld, member_index: int = 0, reasons: str = "We never saw the papers."):
    return services.signoff_record(
        actor=world.panel[member_index], cycle_id=world.id, dissent=reasons
    )


def compliance(world: CycleWorld):
    return cycle_compliance(world.refresh())


# Gates passed normally and by override


def test_gates_passed_normally_and_by_override_are_counted_with_the_reasons(world):
    world.pass_gate()  # framework
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest(world.panel[1:])
    dissent(world)
    override(world, "Papers were sent; the panel chair confirmed receipt in writing.")

    result = compliance(world)

    assert (result.gates_passed, result.gates_overridden) == (1, 1)
    assert [gate.stage_key for gate in result.gates] == ["framework", "needs"]
    overridden = result.gates[1]
    assert overridden.overridden
    assert overridden.override_reason == (
        "Papers were sent; the panel chair confirmed receipt in writing."
    )
    assert overridden.overridden_by == world.governor.username
    assert overridden.unmet_codes == ("signoff.dissent",)


# Dissents and how they ended


def test_each_dissent_is_reported_with_how_it_ended(world):
    world.agree_boundaries()
    world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    dissent(world, 0)
    services.dissent_withdraw(actor=world.panel[0], cycle_id=world.id)  # withdrawn
    dissent(world, 1)
    services.signoff_record(actor=world.panel[1], cycle_id=world.id)  # attested
    world.attest([world.panel[0], world.panel[2]])
    services.stage_advance(actor=world.lead, cycle_id=world.id)

    world.agree_boundaries()  # needs
    world.acknowledge_all()
    world.attest(world.panel[1:])
    dissent(world, 0)
    override(world)  # overridden

    world.agree_boundaries()  # review
    world.acknowledge_all()
    world.attest(world.panel[:2])
    dissent(world, 2)
    role_services.membership_remove(  # they step down themselves
        actor=world.panel[2], cycle_id=world.id, member=world.panel[2], reason="Moved away."
    )
    services.stage_advance(actor=world.lead, cycle_id=world.id)  # member left

    dissent(world, 0, "Not told what is fixed.")  # priorities
    services.stage_reopen(
        actor=world.lead, cycle_id=world.id, stage_key="needs", reason="New census data."
    )
    dissent(world, 1, "Still not told.")  # needs, left open

    outcomes = [(item.stage_key, item.outcome) for item in compliance(world).dissents]
    assert outcomes == [
        ("framework", "withdrawn"),
        ("framework", "attested"),
        ("needs", "overridden"),
        ("review", "member-left"),
        ("priorities", "stage-reopened"),
        ("needs", "open"),
    ]


def test_a_dissent_restated_is_reported_once_as_restated(world):
    world.agree_boundaries()
    dissent(world, 0, "First reasons.")
    dissent(world, 0, "Fuller reasons.")

    result = compliance(world)
    assert [(d.reasons, d.outcome) for d in result.dissents] == [
        ("First reasons.", "restated"),
        ("Fuller reasons.", "open"),
    ]


# Sign-off request to quorum


def test_time_from_sign_off_request_to_quorum_is_measured_per_stage(clock):
    world = CycleWorld()  # framework opened at START
    clock.advance(hours=1)
    world.agree_boundaries()  # the request: START + 1h
    world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    clock.advance(hours=4)
    world.attest([world.panel[0]])
    clock.advance(hours=24)
    world.attest([world.panel[1]])  # quorum (2 of 3) at START + 29h
    clock.advance(hours=1)
    world.attest([world.panel[2]])
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    clock.advance(hours=2)  # needs opened; boundaries agreed 3 hours later, nobody attests yet
    clock.advance(hours=3)
    world.agree_boundaries()
    clock.advance(hours=10)

    framework, needs = compliance(world).quorum
    assert framework.status == "reached"
    assert framework.requested_at == START + timedelta(hours=1)
    assert framework.quorum_at == START + timedelta(hours=29)
    assert framework.hours == 28.0
    assert needs.status == "waiting"
    assert needs.requested_at == START + timedelta(hours=35)
    assert needs.hours == 10.0
    totals = organisation_compliance(world.organisation).totals
    assert totals["quorum_reached"] == 1
    assert totals["quorum_median_hours"] == 28.0


def test_a_stage_without_boundaries_has_no_sign_off_request_yet(world):
    [timing] = compliance(world).quorum
    assert timing.status == "not-requested"
    assert timing.requested_at is None


# Budget changes after disclosure


def test_a_budget_change_is_reported_as_re_attested_when_the_panel_signed_again(world):
    world.pass_gate()  # framework, budget v1
    world.agree_boundaries()
    world.acknowledge_all()
    world.assess_duty()
    world.attest()
    world.disclose_budget("950000", constraints="A 20% saving is required.")
    world.attest()
    services.stage_advance(actor=world.lead, cycle_id=world.id)

    [change] = compliance(world).budget_changes
    assert change.version == 2
    assert change.stage_key == "needs"
    assert change.previous_amount == Decimal("1200000.00")
    assert change.amount == Decimal("950000.00")
    assert change.signoffs_voided == 3
    assert change.outcome == "re-attested"
    assert change.reattested_by == 3


def test_compliance_counts_from_columns_and_reads_no_ledger_payload(world):
    """What compliance counts (attestations at a passage, sign-offs a change voided, unchanged
    boundaries) is in columns: a payload key renamed by a writer cannot read as zero."""
    world.pass_gate()
    world.agree_boundaries()
    world.acknowledge_all()
    world.assess_duty()
    world.attest()
    world.disclose_budget("950000")
    world.attest()
    services.stage_advance(actor=world.lead, cycle_id=world.id)

    with CaptureQueriesContext(connection) as queries:
        report = cycle_compliance(world.cycle)

    assert report.budget_changes[0].signoffs_voided == 3
    assert [passage.stage_key for passage in report.gates] == ["framework", "needs"]
    assert queries.captured_queries
    assert not [q["sql"] for q in queries.captured_queries if "payload" in q["sql"]]


def test_a_budget_change_passed_by_override_is_reported_as_not_re_attested(world):
    world.pass_gate()
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest()
    world.disclose_budget("800000")  # the meals-on-wheels pattern: cut, nobody re-attests
    override(world, "Procurement deadline.")

    [change] = compliance(world).budget_changes
    assert change.outcome == "overridden"
    assert change.reattested_by == 0


def test_budget_changes_still_waiting_or_changed_again_are_told_apart(world):
    world.pass_gate()
    world.disclose_budget("1100000")
    world.disclose_budget("1000000")

    outcomes = [(c.version, c.outcome) for c in compliance(world).budget_changes]
    assert outcomes == [(2, "superseded"), (3, "awaiting-advance")]


def test_the_first_disclosure_is_not_a_change(world):
    world.pass_gate()
    assert compliance(world).budget_changes == ()


# Late involvement


def test_involvement_first_recorded_after_the_review_stage_is_late(world):
    override(world)  # framework: nobody from the panel has done anything
    override(world)  # needs
    override(world)  # review
    world.agree_boundaries()
    services.boundaries_acknowledge(actor=world.panel[0], cycle_id=world.id)  # at priorities

    involvement = compliance(world).involvement
    assert involvement.late
    assert involvement.review_stage == "review"
    assert involvement.first_stage == "priorities"
    assert involvement.first_action == "boundaries.acknowledged"


def test_a_cycle_past_review_with_no_involvement_at_all_is_late(world):
    for _ in range(3):
        override(world)
    involvement = compliance(world).involvement
    assert involvement.late
    assert involvement.first_at is None


def test_involvement_from_the_first_stage_is_not_late(world):
    walk_to(world, "priorities")
    involvement = compliance(world).involvement
    assert not involvement.late
    assert involvement.first_stage == "framework"


def test_a_cycle_not_yet_past_review_is_not_late_even_without_involvement(world):
    override(world)
    assert not compliance(world).involvement.late


def test_late_involvement_uses_each_templates_review_stage():
    world = CycleWorld(template_key="guide")
    for _ in range(2):  # assess-needs, review-services
        override(world)
    involvement = compliance(world).involvement
    assert involvement.review_stage == "review-services"
    assert involvement.late


# Unanswered input


def test_unanswered_input_is_listed_and_still_considering_counts(world):
    answered = services.input_submit(actor=world.panel[0], cycle_id=world.id, text="Ramps.")
    considering = services.input_submit(actor=world.panel[1], cycle_id=world.id, text="Parking.")
    waiting = services.input_submit(actor=world.panel[2], cycle_id=world.id, text="Hours.")
    services.input_respond(
        actor=world.lead, cycle_id=world.id, input_id=answered.pk, kind="we-did", text="Built."
    )
    services.input_respond(
        actor=world.lead, cycle_id=world.id, input_id=considering.pk, kind="considering"
    )
    # Six weeks: past INPUT_RESPONSE_DAYS (20 working days) whatever the bank holidays.
    services.input_flag_overdue(input_id=waiting.pk, now=waiting.submitted_at + timedelta(days=42))

    items = compliance(world).unanswered_inputs
    assert [(item.input_id, item.status) for item in items] == [
        (considering.pk, "considering"),
        (waiting.pk, "awaiting"),
    ]
    assert items[1].overdue_flagged_at is not None
    totals = organisation_compliance(world.organisation).totals
    assert (totals["unanswered_inputs"], totals["overdue_inputs"]) == (2, 1)


# Boundaries copied unchanged


def test_boundaries_copied_unchanged_are_found_within_and_across_stages(world):
    world.agree_boundaries()
    world.agree_boundaries()  # the same terms again: a new version, unchanged
    world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    world.attest()
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    world.agree_boundaries()  # needs: the framework's terms, copied
    world.pass_gate()  # needs v2, unchanged again
    world.agree_boundaries(purpose="Map current day services with the people who use them.")

    copied = [(c.stage_key, c.version, c.copied_from) for c in compliance(world).copied_boundaries]
    assert copied == [
        ("framework", 2, "previous-version"),
        ("needs", 1, "framework"),
        ("needs", 2, "previous-version"),
    ]


# Per organisation


def test_an_organisations_compliance_covers_its_cycles_only():
    first = CycleWorld(title="Day services")
    second = CycleWorld(title="Respite care")
    second_cycle_same_org = services.cycle_create(
        actor=first.lead,
        title="Carers' breaks",
        organisation=first.organisation,
        lead=first.lead,
    )
    first.pass_gate()

    report = organisation_compliance(first.organisation)

    assert [cycle.title for cycle in report.cycles] == ["Day services", "Carers' breaks"]
    assert report.cycles[1].cycle_id == second_cycle_same_org.pk
    assert report.totals["cycles"] == 2
    assert report.totals["gates_passed"] == 1
    assert "Respite care" not in json.dumps([cycle.title for cycle in report.cycles])
    assert second.organisation.name != report.organisation


def busy_organisation(cycles: int) -> CycleWorld:
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
    world.pass_gate()
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest(world.panel[1:])
    dissent(world)
    world.disclose_budget("1000")
    override(world)
    services.input_submit(actor=world.panel[0], cycle_id=world.id, text="More evenings.")
    return world


def compliance_queries(world: CycleWorld) -> int:
    with CaptureQueriesContext(connection) as queries:
        organisation_compliance(world.organisation)
    return len(queries)


def test_the_query_count_does_not_grow_with_the_organisations_cycles():
    small = compliance_queries(busy_organisation(cycles=1))
    large = compliance_queries(busy_organisation(cycles=8))
    assert small == large


def test_one_cycles_compliance_takes_as_many_queries_as_a_whole_organisations(world):
    busy = busy_organisation(cycles=3)
    cycle = busy.refresh()
    with CaptureQueriesContext(connection) as queries:
        cycle_compliance(cycle)
    assert len(queries) == compliance_queries(busy)


def test_several_organisations_are_read_at_once_each_with_only_its_own_cycles():
    first = busy_organisation(cycles=2)
    second = CycleWorld(title="Respite care")
    second.pass_gate()
    empty = OrganisationFactory(name="Quiet Trust")

    reports = organisations_compliance([second.organisation, empty, first.organisation])

    assert [report.organisation for report in reports] == [
        second.organisation.name,
        "Quiet Trust",
        first.organisation.name,
    ]
    assert [report.organisation_id for report in reports] == [
        second.organisation.pk,
        empty.pk,
        first.organisation.pk,
    ]
    assert [cycle.title for cycle in reports[0].cycles] == ["Respite care"]
    assert reports[1].cycles == ()
    assert reports[1].totals["cycles"] == 0
    assert [cycle.title for cycle in reports[2].cycles] == ["Day services", "Cycle 0", "Cycle 1"]
    assert reports[2].totals == organisation_compliance(first.organisation).totals
    assert reports[2].totals["gates_overridden"] == 1
    assert reports[0].totals["gates_passed"] == 1


def test_several_organisations_cost_the_queries_of_one():
    one = compliance_queries(busy_organisation(cycles=1))
    worlds = [busy_organisation(cycles=3) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        reports = organisations_compliance([world.organisation for world in worlds])
    assert [report.totals["cycles"] for report in reports] == [4, 4, 4]
    assert len(queries) == one


def test_no_organisations_cost_no_queries(db):
    with CaptureQueriesContext(connection) as queries:
        assert organisations_compliance([]) == []
    assert len(queries) == 0


# The command


def test_the_compliance_command_prints_json_for_the_board(world):
    world.pass_gate()
    out = StringIO()
    call_command("compliance", "--organisation", world.organisation.name, "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert data["organisation"] == world.organisation.name
    assert data["totals"]["gates_passed"] == 1
    [cycle] = data["cycles"]
    assert cycle["cycle_id"] == world.id
    assert cycle["gates_passed"] == 1
    assert cycle["gates"][0]["stage_key"] == "framework"


def test_the_compliance_command_prints_a_summary(world):
    for _ in range(3):
        override(world, "Board meeting minute 14.")
    out = StringIO()
    call_command("compliance", "--organisation", world.organisation.name, stdout=out)

    text = out.getvalue()
    assert "gates passed normally: 0; by override: 3" in text
    assert "override at framework by" in text
    assert "Board meeting minute 14." in text
    assert "late involvement: first at never, after review" in text


def test_the_compliance_command_refuses_an_unknown_organisation(db):
    commissioner(OrganisationFactory(name="Known CCG"))
    with pytest.raises(CommandError, match="There is no organisation named 'Unknown'"):
        call_command("compliance", "--organisation", "Unknown")


def test_other_organisations_records_change_neither_the_compliance_nor_its_queries():
    mine = busy_organisation(cycles=1)
    before = organisation_compliance(mine.organisation, now=timezone.now())
    queries_before = compliance_queries(mine)
    busy_organisation(cycles=4)  # another organisation, with gates, dissent, overrides, input

    after = organisation_compliance(mine.organisation, now=before.generated_at)

    assert compliance_queries(mine) == queries_before
    assert after.cycles == before.cycles and after.totals == before.totals


def test_an_organisation_without_cycles_reads_only_its_cycles(db):
    empty = OrganisationFactory(name="Quiet Trust")
    with CaptureQueriesContext(connection) as queries:
        report = organisation_compliance(empty)
    assert report.cycles == () and report.totals["cycles"] == 0
    assert len(queries) == 1
