"""The stage templates' BPMN models, checked with tools written elsewhere, and their layout.

Every template's export validates against the OMG BPMN 2.0 schema that ships inside SpiffWorkflow,
and SpiffWorkflow 3 parses it and runs it to the end, completing the user tasks: once straight
through, once with a dissent that holds the gate, is overridden, and a stage reopened. No
database: templates in, XML out.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH, BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from cycle import gates
from cycle.stages import DEFAULT, TEMPLATES, StageState, StageTemplate
from processes import bpmn

DOCS = Path(__file__).resolve().parents[2] / "docs"
TEMPLATE_KEYS = list(TEMPLATES)
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def export(template: StageTemplate) -> bytes:
    return bpmn.export(template, "bpmn").encode()


# The OMG schema -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def omg_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(XSD_PATH))


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_every_template_export_validates_against_the_omg_bpmn_schema(
    key: str, omg_schema: etree.XMLSchema
) -> None:
    document = etree.fromstring(export(TEMPLATES[key]))
    assert omg_schema.validate(document), omg_schema.error_log
    assert document.find(f"{{{bpmn.BPMNDI_NS}}}BPMNDiagram") is not None


def test_the_schema_check_rejects_a_broken_export(omg_schema: etree.XMLSchema) -> None:
    document = etree.fromstring(export(DEFAULT))
    process = document.find(f"{BPMN}process")
    etree.SubElement(process, f"{BPMN}userTask", {"id": "evidence_framework"})  # a repeated id
    assert not omg_schema.validate(document)


# SpiffWorkflow runs the exports ---------------------------------------------------------------


class SpiffRun:
    """Parses an export with SpiffWorkflow (validating it) and drives it to the end."""

    def __init__(self, template: StageTemplate) -> None:
        parser = BpmnParser(validator=BpmnValidator())
        parser.add_bpmn_str(export(template))
        model = bpmn.build_model(template)
        self.workflow = BpmnWorkflow(parser.get_spec(model.process_id))
        self.completed: list[str] = []

    def run(
        self,
        evidence: Callable[[str, int], dict[str, Any]],
        position: Callable[[str, int, str], str],
        limit: int = 400,
    ) -> list[str]:
        """Complete user tasks until the process ends; ``evidence(stage, visit)`` gives the lead
        commissioner's data, ``position(stage, visit, member)`` a member's sign-off."""
        visits: dict[str, int] = {}
        self.workflow.do_engine_steps()
        while not self.workflow.is_completed():
            ready = self.workflow.get_tasks(state=TaskState.READY, manual=True)
            assert ready, "the process waits for nothing a person can do"
            task = ready[0]
            spec = task.task_spec.bpmn_id
            role, _, stage = spec.partition("_")
            if role == "evidence":
                visits[stage] = visits.get(stage, 0) + 1
                task.data.update(evidence(stage, visits[stage]))
            elif role == "signoff":
                member = task.data[bpmn.member_variable(stage)]
                task.data[bpmn.position_variable(stage)] = position(stage, visits[stage], member)
            task.run()
            self.completed.append(spec)
            self.workflow.do_engine_steps()
            assert len(self.completed) < limit, "the process does not end"
        return self.completed

    def reached(self, bpmn_id: str) -> int:
        return sum(
            1
            for task in self.workflow.get_tasks(state=TaskState.COMPLETED)
            if task.task_spec.bpmn_id == bpmn_id
        )


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_spiffworkflow_runs_every_export_straight_through(key: str) -> None:
    template = TEMPLATES[key]
    run = SpiffRun(template)
    completed = run.run(lambda stage, visit: bpmn.evidence_data(), lambda *_: "attest")
    evidence = [spec for spec in completed if spec.startswith("evidence_")]
    assert evidence == [f"evidence_{stage}" for stage in template.keys]
    assert completed.count(f"signoff_{template.keys[0]}") == 3  # one per panel member
    assert run.reached("cycle_closed") == 1
    assert not any(spec.startswith("override_") for spec in completed)


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_spiffworkflow_runs_every_export_with_an_overridden_dissent_and_a_reopened_stage(
    key: str,
) -> None:
    template = TEMPLATES[key]
    keys = template.keys
    held, reopening, reopened = keys[2], keys[4], keys[1]

    def evidence(stage: str, visit: int) -> dict[str, Any]:
        if stage == held and visit == 2:
            return bpmn.evidence_data(override_requested=True)
        if stage == reopening and visit == 1:
            return bpmn.evidence_data(reopen_to=reopened)
        return bpmn.evidence_data()

    def position(stage: str, visit: int, member: str) -> str:
        # The same member dissents at the first two visits of the held stage; after the
        # reopening, the stage is passed with everyone attesting.
        return "dissent" if stage == held and visit <= 2 and member == "member 3" else "attest"

    run = SpiffRun(template)
    completed = run.run(evidence, position)
    evidence_order = [spec.removeprefix("evidence_") for spec in completed if "evidence_" in spec]
    assert (
        evidence_order
        == [
            *keys[:3],  # the dissent holds the gate of the third stage: it is visited again,
            held,  # and overridden on the second visit
            *keys[3:5],  # the fifth stage reopens the second,
            *keys[1:],  # which is passed again, with every stage after it
        ]
    )
    assert [spec for spec in completed if spec.startswith("override_")] == [f"override_{held}"]
    # The first dissent took the dissent path back into the stage.
    assert [spec for spec in completed if spec.startswith("dissent_")] == [f"dissent_{held}"]
    assert run.reached("cycle_closed") == 1


def test_spiffworkflow_takes_no_override_while_a_record_is_missing() -> None:
    """A governance board cannot stand in for the budget: the gate stays closed."""
    first = DEFAULT.keys[0]

    def evidence(stage: str, visit: int) -> dict[str, Any]:
        if stage == first and visit == 1:
            return bpmn.evidence_data(["budget.missing"], override_requested=True)
        return bpmn.evidence_data()

    run = SpiffRun(DEFAULT)
    completed = run.run(evidence, lambda *_: "attest")
    assert [spec for spec in completed if spec.startswith("evidence_")][:2] == [
        f"evidence_{first}",
        f"evidence_{first}",
    ]
    assert not any(spec.startswith("override_") for spec in completed)


def test_spiffworkflow_refuses_a_model_whose_gate_has_an_unconditioned_flow() -> None:
    """The control for the runs above: SpiffWorkflow does check what the issue found broken."""
    document = etree.fromstring(export(DEFAULT))
    flow = document.find(f".//{BPMN}sequenceFlow[@id='flow_gate_framework__override_framework']")
    flow.remove(flow.find(f"{BPMN}conditionExpression"))
    parser = BpmnParser(validator=BpmnValidator())
    with pytest.raises(ValidationException, match="without condition"):
        parser.add_bpmn_xml(document)
        parser.get_spec(bpmn.build_model(DEFAULT).process_id)


# The model's shape ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_every_stage_has_a_task_in_its_lanes_a_gate_and_plain_documentation(key: str) -> None:
    template = TEMPLATES[key]
    model = bpmn.build_model(template)
    for stage in template.stages:
        nodes = {node.role: node for node in model.stage_nodes(stage.key)}
        assert nodes["evidence"].lane == bpmn.COMMISSIONER.key
        assert nodes["evidence"].name == stage.name
        assert nodes["signoff"].lane == bpmn.REPRESENTATIVES.key
        assert nodes["signoff"].multi_instance
        assert nodes["override"].lane == bpmn.GOVERNANCE.key
        assert nodes["dissent"].lane == bpmn.REPRESENTATIVES.key
        assert ("decide" in nodes) == stage.decides
        for role in ("evidence", "gate", "signoff", "override", "dissent"):
            assert len(nodes[role].documentation) > 80
        gate_words = nodes["gate"].documentation
        for check in bpmn.gate_checks(template, stage.key):
            assert check.words in gate_words
    lanes = {node.lane for node in model.nodes}
    assert lanes == {lane.key for lane in bpmn.LANES}


def test_the_gate_conditions_are_the_three_records_plus_the_stages_own() -> None:
    model = bpmn.build_model(DEFAULT)
    met = model.flow("gate_framework", "enter_needs")
    assert met is not None and met.condition is not None
    for variable in (
        "boundaries_agreed",
        "budget_disclosed",
        "signoffs.count('attest')",
        "agreement_signed",
        "lead_named",
    ):
        assert variable in met.condition
    plain = model.flow("gate_needs", "enter_review")
    assert plain is not None and plain.condition is not None
    assert "lead_named" not in plain.condition
    # Once recorded, the working agreement binds every member at every stage.
    assert "agreement_signed" in plain.condition
    # Conflicts are declared before procurement: the gate of the stage before it checks them.
    before = model.flow("gate_design", "enter_procurement")
    assert before is not None and "conflicts_declared" in (before.condition or "")


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_no_gateway_joins_and_forks_and_only_defaults_go_unconditioned(key: str) -> None:
    model = bpmn.build_model(TEMPLATES[key])
    for node in model.nodes:
        incoming, outgoing = model.incoming(node.id), model.outgoing(node.id)
        if node.kind == "exclusiveGateway":
            assert len(incoming) == 1 or len(outgoing) == 1, node.id
            if len(outgoing) > 1:
                unconditioned = [f for f in outgoing if f.condition is None]
                assert [f.default for f in unconditioned] == [True], node.id
        elif node.kind == "userTask":
            assert len(incoming) == 1 and len(outgoing) == 1, node.id  # no implicit join/split


@pytest.mark.parametrize(
    ("codes", "override", "taken"),
    [
        ((), False, "enter_needs"),
        (("signoff.dissent",), False, "dissent_framework"),
        (("budget.missing", "signoff.dissent"), False, "dissent_framework"),
        (("signoff.quorum",), False, "enter_framework"),
        (("signoff.dissent",), True, "override_framework"),
        (("signoff.quorum", "boundaries.unacknowledged"), True, "override_framework"),
        (("budget.missing",), True, "enter_framework"),
        (("lead.missing", "signoff.dissent"), True, "enter_framework"),
        (("panel.empty", "signoff.quorum"), True, "enter_framework"),
        (("agreement.unsigned",), True, "override_framework"),
    ],
)
def test_the_gate_takes_exactly_one_path_for_each_state(
    codes: tuple[str, ...], override: bool, taken: str
) -> None:
    model = bpmn.build_model(DEFAULT)
    data = bpmn.gate_data(codes, override_requested=override)
    assert bpmn.next_flow(model, "gate_framework", data).target == taken


def test_the_override_path_departs_only_from_what_the_gate_rules_let_a_board_waive() -> None:
    for check in bpmn.gate_checks(DEFAULT, "framework"):
        assert check.waivable == all(code in gates.WAIVABLE for code in check.codes)
    model = bpmn.build_model(DEFAULT)
    override = model.flow("gate_framework", "override_framework")
    assert override is not None and override.condition is not None
    records, _, people = override.condition.partition(" and not (")
    assert {"boundaries_agreed", "budget_disclosed", "lead_named", "len(panel) > 0"} <= set(
        records.split(" and ")
    )
    assert "'dissent' not in signoffs" in people and "agreement_signed" in people


def test_every_condition_a_template_can_ask_for_is_a_check_of_the_model() -> None:
    assert set(bpmn.STAGE_CHECKS) == set(gates.Condition)
    codes = {
        code for check in (*bpmn.EVERY_GATE, *bpmn.STAGE_CHECKS.values()) for code in check.codes
    }
    assert codes >= gates.WAIVABLE


def test_gate_data_refuses_a_code_the_model_does_not_know() -> None:
    with pytest.raises(ValueError, match=r"knows no gate condition quorum\.missing"):
        bpmn.gate_data(["quorum.missing"])


def test_reopening_is_an_explicit_flow_to_every_earlier_stage_only() -> None:
    model = bpmn.build_model(DEFAULT)
    targets = {flow.target for flow in model.outgoing("choose_design")}
    assert targets == {
        "enter_framework",
        "enter_needs",
        "enter_review",
        "enter_priorities",
        "signoff_design",
    }
    assert "choose_framework" not in {node.id for node in model.nodes}
    reopen_all = {flow.target for flow in model.outgoing("cycle_completed")}
    assert reopen_all == {f"enter_{key}" for key in DEFAULT.keys} | {"cycle_closed"}


# Layout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_labels_overlap_no_shape_no_other_label_and_no_line(key: str) -> None:
    model = bpmn.build_model(TEMPLATES[key])
    diagram = bpmn.layout(model)
    labels = list(diagram.labels.items())
    named = {n.id for n in model.nodes if n.name and n.kind != "userTask"}
    assert set(diagram.labels) == named | {f.id for f in model.flows if f.name}
    segments = [(a, b) for points in diagram.edges.values() for a, b in itertools.pairwise(points)]
    for index, (owner, label) in enumerate(labels):
        for shape_id, shape in diagram.shapes.items():
            assert not label.box.overlaps(shape), (owner, shape_id)
        for other, other_label in labels[index + 1 :]:
            assert not label.box.overlaps(other_label.box), (owner, other)
        for a, b in segments:
            assert not label.box.crosses(a, b), (owner, a, b)
        lane = next(box for box in diagram.lanes.values() if box.y <= label.box.y < box.bottom)
        assert label.box.bottom <= lane.bottom and label.box.x >= lane.x + bpmn.LANE_HEADER


def gap(box: bpmn.Box, other: bpmn.Box) -> float:
    """The distance between two boxes (0 when they touch or overlap)."""
    dx = max(other.x - box.right, box.x - other.right, 0)
    dy = max(other.y - box.bottom, box.y - other.bottom, 0)
    return float((dx * dx + dy * dy) ** 0.5)


def segment_box(a: tuple[float, float], b: tuple[float, float]) -> bpmn.Box:
    return bpmn.Box(min(a[0], b[0]), min(a[1], b[1]), abs(a[0] - b[0]), abs(a[1] - b[1]))


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_every_label_sits_beside_what_it_names(key: str) -> None:
    """A reader takes a label for the nearest element: a flow's label touches its own line
    within a few pixels, a gateway's or event's its own shape."""
    model = bpmn.build_model(TEMPLATES[key])
    diagram = bpmn.layout(model)
    for owner, label in diagram.labels.items():
        if owner in diagram.edges:
            points = diagram.edges[owner]
            distance = min(gap(label.box, segment_box(a, b)) for a, b in itertools.pairwise(points))
        else:
            distance = gap(label.box, diagram.shapes[owner])
        assert distance <= 10, (owner, label.lines, distance)


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_shapes_sit_in_their_lanes_and_never_overlap(key: str) -> None:
    model = bpmn.build_model(TEMPLATES[key])
    diagram = bpmn.layout(model)
    shapes = list(diagram.shapes.items())
    for index, (node_id, shape) in enumerate(shapes):
        lane = diagram.lanes[model.node(node_id).lane]
        assert lane.y <= shape.y and shape.bottom <= lane.bottom, node_id
        for other, other_shape in shapes[index + 1 :]:
            assert not shape.overlaps(other_shape, margin=10), (node_id, other)


def test_the_layout_is_deterministic() -> None:
    first = bpmn.to_bpmn_xml(bpmn.build_model(DEFAULT))
    assert bpmn.to_bpmn_xml(bpmn.build_model(DEFAULT)) == first


def test_the_svg_draws_every_node_and_flow_of_the_layout() -> None:
    svg = etree.fromstring(bpmn.export(DEFAULT, "svg").encode())
    model = bpmn.build_model(DEFAULT)
    drawn = {element.get("data-node") for element in svg.iter() if element.get("data-node")}
    flows = {element.get("data-flow") for element in svg.iter() if element.get("data-flow")}
    assert drawn == {node.id for node in model.nodes}
    assert flows == {flow.id for flow in model.flows}
    assert svg.find(f"{{{bpmn.SVG_NS}}}title").text == DEFAULT.name


# Export ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["bpmn", "svg"])
def test_the_committed_diagrams_in_docs_are_the_current_export(fmt: str) -> None:
    committed = (DOCS / f"commissioning-default.{fmt}").read_text(encoding="utf-8")
    assert committed == bpmn.export(DEFAULT, fmt), "run: manage.py bpmn export --all docs"


def test_the_committed_excerpt_in_docs_is_the_current_export_of_the_first_two_stages() -> None:
    committed = (DOCS / "commissioning-default-first-stages.svg").read_text(encoding="utf-8")
    assert committed == bpmn.export(DEFAULT, "svg", first_stages=2)
    text = (DOCS / "flow.md").read_text(encoding="utf-8")
    assert "](commissioning-default-first-stages.svg)" in text


def test_an_excerpt_shows_its_first_stages_whole_and_stops_before_the_next() -> None:
    model, diagram = bpmn.template_diagram(DEFAULT)
    svg = etree.fromstring(bpmn.export(DEFAULT, "svg", first_stages=2).encode())
    left, _, width, _ = (float(v) for v in svg.get("viewBox").split())
    right = left + width
    for node in model.nodes:
        shape = diagram.shapes[node.id]
        if node.stage_key in DEFAULT.keys[:2] or node.id == "cycle_created":
            assert shape.right < right, node.id
        elif node.stage_key is not None:
            assert shape.x > right, node.id
    assert svg.find(f"{{{bpmn.SVG_NS}}}title").text.endswith("the first 2 of its 9 stages")
    with pytest.raises(ValueError, match="svg only"):
        bpmn.export(DEFAULT, "bpmn", first_stages=2)


def test_export_command_refuses_an_excerpt_of_the_xml_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x.bpmn"
    with pytest.raises(CommandError, match="--first-stages") as raised:
        call_command("bpmn", "export", "--first-stages", "2", "--output", str(target))
    assert raised.value.returncode == 2
    assert not target.exists()
    out = io.StringIO()
    call_command("bpmn", "export", "--format", "svg", "--first-stages", "2", stdout=out)
    assert out.getvalue() == bpmn.export(DEFAULT, "svg", first_stages=2)


def test_flow_md_lists_every_condition_the_model_checks_with_its_codes_and_override() -> None:
    """The table of the gate's conditions in docs/flow.md is read here, so it cannot drift."""
    text = (DOCS / "flow.md").read_text(encoding="utf-8")
    table = text.split("| condition | gate code while unmet |", 1)[1].split("\n\n", 1)[0]
    documented = set()
    for row in table.splitlines()[2:]:
        condition, codes, departs = (cell.strip() for cell in row.strip("|").split(" | "))
        expression = condition.split("`")[1]
        documented.add((expression, tuple(codes.replace("`", "").split(", ")), departs == "yes"))
    checks = {
        (check.expression, check.codes, check.waivable)
        for check in (*bpmn.EVERY_GATE, *bpmn.STAGE_CHECKS.values())
    }
    assert documented == checks


