from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "statuspage.subscriptions"
    label = "subscriptions"
    verbose_name = "Subscriptions and notifications"
