"""Tokens in the console: the API's (each with its user and role) and the remote agents' (each
with its vantage point), with their last use, and revoking one (audited). Tokens are made with
`manage.py create_api_token` and `create_agent_token`, which show a token once."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from monitors.agent_tokens import revoke_agent_token
from monitors.models import AgentToken
from statuspage.api.tokens import revoke_token
from statuspage.audit import audit
from statuspage.models import ApiToken, AuditEntry
from statuspage.roles import ADMINISTER, requires, role_of, staff_required


@staff_required
@requires(ADMINISTER)
@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    live_first = F("revoked_at").desc(nulls_first=True)  # then the latest revoked
    tokens = list(ApiToken.objects.select_related("user").order_by(live_first, "-created_at"))
    for token in tokens:
        token.role = role_of(token.user)
    agent_tokens = AgentToken.objects.order_by(live_first, "vantage_point", "-created_at")
    context = {"tokens": tokens, "agent_tokens": agent_tokens}
    return render(request, "console/tokens.html", context)


def revoke(request: HttpRequest, model, pk: int, revoke_token_row, kind: str, said) -> HttpResponse:
    """Revoke a token (API or agent) once, audited; the row lock makes two clicks at once
    revoke and audit it once."""
    with transaction.atomic():
        token = get_object_or_404(model.objects.select_for_update(), pk=pk)
        if token.revoked_at is None:
            revoke_token_row(token)
            audit(
                request.user,
                AuditEntry.Via.CONSOLE,
                kind,
                token,
                before={"revoked": False},
                after={"revoked": True},
            )
            messages.success(request, said(token))
    return redirect("console:token_list")


@staff_required
@requires(ADMINISTER)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return revoke(
        request,
        ApiToken,
        pk,
        revoke_token,
        "token.revoke",
        lambda token: f"Token {token.prefix}… of {token.user} revoked.",
    )


@staff_required
@requires(ADMINISTER)
@require_POST
def agent_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return revoke(
        request,
        AgentToken,
        pk,
        revoke_agent_token,
        "agenttoken.revoke",
        lambda token: (
            f"Agent token {token.prefix}… of vantage point {token.vantage_point} revoked."
        ),
    )
