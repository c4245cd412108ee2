import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from statuspage.roles import ADMIN, set_role


class Command(BaseCommand):
    help = (
        "Create the demo staff user (DEMO_USERNAME, default 'demo'), an admin, unless it "
        "exists. Its password is DEMO_PASSWORD, or a random one printed once."
    )

    def handle(self, *args, **options):
        username = os.environ.get("DEMO_USERNAME", "demo")
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Staff user {username!r} exists (its password was printed once).")
            return
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
        user = users.create_superuser(username, f"{username}@localhost", password)
        set_role(user, ADMIN)
        self.stdout.write(f"Created staff user {username!r} with password: {password}")
