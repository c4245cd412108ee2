"""Tokens of remote agents: one per agent, bound to its vantage point, shown once.

Like the API's tokens (`statuspage.api.tokens`), the database keeps only a SHA-256 and the
first characters (to tell tokens apart when revoking one); a different mark (`spa_`) keeps an
agent's token from ever being mistaken for a staff API token, and the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.utils import timezone

from monitors.models import VANTAGE_POINT, AgentToken

TOKEN_MARK = "spa_"
PREFIX_LENGTH = len(TOKEN_MARK) + 8


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_agent_token(vantage_point: str, now: datetime | None = None) -> tuple[AgentToken, str]:
    """Create a token for the agent at `vantage_point`; return the row and the raw token,
    which is never stored."""
    if not VANTAGE_POINT.match(vantage_point):
        raise ValueError(f"{vantage_point!r} is not a vantage point name")
    raw = TOKEN_MARK + secrets.token_urlsafe(32)
    token = AgentToken.objects.create(
        vantage_point=vantage_point,
        prefix=raw[:PREFIX_LENGTH],
        token_hash=hash_token(raw),
        created_at=now or timezone.now(),
    )
    return token, raw


def authenticate_agent(raw: str) -> tuple[AgentToken | None, str]:
    """The live token matching `raw`, or None and the reason it is refused (for the agent's
    log: "this agent token was revoked"). Hashes are compared in constant time among the rows
    that share its prefix."""
    if not raw.startswith(TOKEN_MARK) or len(raw) <= PREFIX_LENGTH or "\x00" in raw:
        return None, f"this is not an agent token ({TOKEN_MARK}…)"
    wanted = hash_token(raw)
    for token in AgentToken.objects.filter(prefix=raw[:PREFIX_LENGTH]):
        if hmac.compare_digest(token.token_hash, wanted):
            if token.revoked_at is not None:
                return None, "this agent token was revoked"
            return token, ""
    return None, "this agent token is not known"


def find_agent_token(raw: str) -> AgentToken | None:
    """The live (not revoked) token matching `raw`, or None."""
    return authenticate_agent(raw)[0]


def touch_agent_token(token: AgentToken, now: datetime) -> None:
    """Record that the token was used, at most once a minute: an agent asks every few seconds."""
    if token.last_used_at is None or now - token.last_used_at >= timedelta(minutes=1):
        AgentToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def revoke_agent_token(token: AgentToken, now: datetime | None = None) -> None:
    """Revoke a token: refused from now on, kept so that what it delivered stays attributable."""
    now = now or timezone.now()
    AgentToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.revoked_at = now


def agent_vantage_points() -> list[str]:
    """The vantage points run by an agent: those with a live token."""
    return list(
        AgentToken.objects.filter(revoked_at__isnull=True)
        .values_list("vantage_point", flat=True)
        .order_by()
        .distinct()
    )
