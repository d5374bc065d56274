"""``manage.py cycle …``: drive commissioning cycles from the command line, acting as a named user.

Each subcommand is one small class in ``SUBCOMMANDS``: it declares its arguments and calls one
service (or ``processes.commissioning`` entry point), which checks the acting user's permissions,
evaluates the gate and writes the ledger like any other caller. The command itself never writes a
model. Reads (``show``, ``audit``) use the selectors and the ledger.

Exit codes: 0 done; 1 error (unknown cycle, user or organisation, invalid input, a conflict with the
cycle's state); 2 usage error; 3 the gate is closed (one ``CODE: message`` line per unmet condition
on standard output); 4 forbidden. Errors are one line on standard error: ``error: CODE: message``.
See ``docs/cli.md``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, ClassVar, NoReturn

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from cycle import duty, duty_services, ledger, meetings, notifications, selectors, services, tasks
from cycle.errors import Forbidden, GateClosed, ServiceError
from cycle.management.base import CommandLine
from cycle.models import (
    AuditEvent,
    CommissioningCycle,
    InputResponse,
    Organisation,
    RoleBoundaryAgreement,
    UserInput,
)
from processes import commissioning
from roles import services as role_services
from roles.models import ConflictDeclaration, PanelMembership

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_GATE_CLOSED = 3
EXIT_FORBIDDEN = 4


class CycleCommandError(CommandError):
    """A failure already written to the output; carries the exit code."""


class Failure(Exception):
    """A problem found by the command line itself (an unknown user, an ambiguous organisation)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class OneLineParser(CommandParser):
    """Reports a usage error as one line (and exit code 2) instead of the full usage text."""

    def error(self, message: str) -> NoReturn:
        line = f"usage: {message} (see '{self.prog} --help')"
        if self.called_from_command_line:
            self.exit(EXIT_USAGE, f"error: {line}\n")
        raise CommandError(line, returncode=EXIT_USAGE)


# --- helpers shared by subcommands ------------------------------------------------------------


def add_cycle_id(parser: CommandParser) -> None:
    parser.add_argument("cycle_id", type=int, metavar="ID", help="The cycle's id.")


def add_acting_user(parser: CommandParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--as",
        dest="acting_as",
        metavar="USER",
        required=required,
        help="Act as this user (a username); permissions are checked as for any caller.",
    )


def find_user(username: str) -> Any:
    user_model = get_user_model()
    try:
        return user_model._default_manager.get(**{user_model.USERNAME_FIELD: username})
    except user_model.DoesNotExist:
        raise Failure("user.not_found", f"There is no user {username!r}.") from None


def find_cycle(cycle_id: int) -> CommissioningCycle:
    try:
        return CommissioningCycle.objects.select_related("organisation").get(pk=cycle_id)
    except CommissioningCycle.DoesNotExist:
        raise Failure("cycle.not_found", f"There is no commissioning cycle {cycle_id}.") from None


class Subcommand:
    """One ``cycle`` subcommand: its arguments and what it does."""

    name: ClassVar[str]
    help: ClassVar[str]

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        raise NotImplementedError


# --- the subcommands --------------------------------------------------------------------------


