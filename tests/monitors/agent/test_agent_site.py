"""`statuspage-agent` against the real site (gunicorn on the test database): its results
arrive as the vantage point's history; results for a foreign probe or from the future are
refused with their reasons, which the agent logs before dropping them; a revoked token is
refused with a reason while the agent keeps its results. Slow (real 10 s slots): marked
integration. The same across network namespaces, with the link cut: test_agent_netns.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitors.agent.spool import Spool
from monitors.agent_tokens import find_agent_token, issue_agent_token, revoke_agent_token
from monitors.models import Probe, ProbeResult, ProbeState
from statuspage.models import Component, Incident
from tests.servers import LiveSite, test_database_url

from .live import INTERVAL, Agent, Target, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FORGED = {"ok": True, "latency_ms": 1.0, "status_code": 200, "failed_condition": "", "seen": "",
          "error": "", "severity": ""}  # fmt: skip


@pytest.fixture
def site(tmp_path):
    live = LiveSite(tmp_path, DATABASE_URL=test_database_url())
    yield live
    live.stop()


@pytest.fixture
def target():
    service = Target()
    yield service
    service.stop()


def test_an_agent_delivers_its_runs_drops_refused_ones_and_keeps_them_when_revoked(
    site, target, tmp_path
):
    component = Component.objects.create(name="Credit bureau", slug="credit-bureau")
    probe = Probe.objects.create(
        component=component, name="query", kind="http", config={"url": target.url},
        conditions=[{"condition": "[STATUS] == 200"}], interval_seconds=INTERVAL,
        timeout_seconds=2, vantage_points=["edge"],
    )  # fmt: skip
    _, raw = issue_agent_token("edge")
    agent = Agent(site.base, raw, tmp_path)
    try:
        delivered = ProbeResult.objects.filter(probe=probe, vantage_point="edge")
        wait_for(lambda: delivered.count() >= 2, 4 * INTERVAL, "two runs delivered")
        runs = list(delivered.order_by("scheduled_at"))
        assert all(run.ok for run in runs)
        assert all(run.scheduled_at.timestamp() % INTERVAL == 0 for run in runs)
        assert runs[1].scheduled_at - runs[0].scheduled_at == timedelta(seconds=INTERVAL)
        assert all(run.received_at >= run.checked_at for run in runs)
        assert ProbeState.objects.get(probe=probe, vantage_point="edge").last_checked_at

        # A result for a probe not assigned to edge, and one from the future, slipped into
        # the spool: the site refuses each with its reason, the agent logs it and drops them.
        other = Probe.objects.create(
            component=component, name="other", kind="http", config={"url": target.url},
            vantage_points=["local"],
        )  # fmt: skip
        ahead = (timezone.now() + timedelta(hours=1)).isoformat()
        spool = Spool(agent.spool, 86400, 10**6)
        spool.add([
            {**FORGED, "probe": other.pk, "scheduled_at": runs[0].scheduled_at.isoformat(),
             "checked_at": runs[0].checked_at.isoformat()},
            {**FORGED, "probe": probe.pk, "scheduled_at": ahead, "checked_at": ahead},
        ])  # fmt: skip
        spool.close()
        wait_for(lambda: "checked_at is in the future" in agent.log, 3 * INTERVAL, "refusals")
        assert f"probe {other.pk} is not assigned to vantage point edge" in agent.log
        assert not ProbeResult.objects.filter(probe=other).exists()
        assert not delivered.filter(scheduled_at__gt=timezone.now()).exists()

        revoke_agent_token(find_agent_token(raw))
        wait_for(lambda: "this agent token was revoked" in agent.log, 3 * INTERVAL, "the reason")
        before = delivered.count()
        wait_for(lambda: agent.spooled() >= 2, 4 * INTERVAL, "runs kept in the spool")
        assert delivered.count() <= before + 1  # at most a batch that was already on its way
        assert agent.process.poll() is None
    finally:
        assert agent.stop() == 0, agent.log
    assert agent.spooled() >= 2  # kept for a token that works again, or until too old
    assert not Incident.objects.exists()
