from celery import shared_task
from django.conf import settings

from statuspage.public.snapshot import refresh_if_stale


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def refresh_snapshot() -> int | None:
    """Rewrite the static snapshot if the public version moved (beat runs it every 5 s; the
    version is claimed with a conditional UPDATE, so concurrent runs never write it twice)."""
    if not settings.STATIC_SNAPSHOT_DIR:
        return None
    return refresh_if_stale(settings.STATIC_SNAPSHOT_DIR)
