"""The heartbeat URL that external jobs call: `curl -fsS https://…/probes/heartbeat/<token>`."""

from __future__ import annotations

import hmac

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from monitors.models import Probe

MAX_TOKEN_LENGTH = 64


def _heartbeat_probe(token: str) -> Probe:
    """The heartbeat probe with this token, or 404.

    The lookup uses the unique index; the final comparison is constant-time so that a match
    found some other way (a collation quirk, say) cannot be probed byte by byte.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Http404("unknown heartbeat")
    probe = Probe.objects.filter(heartbeat_token=token, kind="heartbeat").first()
    if probe is None or not hmac.compare_digest(probe.heartbeat_token.encode(), token.encode()):
        raise Http404("unknown heartbeat")
    return probe


@csrf_exempt  # a machine endpoint: the secret is in the URL, there is no session to forge
@never_cache
@require_http_methods(["GET", "POST", "HEAD"])
def heartbeat(request: HttpRequest, token: str, outcome: str = "") -> HttpResponse:
    """Record a call from the job: a success, or a failure via `/fail` or `?status=fail`."""
    probe = _heartbeat_probe(token)
    ok = not (outcome == "fail" or request.GET.get("status", "").lower() == "fail")
    now = timezone.now()
    # Conditional: only while the token is still this probe's (not rotated meanwhile) and
    # never moving the last call backwards if two calls race.
    Probe.objects.filter(pk=probe.pk, heartbeat_token=token).filter(
        Q(last_ping_at__isnull=True) | Q(last_ping_at__lte=now)
    ).update(last_ping_at=now, last_ping_ok=ok)
    return HttpResponse(
        "OK\n" if ok else "OK (failure recorded)\n", content_type="text/plain; charset=utf-8"
    )
