from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from statuspage.api.tokens import issue_token
from statuspage.models import ApiToken
from tests.api.conftest import ApiClient


def revoke(prefix: str) -> str:
    out = StringIO()
    call_command("revoke_api_token", prefix, stdout=out)
    return out.getvalue()


def test_it_revokes_the_token_with_the_prefix(staff):
    kept, kept_raw = issue_token(staff, name="kept")
    revoked, revoked_raw = issue_token(staff, name="revoked")
    assert ApiClient(revoked_raw).get("/components").status_code == 200

    assert revoked.prefix in revoke(revoked.prefix)

    assert ApiClient(revoked_raw).get("/components").status_code == 401
    assert ApiClient(kept_raw).get("/components").status_code == 200
    assert ApiToken.objects.get(pk=revoked.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=kept.pk).revoked_at is None


def test_it_accepts_the_prefix_as_printed_with_an_ellipsis(staff):
    token, _ = issue_token(staff)
    revoke(token.prefix + "…")
    assert ApiToken.objects.get().revoked_at is not None


def test_it_refuses_an_unknown_prefix(db):
    with pytest.raises(CommandError, match="No live token"):
        revoke("sp_nothing")


def test_it_refuses_to_revoke_twice(staff):
    token, _ = issue_token(staff)
    revoke(token.prefix)
    with pytest.raises(CommandError, match="No live token"):
        revoke(token.prefix)


def test_it_refuses_an_ambiguous_prefix(staff):
    first, _ = issue_token(staff)
    second, _ = issue_token(staff)
    ApiToken.objects.filter(pk=second.pk).update(prefix=first.prefix)
    with pytest.raises(CommandError, match="Several live tokens"):
        revoke(first.prefix)
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
