"""The running flow takes exactly the paths the BPMN model allows.

Cycles are driven through ``processes.commissioning`` and the services; their ledger is read back
and each stage move (an advance, a refused advance, an override, a reopening) is replayed as a
walk over the model's sequence flows, each gateway choosing its flow for the gate codes the
ledger recorded (``processes.bpmn.walk``). Histories the model does not allow fail the walk.
"""

from __future__ import annotations

import itertools
import json

import pytest

from cycle import services
from cycle.errors import GateClosed
from cycle.models import AuditEvent, CommissioningCycle
from cycle.stages import DEFAULT, TEMPLATES, get_template
from processes import bpmn, commissioning
from tests.processes.worlds import FlowWorld


def ledger_moves(cycle: CommissioningCycle) -> list[bpmn.Move]:
    events = AuditEvent.objects.filter(cycle=cycle).order_by("seq")
    return bpmn.moves_from_events(
        {
            "action": event.action,
            "outcome": event.outcome,
            "stage_key": event.stage_key,
            "payload": json.loads(event.payload),
        }
        for event in events
    )


def replay(cycle: CommissioningCycle) -> bpmn.Walk:
    cycle.refresh_from_db()
    return bpmn.walk(bpmn.build_model(get_template(cycle.template_key)), ledger_moves(cycle))


def flow_ids(route: bpmn.Walk) -> list[str]:
    return [flow.id for flow in route.steps]


def pass_through_the_flow(world: FlowWorld) -> None:
    world.pass_gate_through_the_flow()


def test_a_cycle_passed_straight_through_walks_every_gate_to_the_end(flow_world: FlowWorld) -> None:
    for _ in DEFAULT.keys:
        pass_through_the_flow(flow_world)
    assert flow_world.refresh().status == CommissioningCycle.Status.COMPLETED

    route = replay(flow_world.cycle)

    taken = flow_ids(route)
    assert [f for f in taken if f.startswith("flow_gate_")] == [
        *(f"flow_gate_{a}__enter_{b}" for a, b in itertools.pairwise(DEFAULT.keys)),
        "flow_gate_monitoring__last_stage_passed",
    ]
    assert route.at == "cycle_completed"
    assert not any("override" in f for f in taken)


def test_refused_advances_walk_the_gates_default_flow_back_into_the_stage(
    flow_world: FlowWorld,
) -> None:
    with pytest.raises(GateClosed):
        commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)
    flow_world.agree_boundaries()
    with pytest.raises(GateClosed):
        commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)
    pass_through_the_flow(flow_world)

    route = replay(flow_world.cycle)

    taken = flow_ids(route)
    assert taken.count("flow_gate_framework__enter_framework") == 2
    assert taken[-1] == "flow_enter_needs__evidence_needs"


def test_a_dissent_overridden_by_the_governance_board_walks_the_override_path(
    flow_world: FlowWorld,
) -> None:
    pass_through_the_flow(flow_world)
    flow_world.agree_boundaries()
    flow_world.acknowledge_all()
    flow_world.assess_duty()
    *attesting, dissenting = flow_world.panel
    for member in attesting:
        commissioning.signoff(actor=member, cycle_id=flow_world.id)
    commissioning.signoff(
        actor=dissenting, cycle_id=flow_world.id, dissent="We were not told the budget was cut."
    )
    with pytest.raises(GateClosed) as closed:
        commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)
    assert closed.value.result.codes == ("signoff.dissent",)
    services.gate_override(
        actor=flow_world.governor,
        cycle_id=flow_world.id,
        reason="The dissent was heard at the board; the timetable cannot move.",
    )
    commissioning.advance(actor=flow_world.lead, cycle_id=flow_world.id)
    assert flow_world.refresh().current_stage == "review"

    taken = flow_ids(replay(flow_world.cycle))

    # The refusal took the dissent path back into the stage; the override, its own path on.
    assert taken.count("flow_gate_needs__dissent_needs") == 1
    assert "flow_dissent_needs__enter_needs" in taken
    assert "flow_gate_needs__override_needs" in taken
    assert "flow_override_needs__enter_review" in taken
    assert "flow_gate_needs__enter_review" not in taken


