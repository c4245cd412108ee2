"""Revoke an agent's token, named by the prefix `create_agent_token` printed."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from monitors.agent_tokens import revoke_agent_token
from monitors.models import AgentToken
from statuspage.audit import audit_command


class Command(BaseCommand):
    help = "Revoke the agent token whose prefix is PREFIX (the first characters of the token)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options) -> None:
        live = list(AgentToken.objects.filter(prefix=prefix.rstrip("…"), revoked_at__isnull=True))
        if not live:
            raise CommandError(f"No live agent token has the prefix {prefix!r}.")
        if len(live) > 1:
            # Eight random characters make this all but impossible; refuse rather than guess.
            points = ", ".join(token.vantage_point for token in live)
            raise CommandError(f"Several live agent tokens have the prefix {prefix!r}: {points}.")
        token = live[0]
        with transaction.atomic():
            revoke_agent_token(token)
            audit_command("agenttoken.revoke", token, {"revoked": False}, {"revoked": True})
        self.stdout.write(
            f"Revoked agent token {token.prefix}… of vantage point {token.vantage_point}."
        )
