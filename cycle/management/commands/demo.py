"""``manage.py demo``: the product on believable data, in one command.

    manage.py demo                 # migrate, load the scenarios, print the accounts, serve
    manage.py demo --no-serve      # the same, without serving
    manage.py demo --port 8001     # serve on another port
    manage.py demo --walkthrough   # print the meals-on-wheels story as the engine sees it

A second run reuses the database and the scenarios already loaded. The walkthrough plays the
meals-on-wheels scenario through the services in a fresh cycle, printing what the engine records
and decides at each step, then rolls it all back: nothing it does is kept.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test.utils import override_settings

from cycle import outbox, scenarios, selectors
from cycle.actions import LedgerAction
from cycle.management.base import CommandLine
from cycle.models import AuditEvent, CommissioningCycle, Notification, SignOff
from roles.definitions import load_roles

from .scenarios import report

WALKTHROUGH_SCENARIO = "meals-on-wheels"
WALKTHROUGH_STAGE = "design"


class Command(CommandLine):
    help = "Set up the demo database with every scenario, print the demo accounts and serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Do not start the server.")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (8000).")
        parser.add_argument(
            "--walkthrough",
            action="store_true",
            help="Print the meals-on-wheels story step by step as the engine sees it, then stop.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._migrate()
        try:
            if options["walkthrough"]:
                Walkthrough(self.stdout.write).run()
                return
            self.stdout.write("Scenarios:")
            # The scenarios replay history: what they tell people is in each account's
            # notifications, but the e-mail is not printed.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                for loaded in scenarios.load_each():
                    self.stdout.write("  " + report(loaded))
                    self.stdout.flush()
            self._accounts()
        except scenarios.ScenarioError as error:
            raise CommandError(str(error)) from error
        if options["no_serve"]:
            return
        address = f"127.0.0.1:{options['port']}"
        self.stdout.write(f"\nServing on http://{address}/ (Ctrl-C to stop).")
        self.stdout.write(
            f"  Sign in: http://{address}{resolve_url(settings.LOGIN_URL)} as one of the accounts "
            "above; each one's home page says what is asked of them."
        )
        self.stdout.write("")
        # No autoreloader: it would run this whole command again in a child process.
        call_command("runserver", address, use_reloader=False)

    def _migrate(self) -> None:
        database = connection.settings_dict
        self.stdout.write(f"Database: {connection.vendor} {database['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)

    def _accounts(self) -> None:
        role_names = {key: spec["name"] for key, spec in load_roles().items()}
        rows = []
        for account in scenarios.demo_accounts():
            user = scenarios.ensure_demo_account(account)
            rows.append(
                (role_names[account.role], account.username, account.password, user.get_full_name())
            )
        width = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("\nDemo accounts (local use only: these passwords are public):")
        for role, username, password, name in rows:
            self.stdout.write(
                f"  {role:<{width[0]}}  {username:<{width[1]}}  {password:<{width[2]}}  {name}"
            )


class Walkthrough:
    """Narrates a scenario's steps from what the engine records: gate results, ledger events."""

    def __init__(self, write: Any) -> None:
        self.write = write
        self.names: dict[int, str] = {}
        self.gate_open: bool | None = None
        self.joined: list[str] = []
        self.cycle: CommissioningCycle | None = None

    def run(self) -> None:
        scenario = scenarios.discover()[WALKTHROUGH_SCENARIO]
        self.write(f"{scenario.title}, as the engine sees it")
        self.write(
            f"Played live through the services in a fresh cycle of {scenario.organisation}; "
            "rolled back at the end, so nothing is kept."
        )
        self.write("\nSetting up:")
        with transaction.atomic():
            scenarios.load(scenario, fresh=True, observer=self.observe)
            if self.cycle is not None:
                self.everything_received(self.cycle)
            transaction.set_rollback(True)

    # Reading what the engine recorded

    def name(self, user_id: int) -> str:
        if user_id not in self.names:
            user = get_user_model().objects.get(pk=user_id)
            self.names[user_id] = user.get_full_name() or user.get_username()
        return self.names[user_id]

    def last_event(self, cycle: CommissioningCycle, action: str) -> AuditEvent:
        event = AuditEvent.objects.filter(cycle=cycle, action=action).order_by("-seq").first()
        if event is None:
            raise CommandError(f"the ledger has no {action} event for the walkthrough cycle")
        return event

    @staticmethod
    def payload(event: AuditEvent) -> dict[str, Any]:
        return dict(json.loads(event.payload))

    def unmet_lines(self, unmet: Any) -> None:
        for item in unmet:
            self.write(f"      {item.code}: {item.message}")

    # The observer

    def observe(self, outcome: scenarios.StepOutcome) -> None:
        step, cycle = outcome.step, outcome.cycle
        self.cycle = cycle
        kind = step.kind
        if kind == "join":
            self.joined.append(self.name(outcome.result.member_id))
            return
        if self.joined:
            self.write(f"  Panel of {len(self.joined)}: {', '.join(self.joined)}.")
            self.joined = []
        if kind == "advance":
            self.advanced(cycle)
            return
        if cycle.current_stage != WALKTHROUGH_STAGE:
            if kind == "involvement-lead" and cycle.involvement_lead_id:
                self.write(
                    f"  {self.name(cycle.lead_commissioner_id)} leads the cycle; "
                    f"{self.name(cycle.involvement_lead_id)} is its involvement lead."
                )
            if kind == "budget":
                data = self.payload(self.last_event(cycle, LedgerAction.BUDGET_DISCLOSED))
                self.write(f"  Budget v{data['version']} disclosed: {self.money(data)}.")
            return
        handler = getattr(self, "on_" + kind.replace("-", "_"), None)
        if handler is not None:
            handler(outcome)
        if kind != "budget":
            self.gate_change(cycle)

    def advanced(self, cycle: CommissioningCycle) -> None:
        event = self.last_event(cycle, LedgerAction.STAGE_ADVANCED)
        data = self.payload(event)
        self.write(
            f"  Stage {data['from']}: gate met ({len(data['attesting'])} attested), "
            f"advanced to {data['to']}."
        )
        if data["to"] == WALKTHROUGH_STAGE:
            self.write(f"\nThe consultation (stage {WALKTHROUGH_STAGE}):")
            # The new stage's gate starts closed; from here on, every change is reported.
            self.gate_open = selectors.gate_state(cycle).open

    def gate_change(self, cycle: CommissioningCycle) -> None:
        result = selectors.gate_state(cycle)
        if result.open == self.gate_open:
            return
        self.gate_open = result.open
        members = selectors.active_member_ids(cycle)
        if result.open:
            stale = members - set(result.attesting)
            self.write(
                f"  GATE OPEN: {len(result.attesting)} of {len(members)} panel members attested "
                f"against the current boundaries and budget ({result.quorum} needed)."
            )
            if stale:
                self.write(
                    "    Not counted (no sign-off against the current versions): "
                    + ", ".join(sorted(self.name(pk) for pk in stale))
                    + "."
                )
        else:
            self.write("  GATE CLOSED, with these unmet conditions:")
            self.unmet_lines(result.unmet)

    @staticmethod
    def money(data: dict[str, Any]) -> str:
        if data.get("amount") is None:
            return "withheld"
        return f"{data['currency']} {float(data['amount']):,.2f}"

    # One method per kind of step in the narrated stage

    def on_note(self, outcome: scenarios.StepOutcome) -> None:
        when = outcome.step.params.get("when")
        self.write(
            f"  [{when}] {outcome.step.params['text']}"
            if when
            else f"  {outcome.step.params['text']}"
        )

    def on_boundaries(self, outcome: scenarios.StepOutcome) -> None:
        agreement = outcome.result
        self.write(
            f"  Role boundaries v{agreement.version} agreed for {agreement.stage_key}: users "
            f"{agreement.influence}; decides: {agreement.decision_maker}"
        )

    def on_acknowledge(self, outcome: scenarios.StepOutcome) -> None:
        done = outcome.result
        self.write(
            f"  {len(done)} members acknowledged role boundaries v{done[0].agreement.version}."
        )

    def on_attest(self, outcome: scenarios.StepOutcome) -> None:
        signoffs = outcome.result
        first = signoffs[0]
        names = ", ".join(self.name(signoff.member_id) for signoff in signoffs)
        again = SignOff.objects.filter(
            visit_id=first.visit_id,
            member_id__in=[signoff.member_id for signoff in signoffs],
            superseded_at__isnull=False,
        ).exists()
        label = "RE-ATTESTATION" if again else "Attestation"
        self.write(
            f"  {label}: {names} attested against role boundaries v{first.boundary.version} "
            f"and budget v{first.budget.version}."
        )

    def on_budget(self, outcome: scenarios.StepOutcome) -> None:
        cycle = outcome.cycle
        event = self.last_event(cycle, LedgerAction.BUDGET_DISCLOSED)
        data = self.payload(event)
        disclosure = outcome.result
        was = self.money({"amount": data.get("previous_amount"), "currency": data["currency"]})
        previous = data.get("previous_amount")
        cut = (
            previous is not None
            and disclosure.amount is not None
            and (disclosure.amount < Decimal(previous))
        )
        label = "BUDGET CUT" if cut else "BUDGET DISCLOSED"
        self.write(
            f"  {label}: {self.name(disclosure.disclosed_by_id)} disclosed budget "
            f"v{disclosure.version}, {self.money(data)} (was {was})."
        )
        if disclosure.constraints:
            self.write(f"    Constraints: {disclosure.constraints}")
        voided = data.get("signoffs_voided")
        if voided:
            self.write(f"    {voided} sign-offs given against the earlier figure stop counting.")
        self.gate_change(cycle)
        told = data.get("panel_to_tell")
        source = f"the ledger's budget.disclosed event (#{event.seq})"
        if told is None:
            told = sorted(selectors.active_member_ids(cycle))
            source = "the active panel"
        self.write(
            f"  PANEL TOLD: {source} names the {len(told)} members to tell: "
            + ", ".join(self.name(pk) for pk in told)
            + "."
        )
        self.received(cycle, disclosure)

    def received(self, cycle: CommissioningCycle, disclosure: Any) -> None:
        """What each member was told of the budget change, read back from the outbox, and the
        e-mail delivered through it (to a mailbox in memory: nothing leaves the machine)."""
        rows = list(
            Notification.objects.filter(
                cycle=cycle,
                kind=Notification.Kind.BUDGET_CHANGED,
                idempotency_key__startswith=f"budget:{disclosure.pk}:",
            )
            .select_related("recipient")
            .order_by("recipient_id")
        )
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            before = len(getattr(mail, "outbox", []))
            for row in rows:
                outbox.deliver(row.pk)
            emailed = {message.to[0] for message in getattr(mail, "outbox", [])[before:]}
        self.write(
            f"  NOTIFICATIONS RECEIVED: {len(rows)}, one for each member on the panel, "
            "written with the change:"
        )
        for row in rows:
            address = row.recipient.email
            how = f"in the app, and by e-mail to {address}" if address in emailed else "in the app"
            self.write(f"    {self.name(row.recipient_id)}: {how}")
        if rows:
            self.write(f"    What they read: {rows[0].subject}")
            for line in rows[0].body.splitlines():
                if line:
                    self.write(f"      {line}")

    def everything_received(self, cycle: CommissioningCycle) -> None:
        """Every notification the panel received in the story, read back from their inboxes in
        the order they were written, with the e-mails delivered through the outbox (to a mailbox
        in memory: nothing leaves the machine)."""
        panel = list(
            cycle.memberships.order_by("joined_at", "id").values_list("member_id", flat=True)
        )
        rows = list(
            Notification.objects.filter(cycle=cycle, recipient_id__in=panel)
            .select_related("recipient")
            .order_by("id")
        )
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            for row in rows:
                outbox.deliver(row.pk)
        emailed = Notification.objects.filter(
            pk__in=[row.pk for row in rows],
            channel=Notification.Channel.EMAIL,
            delivered_at__isnull=False,
        ).count()
        inbox: dict[int, int] = dict.fromkeys(panel, 0)
        told: dict[str, list[int]] = {}
        for row in rows:
            inbox[row.recipient_id] += 1
            told.setdefault(row.subject.removeprefix(f"{cycle.title}: "), []).append(
                row.recipient_id
            )
        self.write(
            f"\nWHAT THE PANEL RECEIVED, read back from their notifications: {len(rows)} in the "
            f"app, {emailed} of them also by e-mail ({cycle.title}):"
        )
        for subject, recipients in told.items():
            who = (
                f"all {len(panel)}"
                if len(set(recipients)) == len(panel)
                else ", ".join(self.name(pk) for pk in sorted(set(recipients), key=panel.index))
            )
            self.write(f"  {who}: {subject}")
        self.write(
            "  Each member's inbox: "
            + ", ".join(f"{self.name(pk)} {count}" for pk, count in inbox.items())
            + "."
        )

    def on_input(self, outcome: scenarios.StepOutcome) -> None:
        user_input = outcome.result
        whose = " for the panel" if user_input.source == "panel" else ""
        self.write(
            f"  INPUT from {self.name(user_input.submitted_by_id)}{whose}: {user_input.text}"
        )

    def on_respond(self, outcome: scenarios.StepOutcome) -> None:
        response = outcome.result
        self.write(
            f"  RESPONSE by {self.name(response.responded_by_id)} "
            f"({response.get_kind_display()}): {response.text}"
        )

    def on_try_advance(self, outcome: scenarios.StepOutcome) -> None:
        refusal = outcome.refused
        assert refusal is not None
        event = (
            AuditEvent.objects.filter(cycle=outcome.cycle, outcome=AuditEvent.Outcome.REFUSED)
            .order_by("-seq")
            .first()
        )
        where = f" (ledger event #{event.seq}, {event.action}, refused)" if event else ""
        self.write(
            f"  {self.name(outcome.cycle.lead_commissioner_id)} tries to leave the stage: "
            f"refused{where}:"
        )
        self.unmet_lines(refusal.result.unmet)
