"""Real Celery workers for the integration tests, on the broker and database the suite uses."""

import uuid

import pytest
from django.conf import settings

from tests.servers import CeleryWorker


@pytest.fixture
def start_worker(transactional_db):
    """Start `celery worker` subprocesses consuming private queues; stop them afterwards."""
    workers: list[CeleryWorker] = []

    def start(queues: list[str], pool: str = "threads", concurrency: int = 2) -> CeleryWorker:
        worker = CeleryWorker(
            settings.CELERY_BROKER_URL,
            "-Q", ",".join(queues), "-P", pool, "-c", str(concurrency),
            "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING",
            VAR_DIR=str(settings.VAR_DIR),
        )  # fmt: skip
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def private_queue() -> str:
    """A queue no other test run consumes, so concurrent runs never take each other's tasks."""
    return f"test-{uuid.uuid4().hex}"
