from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "statuspage.channels"
    label = "channels"
    verbose_name = "Staff alert channels"

    def ready(self) -> None:
        # The outbox knows nothing of chat platforms: this app plugs its sender and its
        # listeners in (subscriptions must not import channels, which imports it).
        from statuspage.channels import dispatch, sending
        from statuspage.subscriptions import outbox, staff
        from statuspage.subscriptions import sending as outbox_sending
        from statuspage.subscriptions.models import Delivery

        outbox_sending.SENDERS[Delivery.Channel.CHAT] = sending.send_chat_batch
        if dispatch.on_public_event not in outbox.EVENT_LISTENERS:
            outbox.EVENT_LISTENERS.append(dispatch.on_public_event)
        if dispatch.on_staff_alert not in staff.ALERT_LISTENERS:
            staff.ALERT_LISTENERS.append(dispatch.on_staff_alert)
        if dispatch.on_webhook_disabled not in outbox_sending.WEBHOOK_DISABLED_LISTENERS:
            outbox_sending.WEBHOOK_DISABLED_LISTENERS.append(dispatch.on_webhook_disabled)