def test_reopening_an_earlier_stage_walks_its_explicit_flow(flow_world: FlowWorld) -> None:
    for _ in range(3):
        pass_through_the_flow(flow_world)
    commissioning.reopen(
        actor=flow_world.lead,
        cycle_id=flow_world.id,
        stage_key="needs",
        reason="The budget was cut by a third.",
    )
    pass_through_the_flow(flow_world)

    route = replay(flow_world.cycle)

    taken = flow_ids(route)
    assert "flow_choose_priorities__enter_needs" in taken
    assert taken.count("flow_gate_needs__enter_review") == 2
    assert route.at == "evidence_review"


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_templates_running_flow_walks_its_own_model(db: None, key: str) -> None:
    """Each template's cycle, driven through the flow to the end with a stage reopened on the
    way, takes only flows of the model generated from that template."""
    world = FlowWorld(template_key=key)
    keys = get_template(key).keys
    for _ in keys[:4]:
        pass_through_the_flow(world)
    commissioning.reopen(
        actor=world.lead, cycle_id=world.id, stage_key=keys[1], reason="The budget was cut."
    )
    while world.refresh().status != CommissioningCycle.Status.COMPLETED:
        pass_through_the_flow(world)

    route = replay(world.cycle)

    taken = flow_ids(route)
    assert f"flow_choose_{keys[4]}__enter_{keys[1]}" in taken
    assert [f for f in taken if f.startswith("flow_gate_")] == [
        *(f"flow_gate_{a}__enter_{b}" for a, b in itertools.pairwise(keys[:5])),
        *(f"flow_gate_{a}__enter_{b}" for a, b in itertools.pairwise(keys[1:])),
        f"flow_gate_{keys[-1]}__last_stage_passed",
    ]
    assert route.at == "cycle_completed"


def test_reopening_a_completed_cycle_walks_from_the_review_of_the_completed_cycle(
    flow_world: FlowWorld,
) -> None:
    for _ in DEFAULT.keys:
        pass_through_the_flow(flow_world)
    commissioning.reopen(
        actor=flow_world.lead,
        cycle_id=flow_world.id,
        stage_key="monitoring",
        reason="A year on: review with users again.",
    )

    route = replay(flow_world.cycle)

    assert flow_ids(route)[-2:] == [
        "flow_cycle_completed__enter_monitoring",
        "flow_enter_monitoring__evidence_monitoring",
    ]


@pytest.mark.parametrize(
    "moves",
    [
        pytest.param([bpmn.Move("advanced", "framework", "review", "passed")], id="skip-a-stage"),
        pytest.param([bpmn.Move("reopened", "framework", "needs")], id="reopen-a-later-stage"),
        pytest.param(
            [bpmn.Move("advanced", "framework", "needs", "overridden", ("budget.missing",))],
            id="override-a-missing-budget",
        ),
        pytest.param(
            [bpmn.Move("advanced", "framework", "needs", "passed", ("signoff.dissent",))],
            id="pass-with-an-open-dissent",
        ),
        pytest.param([bpmn.Move("refused", "framework", unmet=())], id="refuse-an-open-gate"),
        pytest.param([bpmn.Move("advanced", "needs", "review", "passed")], id="wrong-stage"),
    ],
)
def test_the_walk_refuses_histories_the_model_does_not_allow(moves: list[bpmn.Move]) -> None:
    with pytest.raises(bpmn.WalkError):
        bpmn.walk(bpmn.build_model(DEFAULT), moves)


def test_the_walk_refuses_a_gate_code_the_model_does_not_know() -> None:
    moves = [bpmn.Move("refused", "framework", unmet=("papers.lost",))]
    with pytest.raises(ValueError, match="knows no gate condition papers"):
        bpmn.walk(bpmn.build_model(DEFAULT), moves)
