"""Long work says what it is doing: pip's progress on the first run, a line per scenario, and a
progress bar on a terminal for ``generate``, ``report`` and ``audit export``."""

from __future__ import annotations

import importlib.util
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from cycle import scenarios
from cycle.management.progress import ProgressBar
from cycle.models import AuditEvent, CommissioningCycle, Decision

ROOT = Path(__file__).resolve().parents[2]


def manage_module():
    spec = importlib.util.spec_from_file_location("manage_under_test", ROOT / "manage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_first_run_lets_pip_show_its_progress():
    command = manage_module().pip_install(Path("/venv/bin/python"), ["Django>=5.2"])

    assert "--quiet" not in command and "-q" not in command
    assert "--progress-bar=on" in command
    assert command[-1] == "Django>=5.2"


def test_scenarios_load_one_at_a_time_so_each_can_be_reported_as_it_is_done(db):
    loading = scenarios.load_each()

    first = next(loading)

    assert CommissioningCycle.objects.count() == 1
    assert first.created
    rest = list(loading)
    assert CommissioningCycle.objects.count() == 1 + len(rest) == len(scenarios.discover())


def test_the_scenarios_command_prints_a_line_per_scenario(db):
    out = StringIO()

    call_command("scenarios", "load", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == list(scenarios.discover())
    assert all(": loaded - cycle " in line for line in lines)


class Terminal(StringIO):
    """An output stream that says it is a terminal, as a person's shell would."""

    def isatty(self) -> bool:
        return True


def last_bar(drawn: str) -> str:
    """The last state of a bar redrawn in place: what follows the last carriage return."""
    return drawn.rstrip("\n").rsplit("\r\x1b[2K", 1)[-1]


def test_a_progress_bar_is_redrawn_in_place_on_a_terminal_and_ends_full():
    terminal = Terminal()
    ticks = iter(range(100))

    with ProgressBar(terminal, "Exporting", 4, unit="events", clock=lambda: next(ticks)) as bar:
        bar.advance()
        assert last_bar(terminal.getvalue()) == f"Exporting [{'#' * 7}{'·' * 23}]  25%  1/4 events"
        bar.advance(2)

    drawn = terminal.getvalue()
    assert last_bar(drawn) == f"Exporting [{'#' * 30}] 100%  4/4 events"
    assert drawn.endswith("\n") and drawn.count("\n") == 1


def test_a_progress_bar_writes_nothing_to_a_file_or_a_pipe():
    written = StringIO()

    with ProgressBar(written, "Exporting", 3) as bar:
        bar.advance(3)

    assert written.getvalue() == ""


def test_a_progress_bar_stops_where_the_work_failed():
    terminal = Terminal()

    with pytest.raises(RuntimeError), ProgressBar(terminal, "Exporting", 4) as bar:
        bar.advance()
        raise RuntimeError("the disc is full")

    assert last_bar(terminal.getvalue()).endswith(" 25%  1/4")


def test_the_ledger_export_shows_a_progress_bar_on_a_terminal(demo, tmp_path):
    events = AuditEvent.objects.count()
    terminal = Terminal()

    call_command("audit", "export", "-o", str(tmp_path / "ledger.jsonl"), stderr=terminal)

    assert f"Exporting [{'#' * 30}] 100%  {events}/{events} events" in terminal.getvalue()
    assert len((tmp_path / "ledger.jsonl").read_text().splitlines()) == events


def test_the_ledger_export_to_a_log_has_no_bar(demo, tmp_path):
    log = StringIO()

    call_command("audit", "export", "-o", str(tmp_path / "ledger.csv"), stderr=log)

    assert log.getvalue().startswith("exported ")
    assert "Exporting" not in log.getvalue()


def test_the_report_shows_a_progress_bar_over_its_decisions_on_a_terminal(demo, tmp_path):
    organisation = demo["day-services"].organisation
    decisions = Decision.objects.filter(cycle__organisation=organisation).count()
    assert decisions > 0
    terminal = Terminal()

    call_command(
        "report",
        "--organisation",
        organisation.name,
        "--from",
        "1990-01-01",
        "--to",
        "2100-12-31",
        "--format",
        "pdf",
        "-o",
        str(tmp_path / "report.pdf"),
        stderr=terminal,
    )

    drawn = terminal.getvalue()
    full = f"[{'#' * 30}] 100%"
    assert f"Reading the decisions {full}  {decisions}/{decisions} decisions" in drawn
    assert f"Writing the PDF {full}" in drawn
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def test_generate_shows_how_far_through_the_history_it_is_on_a_terminal(db):
    terminal = Terminal()

    call_command(
        "generate", "--organisations", "1", "--cycles", "3", stdout=StringIO(), stderr=terminal
    )

    states = [last_bar(part) for part in terminal.getvalue().split("\n") if part]
    assert states == [f"Generating the history [{'#' * 30}] 100%"]
    assert "Generating the history [" + "·" * 30 + "]   0%" in terminal.getvalue()
