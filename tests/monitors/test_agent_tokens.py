import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monitors.agent_tokens import find_agent_token
from monitors.models import AgentToken

pytestmark = pytest.mark.django_db


def create(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_agent_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_prints_the_token_alone_and_stores_only_its_hash(make_probe):
    make_probe(vantage_points=["local", "edge"])
    token, message = create("edge")
    stored = AgentToken.objects.get()
    assert "\n" not in token and token.startswith("spa_") and token.startswith(stored.prefix)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.vantage_point == "edge"
    assert token not in message and f"revoke_agent_token {stored.prefix}" in message
    assert "No probe lists" not in message
    assert find_agent_token(token) == stored


def test_it_warns_when_no_probe_lists_the_vantage_point(db):
    _, message = create("edge")
    assert "No probe lists the vantage point edge" in message


@pytest.mark.parametrize("name", ["Edge", "_edge", "edge point", "probes.edge", "e" * 51, ""])
def test_it_refuses_a_name_that_is_not_a_vantage_point(db, name):
    with pytest.raises(CommandError, match="is not a vantage point name"):
        create(name)
    assert not AgentToken.objects.exists()


def test_revoking_a_token_refuses_it_from_then_on(db):
    token, _ = create("edge")
    other, _ = create("edge")
    out = StringIO()
    call_command("revoke_agent_token", AgentToken.objects.first().prefix + "…", stdout=out)
    assert "Revoked agent token" in out.getvalue()
    assert find_agent_token(token) is None
    assert find_agent_token(other) is not None  # the vantage point's other token still works
    with pytest.raises(CommandError, match="No live agent token"):
        call_command("revoke_agent_token", AgentToken.objects.first().prefix)


@pytest.mark.parametrize(
    "raw", ["", "spa_", "sp_" + "x" * 40, "spa_" + "x" * 40, "spa_\x00" + "x" * 40]
)
def test_a_wrong_token_finds_nothing(db, raw):
    create("edge")
    assert find_agent_token(raw) is None


def test_an_api_token_is_not_an_agent_token(staff):
    from statuspage.api.tokens import issue_token

    _, raw = issue_token(staff)
    assert find_agent_token(raw) is None
