"""Revoke an API token, named by the prefix `create_api_token` printed."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from statuspage.api.tokens import revoke_token
from statuspage.audit import audit_command
from statuspage.models import ApiToken


class Command(BaseCommand):
    help = "Revoke the API token whose prefix is PREFIX (the first characters of the token)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options) -> None:
        live = list(
            ApiToken.objects.select_related("user").filter(
                prefix=prefix.rstrip("…"), revoked_at__isnull=True
            )
        )
        if not live:
            raise CommandError(f"No live token has the prefix {prefix!r}.")
        if len(live) > 1:
            # Eight random characters make this all but impossible; refuse rather than guess.
            names = ", ".join(f"{token.user} ({token.name or 'unnamed'})" for token in live)
            raise CommandError(f"Several live tokens have the prefix {prefix!r}: {names}.")
        token = live[0]
        with transaction.atomic():
            revoke_token(token)
            audit_command("token.revoke", token, {"revoked": False}, {"revoked": True})
        self.stdout.write(f"Revoked token {token.prefix}… of {token.user}.")
