"""`make run` for real: `python -m statuspage.run` in its own VAR_DIR, on the embedded default
(SQLite, filesystem broker), with a one-probe config against its own simulator. Kill the
simulator: the site still answers and shows the outage, and the simulator is not restarted
(observed, not supervised). Kill the probe worker: it is restarted. SIGTERM: everything stops
within 10 s, with no process left.

It runs once, in the embedded stage of .ci/run (skipped when DATABASE_URL is set): it is
`make run` as a newcomer runs it, and it owns its database. Processes are found by name in the
supervisor's own lines, so that new ones (an agent, a recorder) need no change here. About a
minute and a half on a loaded 2-core machine: marked integration."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from tests.servers import free_port, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# "14:02:03  probes.local  restarted (pid 1234), log ..."
STARTED = re.compile(r"^\S+\s+(\S+)\s+(?:started|restarted) \(pid (\d+)\)")
CONFIG = """\
components:
  - slug: loan-application
    name: Loan application
    probes:
      - name: health
        kind: http
        url: http://127.0.0.1:{port}/loan-application/health
        interval: 10s
        recheck: 1s
        timeout: 2s
        failure_threshold: 1
        success_threshold: 1
"""
LOAN_APPLICATION_OFFSET = 2  # examples.simulator.SERVICES


@pytest.fixture(autouse=True)
def embedded_only():
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs once, in the embedded stage: it is make run with its own SQLite")


def free_port_block(size: int = 11) -> int:
    """A base port with the next `size` ports free (TCP and UDP), below the ephemeral range, for
    the simulator's fixed layout (control, one port per component, DNS at +10)."""
    for _ in range(50):
        base = random.randrange(20000, 30000)
        sockets = []
        try:
            for port in range(base, base + size):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    sockets.append(socket.socket(socket.AF_INET, kind))
                    sockets[-1].bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no free block of ports for the simulator")


def process_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command's name: state, ppid, pgrp, session, ..."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # the name may hold spaces and parentheses


def alive(pid: int) -> bool:
    """Running: an exited process that is not reaped yet (a zombie) is not."""
    stat = process_stat(pid)
    return stat is not None and stat[0] != "Z"


def session_pids(session: int) -> set[int]:
    """Running processes of a session (the supervisor's, started with start_new_session)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        stat = process_stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is not None and stat[0] != "Z" and int(stat[3]) == session:
            pids.add(int(entry.name))
    return pids


class Run:
    """`python -m statuspage.run` in its own session, its terminal lines collected."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        simulator_port = free_port_block()
        self.simulator_port = simulator_port
        config = tmp_path / "config.yaml"
        config.write_text(CONFIG.format(port=simulator_port + LOAN_APPLICATION_OFFSET))
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")
        }
        env.update(
            VAR_DIR=str(tmp_path / "var"),
            PORT=str(self.port),
            EXAMPLE_CONFIG=str(config),
            SIMULATOR_PORT=str(simulator_port),
            SIMULATOR_TLS_PORT="0",
            PROBE_DISPATCH_SECONDS="1",
            DEMO_PASSWORD="not-a-secret",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "statuspage.run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def pid_of(self, name: str) -> int | None:
        """The pid of the latest start of process `name`, from the supervisor's lines."""
        pids = [int(m[2]) for m in map(STARTED.match, self.lines) if m and m[1] == name]
        return pids[-1] if pids else None

    def names(self) -> list[str]:
        return [m[1] for m in map(STARTED.match, self.lines) if m]

    def said(self, name: str, text: str) -> bool:
        return any(re.match(rf"^\S+\s+{re.escape(name)}\s+.*{text}", line) for line in self.lines)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except OSError:
            return 0, b""

    def json(self, path: str) -> dict | None:
        status, body = self.get(path)
        return json.loads(body) if status in (200, 503) else None

    def kill_everything(self) -> None:
        for pid in session_pids(self.process.pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@pytest.fixture
def run(tmp_path):
    started = Run(tmp_path)
    try:
        yield started
    finally:
        started.kill_everything()


def serving(run: Run) -> bool:
    """Up, and probing: a result has arrived and the component is operational."""
    assert run.process.poll() is None, run.output()
    health = run.json("/health")
    delivered = health and health.get("vantage_points", {}).get("local", {}).get("last_result_at")
    summary = run.json("/api/v2/summary.json")
    return bool(delivered and summary) and summary["components"][0]["status"] == "operational"


def shows_outage(run: Run) -> bool:
    """The component is down and an incident names it."""
    summary = run.json("/api/v2/summary.json")
    if summary is None or summary["components"][0]["status"] == "operational":
        return False
    return [i["components"][0]["name"] for i in summary["incidents"]] == ["Loan application"]


def test_make_run_outlives_the_simulator_restarts_a_worker_and_stops_on_sigterm(run):
    wait_for(lambda: serving(run), timeout=180, what="the site to serve and probe")
    names = run.names()
    assert {"simulator", "web", "worker", "beat"} <= set(names), run.output()
    probe_worker = next(name for name in names if name.startswith("probes."))

    # The simulator dies: an outage for the site to show, not a reason to stop or restart.
    simulator = run.pid_of("simulator")
    os.kill(simulator, signal.SIGKILL)
    wait_for(lambda: run.said("simulator", "killed by SIGKILL.*observed, not restarted"), 10)
    wait_for(lambda: shows_outage(run), timeout=60, what="the outage on the public page")
    status, page = run.get("/")
    assert status == 200 and b"Loan application" in page
    assert run.pid_of("simulator") == simulator and not alive(simulator)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", run.simulator_port), timeout=1).close()

    # A site process dies: it is restarted, with a line saying so.
    worker = run.pid_of(probe_worker)
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: run.pid_of(probe_worker) != worker, timeout=15, what="a restart")
    assert run.said(probe_worker, "was killed by SIGKILL after .*; restarting in 1 s")
    assert alive(run.pid_of(probe_worker))

    # SIGTERM: everything stops within 10 s, nothing left behind.
    children = session_pids(run.process.pid) - {run.process.pid}
    assert len(children) >= len(set(names)) - 1  # every process but the dead simulator
    asked = time.monotonic()
    run.process.send_signal(signal.SIGTERM)
    try:
        assert run.process.wait(timeout=10) == 0, run.output()
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 10 s after SIGTERM:\n{run.output()}")
    wait_for(
        lambda: not session_pids(run.process.pid), timeout=max(0.1, asked + 10 - time.monotonic())
    )
    assert not any(alive(pid) for pid in children)
    run.reader.join(timeout=5)
    stopped = {name for name in set(names) if run.said(name, "(stopped|did not stop in time)")}
    assert stopped == set(names) - {"simulator"}, run.output()
