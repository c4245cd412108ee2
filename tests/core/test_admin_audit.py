"""Every write through the Django admin is in the audit log, with before and after (issue 13):
the models the console also edits, subscribers, users and their roles and passwords, second
factors. Secrets never are; audit entries themselves cannot be changed."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from statuspage import actions
from statuspage.admin import IncidentAdmin, MaintenanceAdmin
from statuspage.admin_audit import AuditTrailAdmin
from statuspage.models import AuditEntry, Component
from statuspage.roles import ADMIN, RESPONDER, VIEWER, set_role
from statuspage.subscriptions.models import Subscriber
from tests.core.test_admin import change_form

pytestmark = pytest.mark.django_db

# These edit through the actions, which write the audit entries (tests/core/test_admin.py).
THROUGH_THE_ACTIONS = (IncidentAdmin, MaintenanceAdmin)


@pytest.fixture
def root(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def test_every_model_admin_that_can_write_is_audited(root):
    request = RequestFactory().get("/admin/")
    request.user = root
    unaudited = []
    for model, model_admin in admin.site._registry.items():
        writes = (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        )
        if writes and not isinstance(model_admin, (AuditTrailAdmin, *THROUGH_THE_ACTIONS)):
            unaudited.append(model._meta.label)
    assert unaudited == []


def test_a_subscriber_edited_in_the_admin_is_audited_without_its_secrets(admin_client):
    subscriber = Subscriber.objects.create(email="b@example.com", language="en")
    url = f"/admin/subscriptions/subscriber/{subscriber.pk}/change/"

    response = admin_client.post(url, change_form(admin_client, url, language="zh-hans"))

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="subscriber.update")
    assert (entry.via, entry.actor_name) == ("admin", "root")
    assert (entry.before["language"], entry.after["language"]) == ("en", "zh-hans")
    assert "secret" not in entry.after and "nonce" not in entry.after
    assert subscriber.secret not in str(entry.after)


def test_a_role_changed_in_the_admin_is_audited_as_a_role_change(admin_client):
    carol = get_user_model().objects.create_user("carol", password="pw-carol-123")
    set_role(carol, VIEWER)
    url = f"/admin/auth/user/{carol.pk}/change/"
    data = change_form(admin_client, url, groups=[Group.objects.get(name=RESPONDER).pk])

    assert admin_client.post(url, data).status_code == 302

    role = AuditEntry.objects.get(action="user.role")
    assert (role.via, role.actor_name, role.object_repr) == ("admin", "root", "carol")
    assert (role.before, role.after) == ({"role": VIEWER}, {"role": RESPONDER})
    update = AuditEntry.objects.get(action="user.update")
    assert (update.before["role"], update.after["role"]) == (VIEWER, RESPONDER)
    assert "password" not in update.after
    assert carol.password not in str(update.before) + str(update.after)


def test_a_password_set_in_the_admin_is_audited_without_the_password(admin_client):
    carol = get_user_model().objects.create_user("carol", password="pw-carol-123")
    url = f"/admin/auth/user/{carol.pk}/password/"
    new = "Another-long-pass-42"

    response = admin_client.post(
        url, {"password1": new, "password2": new, "usable_password": "true"}
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="user.password")
    assert (entry.object_repr, entry.after) == ("carol", {"password": "changed"})
    carol.refresh_from_db()
    stored = [str(row) for row in AuditEntry.objects.values_list("before", "after")]
    assert not any(new in row or carol.password in row for row in stored)


def test_a_user_deleted_in_the_admin_is_audited_and_the_entries_keep_their_name(admin_client):
    carol = get_user_model().objects.create_user("carol", is_staff=True)
    set_role(carol, ADMIN)
    actions.audit(carol, "console", "user.recovery_codes", carol)

    response = admin_client.post(f"/admin/auth/user/{carol.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="user.delete")
    assert (entry.before["username"], entry.before["role"]) == ("carol", ADMIN)
    earlier = AuditEntry.objects.get(action="user.recovery_codes")
    assert (earlier.actor, earlier.actor_name) == (None, "carol")


def enrol(user) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    codes = StaticDevice.objects.create(user=user, name="Recovery codes")
    StaticToken.objects.create(device=codes, token="abcd1234")
    return device


def test_the_admin_never_shows_a_second_factors_secret(admin_client):
    carol = get_user_model().objects.create_user("carol", is_staff=True)
    device = enrol(carol)

    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")

    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    codes = StaticDevice.objects.get(user=carol)
    page = admin_client.get(f"/admin/otp_static/staticdevice/{codes.pk}/change/")
    assert "abcd1234" not in page.content.decode()


def test_second_factors_cannot_be_added_or_edited_in_the_admin(admin_client):
    carol = get_user_model().objects.create_user("carol", is_staff=True)
    device = enrol(carol)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/change/"
    assert admin_client.post(url, {"name": "mine now", "user": carol.pk}).status_code == 403
    assert admin_client.get("/admin/otp_totp/totpdevice/add/").status_code == 403


def test_removing_a_second_factor_in_the_admin_is_audited_on_its_user(admin_client):
    carol = get_user_model().objects.create_user("carol", is_staff=True)
    device = enrol(carol)

    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302

    assert not TOTPDevice.objects.filter(user=carol).exists()
    entry = AuditEntry.objects.get(action="user.second_factor_off")
    assert (entry.via, entry.actor_name) == ("admin", "root")
    assert (entry.object_type, entry.object_id) == ("user", str(carol.pk))
    assert entry.before == {"device": "Authenticator app", "confirmed": True}


def test_the_role_groups_are_read_only_in_the_admin(admin_client):
    group = Group.objects.get(name=VIEWER)
    url = f"/admin/auth/group/{group.pk}/change/"
    assert admin_client.post(url, {"name": "viewer", "permissions": []}).status_code == 403
    assert admin_client.post(f"/admin/auth/group/{group.pk}/delete/").status_code == 403
    assert group.permissions.exists()


def test_audit_entries_are_append_only(admin_client, staff):
    entry = actions.audit(staff, "console", "user.recovery_codes", staff)
    entry.action = "nothing.happened"
    with pytest.raises(ValueError, match="never changed"):
        entry.save()
    with pytest.raises(ValueError, match="never deleted"):
        entry.delete()
    url = f"/admin/statuspage/auditentry/{entry.pk}/"
    assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(url + "change/", {"action": "x"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "user.recovery_codes"


def test_an_admin_edit_shows_only_what_was_changed(admin_client, make_component):
    from statuspage.console.audit_views import changes

    dns = make_component("dns", name="DNS")
    created_at = dns.created_at
    url = f"/admin/statuspage/component/{dns.pk}/change/"

    admin_client.post(url, change_form(admin_client, url, description="Public DNS"))

    entry = AuditEntry.objects.get(action="component.update")
    assert [row["field"] for row in changes(entry.before, entry.after)] == ["description"]
    assert "updated_at" not in entry.after
    assert Component.objects.get(pk=dns.pk).created_at == created_at  # to the microsecond


def test_changing_ones_own_password_in_the_admin_is_audited(admin_client, root):
    new = "Another-long-pass-42"
    response = admin_client.post(
        "/admin/password_change/",
        {"old_password": "pw-root-123", "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="user.password")
    assert (entry.actor, entry.object_id, entry.after) == (
        root,
        str(root.pk),
        {"password": "changed"},
    )


def test_a_refused_password_change_is_not_audited(admin_client):
    response = admin_client.post(
        "/admin/password_change/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="user.password").exists()
