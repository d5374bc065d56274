"""The seeded scenarios against their BPMN model: each history is a walk over the model, and each
cycle's live diagram shows where its story says it stands.

Every scenario is loaded once for the module (in a transaction rolled back at the end).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from cycle import scenarios
from cycle.models import CommissioningCycle
from cycle.stages import get_template
from processes.bpmn_views import cycle_diagram_svg
from tests import scenario_cache
from tests.processes.test_bpmn_live import gate_codes, stage_marks
from tests.processes.test_bpmn_walk import ledger_moves, replay


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[scenarios.Loaded]]:
    with django_db_blocker.unblock(), scenario_cache.rolled_back() as loaded:
        yield loaded


def test_every_seeded_scenarios_history_is_a_walk_over_its_model(
    loaded: list[scenarios.Loaded], db: None
) -> None:
    assert len(loaded) == len(scenarios.discover())
    kinds: set[str] = set()
    for item in loaded:
        moves = ledger_moves(item.cycle)
        kinds |= {move.kind for move in moves} | {move.closure for move in moves if move.closure}
        route = replay(item.cycle)
        assert route.at == f"evidence_{item.cycle.current_stage}", item.scenario.key
    # Between them the scenarios pass gates, are refused, and pass one by an override (none
    # reopens a stage; test_bpmn_walk does).
    assert kinds >= {"advanced", "refused", "passed", "overridden"}


def last_expectation(scenario: scenarios.Scenario) -> dict[str, Any]:
    return dict([step for step in scenario.steps if step.kind == "expect"][-1].params)


def test_every_seeded_scenarios_live_diagram_shows_its_real_stage_states(
    loaded: list[scenarios.Loaded], db: None
) -> None:
    for item in loaded:
        cycle: CommissioningCycle = item.cycle
        cycle.refresh_from_db()
        expected = last_expectation(item.scenario)
        keys = get_template(cycle.template_key).keys
        current = keys.index(expected["stage"])

        svg = etree.fromstring(cycle_diagram_svg(cycle).encode())

        marks = stage_marks(svg)
        assert list(marks) == list(keys)
        assert marks[expected["stage"]] == "current", item.scenario.key
        assert set(list(marks.values())[current + 1 :]) <= {"not_reached"}
        before = list(marks.values())[:current]
        assert set(before) <= {"passed", "overridden"}, item.scenario.key
        head, codes = gate_codes(svg)
        if expected.get("gate") == "open":
            assert head == "Gate open", item.scenario.key
        elif expected.get("gate") == "closed":
            assert head.startswith("Gate closed"), item.scenario.key
        if "unmet" in expected:
            assert list(codes) == expected["unmet"], item.scenario.key
        overridden = [key for key, mark in marks.items() if mark == "overridden"]
        # Only the day-services story passes a gate by an override: the rushed tender selection.
        assert overridden == (["procurement"] if item.scenario.key == "day-services" else [])
