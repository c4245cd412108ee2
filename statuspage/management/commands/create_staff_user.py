"""Create a staff user with a role and print their password once (or take it from a variable)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from statuspage.audit import audit_command
from statuspage.roles import ROLES, set_role


class Command(BaseCommand):
    help = (
        "Create a staff user with a role (viewer, responder or admin). The password is "
        "generated and printed once, or read from the environment variable named by "
        "--password-from-env."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-from-env",
            metavar="VAR",
            help="Take the password from this environment variable instead of generating one.",
        )

    def handle(self, *args, username: str, role: str, email: str, **options) -> None:
        User = get_user_model()
        if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
            raise CommandError(f"A user named {username!r} exists; change its role with set_role.")
        variable = options["password_from_env"]
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"The environment variable {variable} is empty or unset.")
            try:
                validate_password(password, User(username=username, email=email))
            except ValidationError as error:
                raise CommandError(f"{variable}: {' '.join(error.messages)}") from None
        else:
            password = secrets.token_urlsafe(15)
        with transaction.atomic():
            user = User.objects.create_user(username, email, password, is_staff=True)
            set_role(user, role)
            audit_command("user.create", user, after={"role": role})
        if variable:
            self.stdout.write(f"Created {role} {username!r} with the password from {variable}.")
        else:
            self.stdout.write(
                f"Created {role} {username!r} with password: {password}\n"
                "It is shown only this once."
            )
