import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from statuspage.models import ApiToken
from tests.api.conftest import ApiClient


def create(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_prints_the_token_once_and_stores_only_its_hash(staff):
    token, message = create("alice", "--name", "alerting")
    stored = ApiToken.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (stored.user, stored.name) == (staff, "alerting")
    assert token.startswith(stored.prefix)
    assert token not in message
    assert f"revoke_api_token {stored.prefix}" in message


def test_the_printed_token_opens_the_api(staff):
    token, _ = create("alice")
    assert ApiClient(token).get("/components").status_code == 200


def test_it_creates_a_different_token_each_time(staff):
    first, _ = create("alice")
    second, _ = create("alice")
    assert first != second
    assert ApiToken.objects.count() == 2


def test_it_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        create("nobody")
    assert not ApiToken.objects.exists()


def test_it_warns_when_the_user_is_not_staff(db):
    get_user_model().objects.create_user("bob", password="pw-bob-123")
    token, message = create("bob")
    assert "not an active staff user" in message
    assert ApiClient(token).get("/components").status_code == 403
