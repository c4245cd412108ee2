from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from monitors.models import Probe, ProbeRollup
from statuspage.models import ComponentDay
from tests.public.pages import SECRET, get, open_incident, platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def lending(db):
    with time_machine.travel(NOW, tick=False):
        yield platform()


def test_it_shows_uptime_by_month_charts_and_incidents(lending):
    repayment = lending.repayment
    repayment.created_at = NOW - timedelta(days=400)
    repayment.save()
    ComponentDay.objects.create(
        component=repayment, day=date(2026, 10, 5), worst_status="major_outage", major_seconds=8640
    )
    probe = Probe.objects.create(component=repayment, name="health", kind="http")
    ProbeRollup.objects.create(
        probe=probe,
        vantage_point="local",
        period="hour",
        start=NOW - timedelta(hours=2),
        checks=60,
        latency_sum_ms=60 * 180.0,
        latency_count=60,
    )
    incident = open_incident({repayment: "partial_outage"}, NOW - timedelta(hours=1), title="Slow")
    html = get("/components/repay")
    assert '<h1 id="component-title">Repayment</h1>' in html
    assert "Uptime by month" in html
    assert "October 2026" in html and "99.67%" in html  # 8640 s of 31 days
    assert html.count('<svg class="chart"') == 2
    assert "average 180 ms" in html
    assert f'href="/incidents/{incident.pk}"' in html
    assert SECRET not in html
    zh = get("/components/repay", "zh-hans")
    assert "还款" in zh and "每月可用率" in zh and "2026年10月" in zh and "平均 180 毫秒" in zh


def test_it_draws_no_chart_for_a_component_without_probes(lending):
    assert '<svg class="chart"' not in get("/components/repay")


def test_it_is_404_for_an_internal_component(client, lending):
    assert client.get("/components/risk-db").status_code == 404
