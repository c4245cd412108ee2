"""Staff pages under /console/subscribers/: subscribers, notifications and their delivery
logs, webhooks."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from statuspage.audit import audit
from statuspage.enqueue import enqueue
from statuspage.models import AuditEntry
from statuspage.roles import ADMINISTER, requires, staff_required
from statuspage.subscriptions import outbox, sending
from statuspage.subscriptions.forms import WebhookForm
from statuspage.subscriptions.models import Delivery, Notification, Subscriber
from statuspage.subscriptions.tasks import send_deliveries

Status = Delivery.Status
Via = AuditEntry.Via


def subscriber_state(subscriber: Subscriber) -> dict:
    """What the audit log keeps of a subscriber: never its secret or nonce."""
    return {
        "kind": subscriber.kind,
        "address": subscriber.address,
        "language": subscriber.language,
        "components": sorted(subscriber.components.values_list("slug", flat=True)),
        "confirmed": subscriber.confirmed_at is not None,
    }


def subscriber_counts() -> dict[str, int]:
    email = Subscriber.objects.filter(kind=Subscriber.Kind.EMAIL)
    webhooks = Subscriber.objects.filter(kind=Subscriber.Kind.WEBHOOK)
    return {
        "confirmed": email.filter(confirmed_at__isnull=False, suppressed_at__isnull=True).count(),
        "pending": email.filter(confirmed_at__isnull=True).count(),
        "suppressed": email.filter(suppressed_at__isnull=False).count(),
        "webhooks": webhooks.filter(disabled_at__isnull=True).count(),
        "webhooks_disabled": webhooks.filter(disabled_at__isnull=False).count(),
    }


@staff_required
def subscriber_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    subscribers = Subscriber.objects.filter(kind=Subscriber.Kind.EMAIL).prefetch_related(
        "components"
    )
    if query:
        subscribers = subscribers.filter(
            Q(email__icontains=query) | Q(address_key__icontains=query)
        )
    page = Paginator(subscribers, 50).get_page(request.GET.get("page"))
    context = {"counts": subscriber_counts(), "page": page, "query": query}
    return render(request, "console/subscriptions/subscriber_list.html", context)


@staff_required
@requires(ADMINISTER)
@require_POST
def subscriber_remove(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = get_object_or_404(Subscriber, pk=pk)
    with transaction.atomic():
        before = subscriber_state(subscriber)
        subscriber.delete()
        subscriber.pk = pk  # for the audit entry
        audit(request.user, Via.CONSOLE, "subscriber.delete", subscriber, before, None)
    messages.success(request, f"Removed {subscriber}.")
    if subscriber.kind == Subscriber.Kind.WEBHOOK:
        return redirect("subscriptions_console:webhooks")
    return redirect("subscriptions_console:subscribers")


@staff_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = (
        Notification.objects.exclude(
            kind__in=[
                Notification.Kind.SUBSCRIPTION_CONFIRM,
                Notification.Kind.SUBSCRIPTION_EXISTING,
            ]
        )
        .annotate(
            total=Count("deliveries"),
            sent=Count("deliveries", filter=Q(deliveries__status=Status.SENT)),
            failed=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
            dropped=Count("deliveries", filter=Q(deliveries__status=Status.DROPPED)),
            waiting=Count(
                "deliveries", filter=Q(deliveries__status__in=[Status.PENDING, Status.SENDING])
            ),
        )
        .select_related("incident", "maintenance")
        .order_by("-created_at", "-id")
    )
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    return render(request, "console/subscriptions/notification_list.html", {"page": page})


@staff_required
def notification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(
        Notification.objects.select_related("incident", "maintenance"), pk=pk
    )
    deliveries = notification.deliveries.order_by("pk")
    status = request.GET.get("status", "")
    if status in Status.values:
        deliveries = deliveries.filter(status=status)
    counts = dict(notification.deliveries.values_list("status").annotate(n=Count("pk")).order_by())
    page = Paginator(deliveries, 100).get_page(request.GET.get("page"))
    context = {
        "notification": notification,
        "page": page,
        "counts": counts,
        "status": status,
        "statuses": Status.choices,
    }
    return render(request, "console/subscriptions/notification_detail.html", context)


@staff_required
@requires(ADMINISTER)
@require_POST
def notification_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the failed deliveries of a notification again."""
    notification = get_object_or_404(Notification, pk=pk)
    failed = list(notification.deliveries.filter(status=Status.FAILED).values_list("pk", flat=True))
    with transaction.atomic():
        count = sending.resend(failed, timezone.now())
        if count:
            audit(
                request.user,
                Via.CONSOLE,
                "notification.resend",
                notification,
                after={"deliveries_queued_again": count},
            )
    for channel in Delivery.Channel.values:
        enqueue(send_deliveries, channel)
    messages.success(request, f"{count} failed deliveries queued again.")
    return redirect("subscriptions_console:notification", pk=pk)


@staff_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and not request.user.has_perm(ADMINISTER):
        raise PermissionDenied
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            created = Subscriber.objects.create(
                kind=Subscriber.Kind.WEBHOOK,
                url=form.cleaned_data["url"],
                confirmed_at=timezone.now(),
            )
            created.components.set(form.cleaned_data["components"])
            after = subscriber_state(created)
            audit(request.user, Via.CONSOLE, "subscriber.create", created, after=after)
        form = WebhookForm()
    last = Delivery.objects.filter(subscriber=OuterRef("pk")).order_by("-pk")
    webhooks = (
        Subscriber.objects.filter(kind=Subscriber.Kind.WEBHOOK)
        .prefetch_related("components")
        .annotate(
            last_notification_id=Subquery(last.values("notification_id")[:1]),
            last_status=Subquery(last.values("status")[:1]),
            last_error=Subquery(last.values("last_error")[:1]),
            last_at=Subquery(last.values("updated_at")[:1]),
        )
    )
    context = {"form": form, "webhooks": webhooks, "created": created}
    return render(request, "console/subscriptions/webhook_list.html", context)


@staff_required
@requires(ADMINISTER)
@require_POST
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    with transaction.atomic():
        hook = Subscriber.objects.select_for_update().filter(pk=pk, kind=Subscriber.Kind.WEBHOOK)
        hook = hook.first()
        if hook is not None and hook.disabled_at is not None:
            before = {"disabled_reason": hook.disabled_reason}
            Subscriber.objects.filter(pk=pk).update(
                disabled_at=None, disabled_reason="", consecutive_failures=0
            )
            audit(
                request.user,
                Via.CONSOLE,
                "subscriber.enable",
                hook,
                before,
                {"disabled_reason": ""},
            )
    return redirect("subscriptions_console:webhooks")


@staff_required
@requires(ADMINISTER)
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a test delivery through the outbox and the sender; its log shows the result."""
    hook = get_object_or_404(Subscriber, pk=pk, kind=Subscriber.Kind.WEBHOOK)
    with transaction.atomic():
        delivery = outbox.webhook_test(hook, timezone.now())
        transaction.on_commit(lambda: send_deliveries.delay(Delivery.Channel.WEBHOOK))
    messages.success(
        request, f"Test delivery queued for {hook.url}: its result shows here once it is sent."
    )
    return redirect("subscriptions_console:notification", pk=delivery.notification_id)
