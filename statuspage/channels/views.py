"""The staff channels console: list, add, edit, and "send a test" (through the outbox)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from statuspage.actions import audit
from statuspage.channels.dispatch import send_test
from statuspage.channels.forms import ChannelForm
from statuspage.channels.models import StaffChannel
from statuspage.models import AuditEntry
from statuspage.roles import ADMINISTER, requires, staff_required
from statuspage.subscriptions.models import Delivery

RECENT_DELIVERIES = 30


def audit_state(channel: StaffChannel) -> dict:
    """What the audit log keeps: everything but the secret, of which only its presence."""
    return {
        "name": channel.name,
        "kind": channel.kind,
        "url": channel.url,
        "language": channel.language,
        "events": channel.events,
        "is_enabled": channel.is_enabled,
        "has_secret": bool(channel.secret),
    }


@require_GET
@staff_required
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = list(StaffChannel.objects.all())
    recent = (
        Delivery.objects.filter(channel=Delivery.Channel.CHAT)
        .select_related("staff_channel", "notification__staff_message")
        .order_by("-id")[:RECENT_DELIVERIES]
    )
    return render(request, "console/channels/list.html", {"channels": channels, "recent": recent})


@require_http_methods(["GET", "POST"])
@staff_required
@requires(ADMINISTER)
def channel_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    channel = get_object_or_404(StaffChannel, pk=pk) if pk else None
    if channel is not None and channel.from_config:
        messages.error(request, "This channel is managed by the config file: edit it there.")
        return redirect("channels:list")
    form = ChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        before = audit_state(channel) if channel else None
        now = timezone.now()
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.updated_at = now
            saved.save()
            audit(request.user, AuditEntry.Via.CONSOLE,
                  "channel.update" if channel else "channel.create",
                  saved, before, audit_state(saved), now)  # fmt: skip
        messages.success(request, f"Channel {saved.name} saved.")
        return redirect("channels:list")
    return render(request, "console/channels/form.html", {"form": form, "channel": channel})


@require_POST
@staff_required
@requires(ADMINISTER)
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(StaffChannel, pk=pk)
    with transaction.atomic():
        send_test(channel, timezone.now())
    messages.success(
        request,
        f"A test message to {channel.name} is queued; its delivery shows below in a moment.",
    )
    return redirect("channels:list")


@require_POST
@staff_required
@requires(ADMINISTER)
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(StaffChannel, pk=pk, from_config=False)
    with transaction.atomic():
        audit(request.user, AuditEntry.Via.CONSOLE, "channel.delete", channel,
              audit_state(channel), None, timezone.now())  # fmt: skip
        channel.delete()
    messages.success(request, f"Channel {channel.name} deleted.")
    return redirect("channels:list")
