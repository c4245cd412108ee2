import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from statuspage.api.tokens import issue_token
from statuspage.roles import ROLES, set_role


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(db) -> dict:
    """One staff user per role."""
    made = {}
    for role in ROLES:
        user = get_user_model().objects.create_user(role + "-user", password="pw-123456-x")
        set_role(user, role)
        made[role] = user
    return made


@pytest.fixture
def client_as(users):
    """A logged-in console client for a role, or an anonymous one for None."""

    def make(role: str | None) -> Client:
        client = Client()
        if role is not None:
            client.force_login(users[role])
        return client

    return make


@pytest.fixture
def token_as(users):
    def make(role: str | None) -> str | None:
        return None if role is None else issue_token(users[role])[1]

    return make
