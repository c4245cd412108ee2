"""Subscribing by email: the form's request is queued, and a worker starts the subscription.

The view does the same for every address, whether new, pending or already subscribed: it
validates the form, counts the limits, and writes one `SubscriptionRequest` row. Neither the
answer nor its timing can tell an observer whether an address is subscribed. The worker then
decides: a new (or expired) address gets a confirmation email, a subscribed one a "you are
already subscribed" email, and one whose confirmation link is still valid gets nothing more,
so that nobody can make the site mail a stranger's inbox over and over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from statuspage.models import Component, SubscriptionRequest
from statuspage.subscriptions import outbox
from statuspage.subscriptions.links import CONFIRM_MAX_AGE
from statuspage.subscriptions.models import Notification, Subscriber, new_nonce, normalise_address

BATCH = 200


def queue_subscription(email: str, language: str, components, now: datetime) -> None:
    """The view's whole job once the form is valid: one row (the view then enqueues the task
    that handles it, after the commit)."""
    SubscriptionRequest.objects.create(
        email=email,
        language=language,
        component_ids=sorted(component.pk for component in components),
        created_at=now,
    )


def start_subscription(request: SubscriptionRequest, now: datetime) -> Notification | None:
    """Start (or restart) the subscription a request asks for; return the kind of email queued,
    or None when a confirmation is already on its way and its link still works."""
    local, _at, domain = request.email.rpartition("@")
    email = f"{local}@{domain.lower()}"
    key = normalise_address(email)
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(kind=Subscriber.Kind.EMAIL, address_key=key)
            .first()
        )
        if subscriber is not None and subscriber.confirmed_at is not None:
            kind = Notification.Kind.SUBSCRIPTION_EXISTING
        elif subscriber is not None and subscriber.created_at > now - timedelta(
            seconds=CONFIRM_MAX_AGE
        ):
            # Pending, and the link already sent still works: no second email, and the link
            # (its nonce) and the preferences stay as they are.
            return None
        else:
            kind = Notification.Kind.SUBSCRIPTION_CONFIRM
            if subscriber is None:
                subscriber = Subscriber(kind=Subscriber.Kind.EMAIL, address_key=key)
            subscriber.email = email
            subscriber.language = request.language
            subscriber.created_at = now
            subscriber.nonce = new_nonce()
            subscriber.save()
            subscriber.components.set(
                Component.objects.filter(pk__in=request.component_ids, is_public=True)
            )
        return outbox.subscription_email(subscriber, kind, now).notification


def process_requests(now: datetime) -> int:
    """Handle the queued requests, oldest first; return how many. Each is claimed under a row
    lock and deleted in the transaction that handles it, so concurrent workers never handle
    one twice."""
    handled = 0
    pending = SubscriptionRequest.objects.order_by("pk").values_list("pk", flat=True)[:BATCH]
    for pk in list(pending):
        with transaction.atomic():
            request = (
                SubscriptionRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=pk)
                .first()
            )
            if request is None:
                continue  # another worker has it
            try:
                start_subscription(request, now)
            except IntegrityError:
                pass  # the same mailbox subscribed by another worker at once: that one stands
            request.delete()
            handled += 1
    return handled
