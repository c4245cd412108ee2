from django.contrib import admin

from statuspage.subscriptions.models import Delivery, Notification, Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "language", "confirmed_at", "suppressed_at", "disabled_at"]
    list_filter = ["kind", "language"]
    search_fields = ["email", "url"]
    exclude = ["secret", "nonce"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "incident", "maintenance", "created_at"]
    list_filter = ["kind"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "address", "channel", "status", "attempts", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["address"]
    raw_id_fields = ["notification", "subscriber"]
