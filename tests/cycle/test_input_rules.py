"""Strict input, in the services so every face gets it: plain amounts, ISO 4217 currencies, a
length limit on every stored text, and a command line that answers bad bytes, a closed pipe and
hostile text in one line."""

from __future__ import annotations

import io
import json
import os
import sys
from decimal import Decimal

import pytest
from django.core.management import ManagementUtility, call_command
from django.db import connections
from django.test import Client

from cycle import input_rules, services
from cycle.errors import InvalidRequest
from cycle.management.base import terminal_safe
from cycle.models import BudgetDisclosure, Decision, SignOff
from roles import definitions
from roles import services as role_services
from tests.api.conftest import Caller, body
from tests.factories import CycleWorld, representative, user_with_role
from tests.web.pages import error_summary

pytestmark = pytest.mark.django_db

FULL_WIDTH_GBP = "\uff27\uff22\uff30"

NOT_PLAIN = [
    "1_000",
    "1e6",
    "1E+3",
    "١٢٣",  # Arabic-Indic digits
    "\uff11\uff12\uff13",  # full-width digits
    "NaN",
    "Infinity",
    "-5",
    "+5",
    "1.234",
    "1,000",
    "1000000000000",
    ".5",
    "5.",
    12.5,
    True,
]


@pytest.mark.parametrize("amount", NOT_PLAIN)
def test_an_amount_that_is_not_a_plain_decimal_is_refused(world: CycleWorld, amount: object):
    with pytest.raises(InvalidRequest) as refused:
        services.budget_disclose(actor=world.lead, cycle_id=world.id, amount=amount)
    assert refused.value.code == "invalid.amount"
    assert not BudgetDisclosure.objects.filter(cycle=world.cycle).exists()


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("1000", "1000.00"), (" 950000.5 ", "950000.50"), (0, "0.00"), (Decimal("12.34"), "12.34")],
)
def test_a_plain_amount_is_stored_to_the_penny(world: CycleWorld, amount: object, stored: str):
    disclosure = services.budget_disclose(actor=world.lead, cycle_id=world.id, amount=amount)
    assert disclosure.amount == Decimal(stored)


@pytest.mark.parametrize("currency", ["XYZ", FULL_WIDTH_GBP, "GB", "XAU", "XTS", "G B P"])
def test_a_currency_outside_iso_4217_is_refused(world: CycleWorld, currency: str):
    with pytest.raises(InvalidRequest) as refused:
        services.budget_disclose(
            actor=world.lead, cycle_id=world.id, amount="10", currency=currency
        )
    assert refused.value.code == "invalid.currency"


def test_a_currency_of_iso_4217_is_kept_in_capitals(world: CycleWorld):
    disclosure = services.budget_disclose(
        actor=world.lead, cycle_id=world.id, amount="10", currency="eur"
    )
    assert disclosure.currency == "EUR"


TOO_LONG = "x" * (input_rules.LONG_TEXT + 1)


def _decider(world: CycleWorld):
    decider = user_with_role(definitions.DECISION_MAKER)
    world.organisation.staff.add(decider)
    return decider


def test_a_decision_summary_and_a_veto_reason_have_a_limit(world: CycleWorld):
    decider = _decider(world)
    for arguments in (
        {"summary": TOO_LONG},
        {"summary": "Fine.", "veto_used": True, "veto_reason": TOO_LONG},
        {"summary": "Fine.", "forum": "f" * (input_rules.SHORT_TEXT + 1)},
    ):
        with pytest.raises(InvalidRequest) as refused:
            services.decision_record(actor=decider, cycle_id=world.id, **arguments)
        assert refused.value.code == "invalid.too_long"
    assert not Decision.objects.exists()


def test_a_dissent_has_a_limit(world: CycleWorld):
    with pytest.raises(InvalidRequest) as refused:
        services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent=TOO_LONG)
    assert refused.value.code == "invalid.too_long"
    assert not SignOff.objects.exists()


def test_every_other_stored_text_has_a_limit(world: CycleWorld):
    short = "s" * (input_rules.SHORT_TEXT + 1)
    calls = [
        lambda: services.boundaries_agree(
            actor=world.lead,
            cycle_id=world.id,
            purpose="p",
            user_role="r",
            influence="consult",
            decision_maker="d",
            open_matters=TOO_LONG,
        ),
        lambda: services.budget_disclose(
            actor=world.lead, cycle_id=world.id, amount="1", constraints=TOO_LONG
        ),
        lambda: services.stage_reopen(
            actor=world.lead, cycle_id=world.id, stage_key="framework", reason=TOO_LONG
        ),
        lambda: services.input_submit(actor=world.panel[0], cycle_id=world.id, text=TOO_LONG),
        lambda: role_services.membership_add(
            actor=world.lead, cycle_id=world.id, member=representative(), represents=short
        ),
    ]
    for call in calls:
        with pytest.raises(InvalidRequest) as refused:
            call()
        assert refused.value.code == "invalid.too_long"


