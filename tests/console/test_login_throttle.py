"""Failed log-ins are limited per user name and per client address, on the console and the
admin log-in pages; the failures and the lock are audited (issue 10: 200 wrong passwords at
5 per second went through, then the right one worked)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from statuspage.models import AuditEntry

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
LOCKED = "Too many failed log-in attempts"

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")


def log_in(path: str, username: str, password: str, address: str = "198.51.100.7"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(path, {"username": username, "password": password})
    return response, client


@pytest.mark.parametrize(
    "path, username, password",
    [
        ("/accounts/login/", "alice", "pw-alice-123"),
        ("/admin/login/", "root", "pw-root-123"),
    ],
)
def test_the_right_password_is_refused_after_too_many_wrong_ones(
    clock, limits, staff, admin_user, path, username, password
):
    for attempt in range(5):
        response, _ = log_in(path, username, f"wrong-{attempt}")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    response, client = log_in(path, username, password)
    assert response.status_code == 200
    assert "Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # From another address too: the user name is locked, not only the address.
    response, _ = log_in(path, username, password, address="203.0.113.9")
    assert LOCKED in response.content.decode()
    # Once the oldest failure has left the window, the right password works again.
    clock.shift(901)
    response, client = log_in(path, username, password)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_the_wait_shown_shrinks_as_the_window_moves(clock, limits, staff):
    for _ in range(5):
        log_in("/accounts/login/", "alice", "wrong")
    clock.shift(600)
    response, _ = log_in("/accounts/login/", "alice", "pw-alice-123")
    assert "Try again in 5 minutes." in response.content.decode()


def test_one_address_trying_many_user_names_is_locked(clock, limits, staff):
    for index in range(20):
        log_in("/accounts/login/", f"user{index}", "wrong", address="198.51.100.7")
    response, client = log_in("/accounts/login/", "alice", "pw-alice-123", address="198.51.100.7")
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The user herself, elsewhere, is not locked out by it.
    response, _ = log_in("/accounts/login/", "alice", "pw-alice-123", address="203.0.113.9")
    assert response.status_code == 302


def test_a_successful_log_in_starts_the_user_name_s_count_again(clock, limits, staff):
    for _ in range(4):
        log_in("/accounts/login/", "alice", "wrong")
    clock.shift(1)
    assert log_in("/accounts/login/", "alice", "pw-alice-123")[0].status_code == 302
    clock.shift(1)
    log_in("/accounts/login/", "alice", "wrong")
    clock.shift(1)
    assert log_in("/accounts/login/", "alice", "pw-alice-123")[0].status_code == 302


def test_failures_and_the_lock_are_audited(clock, limits, staff):
    for _ in range(6):
        log_in("/accounts/login/", "Alice", "wrong", address="198.51.100.7")
    failed = AuditEntry.objects.filter(action="login.failed")
    assert failed.count() == 5  # the sixth was refused without checking a password
    assert set(failed.values_list("object_repr", "object_id", "via")) == {
        ("alice", "198.51.100.7", "console")
    }
    locked = AuditEntry.objects.get(action="login.locked")
    assert (locked.object_repr, locked.object_id) == ("alice", "198.51.100.7")


def test_the_admin_s_failures_are_audited_as_admin(clock, limits, admin_user):
    log_in("/admin/login/", "root", "wrong")
    assert AuditEntry.objects.get(action="login.failed").via == "admin"


def test_the_count_is_shared_by_every_process(clock, limits, staff):
    """Counted in the database, not in a per-process cache: emptying this process's cache
    (another process would have its own) changes nothing."""
    for _ in range(5):
        log_in("/accounts/login/", "alice", "wrong")
        cache.clear()
    response, _ = log_in("/accounts/login/", "alice", "pw-alice-123")
    assert LOCKED in response.content.decode()
