"""``manage.py cycle``, end to end: output, exit codes, and nothing written on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from cycle import selectors
from cycle.management.commands.cycle import Command
from cycle.models import (
    AuditEvent,
    BudgetDisclosure,
    CommissioningCycle,
    GateOverride,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)
from roles.models import PanelMembership
from tests.factories import (
    CycleWorld,
    OrganisationFactory,
    commissioner,
    governance_member,
    representative,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line closes database connections when it ends; the test's must stay open."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


def cli(*argv: object) -> Run:
    """Run ``manage.py cycle …`` in this process, as from a shell, and collect its exit code."""
    out, err = StringIO(), StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            Command().run_from_argv(["manage.py", "cycle", *map(str, argv)])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return Run(code, out.getvalue(), err.getvalue())


def everything() -> tuple[int, ...]:
    """Row counts of everything the command line could cause to be written."""
    return tuple(
        model.objects.count()
        for model in (
            CommissioningCycle,
            StageVisit,
            RoleBoundaryAgreement,
            BudgetDisclosure,
            SignOff,
            GateOverride,
            PanelMembership,
            AuditEvent,
        )
    )


def assert_one_line_error(run: Run, code: str, exit_code: int = 1) -> None:
    assert run.code == exit_code
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith(f"error: {code}: ")


# --- create ------------------------------------------------------------------------------------


def test_create_prints_only_the_new_id() -> None:
    organisation = OrganisationFactory(name="Northshire ICB")
    commissioner(organisation, "carol")

    run = cli("create", "--title", "Day services", "--lead", "carol")

    assert run.code == 0
    assert run.err == ""
    cycle = CommissioningCycle.objects.get()
    assert run.out == f"{cycle.pk}\n"
    assert (cycle.title, cycle.organisation, cycle.lead_commissioner.username) == (
        "Day services",
        organisation,
        "carol",
    )
    assert cycle.current_stage == "framework"


def test_create_uses_the_named_organisation_and_template_and_acts_as_another_user() -> None:
    north = OrganisationFactory(name="North")
    south = OrganisationFactory(name="South")
    lead = commissioner(north, "carol")
    south.staff.add(lead)
    commissioner(south, "dev")

    run = cli(
        "create", "--title", "Meals", "--lead", "carol", "--organisation", "South",
        "--template", "guide", "--as", "dev",
    )  # fmt: skip

    assert run.code == 0, run.err
    cycle = CommissioningCycle.objects.get(pk=int(run.out))
    assert (cycle.organisation, cycle.template_key, cycle.current_stage) == (
        south,
        "guide",
        "assess-needs",
    )
    created = AuditEvent.objects.get(cycle=cycle)
    assert (created.action, created.actor_name) == ("cycle.created", "dev")


@pytest.mark.parametrize(
    ("organisations", "argv", "code"),
    [
        (0, (), "organisation.none"),
        (2, (), "organisation.ambiguous"),
        (1, ("--organisation", "Nowhere"), "organisation.not_found"),
        (1, ("--template", "nope"), "invalid.template"),
        (1, ("--lead", "nobody"), "user.not_found"),
        (1, ("--as", "nobody"), "user.not_found"),
    ],
)
def test_create_refuses_with_one_line_and_writes_nothing(
    organisations: int, argv: tuple[str, ...], code: str
) -> None:
    lead = representative("carol")
    lead.groups.add(*commissioner(OrganisationFactory(), "other").groups.all())
    for index in range(organisations):
        OrganisationFactory(name=f"Org {index}").staff.add(lead)
    before = everything()

    run = cli("create", "--title", "Day services", "--lead", "carol", *argv)

    assert_one_line_error(run, code)
    assert everything() == before


def test_create_as_someone_outside_the_organisation_is_forbidden() -> None:
    commissioner(OrganisationFactory(name="North"), "carol")
    commissioner(OrganisationFactory(name="South"), "dev")
    before = everything()

    run = cli("create", "--title", "X", "--lead", "carol", "--as", "dev")

    assert_one_line_error(run, "forbidden.create_cycle", exit_code=4)
    assert everything()[:-1] == before[:-1]


# --- advance, refusals and errors -------------------------------------------------------------


def test_advance_exits_3_with_one_code_line_per_unmet_condition(world: CycleWorld) -> None:
    world.agree_boundaries()

    run = cli("advance", world.id, "--as", world.lead.username)

    assert run.code == 3
    expected = selectors.gate_state(world.refresh()).unmet
    assert run.lines == [f"{item.code}: {item.message}" for item in expected]
    assert [line.split(": ", 1)[0] for line in run.lines] == [
        "boundaries.unacknowledged",
        "budget.missing",
        "signoff.quorum",
        "agreement.unsigned",
        "lead.missing",
    ]
    assert world.refresh().current_stage == "framework"


def test_advance_exits_0_and_prints_the_new_stage(world: CycleWorld) -> None:
    world.meet_gate()

    run = cli("advance", world.id, "--as", world.lead.username)

    assert (run.code, run.out, run.err) == (0, "needs\n", "")
    assert world.refresh().current_stage == "needs"


def test_forbidden_gives_one_line_and_exit_4(world: CycleWorld) -> None:
    world.meet_gate()
    member = world.panel[0].username

    run = cli("advance", world.id, "--as", member)

    assert_one_line_error(run, "forbidden.lead", exit_code=4)
    assert world.refresh().current_stage == "framework"
    refusal = AuditEvent.objects.filter(cycle=world.cycle).latest("seq")
    assert (refusal.outcome, refusal.actor_name) == ("refused", member)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (("advance", "{missing}", "--as", "{lead}"), "cycle.not_found"),
        (("advance", "{id}", "--as", "nobody"), "user.not_found"),
        (("reopen", "{id}", "--stage", "tendering", "--reason", "Why", "--as", "{lead}"), "invalid.stage"),
        (("reopen", "{id}", "--stage", "needs", "--reason", "Why", "--as", "{lead}"), "reopen.not_earlier"),
        (("panel", "{id}", "--add", "nobody", "--as", "{lead}"), "user.not_found"),
        (("panel", "{id}", "--add", "{member}", "--as", "{lead}"), "panel.already_member"),
        (("budget", "{id}", "--amount", "lots", "--as", "{lead}"), "invalid.amount"),
        (("budget", "{id}", "--amount", "5", "--currency", "POUNDS", "--as", "{lead}"), "invalid.currency"),
        (("boundaries", "{id}", "--purpose", " ", "--user-role", "r", "--influence", "inform",
          "--decision-maker", "d", "--as", "{lead}"), "invalid.purpose"),
        (("signoff", "{id}", "--dissent", "", "--as", "{member}"), "invalid.dissent_reasons"),
        (("withdraw", "{id}", "--as", "{member}"), "dissent.none"),
        (("acknowledge", "{id}", "--as", "{member}"), "boundaries.missing"),
        (("override", "{id}", "--reason", "Why", "--as", "{lead}"), "forbidden.override"),
        (("decide", "{id}", "--summary", "Award", "--as", "{lead}"), "forbidden.decide"),
        (("lead", "{id}", "--user", "nobody", "--as", "{lead}"), "user.not_found"),
        (("show", "{missing}"), "cycle.not_found"),
        (("audit", "{missing}", "--json"), "cycle.not_found"),
    ],
)  # fmt: skip
def test_unknown_or_invalid_input_gives_one_line_and_writes_nothing(
    world: CycleWorld, argv: tuple[str, ...], code: str
) -> None:
    names = {
        "id": world.id,
        "missing": world.id + 1000,
        "lead": world.lead.username,
        "member": world.panel[0].username,
    }
    before = everything()

    run = cli(*(part.format(**names) for part in argv))

    forbidden = code.startswith("forbidden.")
    assert_one_line_error(run, code, exit_code=4 if forbidden else 1)
    after = everything()
    assert after[:-1] == before[:-1]
    assert after[-1] == before[-1] + (1 if forbidden else 0)


@pytest.mark.parametrize(
    "argv",
    [
        ("advance", "{id}"),
        ("advance", "abc", "--as", "{lead}"),
        ("advance", "{id}", "--as", "{lead}", "--force"),
        ("frobnicate", "{id}"),
        (),
        ("boundaries", "{id}", "--purpose", "p", "--user-role", "r", "--influence", "veto",
         "--decision-maker", "d", "--as", "{lead}"),
        ("budget", "{id}", "--amount", "5", "--withheld-reason", "x", "--as", "{lead}"),
        ("panel", "{id}", "--as", "{lead}"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_with_one_line_and_write_nothing(
    world: CycleWorld, argv: tuple[str, ...]
) -> None:
    before = everything()

    run = cli(*(part.format(id=world.id, lead=world.lead.username) for part in argv))

    assert run.code == 2
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: usage: ")
    assert everything() == before


def test_programmatic_callers_get_a_command_error_with_the_exit_code(world: CycleWorld) -> None:
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as closed:
        call_command("cycle", "advance", str(world.id), "--as", world.lead.username, stdout=out)
    with pytest.raises(CommandError) as forbidden:
        call_command("cycle", "advance", str(world.id), "--as", world.panel[0].username, stderr=err)
    with pytest.raises(CommandError) as usage:
        call_command("cycle", "advance", str(world.id))

    assert closed.value.returncode == 3
    assert out.getvalue().startswith("boundaries.missing: ")
    assert forbidden.value.returncode == 4
    assert err.getvalue().startswith("error: forbidden.lead: ")
    assert usage.value.returncode == 2


# --- a full walk -------------------------------------------------------------------------------


def test_a_full_walk_to_procurement_through_the_command_line() -> None:
    organisation = OrganisationFactory(name="Northshire ICB")
    commissioner(organisation, "carol")
    panel = [representative(name).username for name in ("ann", "bob", "cat")]
    governance_member(organisation, username="gina")

    def ok(*argv: object) -> Run:
        run = cli(*argv)
        assert run.code == 0, (argv, run.out, run.err)
        return run

    cycle_id = int(ok("create", "--title", "Day services", "--lead", "carol").out)
    for name in panel:
        extra = ("--tender-panel",) if name == "cat" else ()
        ok("panel", cycle_id, "--add", name, "--represents", "day service users", *extra,
           "--as", "carol")  # fmt: skip
    ok("agreement", cycle_id, "--task", "Re-design day services.",
       "--responsibilities", "Attend and read papers.", "--support", "A buddy.", "--as", "carol")  # fmt: skip
    for name in panel:
        ok("sign-agreement", cycle_id, "--as", name)
    ok("lead", cycle_id, "--user", "carol", "--as", "carol")
    ok("budget", cycle_id, "--amount", "1200000", "--constraints", "Recurrent.", "--as", "carol")
    assessed = ok("duty", cycle_id, "--proposal", "Re-design day services.", "--body", "icb",
                  "--activity", "proposals", "--affects-delivery", "--substantial", "--as", "carol")  # fmt: skip
    assert assessed.out == (
        "Duty assessment version 1: required, limb (b); "
        "consult the overview and scrutiny committee.\n"
    )

    for expected_next in ("needs", "review", "priorities", "design", "procurement"):
        ok("boundaries", cycle_id, "--purpose", "Shape the service.", "--user-role", "Co-author.",
           "--influence", "influence", "--decision-maker", "Cabinet member.",
           "--fixed", "The budget.", "--open", "Locations.", "--as", "carol")  # fmt: skip
        for name in panel:
            ok("acknowledge", cycle_id, "--as", name)
        closed = cli("advance", cycle_id, "--as", "carol")
        assert closed.code == 3
        assert closed.lines[0].startswith("signoff.quorum: ")
        for name in panel:
            ok("signoff", cycle_id, "--as", name)
        if expected_next == "procurement":
            undeclared = cli("advance", cycle_id, "--as", "carol")
            assert (undeclared.code, [line.split(":")[0] for line in undeclared.lines]) == (
                3,
                ["conflicts.undeclared"],
            )
            ok("declare", cycle_id, "--interest", "none", "--as", "cat")
        assert ok("advance", cycle_id, "--as", "carol").out == f"{expected_next}\n"

    summary = json.loads(ok("show", cycle_id, "--json").out)
    assert (summary["stage"], summary["status"]) == ("procurement", "active")
    passed = [s["key"] for s in summary["stages"] if any(v["closure"] for v in s["visits"])]
    assert passed == ["framework", "needs", "review", "priorities", "design"]
    assert all(
        visit["closure"] == "passed"
        for stage in summary["stages"]
        for visit in stage["visits"]
        if visit["closed_at"]
    )
    actions = [event["action"] for event in json.loads(ok("audit", cycle_id, "--json").out)]
    assert actions.count("stage.advanced") == 5
    assert actions.count("stage_advance") == 6


def test_a_budget_change_after_signoff_closes_the_gate_through_the_command_line(
    world: CycleWorld,
) -> None:
    world.meet_gate()
    lead = world.lead.username

    assert cli("budget", world.id, "--amount", "900000", "--as", lead).code == 0
    run = cli("advance", world.id, "--as", lead)

    assert run.code == 3
    assert [line.split(": ", 1)[0] for line in run.lines] == ["signoff.stale", "signoff.quorum"]


def test_dissent_withdraw_and_override_through_the_command_line(world: CycleWorld) -> None:
    world.meet_gate()
    member, lead, governor = world.panel[0].username, world.lead.username, world.governor.username

    assert cli("signoff", world.id, "--dissent", "Papers too late.", "--as", member).code == 0
    refused = cli("advance", world.id, "--as", lead)
    assert (refused.code, [line.split(": ")[0] for line in refused.lines]) == (
        3,
        ["signoff.dissent"],
    )
    assert cli("withdraw", world.id, "--as", member).code == 0
    assert cli("signoff", world.id, "--dissent", "Again.", "--as", member).code == 0

    override = cli("override", world.id, "--reason", "Statutory deadline.", "--as", governor)
    advanced = cli("advance", world.id, "--as", lead)

    assert override.code == 0
    assert "signoff.dissent" in override.out
    assert (advanced.code, advanced.out) == (0, "needs\n")
    assert GateOverride.objects.get(cycle=world.cycle).reason == "Statutory deadline."


def test_reopen_prints_the_stage_and_its_gate_is_needed_again(world: CycleWorld) -> None:
    world.walk_to("review")
    lead = world.lead.username

    reopened = cli("reopen", world.id, "--stage", "needs", "--reason", "New data.", "--as", lead)
    refused = cli("advance", world.id, "--as", lead)

    assert (reopened.code, reopened.out) == (0, "needs\n")
    assert (refused.code, refused.lines[0].split(": ")[0]) == (3, "signoff.quorum")


def test_decide_records_a_decision_as_the_decision_maker(world: CycleWorld) -> None:
    from roles import definitions
    from tests.factories import user_with_role

    decider = user_with_role(definitions.DECISION_MAKER, "dana")
    world.organisation.staff.add(decider)

    run = cli("decide", world.id, "--summary", "Award to four providers.", "--forum", "Cabinet",
              "--veto-reason", "Bidder B failed the quality threshold.", "--as", "dana")  # fmt: skip

    assert run.code == 0, run.err
    decision = world.cycle.decisions.get()
    assert (decision.decided_by, decision.forum, decision.veto_used) == (decider, "Cabinet", True)


# --- show and audit ----------------------------------------------------------------------------


def test_show_json_has_the_summary_shape(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.disclose_budget()

    summary = json.loads(cli("show", world.id, "--json").out)

    assert {"id", "title", "stage", "status", "gate", "stages"} <= set(summary)
    assert (summary["id"], summary["title"], summary["stage"], summary["status"]) == (
        world.id,
        "Day services",
        "framework",
        "active",
    )
    assert summary["gate"]["open"] is False
    assert [item["code"] for item in summary["gate"]["unmet"]] == [
        "boundaries.unacknowledged",
        "signoff.quorum",
        "agreement.unsigned",
        "lead.missing",
    ]
    assert all(set(item) == {"code", "message"} for item in summary["gate"]["unmet"])
    assert [stage["key"] for stage in summary["stages"]] == [
        "framework", "needs", "review", "priorities", "design", "procurement", "decision",
        "implementation", "monitoring",
    ]  # fmt: skip
    assert summary == json.loads(json.dumps(selectors.cycle_summary(world.refresh())))


def test_show_in_plain_text_lists_the_unmet_conditions(world: CycleWorld) -> None:
    run = cli("show", world.id)

    assert run.code == 0
    assert f"Cycle {world.id}: Day services" in run.lines
    assert "Gate: closed (0 attesting, 2 needed)" in run.lines
    assert any(line.startswith("  budget.missing: ") for line in run.lines)
    assert " * 1. framework: open" in run.lines


def test_audit_lists_the_cycles_ledger_events(world: CycleWorld) -> None:
    world.agree_boundaries()
    cli("advance", world.id, "--as", world.panel[0].username)

    text = cli("audit", world.id)
    events = json.loads(cli("audit", world.id, "--json").out)

    stored = list(AuditEvent.objects.filter(cycle=world.cycle).order_by("seq"))
    assert [event["seq"] for event in events] == [event.seq for event in stored]
    assert set(events[0]) == {"seq", "time", "actor", "action", "outcome", "stage", "payload"}
    assert events[-1]["action"] == "stage_advance"
    assert events[-1]["outcome"] == "refused"
    assert events[-1]["payload"]["code"] == "forbidden.lead"
    assert [e["action"] for e in events[:5]] == ["cycle.created"] + ["panel.joined"] * 3 + [
        "boundaries.agreed"
    ]
    assert len(text.lines) == len(stored)
    assert text.lines[-1].startswith(f"#{stored[-1].seq} ")


# --- as a separate process ---------------------------------------------------------------------


def test_the_command_runs_as_a_separate_process_with_its_exit_codes(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CYCLE_NO_BOOTSTRAP": "1",
        "DJANGO_SETTINGS_MODULE": "cycle.conf.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "CYCLE_VAR_DIR": str(tmp_path),
    }

    def manage(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert manage("migrate", "--verbosity", "0").returncode == 0
    setup = manage(
        "shell",
        "-c",
        "from tests.factories import OrganisationFactory, commissioner, representative\n"
        "commissioner(OrganisationFactory(name='Northshire ICB'), 'carol')\n"
        "representative('ann')\n",
    )
    assert setup.returncode == 0, setup.stderr

    created = manage("cycle", "create", "--title", "Day services", "--lead", "carol")
    closed = manage("cycle", "advance", created.stdout.strip(), "--as", "carol")
    forbidden = manage("cycle", "advance", created.stdout.strip(), "--as", "ann")
    unknown = manage("cycle", "advance", "999", "--as", "carol")
    usage = manage("cycle", "advance", created.stdout.strip())

    assert (created.returncode, created.stdout.strip().isdigit()) == (0, True)
    assert closed.returncode == 3
    assert [line.split(": ")[0] for line in closed.stdout.splitlines()] == [
        "panel.empty",
        "boundaries.missing",
        "budget.missing",
        "lead.missing",
    ]
    assert forbidden.returncode == 4
    assert forbidden.stderr.startswith("error: forbidden.lead: ")
    assert (unknown.returncode, unknown.stderr.count("\n")) == (1, 1)
    assert unknown.stderr.startswith("error: cycle.not_found: ")
    assert (usage.returncode, usage.stderr.count("\n")) == (2, 1)
    assert usage.stderr.startswith("error: usage: ")


# --- input and answers --------------------------------------------------------------------------


def test_input_and_answers_through_the_command_line_meet_the_last_gate(world: CycleWorld) -> None:
    world.walk_to("monitoring")
    member, lead = world.panel[0].username, world.lead.username

    given = cli("input", world.id, "--text", "Evening sessions, please.", "--as", member)
    assert given.code == 0, given.err
    input_id = int(given.out.strip())
    world.agree_boundaries()  # everything but the answer
    world.acknowledge_all()
    world.sign_agreement()
    world.attest()
    closed = cli("advance", world.id, "--as", lead)
    assert closed.code == 3
    assert any(line.startswith("input.unanswered: ") for line in closed.lines)

    considering = cli("respond", input_id, "--kind", "considering", "--as", lead)
    assert considering.code == 0, considering.err
    assert cli("advance", world.id, "--as", lead).code == 3  # still considering is no answer

    answered = cli(
        "respond", input_id, "--kind", "did", "--text", "Two evenings a week.", "--as", lead
    )
    assert answered.code == 0, answered.err
    assert f"Input {input_id} answered: We did." in answered.out
    done = cli("advance", world.id, "--as", lead)
    assert done.code == 0, done.err
    assert world.refresh().status == CommissioningCycle.Status.COMPLETED


def test_answering_without_reasons_or_for_unknown_input_is_one_line_and_writes_nothing(
    world: CycleWorld,
) -> None:
    given = cli("input", world.id, "--text", "More buses.", "--as", world.panel[0].username)
    input_id = int(given.out.strip())
    before = everything()

    no_reason = cli("respond", input_id, "--kind", "could-not", "--as", world.lead.username)
    unknown = cli("respond", 999999, "--kind", "did", "--text", "x", "--as", world.lead.username)
    outsider = cli("input", world.id, "--text", "Hi.", "--as", world.lead.username)

    assert_one_line_error(no_reason, "invalid.reason")
    assert_one_line_error(unknown, "input.not_found")
    assert_one_line_error(outsider, "forbidden.represent", exit_code=4)
    assert everything()[:-1] == before[:-1]  # only the refusal's ledger event was added