class Create(Subcommand):
    name = "create"
    help = "Start a cycle at the first stage of its template; prints the new cycle's id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--title", required=True)
        parser.add_argument("--lead", required=True, metavar="USER", help="The lead commissioner.")
        parser.add_argument("--template", default="default", metavar="KEY")
        parser.add_argument(
            "--organisation",
            metavar="NAME",
            help="The commissioning organisation (default: the lead's only organisation).",
        )
        parser.add_argument("--service-area", default="", metavar="TEXT")
        add_acting_user(parser, required=False)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        lead = find_user(options["lead"])
        actor = find_user(options["acting_as"]) if options["acting_as"] else lead
        cycle = commissioning.start_cycle(
            actor=actor,
            title=options["title"],
            organisation=self._organisation(options["organisation"], lead),
            lead=lead,
            template_key=options["template"],
            service_area=options["service_area"],
        )
        command.stdout.write(str(cycle.pk))

    @staticmethod
    def _organisation(name: str | None, lead: Any) -> Organisation:
        if name is not None:
            try:
                return Organisation.objects.get(name=name)
            except Organisation.DoesNotExist:
                raise Failure(
                    "organisation.not_found", f"There is no organisation {name!r}."
                ) from None
        names = list(lead.organisations.order_by("name").values_list("name", flat=True)[:6])
        if not names:
            raise Failure(
                "organisation.none",
                f"{lead.get_username()} works for no organisation; name one with --organisation.",
            )
        if len(names) > 1:
            raise Failure(
                "organisation.ambiguous",
                f"{lead.get_username()} works for several organisations ({', '.join(names)}); "
                "choose one with --organisation.",
            )
        return Organisation.objects.get(name=names[0])


class Panel(Subcommand):
    name = "panel"
    help = "Add a user representative to the panel, or remove one."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        change = parser.add_mutually_exclusive_group(required=True)
        change.add_argument("--add", metavar="USER")
        change.add_argument("--remove", metavar="USER")
        parser.add_argument("--represents", default="", metavar="TEXT")
        parser.add_argument(
            "--tier",
            choices=PanelMembership.Tier.values,
            default=PanelMembership.Tier.REFERENCE_GROUP,
        )
        parser.add_argument("--tender-panel", action="store_true", help="Sits on the tender panel.")
        parser.add_argument("--reason", default="", help="Why the member leaves (with --remove).")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        actor = find_user(options["acting_as"])
        if options["add"] is not None:
            member = find_user(options["add"])
            role_services.membership_add(
                actor=actor,
                cycle_id=options["cycle_id"],
                member=member,
                represents=options["represents"],
                tier=options["tier"],
                tender_panel=options["tender_panel"],
            )
            command.stdout.write(f"{member.get_username()} joined the panel.")
        else:
            member = find_user(options["remove"])
            role_services.membership_remove(
                actor=actor, cycle_id=options["cycle_id"], member=member, reason=options["reason"]
            )
            command.stdout.write(f"{member.get_username()} left the panel.")


class Boundaries(Subcommand):
    name = "boundaries"
    help = "Record a new version of the current stage's role boundaries."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--purpose", required=True, help="The purpose of involvement.")
        parser.add_argument("--user-role", required=True, help="The users' role.")
        parser.add_argument(
            "--influence", required=True, choices=RoleBoundaryAgreement.Influence.values
        )
        parser.add_argument("--decision-maker", required=True, help="Who actually decides.")
        parser.add_argument("--authority", default="", help="The commissioner's real authority.")
        parser.add_argument("--fixed", default="", help="What is fixed.")
        parser.add_argument("--open", default="", help="What can still change.")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        agreement = services.boundaries_agree(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            purpose=options["purpose"],
            user_role=options["user_role"],
            influence=options["influence"],
            decision_maker=options["decision_maker"],
            commissioner_authority=options["authority"],
            fixed_matters=options["fixed"],
            open_matters=options["open"],
        )
        command.stdout.write(
            f"Role boundaries for stage {agreement.stage_key} recorded as version "
            f"{agreement.version}."
        )


class Acknowledge(Subcommand):
    name = "acknowledge"
    help = "Acknowledge the current version of the current stage's role boundaries."

    def run(self, command: Command, options: dict[str, Any]) -> None:
        acknowledgement = services.boundaries_acknowledge(
            actor=find_user(options["acting_as"]), cycle_id=options["cycle_id"]
        )
        agreement = acknowledgement.agreement
        command.stdout.write(
            f"Acknowledged version {agreement.version} of the role boundaries for stage "
            f"{agreement.stage_key}."
        )


