"""Two-factor sign-in: enrolment with a QR code, signing in with a code from the app or a
recovery code, and no console for a responder or admin without one when it is required."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from statuspage.api.tokens import issue_token
from statuspage.models import AuditEntry, Incident
from statuspage.roles import RESPONDER, VIEWER, set_role

PASSWORD = "pw-123456-long"


@pytest.fixture(autouse=True)
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


def make_user(name: str, role: str):
    user = get_user_model().objects.create_user(name, password=PASSWORD)
    set_role(user, role)
    return user


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def next_time_step():
    """31 seconds on: a new code (each is accepted once), and past the wait after a wrong one."""
    return time_machine.travel(timezone.now() + timedelta(seconds=31), tick=True)


def password_login(name: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": name, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = password_login(user.username)
    client.post("/accounts/two-factor/", {"code": code_for(device)})
    codes = client.post("/console/two-factor/", {"action": "new-codes"}).context["codes"]
    return device, codes


def test_a_responder_without_a_second_factor_is_sent_to_set_one_up(db):
    make_user("rita", RESPONDER)
    client = password_login("rita")
    response = client.get("/console/incidents/")
    assert response.status_code == 302
    assert response["Location"] == "/console/two-factor/?next=%2Fconsole%2Fincidents%2F"
    assert client.get("/admin/").status_code == 302


def test_nothing_can_be_changed_before_the_second_factor(db):
    make_user("rita", RESPONDER)
    client = password_login("rita")
    response = client.post("/console/incidents/create/", {"title": "x", "body": "y"})
    assert response.status_code == 302
    assert not Incident.objects.exists()


def test_enrolment_shows_a_qr_code_and_turns_on_with_a_code(db):
    rita = make_user("rita", RESPONDER)
    client = password_login("rita")
    page = client.get("/console/two-factor/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=rita, confirmed=False)
    assert page.context["secret"].rstrip("=") in device.config_url

    wrong = client.post("/console/two-factor/", {"code": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed

    # django-otp makes a wrong code cost a wait (1 s, then 2 s…): retrying at once is refused.
    assert (
        "wait a few seconds"
        in client.post("/console/two-factor/", {"code": code_for(device)}).content.decode()
    )
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=True):
        done = client.post("/console/two-factor/", {"code": code_for(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/console/incidents/").status_code == 200
    assert AuditEntry.objects.filter(
        action="user.second_factor_on", object_id=str(rita.pk)
    ).exists()


def test_signing_in_asks_for_the_code_and_accepts_it(db):
    device, _codes = enrolled(make_user("rita", RESPONDER))
    client = password_login("rita")
    response = client.get("/console/")
    assert response["Location"] == "/accounts/two-factor/?next=%2Fconsole%2F"
    assert client.post("/accounts/two-factor/", {"code": "123456"}).status_code == 400
    assert client.get("/console/").status_code == 302
    with next_time_step():
        response = client.post(
            "/accounts/two-factor/", {"code": code_for(device), "next": "/console/"}
        )
    assert response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_a_recovery_code_works_once(db):
    rita = make_user("rita", RESPONDER)
    _device, codes = enrolled(rita)
    first = password_login("rita")
    assert first.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 302
    assert first.get("/console/").status_code == 200
    again = password_login("rita")
    assert again.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=rita).count() == 9
    used = AuditEntry.objects.filter(action="login.second_factor", object_id=str(rita.pk))
    assert [entry.after for entry in used.order_by("id")] == [
        {"with": "authenticator app"},  # enrolled() signs in with the app
        {"with": "recovery code"},
    ]


def test_a_code_never_leaves_for_another_site(db):
    device, _codes = enrolled(make_user("rita", RESPONDER))
    client = password_login("rita")
    with next_time_step():
        response = client.post(
            "/accounts/two-factor/", {"code": code_for(device), "next": "https://evil.example/"}
        )
    assert response["Location"] == "/console/"


def test_a_viewer_needs_no_second_factor(db):
    make_user("vera", VIEWER)
    assert password_login("vera").get("/console/").status_code == 200


def test_a_viewer_who_enrolled_is_asked_for_it_too(db):
    enrolled(make_user("vera", VIEWER))
    assert password_login("vera").get("/console/").status_code == 302


def test_nothing_is_required_when_the_setting_is_off(db, settings):
    settings.STAFF_2FA_REQUIRED = False
    make_user("rita", RESPONDER)
    assert password_login("rita").get("/console/incidents/").status_code == 200


def test_api_tokens_are_not_affected(db):
    rita = make_user("rita", RESPONDER)
    token = issue_token(rita)[1]
    response = Client().get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
