"""API tokens in the console: every token with its last use, and revoking one. Tokens are still
made with `manage.py create_api_token`, which shows a token once."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from statuspage.actions import audit
from statuspage.api.tokens import revoke_token
from statuspage.models import ApiToken, AuditEntry
from statuspage.roles import ADMINISTER, requires, role_of, staff_required


@staff_required
@requires(ADMINISTER)
@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    tokens = list(ApiToken.objects.select_related("user").order_by("revoked_at", "-created_at"))
    for token in tokens:
        token.role = role_of(token.user)
    return render(request, "console/tokens.html", {"tokens": tokens})


@staff_required
@requires(ADMINISTER)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    if token.revoked_at is None:
        revoke_token(token)
        audit(
            request.user,
            AuditEntry.Via.CONSOLE,
            "token.revoke",
            token,
            before={"revoked": False},
            after={"revoked": True},
        )
        messages.success(request, f"Token {token.prefix}… of {token.user} revoked.")
    return redirect("console:token_list")
