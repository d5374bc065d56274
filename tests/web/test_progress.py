"""Long work says what it is doing: pip's progress on the first run, a line per scenario."""

from __future__ import annotations

import importlib.util
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from cycle import scenarios
from cycle.models import CommissioningCycle

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
