"""Where staff hear about trouble: chat robots (DingTalk, WeCom, Feishu/Lark, Slack-compatible),
a generic signed webhook, or an email address, each with the events it wants and a language."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk robot")
    WECOM = "wecom", _("WeCom group robot")
    FEISHU = "feishu", _("Feishu / Lark bot")
    SLACK = "slack", _("Slack-compatible webhook")
    WEBHOOK = "webhook", _("Signed webhook")
    EMAIL = "email", _("Email")


class ChannelEvent(models.TextChoices):
    INCIDENT_OPENED = "incident_opened", _("Automatic incident opened")
    INCIDENT_ESCALATED = "incident_escalated", _("Automatic incident escalated")
    INCIDENT_RESOLVED = "incident_resolved", _("Automatic incident resolved")
    NETWORK_PROBLEM = "network_problem", _("Vantage-point network problem")
    MONITORING_STALLED = "monitoring_stalled", _("Monitoring stalled")
    DELIVERIES_FAILING = "deliveries_failing", _("Deliveries failing")
    MAINTENANCE_STARTING = "maintenance_starting", _("Maintenance starting")


def all_events() -> list[str]:
    return list(ChannelEvent.values)


class StaffChannel(models.Model):
    """One destination for staff alerts. `secret` signs (DingTalk, Feishu, the webhook) and is
    never shown again once saved. `from_config` channels are owned by the config file."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The robot's webhook URL, or the email address for the email kind.
    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=200, blank=True)
    language = models.CharField(
        max_length=10, choices=[("en", "English"), ("zh-hans", "简体中文")], default="en"
    )
    events = models.JSONField(default=all_events)
    is_enabled = models.BooleanField(default=True)
    from_config = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def shown_url(self) -> str:
        """The URL as the console shows it: a robot's query string carries its token."""
        if self.kind == Kind.EMAIL:
            return self.url
        base, _, query = self.url.partition("?")
        return f"{base}?…" if query else base

    def event_labels(self) -> list[str]:
        labels = dict(ChannelEvent.choices)
        return [str(labels[event]) for event in self.events if event in labels]

    @property
    def wants_every_event(self) -> bool:
        return set(ChannelEvent.values) <= set(self.events)

    def wants(self, event: str) -> bool:
        return self.is_enabled and event in self.events


class StaffMessage(models.Model):
    """What one staff alert says, in both languages, with the console page it links to. The
    outbox's Notification (kind staff_alert) carries the English text; each channel's
    Delivery picks its language from here."""

    notification = models.OneToOneField(
        "subscriptions.Notification", on_delete=models.CASCADE, related_name="staff_message"
    )
    event = models.CharField(max_length=30, choices=ChannelEvent.choices, blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    title_alt = models.CharField(max_length=300, blank=True)
    body_alt = models.TextField(blank=True)
    path = models.CharField(max_length=300, blank=True)  # under SITE_URL, e.g. /console/...
    is_test = models.BooleanField(default=False)

    def text(self, language: str) -> tuple[str, str]:
        if language.startswith("zh") and self.title_alt:
            return self.title_alt, self.body_alt or self.body
        return self.title, self.body