def test_flow_md_shows_the_default_templates_diagram() -> None:
    text = (DOCS / "flow.md").read_text(encoding="utf-8")
    assert "](commissioning-default.svg)" in text


def test_export_command_writes_each_format(tmp_path: Path) -> None:
    target = tmp_path / "guide.bpmn"
    call_command("bpmn", "export", "--template", "guide", "--format", "bpmn", "--output", target)
    assert target.read_text(encoding="utf-8") == bpmn.export(TEMPLATES["guide"], "bpmn")
    out = io.StringIO()
    call_command("bpmn", "export", "--template", "guide", "--format", "svg", stdout=out)
    assert out.getvalue() == bpmn.export(TEMPLATES["guide"], "svg")


def test_export_command_writes_every_template_into_a_directory(tmp_path: Path) -> None:
    call_command("bpmn", "export", "--all", str(tmp_path), stdout=io.StringIO())
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"commissioning-{key}.{fmt}" for key in TEMPLATES for fmt in ("bpmn", "svg")
    )


def test_export_command_refuses_an_unknown_template_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x.bpmn"
    with pytest.raises(CommandError, match="unknown stage template 'nine'") as raised:
        call_command("bpmn", "export", "--template", "nine", "--output", str(target))
    assert raised.value.returncode == 2
    assert not target.exists()


