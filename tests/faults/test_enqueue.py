"""statuspage.enqueue: a broker that cannot be reached never fails the caller."""

import logging

from celery import Celery
from django.db import transaction

from statuspage.enqueue import enqueue, enqueue_on_commit
from tests.servers import free_port

# A real Celery app whose broker is a closed port: sending fails as in an outage. (The write
# URL: CELERY_BROKER_URL in the environment would override broker_url.)
unreachable = Celery("unreachable", set_as_current=False)  # never the app shared tasks use
unreachable.conf.broker_write_url = f"redis://127.0.0.1:{free_port()}/0"


@unreachable.task(name="unreachable.nothing")
def nothing(marker):
    return marker


def unreachable_task():
    return nothing


def test_it_logs_and_answers_false_when_the_broker_is_down(caplog):
    task = unreachable_task()
    with caplog.at_level(logging.ERROR, logger="statuspage.enqueue"):
        assert enqueue(task, "m-1") is False
    assert "unreachable.nothing('m-1',)" in caplog.text
    assert "outbox sweeper" in caplog.text


def test_after_commit_a_broker_error_does_not_reach_the_caller(
    db, django_capture_on_commit_callbacks, caplog
):
    task = unreachable_task()
    with caplog.at_level(logging.ERROR, logger="statuspage.enqueue"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                enqueue_on_commit(task, "m-2")
    assert len(callbacks) == 1
    assert "unreachable.nothing('m-2',)" in caplog.text


def test_nothing_is_sent_when_the_transaction_rolls_back(db, django_capture_on_commit_callbacks):
    task = unreachable_task()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                enqueue_on_commit(task, "m-3")
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