class Budget(Subcommand):
    name = "budget"
    help = "Disclose the budget (or the reason it is withheld) as a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        figure = parser.add_mutually_exclusive_group(required=True)
        figure.add_argument("--amount", metavar="N")
        figure.add_argument("--withheld-reason", metavar="TEXT")
        parser.add_argument("--currency", default="GBP")
        parser.add_argument("--constraints", default="", metavar="TEXT")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        disclosure = services.budget_disclose(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            amount=options["amount"],
            currency=options["currency"],
            constraints=options["constraints"],
            withheld_reason=options["withheld_reason"] or "",
        )
        command.stdout.write(f"Budget disclosed as version {disclosure.version}: {disclosure}.")


class Duty(Subcommand):
    name = "duty"
    help = (
        "Assess whether the duty to involve applies to the proposal (a new version), or record "
        "that the proposal changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--proposal", metavar="TEXT", help="The proposal assessed.")
        parser.add_argument("--body", choices=[b.value for b in duty.BodyType])
        parser.add_argument("--activity", choices=[a.value for a in duty.Activity])
        parser.add_argument(
            "--wording", choices=[w.value for w in duty.Wording], default=duty.Wording.CURRENT
        )
        parser.add_argument("--not-responsible", action="store_true")
        for answer in _DUTY_FLAGS:
            parser.add_argument(f"--{answer.replace('_', '-')}", action="store_true")
        parser.add_argument(
            "--changed", metavar="TEXT", help="Record that the proposal changed, and how."
        )
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        actor = find_user(options["acting_as"])
        if options["changed"]:
            change = duty_services.proposal_change_record(
                actor=actor, cycle_id=options["cycle_id"], summary=options["changed"]
            )
            command.stdout.write(f"Proposal change {change.version} recorded.")
            return
        missing = [name for name in ("proposal", "body", "activity") if not options[name]]
        if missing:
            raise Failure(
                "invalid.usage", "Give " + ", ".join(f"--{name}" for name in missing) + "."
            )
        assessment = duty_services.duty_assess(
            actor=actor,
            cycle_id=options["cycle_id"],
            proposal=options["proposal"],
            body_type=options["body"],
            activity=options["activity"],
            wording=options["wording"],
            responsible=not options["not_responsible"],
            **{answer: options[answer] for answer in _DUTY_FLAGS},
        )
        limb = f", limb ({assessment.limb})" if assessment.limb else ""
        scrutiny = "; consult the overview and scrutiny committee" if assessment.scrutiny else ""
        command.stdout.write(
            f"Duty assessment version {assessment.version}: {assessment.outcome}{limb}{scrutiny}."
        )


_DUTY_FLAGS = (
    "affects_other_services",
    "affects_delivery",
    "affects_range",
    "already_involved",
    "substantial",
    "urgent_safety_risk",
)


class SignOffCommand(Subcommand):
    name = "signoff"
    help = "Attest that involvement happened as agreed, or record dissent with reasons."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument(
            "--dissent", metavar="REASONS", help="Record dissent instead, with the reasons."
        )
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        signoff = commissioning.signoff(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            dissent=options["dissent"],
        )
        if options["dissent"] is not None:
            command.stdout.write(f"Dissent recorded on stage {signoff.visit.stage_key}.")
        else:
            command.stdout.write(f"Attestation recorded on stage {signoff.visit.stage_key}.")


class Withdraw(Subcommand):
    name = "withdraw"
    help = "Withdraw your own open dissent on the current stage."

    def run(self, command: Command, options: dict[str, Any]) -> None:
        signoff = services.dissent_withdraw(
            actor=find_user(options["acting_as"]), cycle_id=options["cycle_id"]
        )
        command.stdout.write(f"Dissent on stage {signoff.visit.stage_key} withdrawn.")


class Advance(Subcommand):
    name = "advance"
    help = "Leave the current stage through its gate; prints the new stage (exit 3 if closed)."

    def run(self, command: Command, options: dict[str, Any]) -> None:
        visit = commissioning.advance(
            actor=find_user(options["acting_as"]), cycle_id=options["cycle_id"]
        )
        command.stdout.write(visit.stage_key if visit is not None else "completed")


