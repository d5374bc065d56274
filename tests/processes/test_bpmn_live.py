"""A cycle's live BPMN diagram: each stage passed, overridden, current (gate open or closed with
its unmet codes) or not reached, in the SVG and in words; served only to those who see the cycle.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from lxml import etree

from cycle import selectors, services
from cycle.models import CommissioningCycle
from processes import bpmn
from processes.bpmn_views import cycle_diagram_svg, cycle_diagram_text
from tests.factories import CycleWorld, representative

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str | bytes) -> Any:
    return etree.fromstring(markup.encode() if isinstance(markup, str) else markup)


def stage_marks(svg: Any) -> dict[str, str]:
    return {
        group.get("data-stage"): group.get("data-state")
        for group in svg.iter(f"{SVG}g")
        if group.get("data-stage")
    }


def gate_codes(svg: Any) -> tuple[str, tuple[str, ...]]:
    (text,) = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "gate-state"]
    head = next(iter(text)).text
    return head, tuple(span.get("data-code") for span in text.iter() if span.get("data-code"))


def aria(svg: Any, stage: str) -> str:
    (group,) = [g for g in svg.iter(f"{SVG}g") if g.get("data-stage") == stage]
    return group.get("aria-label")


def test_a_new_cycle_is_current_at_its_first_stage_with_every_unmet_code(world: CycleWorld) -> None:
    states = selectors.stage_states(world.cycle)

    assert states["framework"].state == bpmn.StageState.CURRENT
    assert states["framework"].gate_open is False
    assert states["framework"].unmet == selectors.gate_state(world.cycle).codes
    assert {s.state for k, s in states.items() if k != "framework"} == {"not_reached"}
    svg = parse(cycle_diagram_svg(world.cycle))
    assert stage_marks(svg)["framework"] == "current"
    head, codes = gate_codes(svg)
    assert head == "Gate closed:"
    assert codes == selectors.gate_state(world.cycle).codes
    assert "boundaries.missing" in codes
    # The words say what the codes on the drawing stand for, and name no code.
    said = aria(svg, "framework")
    assert "current; the involvement gate is closed. Still needed: " in said
    assert "the budget is disclosed" in said and "the role boundaries of this stage" in said
    assert not [code for code in codes if code in said]
    assert aria(svg, "needs") == "Stage 2 of 9, Assess needs and operating context: not reached."


def test_passed_stages_are_marked_passed_and_an_open_gate_open(world: CycleWorld) -> None:
    world.pass_gate()
    world.pass_gate()
    world.meet_gate()

    svg = parse(cycle_diagram_svg(world.refresh()))

    marks = stage_marks(svg)
    assert (marks["framework"], marks["needs"], marks["review"]) == ("passed", "passed", "current")
    assert gate_codes(svg) == ("Gate open", ())
    assert aria(svg, "review").endswith("current; the involvement gate is open.")
    assert set(list(marks.values())[3:]) == {"not_reached"}


def test_an_overridden_stage_names_the_conditions_the_override_departed_from(
    world: CycleWorld,
) -> None:
    world.pass_gate()
    world.assess_duty()
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest(world.panel[:2])
    services.signoff_record(actor=world.panel[2], cycle_id=world.id, dissent="Not involved.")
    services.gate_override(actor=world.governor, cycle_id=world.id, reason="Timetable fixed.")

    standing = selectors.stage_states(world.refresh())["needs"]
    assert (standing.state, standing.gate_open, standing.override_stands) == (
        "current",
        False,
        True,
    )
    standing_svg = parse(cycle_diagram_svg(world.cycle))
    assert gate_codes(standing_svg) == ("Gate closed, override stands:", ("signoff.dissent",))
    assert aria(standing_svg, "needs").endswith(
        "the involvement gate is closed, but a governance override lets the stage end although "
        "this does not hold: no member of the panel has an open dissent."
    )

    services.stage_advance(actor=world.lead, cycle_id=world.id)
    svg = parse(cycle_diagram_svg(world.refresh()))

    assert stage_marks(svg)["needs"] == "overridden"
    assert selectors.stage_states(world.cycle)["needs"].unmet == ("signoff.dissent",)
    assert aria(svg, "needs").endswith(
        "passed by a governance override, which let it end although this did not hold: "
        "no member of the panel has an open dissent."
    )


def test_after_a_reopening_the_later_stages_are_not_reached_again(world: CycleWorld) -> None:
    world.walk_to("priorities")
    services.stage_reopen(actor=world.lead, cycle_id=world.id, stage_key="needs", reason="Cut.")

    states = selectors.stage_states(world.refresh())

    assert [states[k].state for k in ("framework", "needs", "review", "priorities")] == [
        "passed",
        "current",
        "not_reached",
        "not_reached",
    ]
    assert (states["review"].visits, states["design"].visits) == (1, 0)
    svg = parse(cycle_diagram_svg(world.cycle))
    assert aria(svg, "review").endswith("not reached (visited before, to be passed again).")


def test_a_completed_cycle_shows_every_stage_as_its_last_visit_ended(world: CycleWorld) -> None:
    world.walk_to("monitoring")
    world.pass_gate()
    assert world.refresh().status == CommissioningCycle.Status.COMPLETED

    svg = parse(cycle_diagram_svg(world.cycle))

    assert set(stage_marks(svg).values()) == {"passed"}
    assert not [t for t in svg.iter(f"{SVG}text") if t.get("class") == "gate-state"]


def test_the_diagram_says_in_words_what_it_shows(world: CycleWorld) -> None:
    world.pass_gate()
    svg = parse(cycle_diagram_svg(world.refresh()))

    assert svg.get("aria-labelledby") == "bpmn-diagram-title bpmn-diagram-desc"
    assert svg.find(f"{SVG}title").text.startswith("Day services: ")
    desc = svg.find(f"{SVG}desc").text
    assert desc.startswith(
        "Stage 1 of 9, Agree the involvement framework: passed, its involvement gate met. "
        "Stage 2 of 9, Assess needs and operating context: current; the involvement gate is "
        "closed. Still needed: "
    )
    (stage_list,) = [g for g in svg.iter(f"{SVG}g") if g.get("role") == "list"]
    items = [g for g in stage_list if g.get("role") == "listitem"]
    sentences = cycle_diagram_text(world.cycle)
    assert [item.get("aria-label") for item in items] == sentences
    assert len(sentences) == 9 and desc == " ".join(sentences)


def queries_for_states(cycle: CommissioningCycle) -> int:
    with CaptureQueriesContext(connection) as captured:
        selectors.stage_states(cycle)
    return len(captured.captured_queries)


def test_the_states_cost_the_same_queries_however_long_the_history(world: CycleWorld) -> None:
    world.walk_to("design")
    world.agree_boundaries()  # the gate's own queries depend on what is recorded, not on history
    early = queries_for_states(world.refresh())
    world.walk_to("implementation")
    services.stage_reopen(actor=world.lead, cycle_id=world.id, stage_key="needs", reason="Cut.")
    world.walk_to("design")
    world.agree_boundaries()
    late = queries_for_states(world.refresh())

    assert early == late
    # The history in two queries (visits, overrides); the rest is the current gate's snapshot.
    with CaptureQueriesContext(connection) as gate:
        selectors.gate_state(world.cycle)
    assert late == len(gate.captured_queries) + 2


# The view -------------------------------------------------------------------------------------


def test_the_diagram_is_served_to_whoever_may_see_the_cycle(world: CycleWorld) -> None:
    client = Client()
    for viewer in (world.lead, world.panel[0], world.governor):
        client.force_login(viewer)
        response = client.get(f"/cycles/{world.id}/diagram.svg")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
        assert response["Cache-Control"] == "private, no-cache"
        assert stage_marks(parse(response.content))["framework"] == "current"


@pytest.mark.parametrize("who", ["stranger", "anonymous", "former member"])
def test_anyone_who_cannot_see_the_cycle_gets_404(world: CycleWorld, who: str) -> None:
    from roles import services as role_services

    client = Client()
    if who == "stranger":
        client.force_login(representative())
    elif who == "former member":
        leaver = world.panel[0]
        role_services.membership_leave(actor=leaver, cycle_id=world.id)
        client.force_login(leaver)

    assert client.get(f"/cycles/{world.id}/diagram.svg").status_code == 404
    assert client.get(f"/cycles/{world.id + 1000}/diagram.svg").status_code == 404


def test_the_diagram_page_costs_the_same_queries_however_long_the_history(
    world: CycleWorld,
) -> None:
    client = Client()
    client.force_login(world.lead)

    def page_queries() -> int:
        client.get(f"/cycles/{world.id}/diagram.svg")  # the session and permissions cached
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/cycles/{world.id}/diagram.svg").status_code == 200
        return len(captured.captured_queries)

    world.walk_to("design")
    world.agree_boundaries()
    early = page_queries()
    world.walk_to("decision")
    services.stage_reopen(actor=world.lead, cycle_id=world.id, stage_key="review", reason="Cut.")
    world.walk_to("design")
    world.agree_boundaries()
    assert page_queries() == early


def test_the_diagram_only_answers_get(world: CycleWorld) -> None:
    client = Client()
    client.force_login(world.lead)
    assert client.post(f"/cycles/{world.id}/diagram.svg").status_code == 405


def test_the_cycle_page_links_to_its_live_diagram(world: CycleWorld) -> None:
    client = Client()
    client.force_login(world.lead)

    page = client.get(f"/cycles/{world.id}/")

    assert page.status_code == 200
    (link,) = etree.HTML(page.content).xpath("//p[@id='diagram']/a")
    assert link.get("href") == f"/cycles/{world.id}/diagram.svg"
    assert link.text == "See the stages drawn as a process diagram"
    served = client.get(link.get("href"))
    assert stage_marks(parse(served.content))["framework"] == "current"
