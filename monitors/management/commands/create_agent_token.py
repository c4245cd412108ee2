"""Create the token of a remote agent for one vantage point and print it, once."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from monitors.agent_tokens import issue_agent_token
from monitors.models import VANTAGE_POINT, Probe
from statuspage.audit import audit_command


class Command(BaseCommand):
    help = (
        "Create a token for the agent at VANTAGE_POINT and print it once on standard output "
        "(e.g. STATUSPAGE_AGENT_TOKEN=$(manage.py create_agent_token edge)); only its SHA-256 "
        "is stored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("vantage_point")

    def handle(self, *args, vantage_point: str, **options) -> None:
        if not VANTAGE_POINT.match(vantage_point):
            raise CommandError(
                f"{vantage_point!r} is not a vantage point name: lower-case letters, digits, "
                "'-' and '_', starting with a letter or digit, at most 50 characters."
            )
        with transaction.atomic():
            token, raw = issue_agent_token(vantage_point)
            audit_command("agenttoken.create", token, after={"vantage_point": vantage_point})
        # The token alone goes to stdout so that scripts can capture it; the rest is for humans.
        self.stdout.write(raw)
        self.stderr.write(
            f"Created agent token {token.prefix}… for vantage point {vantage_point}. It is "
            f"shown only this once; revoke it with: manage.py revoke_agent_token {token.prefix}"
        )
        assigned = Probe.objects.values_list("vantage_points", flat=True)
        if not any(vantage_point in (points or []) for points in assigned):
            self.stderr.write(
                self.style.WARNING(
                    f"No probe lists the vantage point {vantage_point} yet: the agent will have "
                    "nothing to run until one does."
                )
            )
