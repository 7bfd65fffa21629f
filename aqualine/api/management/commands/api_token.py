"""Issue, revoke or list staff members' API tokens.

aqualine api_token 1001            # a new token for 工号 1001 (replaces the old one), printed once
aqualine api_token 1001 --revoke   # the token stops working at once
aqualine api_token --list          # who has a token, since when, last used when
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.api import selectors, services


class Command(BaseCommand):
    help = "Issue (or replace) a staff member's API token and print it; --revoke; --list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("agent_id", nargs="?", help="the staff member's 工号 (agent ID)")
        parser.add_argument("--revoke", action="store_true", help="delete the token")
        parser.add_argument("--list", action="store_true", help="list the tokens that exist")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self._list()
            return
        if not options["agent_id"]:
            raise CommandError("name a staff member's agent ID (工号), or use --list")
        try:
            user = User.objects.get_by_natural_key(options["agent_id"])
        except User.DoesNotExist:
            raise CommandError(f"no staff member has agent ID {options['agent_id']!r}") from None
        if options["revoke"]:
            if services.api_token_revoke(user=user):
                self.stdout.write(f"API token of {user} revoked.")
            else:
                self.stdout.write(f"{user} has no API token.")
            return
        if not user.is_active:
            raise CommandError(f"{user} is deactivated; reactivate them first")
        key = services.api_token_issue(user=user)
        self.stderr.write(
            f"API token of {user} (any earlier one no longer works; it is shown only now):"
        )
        self.stdout.write(key)

    def _list(self) -> None:
        for token in selectors.api_token_list():
            used = token.last_used_at
            last = f"{timezone.localtime(used):%Y-%m-%d %H:%M}" if used else "never"
            created = f"{timezone.localtime(token.created_at):%Y-%m-%d %H:%M}"
            self.stdout.write(
                f"{token.user.agent_id:<20} {token.prefix}…  created {created}  last used {last}"
            )
