from django import forms
from django.contrib import admin

from statuspage.admin_audit import AuditTrailAdmin
from statuspage.subscriptions.models import Delivery, Notification, Subscriber
from statuspage.subscriptions.outbound import check_webhook_url


class SubscriberAdminForm(forms.ModelForm):
    """The admin's form (its model and fields come from SubscriberAdmin): webhook URLs are
    checked as in the console."""

    url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Subscriber.Kind.WEBHOOK and cleaned.get("url"):
            try:
                check_webhook_url(cleaned["url"])
            except forms.ValidationError as exc:
                self.add_error("url", exc)
        return cleaned


@admin.register(Subscriber)
class SubscriberAdmin(AuditTrailAdmin):
    form = SubscriberAdminForm
    list_display = ["__str__", "kind", "language", "confirmed_at", "suppressed_at", "disabled_at"]
    list_filter = ["kind", "language"]
    search_fields = ["email", "url"]
    exclude = ["secret", "nonce"]
    audit_exclude = ("secret", "nonce")


@admin.register(Notification)
class NotificationAdmin(AuditTrailAdmin):
    list_display = ["__str__", "kind", "incident", "maintenance", "created_at"]
    list_filter = ["kind"]


@admin.register(Delivery)
class DeliveryAdmin(AuditTrailAdmin):
    list_display = ["notification", "address", "channel", "status", "attempts", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["address"]
    raw_id_fields = ["notification", "subscriber"]
