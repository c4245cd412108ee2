"""Public pages: subscribe, confirm, manage preferences, unsubscribe."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from statuspage.enqueue import enqueue_on_commit
from statuspage.subscriptions import links, signup
from statuspage.subscriptions.forms import PreferencesForm, SubscribeForm
from statuspage.subscriptions.models import Language, Subscriber, normalise_address
from statuspage.subscriptions.tasks import handle_subscription_requests

RATE_WINDOW = 3600


def client_ip(request: HttpRequest) -> str:
    # Behind the documented proxy the client is the last X-Forwarded-For hop it appended.
    if settings.SECURE_PROXY_SSL_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def over_limit(key: str, limit: int) -> bool:
    """Count one hit on `key` in the current window; True when past `limit`. In a transaction:
    where the cache is the database (the embedded default) the read and the write of the
    count are then one step for every process, and a limit holds across processes."""
    with transaction.atomic():
        cache.add(key, 0, RATE_WINDOW)
        try:
            hits = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, RATE_WINDOW)
            hits = 1
    return hits > limit


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """New, pending and subscribed addresses take one path: validate, count, queue (see
    statuspage.subscriptions.signup), answer "check your inbox"."""
    if request.method in ("GET", "HEAD"):
        # The emails' language starts as the page's: the reader is reading it.
        language = get_language() if get_language() in Language.values else settings.LANGUAGE_CODE
        form = SubscribeForm(initial={"language": language})
        return render(request, "subscriptions/subscribe.html", {"form": form})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "subscriptions/subscribe.html", {"form": form}, status=400)
    # Counted after validation: typing mistakes behind a shared address (a NAT, an office)
    # must not use up everyone's quota.
    if over_limit(f"subscribe:ip:{client_ip(request)}", settings.SUBSCRIBE_RATE_PER_IP):
        return render(request, "subscriptions/rate_limited.html", status=429)
    if form.cleaned_data["website"]:
        # A bot: answer exactly as for a person, do nothing.
        return render(request, "subscriptions/check_inbox.html")
    key = normalise_address(form.cleaned_data["email"])
    if over_limit(f"subscribe:address:{key}", settings.SUBSCRIBE_RATE_PER_ADDRESS):
        return render(request, "subscriptions/rate_limited.html", status=429)
    signup.queue_subscription(
        form.cleaned_data["email"],
        form.cleaned_data["language"],
        form.cleaned_data["components"],
        timezone.now(),
    )
    enqueue_on_commit(handle_subscription_requests)
    return render(request, "subscriptions/check_inbox.html")


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST confirms."""
    subscriber = links.subscriber_from_confirm_token(token)
    if subscriber is None:
        return render(request, "subscriptions/link_invalid.html", status=404)
    if request.method == "POST":
        if subscriber.confirmed_at is None:
            Subscriber.objects.filter(pk=subscriber.pk, confirmed_at__isnull=True).update(
                confirmed_at=timezone.now()
            )
        return render(
            request,
            "subscriptions/confirmed.html",
            {"manage_url": links.manage_url(subscriber)},
        )
    return render(request, "subscriptions/confirm.html", {"subscriber": subscriber})


@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = links.subscriber_from_manage_token(token)
    if subscriber is None or subscriber.kind != Subscriber.Kind.EMAIL:
        return render(request, "subscriptions/link_invalid.html", status=404)
    saved = False
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            subscriber.language = form.cleaned_data["language"]
            subscriber.save(update_fields=["language"])
            subscriber.components.set(form.cleaned_data["components"])
            saved = True
    else:
        form = PreferencesForm(
            initial={
                "language": subscriber.language,
                "components": list(subscriber.components.all()),
            }
        )
    context = {"form": form, "subscriber": subscriber, "saved": saved, "token": token}
    return render(request, "subscriptions/manage.html", context, status=400 if form.errors else 200)


# RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` with no cookies and no
# CSRF token; the signed token in the URL is the authorisation.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button; POST unsubscribes."""
    subscriber = links.subscriber_from_manage_token(token)
    if request.method in ("GET", "HEAD"):
        if subscriber is None:
            return render(request, "subscriptions/link_invalid.html", status=404)
        return render(
            request, "subscriptions/unsubscribe.html", {"subscriber": subscriber, "token": token}
        )
    if subscriber is not None:
        subscriber.delete()
    # Unsubscribing twice is not an error: the address is not subscribed either way.
    return render(request, "subscriptions/unsubscribed.html")
