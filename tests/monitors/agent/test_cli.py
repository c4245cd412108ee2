"""The `statuspage-agent` command as installed: its help, its errors, and a run against the
stand-in site ending with SIGTERM (a run against the real site: test_agent_site.py)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

AGENT = Path(sys.executable).parent / "statuspage-agent"


def agent(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k != "STATUSPAGE_AGENT_TOKEN"}
    return subprocess.run(
        [str(AGENT), *args], capture_output=True, text=True, timeout=30,
        env={**environment, **env},
    )  # fmt: skip


def test_the_console_script_is_installed_and_explains_itself():
    done = agent("--help")
    assert done.returncode == 0
    for option in ("--url", "--token", "--spool", "--refresh", "--max-spool-age"):
        assert option in done.stdout
    assert "STATUSPAGE_AGENT_TOKEN" in done.stdout


def test_without_a_token_it_says_how_to_give_one():
    done = agent("--url", "http://127.0.0.1:9")
    assert done.returncode != 0
    assert "no token: give --token, --token-file or STATUSPAGE_AGENT_TOKEN" in done.stderr


def test_a_bad_duration_names_the_option():
    done = agent("--url", "http://127.0.0.1:9", "--token", "spa_x", "--max-spool-age", "soon")
    assert done.returncode == 2
    assert "--max-spool-age" in done.stderr


@pytest.mark.integration
def test_it_probes_uploads_and_stops_on_sigterm_within_seconds(fake_site, tmp_path):
    fake_site.probes = [
        {"id": 7, "name": "self", "kind": "http",
         "config": {"url": fake_site.url + "/api/v1/agent/assignment"},
         "conditions": [{"condition": "[STATUS] == 200"}],
         "interval_seconds": 1, "recheck_seconds": 1, "timeout_seconds": 2},
    ]  # fmt: skip
    spool = tmp_path / "spool.sqlite3"
    process = subprocess.Popen(
        [str(AGENT), "--url", fake_site.url, "--spool", str(spool), "--refresh", "1"],
        env={**os.environ, "STATUSPAGE_AGENT_TOKEN": "spa_test"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while len(fake_site.accepted) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # waiting on the agent process, not on the clock
        assert len(fake_site.accepted) >= 2
        # The second refresh sent the first one's ETag: unchanged, answered 304.
        assert any(fake_site.assignment_requests[1:])
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
        assert time.monotonic() - stopping < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "vantage point edge: 1 probes assigned" in output
    assert "SIGTERM: stopping" in output
    slots = [r["scheduled_at"] for r in fake_site.accepted]
    assert len(set(slots)) == len(slots)  # one result per slot
    assert all(r["ok"] and r["probe"] == 7 for r in fake_site.accepted)


def spooled(path) -> int:
    import sqlite3

    with sqlite3.connect(path, timeout=10) as connection:
        return connection.execute("SELECT count(*) FROM results").fetchone()[0]


@pytest.mark.integration
def test_restarted_while_the_site_is_down_it_probes_with_the_kept_assignment(fake_site, tmp_path):
    fake_site.probes = [
        {"id": 7, "name": "self", "kind": "http", "config": {"url": fake_site.url + "/x"},
         "conditions": [], "interval_seconds": 1, "recheck_seconds": 1, "timeout_seconds": 2},
    ]  # fmt: skip
    spool = tmp_path / "spool.sqlite3"
    env = {**os.environ, "STATUSPAGE_AGENT_TOKEN": "spa_test"}

    def start(url):
        return subprocess.Popen(
            [str(AGENT), "--url", url, "--spool", str(spool), "--refresh", "1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    first = start(fake_site.url)
    try:
        deadline = time.monotonic() + 20
        while not fake_site.batches and time.monotonic() < deadline:
            time.sleep(0.1)  # waiting on the agent process
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=10)
    assert fake_site.batches
    assert spool.stat().st_mode & 0o777 == 0o600  # it keeps the probes' configs: secrets
    fake_site.server.shutdown()
    fake_site.server.server_close()
    before = spooled(spool)

    second = start(fake_site.url)  # nothing listens there any more
    try:
        deadline = time.monotonic() + 20
        while spooled(spool) < before + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        output, _ = second.communicate(timeout=10)
    assert spooled(spool) >= before + 2, output
    assert "probing with the assignment kept from the last run" in output
