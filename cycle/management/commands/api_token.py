"""``manage.py api_token …``: create, list and revoke API tokens for a named user.

``create`` prints the token itself, once, on standard output (nothing else), so that a script can
keep it: ``TOKEN=$(python3 manage.py api_token create --as helen.okafor --name "board papers")``.
Creating and revoking go through ``roles.api_tokens``, like ``POST /api/v1/tokens/``, and each is
on the ledger. Errors are one line on standard error, ``error: CODE: message``, exit code 1.
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser

from cycle.errors import ServiceError
from cycle.management.base import CommandLine
from roles import api_tokens
from roles.models import ApiToken


class Command(CommandLine):
    help = "Create, list or revoke API tokens for a user."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        create = sub.add_parser("create", help="Create a token and print it (shown once).")
        create.add_argument("--as", dest="acting_as", required=True, metavar="USER")
        create.add_argument("--name", required=True, help="What the token is for.")
        create.add_argument("--expires-in-days", type=int, default=None, metavar="N")
        listing = sub.add_parser("list", help="The user's tokens (never the tokens themselves).")
        listing.add_argument("--as", dest="acting_as", required=True, metavar="USER")
        revoke = sub.add_parser("revoke", help="Revoke one of the user's tokens.")
        revoke.add_argument("token_id", type=int, metavar="ID")
        revoke.add_argument("--as", dest="acting_as", required=True, metavar="USER")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user = user_model._default_manager.filter(username=options["acting_as"]).first()
        if user is None:
            self._fail(f"user.not_found: There is no user {options['acting_as']!r}.")
        try:
            if options["subcommand"] == "create":
                new = api_tokens.token_create(
                    actor=user, name=options["name"], expires_in_days=options["expires_in_days"]
                )
                self.stdout.write(new.secret)
            elif options["subcommand"] == "list":
                for token in ApiToken.objects.filter(user=user).order_by("id"):
                    state = "revoked" if token.revoked_at else "active"
                    self.stdout.write(f"{token.pk}\t{token.prefix}…\t{state}\t{token.name}")
            else:
                token = api_tokens.token_revoke(actor=user, token_id=options["token_id"])
                self.stdout.write(f"token {token.pk} revoked")
        except ServiceError as error:
            self._fail(error.as_line())

    def _fail(self, line: str) -> None:
        self.stderr.write(f"error: {line}")
        sys.exit(1)
