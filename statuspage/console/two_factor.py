"""Two-factor sign-in for staff, with django-otp: an authenticator app (TOTP) and single-use
recovery codes.

After the password, a user who has a second factor, or who must have one (responders and
admins when STAFF_2FA_REQUIRED), is sent to enter a code before any console or admin page
(`SecondFactorMiddleware`); one who must have one and has none is sent to set it up first.
API tokens are not affected: they are for machines, and revocable in the console.
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from statuspage.actions import audit
from statuspage.models import AuditEntry
from statuspage.public.fallback import DATABASE_ERRORS, without_database
from statuspage.roles import RESPOND

RECOVERY_CODES = 10
# django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s…).
THROTTLED = "Too many wrong codes in a row: wait a few seconds, then try again."
# Pages a user who still owes a second factor may open: the steps themselves, and logging out.
OPEN_PATHS = ("/console/two-factor/", "/accounts/")
GUARDED_PATHS = ("/console/", "/admin/")


def must_have_second_factor(user) -> bool:
    return settings.STAFF_2FA_REQUIRED and user.has_perm(RESPOND)


def has_app(user) -> bool:
    """Enrolled: an authenticator app confirmed (recovery codes come with it). One query."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def owes_second_factor(user) -> bool:
    """Signed in with a password only, and a code is needed: because the user has a device,
    or because their role requires one."""
    if not user.is_authenticated or user.is_verified():
        return False
    return must_have_second_factor(user) or has_app(user)


class SecondFactorMiddleware:
    """Console and admin pages wait for the second factor (after django_otp's OTPMiddleware,
    which tells whether this session gave one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith(GUARDED_PATHS) and not path.startswith(OPEN_PATHS):
            try:
                owes = owes_second_factor(request.user)
            except DATABASE_ERRORS:
                # The session cannot be read: the same 503 page as a view meeting the outage.
                return without_database(request)
        else:
            owes = False
        if owes:
            step = "two_factor_verify" if has_app(request.user) else "two_factor_setup"
            return redirect(f"{reverse(step)}?{urlencode({'next': path})}")
        return self.get_response(request)


def next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return reverse("console:dashboard")


class CodeForm(forms.Form):
    label_suffix = ""
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, or a recovery code (used up)."""
    if not has_app(request.user):
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': next_url(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            used = "recovery code" if isinstance(device, StaticDevice) else "authenticator app"
            audit(
                request.user,
                AuditEntry.Via.CONSOLE,
                "login.second_factor",
                request.user,
                after={"with": used},
            )
            return redirect(next_url(request))
        form.add_error("code", "That code is not right, has expired or was used already.")
        audit(request.user, AuditEntry.Via.CONSOLE, "user.second_factor_failed", request.user)
    context = {"form": form, "next": next_url(request)}
    status = 400 if form.errors else 200
    return render(request, "console/two_factor_verify.html", context, status=status)


def qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def recovery_codes_for(user) -> list[str]:
    """New recovery codes for `user`, replacing any left: shown once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    device.token_set.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, type a code to prove it works, get the
    recovery codes. With one enrolled already, say so (and offer new recovery codes)."""
    user = request.user
    if not user.is_staff:
        return redirect("login")
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None:
        if not user.is_verified():
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.path})}")
        codes = None
        if request.method == "POST" and request.POST.get("action") == "new-codes":
            codes = recovery_codes_for(user)
            audit(user, AuditEntry.Via.CONSOLE, "user.recovery_codes", user)
        left = StaticToken.objects.filter(device__user=user).count()
        context = {"enrolled": True, "codes": codes, "codes_left": left}
        return render(request, "console/two_factor_setup.html", context)

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _why = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", THROTTLED)
        elif device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = recovery_codes_for(user)
            otp_login(request, device)
            audit(user, AuditEntry.Via.CONSOLE, "user.second_factor_on", user)
            context = {"enrolled": True, "codes": codes, "next": next_url(request)}
            return render(request, "console/two_factor_setup.html", context)
        else:
            form.add_error(
                "code", "That code is not right: check the time on your phone, and retry."
            )
    context = {
        "form": form,
        "qr": mark_safe(qr_svg(device.config_url)),  # noqa: S308  (qrcode's own SVG)
        "secret": b32encode(device.bin_key).decode(),
        "required": must_have_second_factor(user),
        "next": next_url(request),
    }
    return render(
        request, "console/two_factor_setup.html", context, status=400 if form.errors else 200
    )
