"""``manage.py cycle`` for panels, working agreements and interests; and how it refuses.

A refused command prints one line, ``error: CODE: message``, exits with 4, writes exactly one
``refused`` event to the ledger and changes nothing else.
"""

from __future__ import annotations

import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.db import connections

from cycle import services
from cycle.management.commands.cycle import Command
from cycle.models import AuditEvent, SignOff
from roles import definitions
from roles.models import AgreementSignature, ConflictDeclaration, PanelMembership, WorkingAgreement
from tests.roles.cast import AGREEMENT, Cast

pytestmark = pytest.mark.django_db


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line closes database connections when it ends; the test's must stay open."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


def cli(*argv: object) -> Run:
    out, err = StringIO(), StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            Command().run_from_argv(["manage.py", "cycle", *map(str, argv)])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return Run(code, out.getvalue(), err.getvalue())


def ok(*argv: object) -> str:
    run = cli(*argv)
    assert (run.code, run.err) == (0, ""), run
    return run.out.strip()


def state() -> tuple[object, ...]:
    """Everything a panel command could change, and the ledger's record of changes."""
    return (
        list(PanelMembership.objects.values_list("pk", "left_at", "tender_panel", "tier")),
        WorkingAgreement.objects.count(),
        AgreementSignature.objects.count(),
        ConflictDeclaration.objects.count(),
        list(SignOff.objects.values_list("pk", "kind", "superseded_at", "withdrawn")),
        AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DONE).count(),
    )


def refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED).order_by("seq"))


def signoffs_on_record(cast: Cast) -> None:
    """An attestation and an open dissent on record, for the attempts to change them."""
    cast.evidence_for_signoff()
    cast.attest(cast.representative)
    services.signoff_record(
        actor=cast.second_representative, cycle_id=cast.id, dissent="We were told too late."
    )


REFUSED = [
    pytest.param(
        ["panel", "{id}", "--add", "north-colleague", "--as", "north-lead"],
        "north-lead",
        "membership_add",
        "forbidden.commissioner_on_panel",
        id="a commissioner put on their own panel",
    ),
    pytest.param(
        ["panel", "{id}", "--add", "north-newcomer", "--as", "north-colleague"],
        "north-colleague",
        "membership_add",
        "forbidden.manage_panel",
        id="a colleague who does not run the panel adds to it",
    ),
    pytest.param(
        [
            "agreement",
            "{id}",
            "--task",
            "T",
            "--responsibilities",
            "R",
            "--support",
            "S",
            "--as",
            "north-rep",
        ],
        "north-rep",
        "agreement_record",
        "forbidden.manage_panel",
        id="a representative writes the working agreement",
    ),
    pytest.param(
        ["sign-agreement", "{id}", "--as", "north-lead"],
        "north-lead",
        "agreement_sign",
        "forbidden.represent",
        id="the lead signs the panel's agreement",
    ),
    pytest.param(
        ["declare", "{id}", "--interest", "none", "--as", "north-governor"],
        "north-governor",
        "conflict_declare",
        "forbidden.represent",
        id="a governance member declares for the panel",
    ),
    pytest.param(
        ["leave", "{id}", "--as", "north-newcomer"],
        "north-newcomer",
        "membership_leave",
        "forbidden.not_on_panel",
        id="someone not on the panel steps down from it",
    ),
    pytest.param(
        ["leave", "{id}", "--member", "north-rep2", "--as", "north-rep"],
        "north-rep",
        "membership_remove",
        "forbidden.manage_panel",
        id="a representative takes another off the panel",
    ),
    pytest.param(
        ["signoff", "{id}", "--dissent", "Changed by the board.", "--as", "north-governor"],
        "north-governor",
        "signoff_record",
        "forbidden.represent",
        id="a governance member edits a sign-off",
    ),
    pytest.param(
        ["withdraw", "{id}", "--as", "north-governor"],
        "north-governor",
        "dissent_withdraw",
        "forbidden.represent",
        id="a governance member withdraws a dissent",
    ),
    pytest.param(
        ["tender-panel", "{id}", "--member", "north-rep2", "--off", "--as", "north-rep"],
        "north-rep",
        "membership_set_tender_panel",
        "forbidden.manage_panel",
        id="a representative changes the tender panel",
    ),
    pytest.param(
        ["panel", "{id}", "--add", "north-newcomer", "--as", "south-lead"],
        "south-lead",
        "membership_add",
        "forbidden.manage_panel",
        id="the lead of another organisation's cycle changes this panel",
    ),
]