class Reopen(Subcommand):
    name = "reopen"
    help = "Go back to an earlier stage, with a reason; its gate must be met again."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--stage", required=True, metavar="KEY")
        parser.add_argument("--reason", required=True, metavar="TEXT")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        visit = commissioning.reopen(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            stage_key=options["stage"],
            reason=options["reason"],
        )
        command.stdout.write(visit.stage_key)


class Override(Subcommand):
    name = "override"
    help = "Depart from the current gate with written reasons (governance board members)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--reason", required=True, metavar="TEXT")
        parser.add_argument(
            "--code",
            dest="codes",
            action="append",
            metavar="CODE",
            help="A condition to depart from (repeat for more; default: every unmet one). "
            "Only quorum, dissent, acknowledgement and agreement conditions can be waived.",
        )
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        override = services.gate_override(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            reason=options["reason"],
            codes=options["codes"],
        )
        command.stdout.write(
            f"Gate of stage {override.visit.stage_key} overridden; departs from: "
            f"{override.unmet_codes.replace(',', ', ')}."
        )


class Input(Subcommand):
    name = "input"
    help = "Record input from the panel on the current stage (panel members); prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--text", required=True, metavar="TEXT", help="What was said.")
        parser.add_argument(
            "--source",
            default=UserInput.Source.REPRESENTATIVE,
            choices=UserInput.Source.values,
            help="Whose input it is (default: the representative's own).",
        )
        parser.add_argument(
            "--method",
            default=UserInput.Method.MEETING,
            choices=UserInput.Method.values,
            help="How it was given (default: at a meeting).",
        )
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        user_input = services.input_submit(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            text=options["text"],
            source=options["source"],
            method=options["method"],
        )
        command.stdout.write(str(user_input.pk))


RESPONSE_KINDS = {
    "did": InputResponse.Kind.WE_DID,
    "could-not": InputResponse.Kind.WE_COULD_NOT,
    "considering": InputResponse.Kind.CONSIDERING,
}


class Respond(Subcommand):
    name = "respond"
    help = (
        "Answer input: 'we did', 'we couldn't, because …' or 'still considering' "
        "(the lead commissioner)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input_id", type=int, metavar="INPUT_ID", help="The input's id.")
        parser.add_argument("--kind", required=True, choices=tuple(RESPONSE_KINDS))
        parser.add_argument(
            "--text", default="", metavar="TEXT", help="What was done, or why it could not be."
        )
        parser.add_argument(
            "--decision", type=int, metavar="ID", help="The decision the answer points to."
        )
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        cycle_id = (
            UserInput.objects.filter(pk=options["input_id"])
            .values_list("cycle_id", flat=True)
            .first()
        )
        if cycle_id is None:
            raise Failure("input.not_found", f"There is no input {options['input_id']}.")
        response = services.input_respond(
            actor=find_user(options["acting_as"]),
            cycle_id=cycle_id,
            input_id=options["input_id"],
            kind=RESPONSE_KINDS[options["kind"]],
            text=options["text"],
            decision_id=options["decision"],
        )
        command.stdout.write(
            f"Input {options['input_id']} answered: {response.get_kind_display()}."
        )


class Decide(Subcommand):
    name = "decide"
    help = "Record a decision on the current stage (decision-makers)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--summary", required=True, metavar="TEXT")
        parser.add_argument("--forum", default="", metavar="TEXT")
        parser.add_argument(
            "--veto-reason", metavar="TEXT", help="The veto was used, for these reasons."
        )
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        decision = services.decision_record(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            summary=options["summary"],
            forum=options["forum"],
            veto_used=options["veto_reason"] is not None,
            veto_reason=options["veto_reason"] or "",
        )
        command.stdout.write(f"Decision {decision.pk} recorded on stage {decision.stage_key}.")


class Lead(Subcommand):
    name = "lead"
    help = "Name the cycle's involvement lead."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--user", required=True, metavar="USER")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        lead = find_user(options["user"])
        services.involvement_lead_name(
            actor=find_user(options["acting_as"]), cycle_id=options["cycle_id"], lead=lead
        )
        command.stdout.write(f"Involvement lead: {lead.get_username()}.")


