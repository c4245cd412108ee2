"""Bearer tokens for /api/v1/: issued once, stored as a SHA-256, found by prefix.

A token is shown to the operator once, when it is created; the database keeps only its hash and
its first characters (the prefix), so that a leaked database does not leak working tokens and an
operator can still tell tokens apart to revoke one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.utils import timezone

from statuspage.models import ApiToken

TOKEN_MARK = "sp_"
PREFIX_LENGTH = len(TOKEN_MARK) + 8


def hash_token(raw: str) -> str:
    """The SHA-256 of a token, as stored in `ApiToken.token_hash`."""
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user, name: str = "", now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; return the row and the raw token, which is never stored."""
    raw = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:PREFIX_LENGTH],
        token_hash=hash_token(raw),
        created_at=now or timezone.now(),
    )
    return token, raw


def find_token(raw: str) -> ApiToken | None:
    """The live token matching `raw` (not revoked, its user active), or None.

    Rows are narrowed by the prefix, then the hashes are compared in constant time so that the
    response time does not tell an attacker how much of a guess was right.
    """
    if not raw.startswith(TOKEN_MARK) or len(raw) <= PREFIX_LENGTH or "\x00" in raw:
        return None
    wanted = hash_token(raw)
    candidates = ApiToken.objects.select_related("user").filter(
        prefix=raw[:PREFIX_LENGTH], revoked_at__isnull=True, user__is_active=True
    )
    for token in candidates:
        if hmac.compare_digest(token.token_hash, wanted):
            return token
    return None


def touch_token(token: ApiToken, now: datetime | None = None) -> None:
    """Record that the token was just used."""
    now = now or timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def revoke_token(token: ApiToken, now: datetime | None = None) -> None:
    """Revoke a token: it is rejected from now on, and kept so that the audit trail can name it."""
    now = now or timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.revoked_at = now