@pytest.mark.parametrize(("argv", "actor", "action", "code"), REFUSED)
def test_a_refused_command_says_why_in_one_line_exits_4_and_only_the_refusal_is_recorded(
    cast: Cast, other_cast: Cast, argv: list[str], actor: str, action: str, code: str
) -> None:
    cast.colleague.groups.add(Group.objects.get(name=definitions.REPRESENTATIVE))
    signoffs_on_record(cast)
    before = state()

    run = cli(*(arg.format(id=cast.id) for arg in argv))

    assert run.code == 4
    assert run.out == ""
    [line] = run.err.splitlines()
    assert line.startswith(f"error: {code}: ")
    assert state() == before
    [event] = refusals()
    assert (event.action, event.actor.username, event.cycle_id) == (action, actor, cast.id)
    assert json.loads(event.payload)["code"] == code


def test_the_panel_is_run_from_the_command_line(cast: Cast) -> None:
    assert (
        ok(
            "panel",
            cast.id,
            "--add",
            "north-newcomer",
            "--represents",
            "young carers",
            "--tier",
            "decision-forum",
            "--tender-panel",
            "--as",
            "north-involvement",
        )
        == "north-newcomer joined the panel."
    )
    ok("tender-panel", cast.id, "--member", "north-newcomer", "--off", "--as", "north-lead")
    ok("leave", cast.id, "--member", "north-rep2", "--reason", "Moved away.", "--as", "north-lead")
    ok("leave", cast.id, "--reason", "Starting a new job.", "--as", "north-rep")

    newcomer = PanelMembership.objects.get(member=cast.newcomer)
    assert (newcomer.represents, newcomer.tier, newcomer.tender_panel) == (
        "young carers",
        "decision-forum",
        False,
    )
    assert list(
        PanelMembership.objects.filter(left_at__isnull=False)
        .order_by("left_at")
        .values_list("member__username", "left_reason")
    ) == [("north-rep2", "Moved away."), ("north-rep", "Starting a new job.")]


def test_the_framework_gate_waits_for_the_working_agreement_on_the_command_line(
    cast: Cast,
) -> None:
    cast.evidence_for_signoff()
    cast.attest()

    closed = cli("advance", cast.id, "--as", "north-lead")
    assert closed.code == 3
    assert [line.split(":")[0] for line in closed.out.splitlines()] == ["agreement.unsigned"]

    ok(
        "agreement",
        cast.id,
        "--task",
        AGREEMENT["task"],
        "--responsibilities",
        AGREEMENT["responsibilities"],
        "--support",
        AGREEMENT["support"],
        "--expenses",
        "Bus fares and lunch, paid in cash on the day.",
        "--as",
        "north-involvement",
    )
    assert (
        ok("sign-agreement", cast.id, "--as", "north-rep") == "Signed version 1 of the agreement."
    )
    assert cli("advance", cast.id, "--as", "north-lead").code == 3
    ok("sign-agreement", cast.id, "--as", "north-rep2")

    assert ok("advance", cast.id, "--as", "north-lead") == "needs"
    assert (
        WorkingAgreement.objects.get().expenses == "Bus fares and lunch, paid in cash on the day."
    )


def test_interests_are_declared_on_the_command_line(cast: Cast) -> None:
    assert (
        ok(
            "declare",
            cast.id,
            "--interest",
            "uses-service",
            "--details",
            "Oak Lane day centre",
            "--as",
            "north-rep",
        )
        == "Declared: Uses a service being commissioned."
    )
    ok("declare", cast.id, "--interest", "none", "--as", "north-rep2")

    assert list(
        ConflictDeclaration.objects.order_by("id").values_list("member__username", "interest")
    ) == [("north-rep", "uses-service"), ("north-rep2", "none")]


def test_an_interest_without_details_is_an_error_not_a_refusal(cast: Cast) -> None:
    run = cli("declare", cast.id, "--interest", "bidder-link", "--as", "north-rep")

    assert run.code == 1
    assert run.err.strip().startswith("error: invalid.details: ")
    assert refusals() == []
