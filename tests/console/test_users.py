"""The console's users page (admins only): staff with their role, second factor and last
sign-in; changing a role, removing a lost second factor and adding a user, each audited."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from statuspage.models import AuditEntry
from statuspage.roles import ADMIN, RESPONDER, VIEWER, role_of, set_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(db):
    user = get_user_model().objects.create_user("carol", "carol@example.com", "pw-carol-123")
    set_role(user, VIEWER)
    return user


def enrol(user, codes: int = 2) -> None:
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    device = StaticDevice.objects.create(user=user, name="Recovery codes")
    for index in range(codes):
        StaticToken.objects.create(device=device, token=f"code{index:04d}")


def row_of(response, username: str):
    return next(user for user in response.context["users"] if user.get_username() == username)


def verified(client, user) -> None:
    """The session of a user who has given their second factor (as django_otp keeps it)."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


def test_it_lists_staff_with_role_second_factor_and_last_sign_in(
    staff_client, staff, carol, settings
):
    settings.STAFF_2FA_REQUIRED = True
    verified(staff_client, staff)
    enrol(carol, codes=3)
    carol.last_login = datetime(2026, 11, 20, 4, 5, tzinfo=UTC)
    carol.save()
    dave = get_user_model().objects.create_user("dave")
    set_role(dave, RESPONDER)
    get_user_model().objects.create_user("borrower")  # not staff: not listed

    response = staff_client.get("/console/users/")

    assert [user.get_username() for user in response.context["users"]] == [
        "alice",
        "carol",
        "dave",
    ]
    content = response.content.decode()
    assert "borrower" not in content
    assert (row_of(response, "carol").role, row_of(response, "carol").codes_left) == (VIEWER, 3)
    assert "3 recovery codes left" in content
    assert "2026-11-20 12:05" in content  # in the site's time zone
    assert row_of(response, "dave").second_factor_required
    assert "required: set up at next sign-in" in content


def test_an_admin_changes_a_role_and_it_is_audited(staff_client, carol):
    response = staff_client.post(f"/console/users/{carol.pk}/role/", {"role": RESPONDER})

    assert response.status_code == 302
    assert role_of(carol) == RESPONDER
    entry = AuditEntry.objects.get(action="user.role")
    assert (entry.via, entry.actor_name, entry.object_repr) == ("console", "alice", "carol")
    assert (entry.before, entry.after) == ({"role": VIEWER}, {"role": RESPONDER})


def test_the_same_role_again_changes_and_audits_nothing(staff_client, carol):
    staff_client.post(f"/console/users/{carol.pk}/role/", {"role": VIEWER})
    assert not AuditEntry.objects.filter(action="user.role").exists()


def test_an_unknown_role_changes_nothing(staff_client, carol):
    response = staff_client.post(f"/console/users/{carol.pk}/role/", {"role": "owner"}, follow=True)
    assert "Choose a role" in response.content.decode()
    assert role_of(carol) == VIEWER


def test_an_admin_cannot_change_their_own_role(staff_client, staff):
    response = staff_client.post(f"/console/users/{staff.pk}/role/", {"role": VIEWER}, follow=True)
    assert "You cannot change your own role" in response.content.decode()
    assert role_of(staff) == ADMIN
    assert not AuditEntry.objects.filter(action="user.role").exists()


def test_an_unknown_user_is_a_404(staff_client):
    assert staff_client.post("/console/users/999999/role/", {"role": VIEWER}).status_code == 404


def test_removing_a_lost_second_factor_is_audited(staff_client, carol):
    enrol(carol, codes=2)

    response = staff_client.post(f"/console/users/{carol.pk}/two-factor/remove/")

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=carol).exists()
    assert not StaticToken.objects.filter(device__user=carol).exists()
    entry = AuditEntry.objects.get(action="user.second_factor_off")
    assert (entry.via, entry.actor_name, entry.object_repr) == ("console", "alice", "carol")
    assert entry.before == {"authenticator_app": True, "recovery_codes": 2}
    assert entry.after == {"authenticator_app": False, "recovery_codes": 0}


def test_removing_a_second_factor_nobody_has_audits_nothing(staff_client, carol):
    staff_client.post(f"/console/users/{carol.pk}/two-factor/remove/")
    assert not AuditEntry.objects.filter(action="user.second_factor_off").exists()


def test_a_new_user_gets_a_password_shown_once_and_can_sign_in(staff_client):
    response = staff_client.post(
        "/console/users/new/", {"username": "erin", "email": "", "role": RESPONDER}
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    password = response.context["password"]
    assert password in response.content.decode()
    erin = get_user_model().objects.get(username="erin")
    assert (role_of(erin), erin.is_staff) == (RESPONDER, True)
    assert Client().login(username="erin", password=password)
    entry = AuditEntry.objects.get(action="user.create")
    assert (entry.actor_name, entry.after) == ("alice", {"role": RESPONDER})
    assert password not in staff_client.get("/console/users/").content.decode()


def test_a_taken_or_bad_user_name_is_refused(staff_client, carol):
    response = staff_client.post("/console/users/new/", {"username": "Carol", "role": VIEWER})
    assert response.status_code == 400
    assert "A user with this name exists" in response.content.decode()
    response = staff_client.post("/console/users/new/", {"username": "a b/c", "role": VIEWER})
    assert response.status_code == 400
    assert get_user_model().objects.count() == 2
    assert not AuditEntry.objects.filter(action="user.create").exists()


def test_the_users_page_is_in_the_admins_menu_only(staff_client, carol):
    assert 'href="/console/users/"' in staff_client.get("/console/").content.decode()
    viewer = Client()
    viewer.force_login(carol)
    assert 'href="/console/users/"' not in viewer.get("/console/").content.decode()
