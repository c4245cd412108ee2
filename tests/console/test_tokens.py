from datetime import UTC, datetime

from monitors.agent_tokens import find_agent_token, issue_agent_token
from monitors.models import AgentToken
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


def test_it_lists_agent_tokens_with_their_vantage_point_and_last_use(staff_client):
    token, _raw = issue_agent_token("edge-sh")
    AgentToken.objects.filter(pk=token.pk).update(
        last_used_at=datetime(2026, 11, 20, 4, 5, tzinfo=UTC)
    )
    page = staff_client.get("/console/tokens/").content.decode()
    assert f"<code>{token.prefix}…</code>" in page
    assert '<span class="stack-label">Vantage point: </span>edge-sh</td>' in page
    assert '<span class="stack-label">Last used: </span>2026-11-20 12:05</td>' in page
    assert f'action="/console/tokens/agents/{token.pk}/revoke/"' in page


def test_revoking_an_agent_token_stops_it_and_is_audited(staff_client):
    token, raw = issue_agent_token("edge-sh")

    response = staff_client.post(f"/console/tokens/agents/{token.pk}/revoke/")

    assert response.status_code == 302
    assert find_agent_token(raw) is None
    entry = AuditEntry.objects.get(action="agenttoken.revoke")
    assert (entry.via, entry.actor_name, entry.object_id) == ("console", "alice", str(token.pk))
    assert (entry.before, entry.after) == ({"revoked": False}, {"revoked": True})
    staff_client.post(f"/console/tokens/agents/{token.pk}/revoke/")
    assert AuditEntry.objects.filter(action="agenttoken.revoke").count() == 1


def test_live_tokens_come_before_revoked_ones(staff_client, staff):
    old, _ = issue_token(staff, name="old")
    staff_client.post(f"/console/tokens/{old.pk}/revoke/")
    issue_token(staff, name="new")
    tokens = staff_client.get("/console/tokens/").context["tokens"]
    assert [token.name for token in tokens] == ["new", "old"]
