import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from statuspage import actions
from statuspage.models import Component, ComponentDay
from tests.public.pages import SECRET, get, open_incident, platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def lending(db, frozen):
    return platform()


def test_it_says_all_systems_operational(lending):
    html = get("/")
    assert "All Systems Operational" in html
    assert 'data-indicator="none"' in html
    assert '<html lang="en">' in html
    assert "Loan application" in html
    assert html.count('class="status status-operational"') >= 6


def test_it_says_all_systems_operational_in_chinese(lending):
    html = get("/", "zh-Hans,zh;q=0.9")
    assert '<html lang="zh-hans">' in html
    assert "所有系统运行正常" in html
    assert "借款申请" in html and "借贷系统" in html
    assert "正常运行" in html
    assert "Loan application" not in html


def test_it_shows_a_degraded_component_with_its_root_cause(lending, frozen):
    actions.set_component_status(lending.bureau, "partial_outage", actor=None, via="system")
    html = get("/")
    assert "Partial System Outage" in html
    assert "Degraded because of Central bank credit reference" in html
    zh = get("/", "zh-hans")
    assert "受人行征信中心影响而性能下降" in zh
    assert "部分系统中断" in zh


def test_it_never_names_an_internal_root_cause(lending):
    actions.set_component_status(lending.internal, "major_outage", actor=None, via="system")
    html = get("/")
    assert "Minor Service Outage" in html  # the limit engine is degraded through it
    assert "status-degraded_performance" in html
    assert "Degraded because of a supporting system" in html
    assert SECRET not in html
    assert "受后台支撑系统影响而性能下降" in get("/", "zh-hans")


def test_it_shows_an_outage_with_its_incident_timeline(lending, frozen):
    incident = open_incident(
        {lending.bureau: "major_outage"},
        frozen - timedelta(hours=1),
        impact="critical",
        title_alt="征信查询失败",
        body_alt="征信查询**超时**。",
    )
    actions.post_incident_update(
        incident,
        status="identified",
        body="The bureau is down.",
        actor=None,
        via="system",
        body_alt="征信中心故障。",
        now=frozen - timedelta(minutes=10),
    )
    actions.add_note(body=f"{SECRET} call Bob", actor=None, via="system", incident=incident)
    html = get("/")
    assert "Major Service Outage" in html
    assert "Active incidents" in html
    assert f'href="/incidents/{incident.pk}"' in html
    assert "Checks against the bureau <strong>time out</strong>." in html
    assert "The bureau is down." in html
    assert html.index("The bureau is down.") < html.index("time out")  # newest first
    assert '<time datetime="2026-11-29T09:50:00+08:00">' in html
    assert SECRET not in html
    zh = get("/", "zh-hans")
    assert "征信查询失败" in zh and "征信查询<strong>超时</strong>。" in zh
    assert "征信中心故障。" in zh and "已查明原因" in zh
    assert "2026年11月29日 09:50" in zh


def test_it_falls_back_to_the_first_language_when_no_translation_was_written(lending, frozen):
    open_incident({lending.bureau: "partial_outage"}, frozen, title="Bureau slow")
    assert "Bureau slow" in get("/", "zh-hans")


def test_it_shows_active_and_upcoming_maintenance(lending, frozen):
    actions.schedule_maintenance(
        title="Disbursement upgrade",
        title_alt="放款系统升级",
        starts_at=frozen - timedelta(hours=1),
        ends_at=frozen + timedelta(hours=2),
        components=[lending.disbursement],
        actor=None,
        via="system",
        now=frozen - timedelta(days=1),
    )
    actions.advance_maintenances(frozen)
    actions.schedule_maintenance(
        title="Repayment database move",
        starts_at=frozen + timedelta(days=2),
        ends_at=frozen + timedelta(days=2, hours=3),
        components=[lending.repayment],
        actor=None,
        via="system",
    )
    html = get("/")
    assert "Service Under Maintenance" in html
    assert "Maintenance in progress" in html and "Disbursement upgrade" in html
    assert "Scheduled maintenance" in html and "Repayment database move" in html
    assert '<time datetime="2026-12-01T10:00:00+08:00">' in html
    assert "Asia/Shanghai (UTC+08:00)" in html
    zh = get("/", "zh-hans")
    assert "服务维护中" in zh and "放款系统升级" in zh and "2026年12月1日 10:00" in zh


