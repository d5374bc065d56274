"""The influence register: input from the panel, the commissioner's response, and the gate that
will not close a cycle while any input is unanswered."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cycle import selectors, services
from cycle.errors import Forbidden, GateClosed, InvalidRequest, NotFound
from cycle.gates import Condition, SignOffKind, SignOffPosition, StageSnapshot, evaluate
from cycle.models import AuditEvent, CommissioningCycle, InputResponse, UserInput
from cycle.stages import TEMPLATES
from roles import definitions
from tests.factories import CycleWorld, user_with_role

pytestmark = pytest.mark.django_db


def submit(world: CycleWorld, text: str = "Keep the Tuesday drop-in open.", **kwargs):
    return services.input_submit(actor=world.panel[0], cycle_id=world.id, text=text, **kwargs)


def respond(world: CycleWorld, user_input: UserInput, kind: str, text: str = "", **kwargs):
    return services.input_respond(
        actor=world.lead,
        cycle_id=world.id,
        input_id=user_input.pk,
        kind=kind,
        text=text,
        **kwargs,
    )


def decision_maker(world: CycleWorld):
    user = user_with_role(definitions.DECISION_MAKER)
    world.organisation.staff.add(user)
    return user


def walk_to(world: CycleWorld, stage_key: str) -> None:
    while world.refresh().current_stage != stage_key:
        world.pass_gate()


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


# Submitting input


def test_panel_member_submits_input_on_the_current_stage(world):
    user_input = submit(
        world,
        source=UserInput.Source.PANEL,
        method=UserInput.Method.WRITTEN,
        attachment_reference="papers/2024-03-panel-notes.pdf",
    )

    assert user_input.stage_key == "framework"
    assert user_input.visit == selectors.open_visit(world.cycle)
    assert user_input.status == UserInput.Status.AWAITING
    assert user_input.answered_at is None
    event = last_event("input.submitted")
    assert event.object_id == str(user_input.pk)
    assert json.loads(event.payload) == {
        "attachment_reference": "papers/2024-03-panel-notes.pdf",
        "method": "written",
        "source": "panel",
        "text": "Keep the Tuesday drop-in open.",
    }


def test_input_needs_some_text(world):
    with pytest.raises(InvalidRequest) as refused:
        submit(world, text="   ")
    assert refused.value.code == "invalid.text"
    assert not UserInput.objects.exists()


def test_input_names_a_known_source_and_method(world):
    with pytest.raises(InvalidRequest) as refused:
        submit(world, source="board")
    assert refused.value.code == "invalid.source"
    with pytest.raises(InvalidRequest) as refused:
        submit(world, method="carrier-pigeon")
    assert refused.value.code == "invalid.method"


def test_the_lead_commissioner_cannot_submit_input_as_the_panel(world):
    with pytest.raises(Forbidden) as refused:
        services.input_submit(actor=world.lead, cycle_id=world.id, text="We think so too.")
    assert refused.value.code == "forbidden.represent"
    assert not UserInput.objects.exists()


def test_a_member_who_left_the_panel_cannot_submit_input(world):
    from roles import services as role_services

    leaver = world.panel[0]
    role_services.membership_remove(
        actor=world.lead, cycle_id=world.id, member=leaver, reason="Moved away."
    )
    with pytest.raises(Forbidden):
        services.input_submit(actor=leaver, cycle_id=world.id, text="One more thing.")
    assert not UserInput.objects.exists()


# Responding


def test_only_the_lead_commissioner_responds(world):
    user_input = submit(world)
    with pytest.raises(Forbidden) as refused:
        services.input_respond(
            actor=world.panel[1],
            cycle_id=world.id,
            input_id=user_input.pk,
            kind="we-did",
            text="Done.",
        )
    assert refused.value.code == "forbidden.lead"
    assert not InputResponse.objects.exists()


def test_we_could_not_needs_a_reason(world):
    user_input = submit(world)
    with pytest.raises(InvalidRequest) as refused:
        respond(world, user_input, "we-could-not", "  ")
    assert refused.value.code == "invalid.reason"
    user_input.refresh_from_db()
    assert user_input.status == UserInput.Status.AWAITING


def test_we_did_says_what_was_done(world):
    user_input = submit(world)
    with pytest.raises(InvalidRequest) as refused:
        respond(world, user_input, "we-did")
    assert refused.value.code == "invalid.what_was_done"


def test_an_unknown_kind_of_response_is_refused(world):
    user_input = submit(world)
    with pytest.raises(InvalidRequest) as refused:
        respond(world, user_input, "maybe", "Perhaps.")
    assert refused.value.code == "invalid.response_kind"


def test_we_could_not_answers_the_input_with_its_reason(world):
    user_input = submit(world)
    response = respond(
        world, user_input, "we-could-not", "The building lease ends in March; no site is free."
    )

    user_input.refresh_from_db()
    assert user_input.status == UserInput.Status.WE_COULD_NOT
    assert user_input.is_answered
    assert user_input.answered_at == response.responded_at
    event = last_event("input.responded")
    assert json.loads(event.payload)["kind"] == "we-could-not"
    assert json.loads(event.payload)["text"] == (
        "The building lease ends in March; no site is free."
    )


def test_still_considering_does_not_count_as_answered(world):
    user_input = submit(world)
    respond(world, user_input, "considering")

    user_input.refresh_from_db()
    assert user_input.status == UserInput.Status.CONSIDERING
    assert user_input.answered_at is None
    assert list(UserInput.objects.unanswered()) == [user_input]


def test_a_newer_response_supersedes_the_old_one_and_keeps_it(world):
    user_input = submit(world)
    first = respond(world, user_input, "considering", "Costing it with the provider.")
    second = respond(world, user_input, "we-did", "The drop-in stays on Tuesdays.")

    first.refresh_from_db()
    assert first.superseded_at == second.responded_at
    assert second.superseded_at is None
    assert list(user_input.responses.order_by("id").values_list("kind", flat=True)) == [
        "considering",
        "we-did",
    ]
    user_input.refresh_from_db()
    assert user_input.status == UserInput.Status.WE_DID
    assert json.loads(last_event("input.responded").payload)["previous"] == "considering"


def test_an_answer_can_be_taken_back_to_still_considering(world):
    user_input = submit(world)
    respond(world, user_input, "we-did", "Added to the specification.")
    respond(world, user_input, "considering", "The specification is being redrafted.")

    user_input.refresh_from_db()
    assert user_input.status == UserInput.Status.CONSIDERING
    assert user_input.answered_at is None


def test_a_response_is_linked_to_the_decision_it_touched(world):
    user_input = submit(world)
    decision = services.decision_record(
        actor=decision_maker(world), cycle_id=world.id, summary="Keep three day centres open."
    )
    response = respond(
        world, user_input, "we-did", "Kept the Tuesday session.", decision_id=decision.pk
    )

    assert response.decision == decision
    assert list(decision.input_responses.all()) == [response]
    assert json.loads(last_event("input.responded").payload)["decision"] == decision.pk


def test_a_decision_of_another_cycle_cannot_be_linked(world):
    other = CycleWorld(title="Meals on wheels")
    decision = services.decision_record(
        actor=decision_maker(other), cycle_id=other.id, summary="Tender the service."
    )
    user_input = submit(world)
    with pytest.raises(NotFound) as refused:
        respond(world, user_input, "we-did", "Tendered.", decision_id=decision.pk)
    assert refused.value.code == "decision.not_found"
    assert not InputResponse.objects.exists()


def test_input_of_another_cycle_is_not_found(world):
    other = CycleWorld(title="Meals on wheels")
    elsewhere = services.input_submit(actor=other.panel[0], cycle_id=other.id, text="Hot meals.")
    with pytest.raises(NotFound) as refused:
        respond(world, elsewhere, "we-did", "Done.")
    assert refused.value.code == "input.not_found"


# The gate of the last stage


@pytest.mark.parametrize("template_key", sorted(TEMPLATES))
def test_only_the_last_stage_of_each_template_waits_for_answers(template_key):
    template = TEMPLATES[template_key]
    waits = [
        stage.key
        for stage in template.stages
        if Condition.INPUT_ANSWERED in template.gate_requires(stage.key)
    ]
    assert waits == [template.stages[-1].key]


def test_gate_rule_counts_unanswered_input_only_where_the_stage_asks():
    snapshot = StageSnapshot(
        stage_key="monitoring",
        active_members=frozenset({1}),
        boundary_version=1,
        acknowledged_by=frozenset({1}),
        budget_version=1,
        signoffs=(SignOffPosition(1, SignOffKind.ATTEST, 1, 1),),
        requires=frozenset({Condition.INPUT_ANSWERED}),
        unanswered_inputs=2,
    )
    result = evaluate(snapshot)
    assert result.codes == ("input.unanswered",)
    assert result.unmet[0].message.startswith("2 inputs from the panel have no answer yet")
    assert evaluate(replace(snapshot, unanswered_inputs=0)).open
    assert evaluate(replace(snapshot, requires=frozenset())).open


def meet_monitoring_gate_except_answers(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest()


def test_monitoring_gate_refuses_to_close_the_cycle_with_unanswered_input(world):
    walk_to(world, "monitoring")
    user_input = submit(world, text="Ask us again in six months.")
    meet_monitoring_gate_except_answers(world)

    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert refused.value.result.codes == ("input.unanswered",)
    assert world.refresh().status == CommissioningCycle.Status.ACTIVE

    respond(world, user_input, "considering", "Planning the six-month review.")
    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert refused.value.result.codes == ("input.unanswered",)

    respond(world, user_input, "we-did", "A review with the panel is booked for October.")
    assert services.stage_advance(actor=world.lead, cycle_id=world.id) is None
    assert world.refresh().status == CommissioningCycle.Status.COMPLETED


def test_input_left_unanswered_at_an_early_stage_still_holds_the_last_gate(world):
    early = submit(world, text="Ask carers, not only users.")
    walk_to(world, "monitoring")  # earlier gates do not wait for answers
    meet_monitoring_gate_except_answers(world)

    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert refused.value.result.codes == ("input.unanswered",)

    respond(world, early, "we-could-not", "Carers were asked through the carers' centre instead.")
    services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert world.refresh().status == CommissioningCycle.Status.COMPLETED


def test_other_templates_close_only_when_input_is_answered():
    world = CycleWorld(template_key="self-assessment")
    walk_to(world, "quality")
    submit(world)
    meet_monitoring_gate_except_answers(world)
    with pytest.raises(GateClosed) as refused:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    assert refused.value.result.codes == ("input.unanswered",)


def snapshot_queries(world: CycleWorld) -> int:
    with CaptureQueriesContext(connection) as queries:
        selectors.gate_snapshot(world.refresh())
    return len(queries)


def test_the_gate_snapshot_query_count_does_not_grow_with_input(world):
    walk_to(world, "monitoring")
    submit(world)
    few = snapshot_queries(world)
    for number in range(12):
        user_input = services.input_submit(
            actor=world.panel[number % 3], cycle_id=world.id, text=f"Point {number}."
        )
        if number % 2:
            respond(world, user_input, "we-did", "Done.")
    assert snapshot_queries(world) == few
