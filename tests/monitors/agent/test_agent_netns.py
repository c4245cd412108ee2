"""The agent across real network separation: the site (gunicorn, on the test database) in the
root network namespace, listening on one end of a veth pair; `statuspage-agent` in a namespace
of its own at the other end (`ip netns`, as root; skipped with the reason elsewhere). The same
URL reaches a different target on each side (127.0.0.1 in each namespace), so a failure can be
one that only the agent's side sees. A "local" vantage point runs beside the site, in this
test's process, on the same slots.

Slow (real 10 s slots, about two minutes): marked integration, and run once, in the PostgreSQL
stage of .ci/run (skipped on SQLite, like tests/monitors/test_broker_outage.py).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from monitors.agent_tokens import issue_agent_token
from monitors.models import (
    Probe,
    ProbeResult,
    ProbeState,
    VantagePointProblem,
    VantagePointSilence,
)
from monitors.recorder import record_result
from monitors.runner import execute, spec_of
from statuspage.models import Component, Incident
from tests.servers import ROOT, BackgroundLoop, LiveSite, free_port, test_database_url

from .live import INTERVAL, Agent, Target, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and done.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


@dataclass
class Namespace:
    name: str
    outer: str  # the veth end in the root namespace, the site's side
    inner: str  # the veth end in the agent's namespace
    site_ip: str
    agent_ip: str

    def run(self, *command: str, **options) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", self.name, *command], **options)

    def exec(self, *command: str) -> None:
        ip("netns", "exec", self.name, *command)

    def cut(self) -> None:
        self.exec("ip", "link", "set", self.inner, "down")

    def restore(self) -> None:
        self.exec("ip", "link", "set", self.inner, "up")


def free_subnet() -> int:
    used = ip("-o", "-4", "addr").stdout
    free = [n for n in range(1, 255) if f"10.213.{n}." not in used]
    return random.choice(free)


@pytest.fixture
def netns():
    if connection.vendor == "sqlite":
        pytest.skip("runs once, on PostgreSQL: the network separation does not depend on it")
    if sys.platform != "linux" or shutil.which("ip") is None:
        pytest.skip("needs Linux network namespaces and iproute2's ip")
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces (ip netns add)")
    suffix = uuid.uuid4().hex[:6]
    n = free_subnet()
    space = Namespace(f"spa-{suffix}", f"spa{suffix}o", f"spa{suffix}i",
                      f"10.213.{n}.1", f"10.213.{n}.2")  # fmt: skip
    made = ip("netns", "add", space.name, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {made.stderr.strip()}")
    try:
        ip("link", "add", space.outer, "type", "veth", "peer", "name", space.inner)
        ip("link", "set", space.inner, "netns", space.name)
        ip("addr", "add", f"{space.site_ip}/24", "dev", space.outer)
        ip("link", "set", space.outer, "up")
        space.exec("ip", "addr", "add", f"{space.agent_ip}/24", "dev", space.inner)
        space.exec("ip", "link", "set", space.inner, "up")
        space.exec("ip", "link", "set", "lo", "up")
        yield space
    finally:
        for pid in ip("netns", "pids", space.name, check=False).stdout.split():
            subprocess.run(["kill", "-9", pid], capture_output=True)  # ours: started in it
        ip("netns", "del", space.name, check=False)
        ip("link", "del", space.outer, check=False)  # gone with the namespace, normally


class LocalVantagePoint(BackgroundLoop):
    """The "local" vantage point beside the site: the worker's own run and record, in a thread
    of this process, on the same epoch-aligned slots as the agent."""

    def __init__(self, probe: Probe) -> None:
        super().__init__()
        self.probe = probe

    def loop(self) -> None:
        while not self.stopped.is_set():
            now = time.time()
            slot = (now // INTERVAL + 1) * INTERVAL
            if self.stopped.wait(slot - now):
                return
            started = timezone.now()
            record_result(self.probe, "local", execute(spec_of(self.probe)), now=timezone.now(),
                          checked_at=started,
                          scheduled_at=datetime.fromtimestamp(slot, UTC))  # fmt: skip


@pytest.fixture
def setup(netns, tmp_path):
    """The site on the veth, the probe (both vantage points), a target on each side of the
    link at the same URL, the local vantage point and the agent in its namespace."""
    site = LiveSite(
        tmp_path,
        also_on=(netns.site_ip,),
        DATABASE_URL=test_database_url(),
        ALLOWED_HOSTS=f"127.0.0.1,localhost,{netns.site_ip}",
        MONITORING_STALE_SECONDS="10",
    )
    port = free_port()
    local_target = Target(port=port)
    far_target = netns.run(
        sys.executable, "-m", "tests.monitors.agent.live", str(port),
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    component = Component.objects.create(name="Credit bureau", slug="credit-bureau")
    probe = Probe.objects.create(
        component=component, name="query", kind="http", config={"url": local_target.url},
        conditions=[{"condition": "[STATUS] == 200"}], interval_seconds=INTERVAL,
        recheck_seconds=2, timeout_seconds=2, failure_threshold=2, success_threshold=1,
        vantage_points=["local", "edge"],
    )  # fmt: skip
    _, token = issue_agent_token("edge")
    prefix = ("ip", "netns", "exec", netns.name)
    agent = None
    try:
        with LocalVantagePoint(probe):
            agent = Agent(f"http://{netns.site_ip}:{site.port}", token, tmp_path, prefix)
            yield site, probe, agent, far_target
    finally:
        if agent is not None:
            agent.stop()
        far_target.kill()
        far_target.wait(5)
        local_target.stop()
        site.stop()


def health(site) -> dict:
    status, _, body = site.get("/health")
    return json.loads(body)


def edge_heard(site) -> bool:
    """Whether /health hears edge, asked at most once a second: the site logs each 503 to a
    pipe nobody reads before the end, and a full pipe would stall it."""
    time.sleep(1)  # pacing the questions to another process, not waiting for the clock
    return health(site)["vantage_points"]["edge"]["ok"]


def edge_results(probe):
    return ProbeResult.objects.filter(probe=probe, vantage_point="edge").order_by("scheduled_at")


def test_a_cut_link_silences_the_agent_and_restoring_it_delivers_the_whole_gap(netns, setup):
    site, probe, agent, _ = setup
    wait_for(lambda: edge_results(probe).count() >= 2, 5 * INTERVAL, "the agent's first runs")

    netns.cut()
    cut_at = timezone.now()
    # Silent: nothing arrives from edge, /health names it, and still no incident opens.
    wait_for(lambda: not edge_heard(site), 8 * INTERVAL, "silence")
    report = health(site)
    assert "vantage point edge has delivered no result" in " ".join(report["warnings"])
    assert report["vantage_points"]["local"]["ok"]
    silent = VantagePointSilence.objects.filter(vantage_point="edge", ended_at__isnull=True)
    wait_for(lambda: edge_heard(site) or silent.exists(), 3 * INTERVAL, "the silence recorded")
    assert silent.exists()
    wait_for(lambda: agent.spooled() >= 2, 4 * INTERVAL, "runs kept in the agent's spool")
    assert not edge_results(probe).filter(scheduled_at__gt=cut_at + timedelta(seconds=2)).exists()
    assert not Incident.objects.exists()
    _, _, summary = site.get("/api/v2/summary.json")
    assert json.loads(summary)["components"][0]["status"] == "operational"

    netns.restore()
    restored_at = timezone.now()
    wait_for(lambda: agent.spooled() == 0, 6 * INTERVAL, "the spool to empty")
    wait_for(lambda: edge_heard(site), 3 * INTERVAL, "edge heard")
    wait_for(lambda: edge_heard(site) and not silent.exists(), 3 * INTERVAL, "silence ended")

    # None lost, none twice: one run per slot, every slot from the first to the last.
    slots = [r.scheduled_at for r in edge_results(probe)]
    assert len(slots) == len(set(slots))
    assert all(
        b - a == timedelta(seconds=INTERVAL) for a, b in zip(slots, slots[1:], strict=False)
    ), slots
    gap = [r for r in edge_results(probe) if cut_at < r.checked_at < restored_at]
    assert len(gap) >= 2
    assert all(r.received_at >= restored_at for r in gap)  # delivered from the spool
    assert all(r.ok for r in edge_results(probe))
    assert not Incident.objects.exists()
    assert "dropped" not in agent.log


def test_a_failure_only_the_agents_side_sees_is_its_network_problem(setup):
    site, probe, agent, far_target = setup
    wait_for(lambda: edge_results(probe).filter(ok=True).exists(), 5 * INTERVAL, "a good run")

    far_target.kill()  # the target as seen from the agent's namespace stops answering
    far_target.wait(5)
    problem = wait_for(
        lambda: VantagePointProblem.objects.filter(probe=probe, ended_at__isnull=True).first(),
        6 * INTERVAL,
        "a vantage-point network problem",
    )
    assert problem.vantage_point == "edge"
    assert "connection refused" in problem.seen
    assert ProbeState.objects.get(probe=probe, vantage_point="edge").is_down
    local_state = ProbeState.objects.filter(
        probe=probe, vantage_point="local", last_checked_at__isnull=False
    )
    local = wait_for(local_state.first, 3 * INTERVAL, "the local vantage point's run")
    assert not local.is_down
    assert not Incident.objects.exists()
    _, _, summary = site.get("/api/v2/summary.json")
    assert json.loads(summary)["components"][0]["status"] == "operational"
    failed = edge_results(probe).filter(ok=False)
    # Rechecked at the probe's recheck interval, not its 10 s interval, once it failed.
    assert failed.count() >= 2
    assert min(
        b.scheduled_at - a.scheduled_at for a, b in zip(failed, failed[1:], strict=False)
    ) < timedelta(seconds=INTERVAL)
