from statuspage.api.tokens import issue_token
from statuspage.models import ApiToken, AuditEntry


def test_it_lists_tokens_with_their_last_use(staff_client, staff):
    issue_token(staff, name="pager")
    page = staff_client.get("/console/tokens/").content.decode()
    assert "pager" in page and "never" in page and "(admin)" in page


def test_revoking_a_token_stops_it_and_is_audited(staff_client, staff, client):
    token, raw = issue_token(staff, name="pager")
    assert (
        client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 200
    )
    response = staff_client.post(f"/console/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 401
    )
    assert AuditEntry.objects.get(action="token.revoke").object_id == str(token.pk)


def test_revoking_twice_changes_nothing(staff_client, staff):
    token, _raw = issue_token(staff)
    staff_client.post(f"/console/tokens/{token.pk}/revoke/")
    first = ApiToken.objects.get().revoked_at
    staff_client.post(f"/console/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.get().revoked_at == first
    assert AuditEntry.objects.filter(action="token.revoke").count() == 1
