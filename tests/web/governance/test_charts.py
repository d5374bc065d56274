"""The dashboard's charts: SVG drawn from the data, named and described, with the same numbers in
a table; and the five charts worked out from compliance figures. No database."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from cycle.compliance import (
    BudgetChange,
    CycleCompliance,
    GatePassage,
    Involvement,
    OpenInput,
    OrganisationCompliance,
    QuorumTiming,
    _totals,
)
from cycle.web.governance import dashboard
from cycle.web.governance.charts import BLUE, RED, Bar, Chart, Series, number

SVG = "{http://www.w3.org/2000/svg}"
AT = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def gates_chart(**changes) -> Chart:
    chart = Chart(
        slug="org-1-gates",
        title="Gates passed normally and by override",
        description="5 gates were passed normally and 2 by override.",
        label_heading="Cycle",
        series=(Series("Passed normally", BLUE), Series("Overridden", RED)),
        bars=(Bar("Day services", (3, 2)), Bar("Meals <on> wheels & more", (2, 0))),
        unit=("gate", "gates"),
    )
    return replace(chart, **changes)


def parse(chart: Chart) -> ElementTree.Element:
    return ElementTree.fromstring(str(chart.svg))


def bar_widths(svg: ElementTree.Element, colour: str) -> list[float]:
    return [
        float(rect.get("width", 0))
        for rect in svg.iter(f"{SVG}rect")
        if rect.get("fill") == colour and rect.get("height") == "18"
    ]


# Drawing


def test_the_svg_is_an_image_named_by_its_title_and_described_by_its_description():
    svg = parse(gates_chart())
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "org-1-gates-title org-1-gates-desc"
    assert svg.find(f"{SVG}title").get("id") == "org-1-gates-title"
    assert svg.find(f"{SVG}title").text == "Gates passed normally and by override"
    assert svg.find(f"{SVG}desc").get("id") == "org-1-gates-desc"
    assert svg.find(f"{SVG}desc").text == "5 gates were passed normally and 2 by override."


def test_bar_lengths_are_in_proportion_to_the_values_and_the_longest_fills_the_room():
    svg = parse(gates_chart())
    blue, red = bar_widths(svg, BLUE), bar_widths(svg, RED)
    # Stacked segments leave a one-unit gap after each; the longest bar, 3 + 2 = 5, fills the
    # width less room for its number ("5 gates": 7 characters of 9 units, and 8 more).
    room = 320 - (7 * 9 + 8)
    assert blue == pytest.approx([3 / 5 * room - 1, 2 / 5 * room - 1], abs=0.1)
    assert red == pytest.approx([2 / 5 * room - 1], abs=0.1)


def test_the_unit_after_a_bars_number_is_singular_for_one():
    chart = gates_chart(bars=(Bar("One", (1, 0)), Bar("Two", (1, 1))))
    texts = [text.text for text in parse(chart).iter(f"{SVG}text")]
    assert "1 gate" in texts and "2 gates" in texts


def test_a_zero_value_draws_no_segment_but_still_says_its_number():
    chart = gates_chart(bars=(Bar("Nothing yet", (0, 0)),))
    svg = parse(chart)
    assert bar_widths(svg, BLUE) == bar_widths(svg, RED) == []
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert "0 gates" in texts


def test_every_label_and_value_is_written_out_and_escaped():
    chart = gates_chart()
    texts = [text.text for text in parse(chart).iter(f"{SVG}text")]
    assert texts == [
        "Passed normally",
        "Overridden",
        "Day services",
        "5 gates",
        "Meals <on> wheels & more",
        "2 gates",
    ]
    assert "Meals &lt;on&gt; wheels &amp; more" in str(chart.svg)


def test_a_long_label_is_cut_short_in_the_drawing_but_not_in_the_table():
    title = "Re-commissioning of day and vocational services across the whole of Northvale"
    chart = gates_chart(bars=(Bar(title, (1, 0)),))
    texts = [text.text for text in parse(chart).iter(f"{SVG}text")]
    assert title not in texts
    [cut] = [text for text in texts if text.startswith("Re-commissioning")]
    assert cut.endswith("…") and len(cut) <= 40
    assert chart.rows[0][0] == title


def test_a_chart_with_one_series_has_no_legend_and_no_total_column():
    chart = Chart(
        slug="q",
        title="Time to quorum",
        description="Three stages.",
        label_heading="Time taken",
        series=(Series("Stages", BLUE),),
        bars=(Bar("Within a day", (2,)), Bar("1 to 7 days", (1,))),
    )
    texts = [text.text for text in parse(chart).iter(f"{SVG}text")]
    assert texts == ["Within a day", "2", "1 to 7 days", "1"]
    assert chart.headings == ("Time taken", "Stages")
    assert chart.rows == (("Within a day", "2"), ("1 to 7 days", "1"))


def test_the_table_has_the_same_numbers_with_a_total_for_stacked_bars():
    chart = gates_chart()
    assert chart.headings == ("Cycle", "Passed normally", "Overridden", "Total")
    assert chart.rows == (
        ("Day services", "3", "2", "5"),
        ("Meals <on> wheels & more", "2", "0", "2"),
    )
    assert chart.labelled_rows[1] == (
        ("Cycle", "Meals <on> wheels & more"),
        ("Passed normally", "2"),
        ("Overridden", "0"),
        ("Total", "2"),
    )


def test_the_svg_uses_no_style_attribute_or_element_and_no_script():
    markup = str(gates_chart().svg)
    assert "style" not in markup
    assert "<script" not in markup
    assert not re.search(r"\son\w+=", markup)


def test_bars_must_have_one_value_per_series_and_no_negative_value():
    with pytest.raises(ValueError, match="has 1 values for 2 series"):
        gates_chart(bars=(Bar("Day services", (3,)),))
    with pytest.raises(ValueError, match="negative"):
        gates_chart(bars=(Bar("Day services", (3, -1)),))


def test_numbers_are_whole_or_to_one_decimal_place():
    assert [number(value) for value in (3, 3.0, 2.25, 1234, 0.05)] == [
        "3",
        "3",
        "2.3",
        "1,234",
        "0.1",
    ]


# The dashboard's charts from compliance figures


def cycle(number: int, **changes) -> CycleCompliance:
    base = CycleCompliance(
        cycle_id=number,
        title=f"Cycle {number}",
        organisation="Northvale",
        template="default",
        stage="needs",
        status="active",
        gates=(),
        dissents=(),
        quorum=(),
        budget_changes=(),
        involvement=Involvement("review", False, None, "", "", None),
        unanswered_inputs=(),
        copied_boundaries=(),
    )
    return replace(base, **changes)


def report(*cycles: CycleCompliance) -> OrganisationCompliance:
    return OrganisationCompliance("Northvale", AT, cycles, _totals(cycles), organisation_id=1)


def passage(overridden: bool = False) -> GatePassage:
    return GatePassage("framework", AT, overridden=overridden)


def test_gate_outcomes_show_each_cycle_with_its_normal_and_overridden_gates():
    chart = dashboard.gate_outcomes(
        report(
            cycle(1, gates=(passage(), passage(), passage(True))),
            cycle(2),
            cycle(3, gates=(passage(),)),
        ),
        "o1-gates",
    )
    assert chart.rows == (("Cycle 1", "2", "1", "3"), ("Cycle 3", "1", "0", "1"))
    assert chart.description == (
        "3 gates were passed normally and 1 gate was passed by a governance board override, "
        "across 3 cycles."
    )


def test_gate_outcomes_show_the_cycles_with_most_overrides_when_there_are_many():
    cycles = [cycle(n, gates=(passage(),) * 2) for n in range(1, 20)]
    cycles[15] = replace(cycles[15], gates=(passage(True),))
    chart = dashboard.gate_outcomes(report(*cycles), "g")
    assert len(chart.bars) == dashboard.MOST_CYCLES
    assert "Cycle 16" in [bar.label for bar in chart.bars]
    assert chart.description.endswith("The chart shows the 12 of 19 cycles with the most.")


def test_time_to_quorum_counts_stage_visits_in_bands_and_those_still_waiting():
    timings = (
        QuorumTiming("framework", "reached", AT, AT, 3.5),
        QuorumTiming("needs", "reached", AT, AT, 30),
        QuorumTiming("review", "reached", AT, AT, 24 * 40),
        QuorumTiming("priorities", "waiting", AT, None, 12),
        QuorumTiming("design", "overridden", AT),
    )
    chart = dashboard.time_to_quorum(report(cycle(1, quorum=timings)), "q")
    assert chart.rows == (
        ("Within a day", "1"),
        ("1 to 7 days", "1"),
        ("1 to 4 weeks", "0"),
        ("More than 4 weeks", "1"),
        ("Still waiting", "1"),
    )
    assert "the median wait was 30 hours and the longest 960 hours" in chart.description
    assert chart.description.endswith("1 stage is still waiting.")


def test_late_involvement_sorts_cycles_into_in_time_late_and_not_yet():
    late = Involvement("review", True, None, "", "", AT)
    timely = Involvement("review", False, AT, "framework", "signoff.attested", AT)
    chart = dashboard.late_involvement(
        report(cycle(1, involvement=late), cycle(2, involvement=timely), cycle(3)), "l"
    )
    assert chart.rows == (
        ("Before the review stage ended", "1"),
        ("Only after it, or never (late)", "1"),
        ("Review stage not finished yet", "1"),
    )


def test_unanswered_input_splits_what_has_waited_too_long():
    waiting = OpenInput(1, "needs", AT, "awaiting", 3, None)
    overdue = OpenInput(2, "needs", AT, "considering", 40, AT)
    chart = dashboard.unanswered_input(
        report(cycle(1, unanswered_inputs=(waiting, overdue, waiting)), cycle(2)), "i"
    )
    assert chart.rows == (("Cycle 1", "2", "1", "3"),)
    assert chart.description.startswith("3 pieces of input have no answer yet")
    assert "1 was flagged as waiting too long" in chart.description


def test_nothing_unanswered_gives_an_empty_chart_that_says_so():
    chart = dashboard.unanswered_input(report(cycle(1)), "i")
    assert chart.is_empty
    assert chart.description == "Every piece of input from users has an answer."


def test_budget_changes_are_counted_by_what_followed():
    def change(outcome: str) -> BudgetChange:
        return BudgetChange(2, AT, "needs", Decimal(10), Decimal(8), 3, outcome, 2)

    chart = dashboard.budget_changes(
        report(
            cycle(1, budget_changes=(change("re-attested"), change("overridden"))),
            cycle(2, budget_changes=(change("re-attested"),)),
        ),
        "b",
    )
    assert chart.rows == (
        ("Panel attested again before the next stage", "2"),
        ("Next stage reached by override", "1"),
        ("Changed again before the next stage", "0"),
        ("Stage not left yet", "0"),
    )
    assert chart.description.startswith(
        "The budget changed 3 times after it was first disclosed, voiding 9 sign-offs."
    )


def test_an_organisation_has_five_charts_with_ids_unique_on_the_page():
    charts = dashboard.organisation_charts(report(cycle(1, gates=(passage(),))), "org-7")
    assert [chart.slug for chart in charts] == [
        "org-7-gates",
        "org-7-quorum",
        "org-7-late",
        "org-7-input",
        "org-7-budget",
    ]
