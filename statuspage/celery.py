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