def test_it_lists_incidents_resolved_in_the_last_14_days_only(lending, frozen):
    for days, title in ((3, "Recent trouble"), (20, "Old trouble")):
        incident = open_incident(
            {lending.repayment: "partial_outage"}, frozen - timedelta(days=days), title=title
        )
        actions.resolve_incident(
            incident,
            body="Fixed.",
            actor=None,
            via="system",
            now=frozen - timedelta(days=days) + timedelta(hours=1),
        )
    html = get("/")
    section = html[html.index("Past incidents (last 14 days)") :]
    assert "Recent trouble" in section
    assert "Old trouble" not in section
    assert 'href="/history"' in section


def test_it_leaves_internal_components_and_incidents_out(lending, frozen):
    open_incident(
        {lending.internal: "major_outage"}, frozen, title=f"{SECRET} incident", is_public=False
    )
    html = get("/")
    assert SECRET not in html
    assert "risk-db" not in html


def test_it_draws_90_days_of_uptime_from_the_daily_rollups(lending, frozen):
    lending.repayment.created_at = frozen - timedelta(days=200)
    lending.repayment.save()
    ComponentDay.objects.create(
        component=lending.repayment,
        day=datetime(2026, 11, 20).date(),
        worst_status="major_outage",
        major_seconds=864,
    )
    html = get("/")
    start = html.index(f'data-component-id="{lending.repayment.pk}"')
    item = html[start : html.index("</li>\n", html.index("bar-legend", start))]
    assert item.count("<i></i>") == 90  # one segment per day
    # The day with an outage is a list item of its own that takes the keyboard focus, with its
    # uptime and status in words; the quiet days around it are told in one sentence each.
    assert re.search(
        r'<li class="seg-major_outage[^"]*" tabindex="0">'
        r"<span>Nov. 20, 2026: 99.00% uptime, major outage</span><i></i></li>",
        item,
    )
    assert "Sept. 1, 2026 – Nov. 19, 2026: 100% uptime, no incidents" in item
    assert "Nov. 21, 2026 – Nov. 29, 2026: 100% uptime, no incidents" in item
    assert "99.98% uptime" in item  # 864 s down in 89 days and 10 hours


def test_the_bar_names_the_incidents_of_a_day_in_chinese(lending, frozen):
    lending.repayment.created_at = frozen - timedelta(days=200)
    lending.repayment.save()
    incident = open_incident(
        {lending.repayment: "partial_outage"}, frozen - timedelta(days=3), title="Slow"
    )
    actions.resolve_incident(
        incident, body="Fixed.", actor=None, via="system", now=frozen - timedelta(days=3)
    )
    html = get("/", "zh-Hans")
    start = html.index(f'data-component-id="{lending.repayment.pk}"')
    item = html[start : html.index("</li>\n", html.index("bar-legend", start))]
    assert "2026年11月26日：可用率 100%，部分中断；事件：Slow" in item
    assert "2026年9月1日至2026年11月25日：可用率 100%，无事件" in item


def test_the_front_page_for_40_components_and_a_year_of_history_stays_light(db, frozen):
    """Every 11th day an outage on every component and an incident a week on three of them:
    the bars are most of the page, and they must not carry per-day prose for quiet days."""
    platform(extra_components=34)
    components = list(Component.objects.filter(is_public=True))
    assert len(components) == 40
    Component.objects.update(created_at=frozen - timedelta(days=365))
    ComponentDay.objects.bulk_create(
        ComponentDay(
            component=component,
            day=(frozen - timedelta(days=back)).date(),
            worst_status="partial_outage",
            partial_seconds=900,
        )
        for component in components
        for back in range(365)
        if (back + component.pk) % 11 == 0
    )
    for week in range(1, 52):
        incident = open_incident(
            {c: "degraded_performance" for c in components[week % 30 : week % 30 + 3]},
            frozen - timedelta(days=7 * week),
            title=f"Slow credit checks, week {week}",
        )
        actions.resolve_incident(
            incident, body="Fixed.", actor=None, via="system", now=frozen - timedelta(days=7 * week)
        )
    for language in ("en", "zh-hans"):
        html = get("/", language)
        assert html.count("<i></i>") == 40 * 90
        assert len(html.encode()) < 150_000, (language, len(html.encode()))


def test_it_links_the_feeds_calendar_and_api(lending):
    html = get("/")
    assert 'rel="alternate" type="application/rss+xml"' in html
    assert 'href="/feeds/incidents.atom"' in html
    assert 'href="/calendar/maintenance.ics"' in html
    assert 'href="/api/v2/summary.json"' in html
    assert 'href="/subscriptions/"' in html


def test_it_rejects_post(client, lending):
    assert client.post("/").status_code == 405
