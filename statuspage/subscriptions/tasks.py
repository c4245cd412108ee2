from celery import shared_task


@shared_task(ignore_result=True)
def fan_out_event(event_id: int) -> None:
    """Fan a public event out into one delivery per subscriber (built by the subscriptions work)."""
