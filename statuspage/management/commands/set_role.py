"""Change a staff user's role."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from statuspage.audit import audit_command
from statuspage.roles import ROLES, role_of, set_role


class Command(BaseCommand):
    help = "Give USERNAME the role viewer, responder or admin (their only role from then on)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=ROLES)

    def handle(self, *args, username: str, role: str, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        before = role_of(user)
        if before == role and user.is_staff:
            self.stdout.write(f"{username} is already {role}: nothing changed.")
            return
        with transaction.atomic():
            set_role(user, role)
            audit_command("user.role", user, {"role": before}, {"role": role})
        if user.is_superuser and role != "admin":
            self.stderr.write(
                self.style.WARNING(
                    f"{username} is a superuser: Django gives them every permission whatever "
                    "their role. Clear is_superuser in the admin to make the role count."
                )
            )
        self.stdout.write(f"{username}: {before or 'no role'} -> {role}.")