# The live diagram's marks ---------------------------------------------------------------------


def text_box(element: Any) -> bpmn.Box:
    """The box a drawn text takes: its first line, then one line per tspan that moves down."""
    first = element.text.strip() if (element.text or "").strip() else element[0].text
    lines = [first] + [
        " ".join("".join(row.itertext()).split())
        for row in element.iter(f"{{{bpmn.SVG_NS}}}tspan")
        if row.get("y") or row.get("dy", "0") != "0"
    ]
    top = float(element.get("y")) - bpmn.LINE_HEIGHT + 3
    width = max(len(words) for words in lines) * bpmn.CHAR_WIDTH
    return bpmn.Box(float(element.get("x")), top, width, len(lines) * bpmn.LINE_HEIGHT)


@pytest.mark.parametrize(
    ("key", "position"),
    [(key, position) for key in TEMPLATE_KEYS for position in range(len(TEMPLATES[key].keys))],
)
def test_the_live_marks_stay_in_their_lane_clear_of_every_shape_line_and_label(
    key: str, position: int
) -> None:
    """Even a gate with every one of its conditions unmet, at any stage, is readable: its list
    of codes wraps and lies inside the commissioner's lane, crossing nothing."""
    template = TEMPLATES[key]
    _, diagram = bpmn.template_diagram(template)
    keys = template.keys
    current = keys[position]
    codes = tuple(code for check in bpmn.gate_checks(template, current) for code in check.codes)
    assert len(codes) >= 9
    states = {
        **{stage: StageState(stage, StageState.PASSED) for stage in keys[:position]},
        current: StageState(current, StageState.CURRENT, False, codes),
        **{stage: StageState(stage, StageState.NOT_REACHED) for stage in keys[position + 1 :]},
    }
    svg = etree.fromstring(bpmn.live_svg(template, states, title="A cycle").encode())

    marks = [
        text
        for text in svg.iter(f"{{{bpmn.SVG_NS}}}text")
        if (text.get("class") or "").startswith(("gate-state", "state "))
    ]
    assert len(marks) == len(template.keys) + 1  # a state above every stage, and the gate's
    (gate,) = [text for text in marks if text.get("class") == "gate-state"]
    assert [span.get("data-code") for span in gate.iter() if span.get("data-code")] == list(codes)
    lane = diagram.lanes[bpmn.COMMISSIONER.key]
    segments = [(a, b) for points in diagram.edges.values() for a, b in itertools.pairwise(points)]
    taken = [*diagram.shapes.values(), *(label.box for label in diagram.labels.values())]
    boxes = [text_box(text) for text in marks]
    for box in boxes:
        assert lane.y < box.y and box.bottom < lane.bottom, box
        assert not any(box.overlaps(other) for other in taken), box
        assert not any(box.crosses(a, b) for a, b in segments), box
    for index, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[index + 1 :]), box
