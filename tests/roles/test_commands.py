import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from statuspage.models import AuditEntry
from statuspage.roles import ADMIN, RESPONDER, VIEWER, role_of


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_staff_user_prints_a_generated_password_that_works(db, client):
    output = run("create_staff_user", "carol", "--role", VIEWER)
    password = output.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="carol")
    assert user.is_staff and not user.is_superuser
    assert role_of(user) == VIEWER
    assert user.check_password(password)
    assert AuditEntry.objects.get(action="user.create").after == {"role": VIEWER}


def test_create_staff_user_takes_the_password_from_the_named_variable(db, monkeypatch):
    monkeypatch.setenv("CAROL_PASSWORD", "a long and secret phrase")
    output = run(
        "create_staff_user", "carol", "--role", ADMIN, "--password-from-env", "CAROL_PASSWORD"
    )
    assert "a long and secret phrase" not in output
    assert get_user_model().objects.get(username="carol").check_password("a long and secret phrase")


def test_create_staff_user_refuses_an_empty_variable_and_creates_no_one(db, monkeypatch):
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(CommandError, match="NOPE"):
        run("create_staff_user", "carol", "--role", ADMIN, "--password-from-env", "NOPE")
    assert not get_user_model().objects.filter(username="carol").exists()


def test_create_staff_user_refuses_a_weak_password(db, monkeypatch):
    monkeypatch.setenv("WEAK", "123")
    with pytest.raises(CommandError, match="WEAK"):
        run("create_staff_user", "carol", "--role", ADMIN, "--password-from-env", "WEAK")


def test_create_staff_user_refuses_an_unknown_role(db):
    with pytest.raises(CommandError):
        run("create_staff_user", "carol", "--role", "boss")


def test_create_staff_user_refuses_an_existing_name(db):
    run("create_staff_user", "carol", "--role", VIEWER)
    with pytest.raises(CommandError, match="set_role"):
        run("create_staff_user", "carol", "--role", ADMIN)


def test_set_role_replaces_the_role_and_is_audited(db):
    run("create_staff_user", "carol", "--role", VIEWER)
    assert run("set_role", "carol", RESPONDER).strip() == "carol: viewer -> responder."
    user = get_user_model().objects.get(username="carol")
    assert role_of(user) == RESPONDER
    assert list(user.groups.values_list("name", flat=True)) == [RESPONDER]
    entry = AuditEntry.objects.get(action="user.role")
    assert (entry.before, entry.after) == ({"role": VIEWER}, {"role": RESPONDER})


def test_set_role_gives_a_plain_user_staff_status(db):
    user = get_user_model().objects.create_user("dave")
    run("set_role", "dave", VIEWER)
    user.refresh_from_db()
    assert user.is_staff


def test_set_role_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("set_role", "ghost", ADMIN)


def test_the_demo_user_is_an_admin(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    run("ensure_demo_user")
    assert role_of(get_user_model().objects.get(username="demo")) == ADMIN
