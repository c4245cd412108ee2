import uuid

import pytest
from django.db import transaction

from statuspage.models import AuditEntry
from statuspage.tasks import ping
from tests.servers import wait_for

pytestmark = pytest.mark.integration


def test_a_task_enqueued_on_commit_runs_on_a_real_worker(start_worker, private_queue):
    marker = uuid.uuid4().hex
    start_worker([private_queue])
    with transaction.atomic():
        # Enqueued only when the transaction commits, like every task the web side sends.
        transaction.on_commit(lambda: ping.apply_async(args=[marker], queue=private_queue))

    entry = wait_for(lambda: AuditEntry.objects.filter(action="ping", object_id=marker).first())
    assert entry.via == "system"


def test_nothing_is_enqueued_when_the_transaction_rolls_back(start_worker, private_queue):
    marker = uuid.uuid4().hex
    start_worker([private_queue])

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        transaction.on_commit(lambda: ping.apply_async(args=[marker], queue=private_queue))
        raise Rollback

    control = uuid.uuid4().hex
    ping.apply_async(args=[control], queue=private_queue)
    # The control task ran, and the rolled-back one never did.
    wait_for(lambda: AuditEntry.objects.filter(action="ping", object_id=control).exists())
    assert not AuditEntry.objects.filter(action="ping", object_id=marker).exists()
