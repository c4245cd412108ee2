"""The subscribe limits hold across processes: on the embedded default too, where the cache
is the database (a per-process memory cache once multiplied every limit by the processes)."""

import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.servers import ROOT, test_database_url

pytestmark = pytest.mark.django_db(transaction=True)

HAMMER = """
import os, sys, time
import django
django.setup()
from statuspage.subscriptions.views import over_limit
key, limit, start = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while not os.path.exists(start):  # all processes start counting together
    time.sleep(0.01)
print(sum(not over_limit(key, limit) for _ in range(limit)))
"""


def test_three_processes_share_one_limit(tmp_path):
    key = f"subscribe:ip:{uuid.uuid4().hex}"
    start = tmp_path / "go"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DATABASE_URL": test_database_url(),
        "VAR_DIR": str(tmp_path / "var"),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, key, "10", str(start)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    time.sleep(0.1)  # lets them import; the start file then releases them together
    start.touch()
    allowed = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        allowed.append(int(out))
    assert sum(allowed) == 10, allowed