class Agreement(Subcommand):
    name = "agreement"
    help = "Record a new version of the panel's working agreement."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--task", required=True, metavar="TEXT")
        parser.add_argument("--responsibilities", required=True, metavar="TEXT")
        parser.add_argument("--support", required=True, metavar="TEXT")
        parser.add_argument("--expenses", default="", metavar="TEXT")
        parser.add_argument("--ground-rules", default="", metavar="TEXT")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        agreement = role_services.agreement_record(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            task=options["task"],
            responsibilities=options["responsibilities"],
            support=options["support"],
            expenses=options["expenses"],
            ground_rules=options["ground_rules"],
        )
        command.stdout.write(f"Working agreement recorded as version {agreement.version}.")


class SignAgreement(Subcommand):
    name = "sign-agreement"
    help = "Sign the current working agreement (panel members)."

    def run(self, command: Command, options: dict[str, Any]) -> None:
        signature = role_services.agreement_sign(
            actor=find_user(options["acting_as"]), cycle_id=options["cycle_id"]
        )
        command.stdout.write(f"Signed version {signature.agreement.version} of the agreement.")


class Declare(Subcommand):
    name = "declare"
    help = "Declare your interests ('none' is a declaration)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument(
            "--interest", required=True, choices=ConflictDeclaration.Interest.values
        )
        parser.add_argument("--details", default="", metavar="TEXT")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        declaration = role_services.conflict_declare(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            interest=options["interest"],
            details=options["details"],
        )
        command.stdout.write(f"Declared: {declaration.get_interest_display()}.")


class Leave(Subcommand):
    name = "leave"
    help = "Step down from the panel, or (with --member) take someone else off it."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument(
            "--member", metavar="USER", help="The member to take off (default: yourself)."
        )
        parser.add_argument("--reason", default="", metavar="TEXT", help="Why they leave.")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        actor = find_user(options["acting_as"])
        member = find_user(options["member"]) if options["member"] else actor
        if member.pk == actor.pk:
            role_services.membership_leave(
                actor=actor, cycle_id=options["cycle_id"], reason=options["reason"]
            )
        else:
            role_services.membership_remove(
                actor=actor, cycle_id=options["cycle_id"], member=member, reason=options["reason"]
            )
        command.stdout.write(f"{member.get_username()} left the panel.")


class TenderPanel(Subcommand):
    name = "tender-panel"
    help = "Put a panel member on the tender panel, or take them off it."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--member", required=True, metavar="USER")
        seat = parser.add_mutually_exclusive_group(required=True)
        seat.add_argument("--on", dest="tender_panel", action="store_true")
        seat.add_argument("--off", dest="tender_panel", action="store_false")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        member = find_user(options["member"])
        role_services.membership_set_tender_panel(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            member=member,
            tender_panel=options["tender_panel"],
        )
        where = "on" if options["tender_panel"] else "off"
        command.stdout.write(f"{member.get_username()} is {where} the tender panel.")


class Meeting(Subcommand):
    name = "meeting"
    help = "Schedule a decision meeting in the current stage: its date, forum and decision-maker."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--date", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--forum", required=True, metavar="TEXT")
        parser.add_argument("--decision-maker", required=True, metavar="USER")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        meeting = meetings.meeting_schedule(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            held_on=options["date"],
            forum=options["forum"],
            decision_maker=find_user(options["decision_maker"]),
        )
        command.stdout.write(f"Decision meeting {meeting.pk}: {meeting.forum}, {meeting.held_on}.")


