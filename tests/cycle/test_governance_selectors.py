"""What a governance board member reads: the organisations they oversee, the audit trail of their
cycles (filtered, paged by sequence number) and the verdict of verifying the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cycle import ledger, selectors, services
from cycle.errors import Forbidden
from cycle.selectors import AuditFilters, audit_trail, ledger_verdict
from tests.cycle.test_ledger import tamper
from tests.factories import CycleWorld, OrganisationFactory, fresh, governance_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_worlds():
    ours, theirs = CycleWorld(title="Day services"), CycleWorld(title="Respite care")
    ours.pass_gate()
    theirs.pass_gate()
    return ours, theirs


def seqs(page) -> list[int]:
    return [entry.seq for entry in page.entries]


# Whom a board member oversees


def test_a_board_member_oversees_the_organisations_of_their_boards_only(two_worlds):
    ours, theirs = two_worlds
    also = OrganisationFactory(name="Another Trust")
    second_board_member = governance_member(also, username=ours.governor.username)

    overseen = list(selectors.organisations_overseen_by(fresh(second_board_member)))

    assert overseen == sorted([ours.organisation, also], key=lambda org: org.name)
    assert theirs.organisation not in overseen
    assert list(selectors.cycles_audited_by(fresh(ours.governor))) == [ours.cycle]


def test_nobody_but_a_board_member_audits_anything(two_worlds):
    ours, _ = two_worlds
    for person in (ours.lead, ours.panel[0]):
        assert not selectors.organisations_overseen_by(fresh(person)).exists()
        assert not selectors.cycles_audited_by(fresh(person)).exists()
        assert audit_trail(fresh(person)).entries == ()


# The audit trail


def test_the_trail_holds_only_the_events_of_the_cycles_overseen_newest_first(two_worlds):
    ours, theirs = two_worlds
    page = audit_trail(fresh(ours.governor))

    assert page.entries
    assert {entry.cycle_id for entry in page.entries} == {ours.id}
    assert seqs(page) == sorted(seqs(page), reverse=True)
    assert {entry.organisation for entry in page.entries} == {ours.organisation.name}
    assert theirs.cycle.title not in {entry.cycle_title for entry in page.entries}


def test_the_trail_is_filtered_by_action_outcome_actor_stage_and_cycle(two_worlds):
    ours, _ = two_worlds
    governor = fresh(ours.governor)
    with pytest.raises(Forbidden):
        services.stage_advance(actor=ours.panel[0], cycle_id=ours.id)

    by_action = audit_trail(governor, AuditFilters(action="boundaries.acknowledged"))
    assert {entry.action for entry in by_action.entries} == {"boundaries.acknowledged"}
    assert len(by_action.entries) == len(ours.panel)

    refused = audit_trail(governor, AuditFilters(outcome="refused"))
    assert [(entry.action, entry.actor) for entry in refused.entries] == [
        ("stage_advance", ours.panel[0].username)
    ]

    by_actor = audit_trail(governor, AuditFilters(actor=ours.panel[1].username.upper()))
    assert {entry.actor for entry in by_actor.entries} == {ours.panel[1].username}

    by_stage = audit_trail(governor, AuditFilters(stage_key="needs"))
    assert by_stage.entries
    assert {entry.stage_key for entry in by_stage.entries} == {"needs"}

    assert audit_trail(governor, AuditFilters(cycle_id=ours.id)).entries
    assert audit_trail(governor, AuditFilters(organisation_id=ours.organisation.pk)).entries


def test_the_trail_is_filtered_by_period_both_days_included(two_worlds):
    ours, _ = two_worlds
    governor = fresh(ours.governor)
    today = timezone.localdate()
    everything = audit_trail(governor).entries

    assert audit_trail(governor, AuditFilters(period_from=today, period_to=today)).entries == (
        everything
    )
    assert audit_trail(governor, AuditFilters(period_to=today - timedelta(days=1))).entries == ()
    assert audit_trail(governor, AuditFilters(period_from=today + timedelta(days=1))).entries == ()


def test_an_event_shows_its_payload_key_by_key_as_text(two_worlds):
    ours, _ = two_worlds
    [advanced] = audit_trail(fresh(ours.governor), AuditFilters(action="stage.advanced")).entries
    details = dict(advanced.details)
    assert details["from"] == "framework"
    assert details["to"] == "needs"
    assert details["overridden_unmet"] == "none"
    assert len(details["attesting"].split(", ")) == len(ours.panel)


def test_the_trail_pages_by_sequence_number_both_ways(two_worlds):
    ours, _ = two_worlds
    governor = fresh(ours.governor)
    everything = seqs(audit_trail(governor, size=1000))
    assert len(everything) > 12

    first = audit_trail(governor, size=5)
    assert seqs(first) == everything[:5]
    assert first.newer_after is None
    assert first.older_before == everything[4]

    second = audit_trail(governor, before=first.older_before, size=5)
    assert seqs(second) == everything[5:10]
    assert second.newer_after == everything[5]

    back = audit_trail(governor, after=second.newer_after, size=5)
    assert seqs(back) == everything[:5]
    assert back.newer_after is None
    assert back.older_before == everything[4]

    last = audit_trail(governor, before=everything[-3], size=5)
    assert seqs(last) == everything[-2:]
    assert last.older_before is None


def test_the_trail_costs_two_queries_however_long_the_ledger():
    short = CycleWorld()
    long = CycleWorld()
    for _ in range(4):
        long.pass_gate()
    counts = []
    for world in (short, long):
        governor = fresh(world.governor)
        governor.has_perm("cycle.audit_cycle")  # permissions are read once per request
        with CaptureQueriesContext(connection) as queries:
            audit_trail(governor, size=3, before=10_000)
        counts.append(len(queries))
    assert counts == [2, 2]


# Verifying the ledger


def test_the_verdict_of_an_intact_ledger_names_its_head(two_worlds):
    ours, _ = two_worlds
    verdict = ledger_verdict(fresh(ours.governor))
    assert verdict.ok
    assert verdict.problem == ""
    assert (verdict.head_seq, verdict.head_hash) == ledger.head()
    assert verdict.checked == verdict.head_seq


def test_a_broken_event_of_a_cycle_overseen_is_named_with_its_action(two_worlds):
    ours, _ = two_worlds
    seq = selectors.audit_events_audited_by(fresh(ours.governor)).order_by("seq")[2].seq
    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"x":"1"}', seq])

    verdict = ledger_verdict(fresh(ours.governor))

    assert not verdict.ok
    assert verdict.problem.startswith(f"event #{seq} (")
    assert f"cycle {ours.id}" in verdict.problem
    assert verdict.problem.endswith("its contents do not match its hash")


def test_a_broken_event_of_another_organisation_is_named_by_its_number_only(two_worlds):
    ours, theirs = two_worlds
    seq = selectors.audit_events_audited_by(fresh(theirs.governor)).order_by("seq")[2].seq
    tamper("UPDATE cycle_auditevent SET payload = %s WHERE seq = %s", ['{"x":"1"}', seq])

    verdict = ledger_verdict(fresh(ours.governor))

    assert not verdict.ok
    assert verdict.problem == (
        f"event #{seq} (outside the organisations you oversee): its contents do not match its hash"
    )
    assert ledger_verdict(fresh(ours.governor), ours.cycle).ok
