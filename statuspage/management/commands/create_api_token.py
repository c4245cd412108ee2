"""Create a bearer token for /api/v1/ and print it, once: only its hash is kept."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from statuspage.api.tokens import issue_token
from statuspage.audit import audit_command


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print it once on standard output "
        "(e.g. TOKEN=$(manage.py create_api_token alice)); only its SHA-256 is stored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'alerting'.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if len(name) > 100:
            raise CommandError("--name is at most 100 characters.")
        with transaction.atomic():
            token, raw = issue_token(user, name=name)
            audit_command("token.create", token, after={"user": username, "name": name})
        # The token alone goes to stdout so that scripts can capture it; the rest is for humans.
        self.stdout.write(raw)
        self.stderr.write(
            f"Created token {token.prefix}… for {username}. It is shown only this once; "
            f"revoke it with: manage.py revoke_api_token {token.prefix}"
        )
        if not user.is_active or not user.is_staff:
            self.stderr.write(
                self.style.WARNING(
                    f"{username} is not an active staff user: the API refuses this token until "
                    "they are."
                )
            )