class Papers(Subcommand):
    name = "papers"
    help = "Record the day a decision meeting's papers went to the panel (today by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--meeting", required=True, type=int, metavar="MEETING_ID")
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="The day they were sent.")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        meeting = meetings.meeting_papers_issue(
            actor=find_user(options["acting_as"]),
            cycle_id=options["cycle_id"],
            meeting_id=options["meeting"],
            issued_on=options["date"],
        )
        notice = (
            (meeting.held_on - meeting.papers_issued_on).days if meeting.papers_issued_on else 0
        )
        command.stdout.write(
            f"Papers for meeting {meeting.pk} sent on {meeting.papers_issued_on}: "
            f"{notice} days before the meeting."
        )


class Inbox(Subcommand):
    name = "notifications"
    help = "List your notifications, newest first; --read marks them all read."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--read", action="store_true", help="Mark them all read.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        add_acting_user(parser)

    def run(self, command: Command, options: dict[str, Any]) -> None:
        user = find_user(options["acting_as"])
        rows = list(notifications.inbox(user))
        if options["read"]:
            notifications.notifications_mark_read(actor=user)
        if options["json"]:
            listing = [
                {
                    "id": row.pk,
                    "kind": row.kind,
                    "cycle": row.cycle_id,
                    "created": row.created_at.isoformat(),
                    "unread": row.read_at is None,
                    "subject": row.subject,
                    "body": row.body,
                }
                for row in rows
            ]
            command.stdout.write(json.dumps(listing, indent=2, ensure_ascii=False))
            return
        for row in rows:
            mark = "*" if row.read_at is None else " "
            command.stdout.write(f"{mark} {row.created_at:%Y-%m-%d %H:%M} {row.subject}")


class Sweep(Subcommand):
    name = "sweep"
    help = (
        "Run the scheduled jobs now: viewflow's timers, overdue input, reminders and "
        "escalations, then deliver whatever waits in the outbox (what celery beat does in "
        "production)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        pass

    def run(self, command: Command, options: dict[str, Any]) -> None:
        done = tasks.sweep()
        command.stdout.write(
            f"Input flagged overdue: {done['inputs_flagged']}. "
            f"Reminders and escalations: {done['reminders']} in {done['cycles']} cycles. "
            f"Notifications delivered: {done['delivered']}; "
            f"waiting to retry: {done['retrying']}; given up: {done['gave_up']}. "
            f"Workflow timers: {done['workflow_timers']}."
        )


class Show(Subcommand):
    name = "show"
    help = "Show a cycle, its gate and its stages."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def run(self, command: Command, options: dict[str, Any]) -> None:
        summary = selectors.cycle_summary(find_cycle(options["cycle_id"]))
        if options["json"]:
            command.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
            return
        for line in self.lines(summary):
            command.stdout.write(line)

    @staticmethod
    def lines(summary: dict[str, Any]) -> list[str]:
        gate = summary["gate"]
        budget = summary["budget"]
        if budget is None:
            budget_line = "not disclosed"
        elif budget["amount"] is None:
            budget_line = f"version {budget['version']}, withheld: {budget['withheld_reason']}"
        else:
            budget_line = f"version {budget['version']}, {budget['currency']} {budget['amount']}"
        if gate["open"]:
            gate_line = "open"
        elif gate["overridden"]:
            gate_line = "closed, but overridden by a governance board member"
        else:
            gate_line = "closed"
        lines = [
            f"Cycle {summary['id']}: {summary['title']}",
            f"Organisation: {summary['organisation']}",
            f"Template: {summary['template']}",
            f"Stage: {summary['stage']} ({summary['stage_name']})",
            f"Status: {summary['status']}",
            f"Budget: {budget_line}",
            f"Gate: {gate_line} ({gate['attesting']} attesting, {gate['quorum']} needed)",
        ]
        lines += [f"  {item['code']}: {item['message']}" for item in gate["unmet"]]
        lines.append("Stages:")
        for stage in summary["stages"]:
            marker = "*" if stage["key"] == summary["stage"] else " "
            history = (
                ", ".join(visit["closure"] or "open" for visit in stage["visits"]) or "not reached"
            )
            lines.append(f" {marker}{stage['position']:>2}. {stage['key']}: {history}")
        return lines


class Audit(Subcommand):
    name = "audit"
    help = "List the cycle's ledger events, oldest first, or verify their chain."

    def add_arguments(self, parser: CommandParser) -> None:
        add_cycle_id(parser)
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Verify the cycle's chain of events; name the first that does not verify.",
        )

    def run(self, command: Command, options: dict[str, Any]) -> None:
        cycle = find_cycle(options["cycle_id"])
        if options["verify"]:
            self.verify(command, cycle, as_json=options["json"])
            return
        events = [
            self.event(item) for item in AuditEvent.objects.filter(cycle=cycle).order_by("seq")
        ]
        if options["json"]:
            command.stdout.write(json.dumps(events, indent=2, ensure_ascii=False))
            return
        for event in events:
            command.stdout.write(
                f"#{event['seq']} {event['time']} {event['actor'] or '-'} {event['action']} "
                f"{event['outcome']} {event['stage'] or '-'} "
                f"{ledger.canonical_json(event['payload'])}"
            )

    @staticmethod
    def verify(command: Command, cycle: CommissioningCycle, *, as_json: bool) -> None:
        result = ledger.verify_cycle(cycle)
        if not result.ok:
            raise Failure("ledger.not_verified", result.describe())
        head = None if result.last_seq is None else f"{result.last_seq}:{result.last_hash}"
        if as_json:
            command.stdout.write(
                json.dumps({"verified": True, "events": result.checked, "head": head})
            )
        else:
            command.stdout.write(f"cycle {cycle.pk}: ledger verified: {result.checked} events")
            if head is not None:
                command.stdout.write(f"head: {head}")

    @staticmethod
    def event(event: AuditEvent) -> dict[str, Any]:
        return {
            "seq": event.seq,
            "time": event.at.isoformat(),
            "actor": event.actor_name or None,
            "action": event.action,
            "outcome": event.outcome,
            "stage": event.stage_key or None,
            "payload": json.loads(event.payload),
        }


