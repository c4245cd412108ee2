import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

app = Celery("statuspage")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, and the public site's, which lives inside the statuspage app.
app.autodiscover_tasks()
app.autodiscover_tasks(["statuspage.public"])


@task_prerun.connect
@task_postrun.connect
def close_old_connections_between_tasks(sender=None, **kwargs) -> None:
    """Between tasks, what Django does between requests: close connections that are broken or
    older than CONN_MAX_AGE (CELERY_DB_REUSE_MAX stops Celery from closing them all). Not for
    eager tasks, which run inside their caller's transaction."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


def closed_redis_transport_is_a_connection_error() -> None:
    """Work around kombu 5.7 / Celery 5.7 killing a worker whose Redis broker goes away while
    it holds unacknowledged messages (late acks, runs waiting for their slot).

    On a lost connection the consumer first `collect()`s the connection, which detaches the
    transport from it (`transport.client = None`), then closes it; closing the channel tries to
    give its unacknowledged messages back, which needs a new Redis client, whose parameters are
    read from `transport.client`: `AttributeError: 'NoneType' object has no attribute
    'hostname'`. That is not one of the connection errors Celery expects there, so the worker
    exits (tests/monitors/test_broker_outage.py reproduces it). Raised as the connection error
    it is, it is ignored like the others: the worker reconnects when the broker is back, the
    messages stay in Redis's unacknowledged set (given back after the visibility timeout, and
    dropped by the worker then if their `expires` has passed), and acknowledging a run that
    finished meanwhile fails with a logged warning instead of an exception. Harmless once
    kombu is fixed: it acts only where kombu would raise that AttributeError."""
    from kombu.transport import redis as kombu_redis

    if getattr(kombu_redis.Channel._connparams, "checks_closed_transport", False):
        return
    connparams = kombu_redis.Channel._connparams

    def checked_connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise kombu_redis.redis.exceptions.ConnectionError(
                "the broker connection was closed (kombu transport detached)"
            )
        return connparams(self, asynchronous=asynchronous)

    checked_connparams.checks_closed_transport = True
    kombu_redis.Channel._connparams = checked_connparams


closed_redis_transport_is_a_connection_error()
