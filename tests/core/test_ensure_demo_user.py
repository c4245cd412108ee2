from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("ensure_demo_user", stdout=out)
    return out.getvalue()


def test_it_creates_a_staff_user_with_the_given_password(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo-pass")
    assert "demo" in run()
    user = get_user_model().objects.get(username="demo")
    assert user.is_staff and user.check_password("s3cret-demo-pass")


def test_it_prints_a_random_password_once_and_keeps_it(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    first = run()
    password = first.rsplit(": ", 1)[1].strip()
    assert get_user_model().objects.get(username="demo").check_password(password)
    second = run()
    assert password not in second
    assert get_user_model().objects.get(username="demo").check_password(password)
