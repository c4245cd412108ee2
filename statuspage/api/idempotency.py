"""`Idempotency-Key` on the token API's writes: a retry gets the first answer, nothing twice.

A client that lost the answer to a write (a timeout, a dropped connection) cannot tell whether
the write happened. Sent again with the same `Idempotency-Key` header, by the same user, within
IDEMPOTENCY_KEY_HOURS, the request is not run again: the first answer (status and body) comes
back, with `Idempotent-Replayed: true`. The same key with a different request (method, path or
body) is refused with 422.

The key is claimed by inserting its row in the same transaction as the write itself, so two
copies of a request arriving together cannot both run: on PostgreSQL the second insert waits
for the first transaction and then finds the key taken; on SQLite writers take turns. Only a
2xx answer is kept: when the write is refused (4xx) or fails, the claim is rolled back with
it, and the client may retry with the same key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone

from statuspage.api.tokens import find_token
from statuspage.models import IdempotencyKey

HEADER = "Idempotency-Key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"field": HEADER, "message": message}]}, status=status)


def token_user(request: HttpRequest):
    """The staff user of the request's bearer token, or None (ninja then answers 401/403)."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = find_token(raw.strip())
    if token is None or not token.user.is_staff:
        return None
    return token.user


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def replay(first: IdempotencyKey, request_fingerprint: str) -> HttpResponse:
    if first.fingerprint != request_fingerprint:
        return refusal(
            422,
            "This key was already used for a different request (method, path or body); "
            "use a new key for a new request.",
        )
    response = HttpResponse(
        bytes(first.body), status=first.status_code, content_type=first.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent_writes(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A ninja "view" decorator (it wraps the whole operation, authentication included)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        key = request.headers.get(HEADER)
        if key is None or request.method not in WRITE_METHODS:
            return run(request, *args, **kwargs)
        if not VALID_KEY.fullmatch(key):
            return refusal(400, "A key is 1 to 255 visible ASCII characters.")
        user = token_user(request)
        if user is None:
            return run(request, *args, **kwargs)
        now = timezone.now()
        request_fingerprint = fingerprint(request)
        with transaction.atomic():
            expired = now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
            IdempotencyKey.objects.filter(user=user, key=key, created_at__lte=expired).delete()
            try:
                with transaction.atomic():
                    claim = IdempotencyKey.objects.create(
                        user=user,
                        key=key,
                        fingerprint=request_fingerprint,
                        status_code=0,
                        content_type="",
                        body=b"",
                        created_at=now,
                    )
            except IntegrityError:
                return replay(IdempotencyKey.objects.get(user=user, key=key), request_fingerprint)
            response = run(request, *args, **kwargs)
            if 200 <= response.status_code < 300 and not response.streaming:
                claim.status_code = response.status_code
                claim.content_type = response.get("Content-Type", "application/json")
                claim.body = response.content
                claim.save(update_fields=["status_code", "content_type", "body"])
            else:
                transaction.set_rollback(True)
            return response

    return wrapper


def forget_expired(now=None) -> int:
    """Delete the keys older than IDEMPOTENCY_KEY_HOURS; return how many."""
    now = now or timezone.now()
    expired = now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    return IdempotencyKey.objects.filter(created_at__lte=expired).delete()[0]
