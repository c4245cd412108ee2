"""Handing work to Celery from a request without letting a broker outage fail the request.

Whatever a task does is already written down as a row (an event, a delivery) in the same
transaction as the change, and the outbox sweeper (`sweep_outbox`, every minute) picks up rows
that no task claimed. So once the change is committed, a message that could not be sent only
delays the work: it is logged, and the client gets the answer for what was committed. Raising
there would answer 500 for a change that happened, and the client would retry it.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args, **kwargs) -> bool:
    """Send `task` now; on a broker error log it and return False (the sweeper catches up)."""
    try:
        task.apply_async(args, kwargs)
    except Exception:
        logger.exception("Could not enqueue %s%r; left to the outbox sweeper", task.name, args)
        return False
    return True


def enqueue_on_commit(task: Task, *args, **kwargs) -> None:
    """Send `task` once the current transaction commits (never if it rolls back); a broker error
    then is logged, never raised into the request."""
    transaction.on_commit(partial(enqueue, task, *args, **kwargs))
