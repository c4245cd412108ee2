"""Failed log-ins are limited per user name and per client address, on the console's log-in
page and the admin's alike.

Each failure is an AuditEntry (`login.failed`; object_id is the client address, object_repr
the user name tried), and the limit counts those rows: the database is shared by every web
process, so the limit holds across processes even where the cache is per-process memory (the
embedded default). After `LOGIN_FAILURE_LIMIT` failures for one user name, or
`LOGIN_FAILURE_LIMIT_PER_ADDRESS` from one address, within `LOGIN_FAILURE_WINDOW_SECONDS`,
attempts are refused without checking the password until the oldest of those failures leaves
the window; the lock itself is audited once (`login.locked`). A successful sign-in is audited too
(`login.succeeded`, by `record_sign_in`, on Django's `user_logged_in` signal), and so is a
sign-out (`login.signed_out`, on `user_logged_out`). No entry ever holds a password.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest
from django.utils import timezone

from statuspage.models import AuditEntry

SUCCEEDED = "login.succeeded"
FAILED = "login.failed"
LOCKED = "login.locked"
SIGNED_OUT = "login.signed_out"
OBJECT_TYPE = "login"


def client_address(request: HttpRequest | None) -> str:
    """The client's address (as statuspage.subscriptions.views.client_ip reads it: behind the
    documented proxy, the last X-Forwarded-For hop it appended)."""
    if request is None:
        return ""
    if settings.SECURE_PROXY_SSL_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()[:40]
    return request.META.get("REMOTE_ADDR", "")[:40]


def username_key(username: str) -> str:
    return username.strip().lower()[:200]


def last_login(username: str) -> datetime | None:
    User = get_user_model()
    return (
        User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username.strip()})
        .values_list("last_login", flat=True)
        .first()
    )


def seconds_locked(username: str, address: str, now: datetime) -> int:
    """How long attempts for this user name or from this address stay refused (0: not)."""
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    failures = AuditEntry.objects.filter(
        action=FAILED, object_type=OBJECT_TYPE, at__gt=now - window
    )
    by_name = failures.filter(object_repr=username_key(username))
    # A successful log-in since starts the user name's count again (not the address's).
    logged_in_at = last_login(username)
    if logged_in_at is not None:
        by_name = by_name.filter(at__gt=logged_in_at)
    waits = []
    for entries, limit in (
        (by_name, settings.LOGIN_FAILURE_LIMIT),
        (failures.filter(object_id=address), settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
    ):
        recent = list(entries.order_by("-at").values_list("at", flat=True)[:limit])
        if len(recent) >= limit:
            # Open again when the oldest of the last `limit` failures leaves the window.
            waits.append((recent[-1] + window - now).total_seconds())
    return max(0, math.ceil(max(waits, default=0)))


def record_failure(username: str, address: str, via: str, now: datetime) -> None:
    """Audit a failed attempt, and the lock when this failure starts one."""
    AuditEntry.objects.create(
        at=now,
        actor_name="",
        via=via,
        action=FAILED,
        object_type=OBJECT_TYPE,
        object_id=address,
        object_repr=username_key(username),
    )
    if seconds_locked(username, address, now):
        AuditEntry.objects.create(
            at=now,
            actor_name="",
            via=via,
            action=LOCKED,
            object_type=OBJECT_TYPE,
            object_id=address,
            object_repr=username_key(username),
            after={
                "window_seconds": settings.LOGIN_FAILURE_WINDOW_SECONDS,
                "limit_per_username": settings.LOGIN_FAILURE_LIMIT,
                "limit_per_address": settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS,
            },
        )


def record_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """On `user_logged_in`: who signed in, from where, on which login page."""
    record_session(request, user, SUCCEEDED)


def record_sign_out(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """On `user_logged_out`: who signed out (nobody, when the session had no user)."""
    if user is not None:
        record_session(request, user, SIGNED_OUT)


def record_session(request: HttpRequest | None, user, action: str) -> None:
    admin_page = request is not None and request.path.startswith("/admin/")
    AuditEntry.objects.create(
        at=timezone.now(),
        actor=user,
        actor_name=user.get_username()[:150],
        via=AuditEntry.Via.ADMIN if admin_page else AuditEntry.Via.CONSOLE,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=client_address(request),
        object_repr=username_key(user.get_username()),
    )


def locked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        "Too many failed log-in attempts for this account or from this network. "
        f"Try again in {minutes} {unit}."
    )


class ThrottledLoginMixin:
    """For Django's authentication forms: refuse while locked, count each failure."""

    via = AuditEntry.Via.CONSOLE

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        address = client_address(self.request)
        now = timezone.now()
        wait = seconds_locked(username, address, now)
        if wait:
            raise forms.ValidationError(locked_message(wait), code="throttled")
        try:
            return super().clean()
        except forms.ValidationError as error:
            if error.code == "invalid_login":
                record_failure(username, address, self.via, now)
            raise


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    via = AuditEntry.Via.ADMIN
