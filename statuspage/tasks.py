from celery import shared_task

from statuspage.actions import advance_maintenances


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def advance_maintenance_windows() -> int:
    """Start and complete maintenance windows at their edges (beat runs it every 30 s)."""
    return len(advance_maintenances())


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def extend_maintenance_series() -> int:
    """Beat, hourly: create recurring maintenance windows as the horizon reaches them."""
    from django.utils import timezone

    from statuspage.recurrence import extend_series

    return extend_series(timezone.now())


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def forget_idempotency_keys() -> int:
    """Beat, hourly: the token API's Idempotency-Key answers past IDEMPOTENCY_KEY_HOURS."""
    from statuspage.api.idempotency import forget_expired

    return forget_expired()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def watch_deliveries() -> str | None:
    """Beat, every minute: tell staff once when subscriber deliveries keep failing, and once
    when they recover. (Here rather than beside the outbox sweep: the staff alert it writes
    enqueues the outbox's sender, which would make an import cycle there.)"""
    from statuspage.subscriptions.trouble import watch

    return watch()


@shared_task(ignore_result=True)
def ping(marker: str) -> str:
    """A task that only proves the round trip web -> broker -> worker -> database works."""
    from statuspage.models import AuditEntry

    AuditEntry.objects.create(
        via=AuditEntry.Via.SYSTEM, action="ping", object_type="ping", object_id=marker
    )
    return marker
