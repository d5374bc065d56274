"""Decision meetings: papers to the panel at least seven days before (seed 001 L705), on the gate
of the decision stage, waivable by a governance board with reasons."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from cycle import meetings, services, workdays
from cycle.errors import Conflict, Forbidden, GateClosed, InvalidRequest, NotFound
from cycle.gates import Condition, MeetingPapers, StageSnapshot, evaluate, waivable
from cycle.models import AuditEvent, Notification
from tests.factories import CycleWorld, representative, user_with_role

TODAY = date(2026, 12, 1)


def snapshot(*papers: MeetingPapers) -> StageSnapshot:
    return StageSnapshot(
        stage_key="decision",
        active_members=frozenset({1}),
        boundary_version=1,
        acknowledged_by=frozenset({1}),
        budget_version=1,
        signoffs=(),
        requires=frozenset({Condition.DECISION_PAPERS}),
        decision_meetings=papers,
    )


def codes(*papers: MeetingPapers) -> list[str]:
    return [code for code in evaluate(snapshot(*papers)).codes if code.startswith("papers.")]


# The rule, on plain values


def test_papers_seven_days_before_the_meeting_meet_the_condition():
    assert codes(MeetingPapers(TODAY, TODAY - timedelta(days=7))) == []
    assert codes(MeetingPapers(TODAY, TODAY - timedelta(days=30))) == []


def test_papers_less_than_seven_days_before_are_flagged_with_the_dates():
    result = evaluate(snapshot(MeetingPapers(TODAY, TODAY - timedelta(days=6))))
    [late] = [item for item in result.unmet if item.code == "papers.late"]
    assert "the meeting on 1 December 2026 had them on 25 November 2026, 6 days before" in (
        late.message
    )


def test_papers_not_sent_are_flagged():
    assert codes(MeetingPapers(TODAY, None)) == ["papers.not_issued"]
    assert codes(MeetingPapers(TODAY, None), MeetingPapers(TODAY, TODAY)) == [
        "papers.not_issued",
        "papers.late",
    ]


def test_without_a_meeting_the_condition_has_nothing_to_check():
    assert codes() == []


def test_only_the_stage_that_asks_checks_the_papers():
    plain = StageSnapshot(
        stage_key="design",
        active_members=frozenset({1}),
        decision_meetings=(MeetingPapers(TODAY, None),),
    )
    assert "papers.not_issued" not in evaluate(plain).codes


def test_a_governance_board_may_waive_late_or_missing_papers():
    assert waivable("papers.late") and waivable("papers.not_issued")


# Through the services


@pytest.fixture
def decision(db):
    world = CycleWorld()
    world.walk_to("decision")
    world.meet_gate()
    world.decider = user_with_role("Decision-maker")
    return world


def schedule(world, held_on: date, issued_on: date | None = None):
    meeting = meetings.meeting_schedule(
        actor=world.lead,
        cycle_id=world.id,
        held_on=held_on,
        forum="Cabinet of the council",
        decision_maker=world.decider,
    )
    if issued_on is not None:
        meeting = meetings.meeting_papers_issue(
            actor=world.lead, cycle_id=world.id, meeting_id=meeting.pk, issued_on=issued_on
        )
    return meeting


def today() -> date:
    return workdays.uk_date(timezone.now())


def test_late_papers_close_the_decision_gate_until_a_board_member_accepts_them(decision):
    world = decision
    schedule(world, today() + timedelta(days=3), issued_on=today())

    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert refused.value.result.codes == ("papers.late",)

    services.gate_override(
        actor=world.governor,
        cycle_id=world.id,
        reason="The cabinet date moved; members had a briefing instead.",
        codes=["papers.late"],
    )
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert world.refresh().current_stage == "implementation"


def test_papers_on_time_leave_the_gate_open(decision):
    world = decision
    schedule(world, today() + timedelta(days=10), issued_on=today() - timedelta(days=1))
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert world.refresh().current_stage == "implementation"


def test_issuing_papers_tells_the_panel_how_long_they_have(decision):
    world = decision
    held_on = today() + timedelta(days=4)
    meeting = schedule(world, held_on, issued_on=today())

    rows = Notification.objects.filter(kind=Notification.Kind.PAPERS_ISSUED)
    assert sorted(row.recipient_id for row in rows) == sorted(m.pk for m in world.panel)
    assert "That is only 4 days before the meeting; the guide asks for at least 7" in rows[0].body
    [event] = AuditEvent.objects.filter(action="meeting.papers_issued")
    payload = json.loads(event.payload)
    assert payload["days_notice"] == 4 and payload["held_on"] == held_on.isoformat()
    assert (
        AuditEvent.objects.filter(action="meeting.scheduled", object_id=str(meeting.pk)).count()
        == 1
    )


def test_papers_sent_again_count_from_the_later_date(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=5), issued_on=today() - timedelta(days=5))
    meetings.meeting_papers_issue(actor=world.lead, cycle_id=world.id, meeting_id=meeting.pk)
    meeting.refresh_from_db()
    assert meeting.papers_issued_on == today()
    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert "papers.late" in refused.value.result.codes
    assert Notification.objects.filter(kind=Notification.Kind.PAPERS_ISSUED).count() == 6


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("held_on", "next Tuesday", "invalid.meeting_date"),
        ("forum", "  ", "invalid.forum"),
    ],
)
def test_a_meeting_needs_a_date_and_a_forum(decision, field, value, code):
    kwargs = {"held_on": today(), "forum": "Cabinet", "decision_maker": decision.decider}
    kwargs[field] = value
    with pytest.raises(InvalidRequest) as refused:
        meetings.meeting_schedule(actor=decision.lead, cycle_id=decision.id, **kwargs)
    assert refused.value.code == code


def test_the_decision_maker_must_hold_the_role(decision):
    with pytest.raises(InvalidRequest) as refused:
        meetings.meeting_schedule(
            actor=decision.lead,
            cycle_id=decision.id,
            held_on=today(),
            forum="Cabinet",
            decision_maker=representative(),
        )
    assert refused.value.code == "invalid.decision_maker"


def test_papers_cannot_be_sent_in_the_future_or_after_the_meeting(decision):
    meeting = schedule(decision, today() + timedelta(days=2))
    for issued_on in (today() + timedelta(days=1), "2099-01-01"):
        with pytest.raises(InvalidRequest) as refused:
            meetings.meeting_papers_issue(
                actor=decision.lead,
                cycle_id=decision.id,
                meeting_id=meeting.pk,
                issued_on=issued_on,
            )
        assert refused.value.code == "invalid.papers_date"
    past = schedule(decision, today() - timedelta(days=3))
    with pytest.raises(InvalidRequest) as refused:
        meetings.meeting_papers_issue(actor=decision.lead, cycle_id=decision.id, meeting_id=past.pk)
    assert refused.value.code == "invalid.papers_date"


def test_only_the_lead_commissioner_schedules_and_a_meeting_of_another_cycle_is_not_found(decision):
    with pytest.raises(Forbidden):
        meetings.meeting_schedule(
            actor=decision.panel[0],
            cycle_id=decision.id,
            held_on=today(),
            forum="Cabinet",
            decision_maker=decision.decider,
        )
    assert AuditEvent.objects.filter(action="meeting_schedule", outcome="refused").count() == 1
    other = CycleWorld(title="Elsewhere")
    meeting = schedule(decision, today() + timedelta(days=9))
    with pytest.raises(NotFound) as missing:
        meetings.meeting_papers_issue(actor=other.lead, cycle_id=other.id, meeting_id=meeting.pk)
    assert missing.value.code == "meeting.not_found"


def test_the_snapshot_of_many_cycles_sees_the_meetings_as_the_snapshot_of_one(decision):
    from cycle import selectors

    schedule(decision, today() + timedelta(days=3), issued_on=today())
    schedule(decision, today() + timedelta(days=20))
    cycle = decision.refresh()
    one = selectors.gate_snapshot(cycle)
    assert len(one.decision_meetings) == 2
    assert selectors.gate_snapshots([cycle])[cycle.pk] == one


# Changing a meeting


def test_moving_a_meeting_later_clears_late_papers_writes_the_change_and_tells_the_panel(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=3), issued_on=today())

    moved = meetings.meeting_change(
        actor=world.lead,
        cycle_id=world.id,
        meeting_id=meeting.pk,
        held_on=(today() + timedelta(days=9)).isoformat(),
        forum="Cabinet",
        decision_maker=world.decider,
    )

    assert moved.held_on == today() + timedelta(days=9)
    assert moved.papers_issued_on == today()
    [event] = AuditEvent.objects.filter(action="meeting.changed")
    payload = json.loads(event.payload)
    assert payload["before"]["held_on"] == (today() + timedelta(days=3)).isoformat()
    assert payload["before"]["forum"] == "Cabinet of the council"
    assert payload["held_on"] == (today() + timedelta(days=9)).isoformat()
    told = Notification.objects.filter(kind=Notification.Kind.MEETING_CHANGED)
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(m.pk for m in world.panel)
    assert "It is now Cabinet on" in told.first().body
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert world.refresh().current_stage == "implementation"


def test_a_meeting_already_held_cannot_be_changed(decision):
    world = decision
    meeting = schedule(world, today())
    type(meeting).objects.filter(pk=meeting.pk).update(held_on=today() - timedelta(days=1))

    with pytest.raises(Conflict) as refused:
        meetings.meeting_change(
            actor=world.lead,
            cycle_id=world.id,
            meeting_id=meeting.pk,
            held_on=today() + timedelta(days=9),
            forum="Cabinet",
            decision_maker=world.decider,
        )
    assert refused.value.code == "meeting.held"


def test_a_meeting_of_a_stage_that_has_ended_cannot_be_changed(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=10), issued_on=today())
    services.stage_advance(actor=world.lead, cycle_id=world.id)

    with pytest.raises(Conflict) as refused:
        meetings.meeting_change(
            actor=world.lead,
            cycle_id=world.id,
            meeting_id=meeting.pk,
            held_on=today() + timedelta(days=12),
            forum="Cabinet",
            decision_maker=world.decider,
        )
    assert refused.value.code == "meeting.stage_ended"


def test_a_change_that_changes_nothing_or_goes_before_the_papers_is_refused(decision):
    world = decision
    held_on = today() + timedelta(days=10)
    meeting = schedule(world, held_on, issued_on=today())
    change = {
        "actor": world.lead,
        "cycle_id": world.id,
        "meeting_id": meeting.pk,
        "forum": "Cabinet of the council",
        "decision_maker": world.decider,
    }

    with pytest.raises(InvalidRequest) as same:
        meetings.meeting_change(**change, held_on=held_on)
    with pytest.raises(InvalidRequest) as past:
        meetings.meeting_change(**change, held_on=today() - timedelta(days=1))
    with pytest.raises(InvalidRequest) as nobody:
        meetings.meeting_change(
            **{**change, "decision_maker": representative()}, held_on=held_on + timedelta(days=1)
        )

    assert same.value.code == "invalid.unchanged"
    assert past.value.code == "invalid.meeting_date"
    assert nobody.value.code == "invalid.decision_maker"
    assert not AuditEvent.objects.filter(action="meeting.changed").exists()


def test_only_the_lead_changes_a_meeting(decision):
    world = decision
    meeting = schedule(world, today() + timedelta(days=10))
    with pytest.raises(Forbidden):
        meetings.meeting_change(
            actor=world.panel[0],
            cycle_id=world.id,
            meeting_id=meeting.pk,
            held_on=today() + timedelta(days=11),
            forum="Cabinet",
            decision_maker=world.decider,
        )
    with pytest.raises(NotFound):
        meetings.meeting_change(
            actor=world.lead,
            cycle_id=world.id,
            meeting_id=meeting.pk + 1000,
            held_on=today() + timedelta(days=11),
            forum="Cabinet",
            decision_maker=world.decider,
        )
