"""Changes made with management commands are audited too (via command), naming the operating-
system account that ran them: tokens made and revoked, roles given."""

import getpass
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from monitors.agent_tokens import find_agent_token
from statuspage.models import ApiToken, AuditEntry
from statuspage.roles import ADMIN, VIEWER, set_role

pytestmark = pytest.mark.django_db

OPERATOR = f"manage.py ({getpass.getuser()})"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_making_and_revoking_an_api_token_are_audited(staff):
    raw = run("create_api_token", "alice", "--name", "pager")
    token = ApiToken.objects.get()
    made = AuditEntry.objects.get(action="token.create")
    assert (made.via, made.actor_name, made.object_id) == ("command", OPERATOR, str(token.pk))
    assert made.after == {"user": "alice", "name": "pager"}
    assert raw not in str(made.after) and token.token_hash not in str(made.after)

    run("revoke_api_token", token.prefix)

    revoked = AuditEntry.objects.get(action="token.revoke")
    assert (revoked.via, revoked.actor_name) == ("command", OPERATOR)
    assert (revoked.before, revoked.after) == ({"revoked": False}, {"revoked": True})


def test_making_and_revoking_an_agent_token_are_audited(db):
    raw = run("create_agent_token", "edge")
    token = find_agent_token(raw)
    made = AuditEntry.objects.get(action="agenttoken.create")
    assert (made.via, made.actor_name, made.object_id) == ("command", OPERATOR, str(token.pk))
    assert made.after == {"vantage_point": "edge"}

    run("revoke_agent_token", token.prefix)

    assert find_agent_token(raw) is None
    revoked = AuditEntry.objects.get(action="agenttoken.revoke")
    assert (revoked.object_repr, revoked.after) == (f"{token.prefix}… (edge)", {"revoked": True})


def test_a_failed_command_audits_nothing(db):
    with pytest.raises(Exception, match="No live agent token"):
        run("revoke_agent_token", "spa_nothing")
    assert not AuditEntry.objects.exists()


def test_a_role_given_with_set_role_names_who_ran_it(db):
    carol = get_user_model().objects.create_user("carol")
    set_role(carol, VIEWER)
    run("set_role", "carol", ADMIN)
    entry = AuditEntry.objects.get(action="user.role")
    assert (entry.via, entry.actor_name) == ("command", OPERATOR)


def test_giving_the_role_a_user_has_changes_and_audits_nothing(db):
    carol = get_user_model().objects.create_user("carol", is_staff=True)
    set_role(carol, VIEWER)
    assert run("set_role", "carol", VIEWER) == "carol is already viewer: nothing changed."
    assert not AuditEntry.objects.filter(action="user.role").exists()
