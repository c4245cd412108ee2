"""Subscribers, the notifications announced to them and one delivery row per recipient.

The pipeline: a public `statuspage.models.Event` (or a maintenance reminder, or a staff alert)
becomes one `Notification`; fanning it out writes one `Delivery` per recipient; sender tasks
claim deliveries in batches and mark each one sent, retried, failed or dropped. Every step is a
row, so a lost task or a killed worker loses nothing: the sweeper finds the rows again.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from statuspage.models import Component, Event, Incident, Maintenance, MaintenanceStatus

# Providers that deliver `name+tag@domain` to `name@domain`: for them the tag is dropped when
# comparing addresses (rate limits, one subscription per mailbox). Yahoo uses `-` for its
# disposable addresses, which are separate mailboxes, so it is not listed.
PLUS_TAG_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "qq.com",
        "foxmail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "proton.me",
        "protonmail.com",
    }
)


def normalise_address(address: str) -> str:
    """The mailbox an address reaches: lower-cased, `+tag` removed for PLUS_TAG_PROVIDERS,
    googlemail.com spelled gmail.com."""
    local, _sep, domain = address.strip().lower().rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in PLUS_TAG_PROVIDERS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def new_secret() -> str:
    return secrets.token_hex(32)


class Language(models.TextChoices):
    EN = "en", _("English")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class Subscriber(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EMAIL)
    email = models.EmailField(blank=True)
    # normalise_address(email) for email subscribers: one subscription per mailbox.
    address_key = models.CharField(max_length=254, blank=True)
    url = models.URLField(max_length=500, blank=True)
    secret = models.CharField(max_length=64, blank=True, default=new_secret)
    language = models.CharField(max_length=10, choices=Language.choices, default=Language.EN)
    # None selected = everything.
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    # Changes when the subscriber re-subscribes; signed links carry it, so old links die.
    nonce = models.CharField(max_length=32, default=new_nonce)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # A permanent delivery failure (SMTP 5xx): nothing more is sent to this address.
    suppressed_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=300, blank=True)
    # Webhooks: a run of permanent failures disables them until staff enable them again.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["address_key"],
                condition=Q(kind="email"),
                name="one_email_subscription_per_mailbox",
            )
        ]
        indexes = [models.Index(fields=["kind", "confirmed_at"])]

    def __str__(self) -> str:
        return self.email if self.kind == self.Kind.EMAIL else self.url

    @property
    def address(self) -> str:
        return self.email if self.kind == self.Kind.EMAIL else self.url

    @property
    def is_active(self) -> bool:
        return (
            self.confirmed_at is not None
            and self.suppressed_at is None
            and self.disabled_at is None
        )

    @classmethod
    def forget_unconfirmed(cls, now: datetime) -> int:
        """Delete email subscriptions never confirmed within 7 days; return how many."""
        cutoff = now - timedelta(days=7)
        deleted, _ = cls.objects.filter(
            kind=cls.Kind.EMAIL, confirmed_at__isnull=True, created_at__lt=cutoff
        ).delete()
        return deleted


class Notification(models.Model):
    """One thing announced: a public event, a maintenance reminder, a subscription email or an
    internal alert. Its deliveries are written when it is fanned out."""

    class Kind(models.TextChoices):
        INCIDENT_OPENED = "incident_opened", _("Incident opened")
        INCIDENT_UPDATED = "incident_updated", _("Incident updated")
        INCIDENT_RESOLVED = "incident_resolved", _("Incident resolved")
        MAINTENANCE_SCHEDULED = "maintenance_scheduled", _("Maintenance scheduled")
        MAINTENANCE_REMINDER = "maintenance_reminder", _("Maintenance reminder")
        MAINTENANCE_UPDATED = "maintenance_updated", _("Maintenance updated")
        MAINTENANCE_STARTED = "maintenance_started", _("Maintenance started")
        MAINTENANCE_COMPLETED = "maintenance_completed", _("Maintenance completed")
        MAINTENANCE_CANCELLED = "maintenance_cancelled", _("Maintenance cancelled")
        COMPONENT_STATUS_CHANGED = "component_status_changed", _("Component status changed")
        SUBSCRIPTION_CONFIRM = "subscription_confirm", _("Subscription confirmation")
        SUBSCRIPTION_EXISTING = "subscription_existing", _("Already subscribed")
        STAFF_ALERT = "staff_alert", _("Staff alert")
        WEBHOOK_TEST = "webhook_test", _("Webhook test")

    kind = models.CharField(max_length=40, choices=Kind.choices)
    event = models.OneToOneField(
        Event, null=True, blank=True, on_delete=models.CASCADE, related_name="notification"
    )
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE)
    maintenance = models.ForeignKey(Maintenance, null=True, blank=True, on_delete=models.CASCADE)
    # Reminders: the start time they announce; a moved window makes the reminder untrue.
    reminder_for = models.DateTimeField(null=True, blank=True)
    # Staff alerts carry their own text.
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["maintenance", "reminder_for"],
                condition=Q(kind="maintenance_reminder"),
                name="one_reminder_per_maintenance_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def thread_key(self) -> str:
        """What emails about the same incident or maintenance share: the thread root id."""
        if self.incident_id:
            return f"incident-{self.incident_id}"
        if self.maintenance_id:
            return f"maintenance-{self.maintenance_id}"
        return f"notification-{self.pk}"

    def reason_to_drop(self, now: datetime) -> str:
        """Why this notification is no longer true at `now` (empty when it still is).

        Only reminders can go stale: the maintenance started, was cancelled or moved."""
        if self.kind != self.Kind.MAINTENANCE_REMINDER:
            return ""
        maintenance = Maintenance.objects.get(pk=self.maintenance_id)
        if maintenance.status == MaintenanceStatus.CANCELLED:
            return "maintenance cancelled"
        if maintenance.status != MaintenanceStatus.SCHEDULED or maintenance.starts_at <= now:
            return "maintenance already started"
        if maintenance.starts_at != self.reminder_for:
            return "maintenance moved"
        return ""


class Delivery(models.Model):
    """One notification to one recipient, and what became of it."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")
        CHAT = "chat", _("Staff channel")  # statuspage.channels: robots, signed webhooks

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        DROPPED = "dropped", _("Dropped")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    # SET_NULL keeps the log when someone unsubscribes; their pending deliveries are dropped.
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # A staff channel's delivery (channel "chat"); its message is notification.staff_message.
    staff_channel = models.ForeignKey(
        "channels.StaffChannel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # The email address or URL. Per address, deliveries go out in id order (see sending.py).
    address = models.CharField(max_length=500)
    language = models.CharField(max_length=10, default="en")
    # Staff alerts render the internal template instead of the subscriber one.
    to_staff = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "channel", "next_attempt_at"]),
            models.Index(fields=["address", "status", "id"]),
            models.Index(fields=["claimed_by"]),
        ]

    def __str__(self) -> str:
        return f"{self.notification} -> {self.address}"


class DeliveryTrouble(models.Model):
    """A period in which subscriber deliveries kept failing (`statuspage.subscriptions.trouble`
    decides): staff hear once when it starts and once when it ends, not per delivery. At most
    one is open."""

    started_at = models.DateTimeField()
    noticed_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # What fails, for staff: "email: 12 waiting, the oldest for 14 minutes; …"
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-noticed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(ended_at__isnull=True),
                name="one_open_delivery_trouble",
            )
        ]

    def __str__(self) -> str:
        return f"deliveries failing since {self.started_at:%Y-%m-%d %H:%M:%S}"