@pytest.mark.parametrize("text", ["bad \udcff bytes", "nul \x00 here"])
def test_text_that_is_not_valid_unicode_is_refused_with_a_code(world: CycleWorld, text: str):
    with pytest.raises(InvalidRequest) as refused:
        services.input_submit(actor=world.panel[0], cycle_id=world.id, text=text)
    assert refused.value.code == "invalid.encoding"


# Through the faces


def test_the_api_refuses_a_loose_amount_with_the_services_code(world: CycleWorld):
    for amount in ("1_000", "1e6", "NaN"):
        response = Caller(world.lead).post(f"cycles/{world.id}/budget/", {"amount": amount})
        assert response.status_code == 400, response.content
        assert body(response)["code"] == "invalid.amount"
    response = Caller(world.lead).post(
        f"cycles/{world.id}/budget/", {"amount": "10", "currency": FULL_WIDTH_GBP}
    )
    assert body(response)["code"] == "invalid.currency"
    assert not BudgetDisclosure.objects.filter(cycle=world.cycle).exists()


def test_the_api_refuses_a_decision_summary_too_long_with_the_services_code(world: CycleWorld):
    response = Caller(_decider(world)).post(f"cycles/{world.id}/decisions/", {"summary": TOO_LONG})
    assert response.status_code == 400, response.content
    assert body(response)["code"] == "invalid.too_long"


def test_the_budget_page_shows_the_services_refusal_of_a_loose_amount(world: CycleWorld):
    client = Client()
    client.force_login(world.lead)
    response = client.post(
        f"/cycles/{world.id}/budget/record/", {"choice": "amount", "amount": "1_000"}
    )
    assert response.status_code == 200
    [line] = error_summary(response)
    assert "is not a plain amount" in line
    assert not BudgetDisclosure.objects.filter(cycle=world.cycle).exists()


# The command line


@pytest.fixture
def keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections, "close_all", lambda: None)


def run_manage(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        ManagementUtility(["manage.py", *argv]).execute()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def test_an_argument_that_is_not_utf8_is_refused_in_one_line(world, keep_test_connection):
    undecodable = b"caf\xe9".decode("utf-8", "surrogateescape")
    code, out, err = run_manage("cycle", "show", str(world.id), "--as", undecodable)
    assert code == 2
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("error: invalid.encoding: argument 4 (caf\\udce9)")


def test_a_closed_pipe_ends_the_command_with_one_line(world, keep_test_connection, capfd):
    read_end, write_end = os.pipe()
    os.close(read_end)
    closed = io.TextIOWrapper(os.fdopen(write_end, "wb"), encoding="utf-8")
    saved = sys.stdout
    sys.stdout = closed
    code = 0
    try:
        ManagementUtility(["manage.py", "cycle", "show", str(world.id)]).execute()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdout = saved
    err = capfd.readouterr().err
    assert code == 141
    assert err.splitlines() == [
        "error: output.closed: the output was closed before everything was written"
    ]
    assert "Traceback" not in err


HOSTILE = "Day services\x1b[2J\x1b]0;pwned\x07 \u202egnp.exe\u2066"


def test_stored_text_is_escaped_when_the_command_line_prints_it(world: CycleWorld):
    world.cycle.title = HOSTILE
    world.cycle.save(update_fields=["title"])
    out = io.StringIO()
    call_command("cycle", "show", str(world.id), stdout=out)
    printed = out.getvalue()
    assert "\x1b" not in printed and "\u202e" not in printed and "\x07" not in printed
    assert "Day services\\u001b[2J\\u001b]0;pwned\\u0007 \\u202egnp.exe\\u2066" in printed
    as_json = io.StringIO()
    call_command("cycle", "show", str(world.id), "--json", stdout=as_json)
    assert json.loads(as_json.getvalue())["title"] == HOSTILE


def test_terminal_safe_keeps_tabs_line_feeds_and_ordinary_text():
    assert terminal_safe("a\tb\nc é 中") == "a\tb\nc é 中"
    assert terminal_safe("\r\x7f\x9b\u200f") == "\\u000d\\u007f\\u009b\\u200f"


@pytest.mark.parametrize("written", ["1_000", "1e6", "NaN", "Infinity", "\u0661\u0662"])
def test_procurement_numbers_are_plain_decimals_too(written: str):
    from cycle.procurement.services import _decimal

    with pytest.raises(InvalidRequest) as refused:
        _decimal(written, "lifetime value")
    assert refused.value.code == "invalid.lifetime_value"
