import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

app = Celery("statuspage")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, and the public site's, which lives inside the statuspage app.
app.autodiscover_tasks()
app.autodiscover_tasks(["statuspage.public"])
