"""The gate conditions a stage can ask for are one registry: one entry per condition."""

from __future__ import annotations

import dataclasses
from datetime import date

from cycle import gates
from cycle.gates import CONDITIONS, Condition, StageSnapshot, evaluate
from cycle.stages import TEMPLATES

SNAPSHOT_FIELDS = {field.name for field in dataclasses.fields(StageSnapshot)}


def test_every_condition_has_exactly_one_entry_in_the_registry() -> None:
    assert list(CONDITIONS) == list(Condition)
    assert all(rule.condition is condition for condition, rule in CONDITIONS.items())


def test_each_entry_reads_fields_the_snapshot_has() -> None:
    for rule in CONDITIONS.values():
        assert rule.reads, rule.condition
        assert set(rule.reads) <= SNAPSHOT_FIELDS, rule.condition


def test_each_code_is_given_by_one_condition_and_is_waivable_or_says_what_to_record() -> None:
    codes = [code.code for rule in CONDITIONS.values() for code in rule.codes]
    assert len(codes) == len(set(codes))
    for rule in CONDITIONS.values():
        for code in rule.codes:
            assert gates.waivable(code.code) != (code.code in gates.MUST_RECORD), code.code


def test_the_templates_ask_only_for_registered_conditions() -> None:
    for template in TEMPLATES.values():
        for stage in template.stages:
            for condition in stage.exit_requires | stage.entry_requires:
                assert isinstance(condition, Condition)
                assert condition in CONDITIONS


def test_an_unmet_condition_gives_only_the_codes_its_entry_declares() -> None:
    nothing = StageSnapshot(
        stage_key="s",
        active_members=frozenset({1, 2}),
        tender_panel=frozenset({1}),
        tender=gates.TenderState(),
        unanswered_inputs=1,
        decision_meetings=(gates.MeetingPapers(held_on=date(2026, 1, 9), papers_issued_on=None),),
    )
    for condition, rule in CONDITIONS.items():
        asked = dataclasses.replace(nothing, requires=frozenset({condition}))
        everywhere = {item.code for item in evaluate(nothing).unmet}
        given = {item.code for item in evaluate(asked).unmet} - everywhere
        assert given, condition
        assert given <= {code.code for code in rule.codes}, condition
