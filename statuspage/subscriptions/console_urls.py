from django.urls import path

from statuspage.subscriptions import console_views as views

app_name = "subscriptions_console"

urlpatterns = [
    path("", views.subscriber_list, name="subscribers"),
    path("<int:pk>/remove/", views.subscriber_remove, name="remove"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/", views.notification_detail, name="notification"),
    path("notifications/<int:pk>/resend/", views.notification_resend, name="resend"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/enable/", views.webhook_enable, name="webhook_enable"),
    path("webhooks/<int:pk>/test/", views.webhook_test, name="webhook_test"),
]