SUBCOMMANDS: Sequence[Subcommand] = (
    Create(),
    Panel(),
    Boundaries(),
    Acknowledge(),
    Budget(),
    SignOffCommand(),
    Withdraw(),
    Advance(),
    Reopen(),
    Override(),
    Decide(),
    Input(),
    Respond(),
    Lead(),
    Duty(),
    Agreement(),
    SignAgreement(),
    Declare(),
    Leave(),
    TenderPanel(),
    Meeting(),
    Papers(),
    Inbox(),
    Sweep(),
    Show(),
    Audit(),
)


class Command(CommandLine):
    help = "Drive commissioning cycles from the command line, acting as a named user."
    requires_system_checks = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineParser  # only ``error`` differs; no extra state
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        choices = parser.add_subparsers(
            dest="subcommand",
            metavar="SUBCOMMAND",
            required=True,
            parser_class=OneLineParser,
        )
        for subcommand in SUBCOMMANDS:
            subcommand.add_arguments(
                choices.add_parser(
                    subcommand.name, help=subcommand.help, description=subcommand.help
                )
            )

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except CycleCommandError as failure:
            if getattr(self, "_called_from_command_line", False):
                sys.exit(failure.returncode)
            raise

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = next(item for item in SUBCOMMANDS if item.name == options["subcommand"])
        try:
            subcommand.run(self, options)
        except GateClosed as closed:
            for item in closed.result.unmet:
                self.stdout.write(item.as_line())
            raise CycleCommandError(closed.as_line(), returncode=EXIT_GATE_CLOSED) from None
        except Forbidden as refusal:
            self._fail(refusal.code, refusal.message, EXIT_FORBIDDEN)
        except ServiceError as error:
            self._fail(error.code, error.message, EXIT_ERROR)
        except Failure as failure:
            self._fail(failure.code, failure.message, EXIT_ERROR)

    def _fail(self, code: str, message: str, returncode: int) -> NoReturn:
        line = f"{code}: {message}"
        self.stderr.write(f"error: {line}")
        raise CycleCommandError(line, returncode=returncode)
