"""Sign-ins and failed sign-ins are audited (issue 13): who, when, from which address, on which
log-in page; a failure records the user name tried, and never the password."""

import pytest
from django.test import Client

from statuspage.models import AuditEntry

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.9"


@pytest.mark.parametrize(
    ("path", "via"), [("/accounts/login/", "console"), ("/admin/login/", "admin")]
)
def test_a_sign_in_is_audited_with_the_address(staff, path, via):
    client = Client(REMOTE_ADDR=ADDRESS)
    response = client.post(path, {"username": "alice", "password": "pw-alice-123"})

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="login.succeeded")
    assert (entry.actor, entry.actor_name, entry.via) == (staff, "alice", via)
    assert (entry.object_type, entry.object_id, entry.object_repr) == ("login", ADDRESS, "alice")


def test_a_failed_sign_in_records_the_name_tried_and_the_address_never_the_password(staff):
    client = Client(REMOTE_ADDR=ADDRESS)
    guess = "Tr0ub4dor&3-guess"
    response = client.post("/accounts/login/", {"username": "Alice", "password": guess})

    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="login.failed")
    assert (entry.actor, entry.object_id, entry.object_repr) == (None, ADDRESS, "alice")
    assert not AuditEntry.objects.filter(action="login.succeeded").exists()
    for row in AuditEntry.objects.values():
        assert guess not in str(row)


def test_the_audit_log_shows_sign_ins_by_address(staff_client, staff):
    Client(REMOTE_ADDR=ADDRESS).post("/accounts/login/", {"username": "bob", "password": "x"})

    page = staff_client.get("/console/audit/", {"action": "login.failed"}).content.decode()

    assert "not signed in" in page
    assert f"from {ADDRESS}" in page
    response = staff_client.get("/console/audit/", {"object": ADDRESS})
    assert [entry.action for entry, _ in response.context["rows"]] == ["login.failed"]


def test_a_sign_out_is_audited(staff):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert client.post("/accounts/logout/").status_code == 302

    entry = AuditEntry.objects.get(action="login.signed_out")
    assert (entry.actor, entry.actor_name, entry.via) == (staff, "alice", "console")
    assert entry.object_id == ADDRESS
    # Signing out without a session writes nothing: there is nobody to name.
    Client().post("/accounts/logout/")
    assert AuditEntry.objects.filter(action="login.signed_out").count() == 1
