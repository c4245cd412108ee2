from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from statuspage.api.tokens import issue_token
from statuspage.models import ApiToken
from tests.api.conftest import ApiClient


def test_it_rejects_a_request_without_a_token(anonymous):
    response = anonymous.get("/incidents")
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] is None
    assert "Bearer" in response.json()["errors"][0]["message"]


def test_it_rejects_an_unknown_token(db):
    response = ApiClient("sp_" + "x" * 43).get("/incidents")
    assert response.status_code == 401


def test_it_rejects_a_token_that_only_shares_the_prefix(token):
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert ApiClient(forged).get("/incidents").status_code == 401


def test_it_rejects_a_malformed_authorization_header(token):
    client = Client()
    assert client.get("/api/v1/incidents", headers={"Authorization": token}).status_code == 401
    basic = {"Authorization": f"Basic {token}"}
    assert client.get("/api/v1/incidents", headers=basic).status_code == 401


def test_it_rejects_a_revoked_token(token):
    ApiToken.objects.update(revoked_at=timezone.now())
    assert ApiClient(token).get("/incidents").status_code == 401


def test_it_rejects_the_token_of_an_inactive_user(staff, token):
    staff.is_active = False
    staff.save()
    assert ApiClient(token).get("/incidents").status_code == 401


def test_it_forbids_a_user_who_is_not_staff(db):
    clerk = get_user_model().objects.create_user("bob", password="pw-bob-123")
    response = ApiClient(issue_token(clerk)[1]).get("/incidents")
    assert response.status_code == 403
    assert response.json() == {
        "errors": [{"field": None, "message": "This token's user is not staff with a role."}]
    }


def test_it_forbids_changes_by_a_user_who_is_not_staff(components):
    clerk = get_user_model().objects.create_user("bob", password="pw-bob-123")
    client = ApiClient(issue_token(clerk)[1])
    response = client.patch("/components/api-gateway", {"status": "major_outage"})
    assert response.status_code == 403
    components["gateway"].refresh_from_db()
    assert components["gateway"].manual_status == "operational"


def test_it_accepts_a_valid_token_and_records_its_use(api):
    assert ApiToken.objects.get().last_used_at is None
    assert api.get("/incidents").status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_it_never_falls_back_to_the_session(staff):
    client = Client()
    client.force_login(staff)
    assert client.get("/api/v1/incidents").status_code == 401


def test_it_needs_no_csrf_token_with_a_bearer_token(token, components):
    client = ApiClient(token, Client(enforce_csrf_checks=True))
    response = client.patch("/components/api-gateway", {"status": "partial_outage"})
    assert response.status_code == 200


def test_it_stores_only_the_hash_of_the_token(token):
    stored = ApiToken.objects.get()
    assert token not in {stored.token_hash, stored.prefix, stored.name}
    assert token.startswith(stored.prefix)
    assert len(stored.token_hash) == 64
