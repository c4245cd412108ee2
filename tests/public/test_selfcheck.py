"""The "is it me or the system?" panel: each journey works, is affected by an incident, or is
under maintenance; when all work, the account-side reasons and where to get help."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from statuspage import actions
from tests.public.pages import get, open_incident, platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def lending(db, frozen):
    return platform()


def panel(html: str) -> str:
    return html[
        html.index('<section class="selfcheck"') : html.index(
            "</section>", html.index('<section class="selfcheck"')
        )
    ]


def journey(html: str, name: str) -> str:
    start = html.index(name)
    return html[start : html.index("</li>", start)]


def test_it_says_everything_works_and_lists_the_account_reasons(lending, settings):
    settings.HELP_URL = "https://help.example.com/borrowing"
    settings.HELP_CONTACT = "95188"
    html = panel(get("/"))
    assert "Is it me or the system?" in html
    for name in ("Apply for a loan", "See my credit limit", "Receive the money", "Repay"):
        assert "works right now" in journey(html, name)
    assert "Everything you use to borrow and repay is working right now." in html
    assert "credit score is too low" in html
    assert "frozen for your security after a suspicious login" in html
    assert "too many loans with other lenders" in html
    assert "income has not been verified" in html
    assert 'href="https://help.example.com/borrowing"' in html
    assert "95188" in html


def test_it_says_so_in_chinese(lending):
    html = panel(get("/", "zh-hans"))
    assert "是我的问题，还是系统的问题？" in html
    assert "申请借款" in html and "目前正常" in html
    assert "您的信用评分不足" in html and "账户已被冻结" in html
    assert "如需帮助，请在 App 内联系客服。" in html


def test_it_names_the_incident_behind_a_failing_dependency(lending, frozen):
    incident = open_incident(
        {lending.bureau: "major_outage"}, frozen - timedelta(minutes=30), title="Bureau down"
    )
    html = panel(get("/"))
    apply = journey(html, "Apply for a loan")
    assert "affected by" in apply
    assert f'<a href="/incidents/{incident.pk}">Bureau down</a>' in apply
    assert '<time datetime="2026-11-29T09:30:00+08:00">' in apply
    assert "affected by" in journey(html, "See my credit limit")
    assert "works right now" in journey(html, "Repay")
    assert "Everything you use" not in html
    assert "the problem is on our side" in html


def test_it_says_since_when_a_journey_fails_without_an_incident(lending, frozen):
    actions.set_component_status(
        lending.repayment, "partial_outage", actor=None, via="system", now=frozen
    )
    repay = journey(panel(get("/")), "Repay")
    assert "not working normally since" in repay
    assert '<time datetime="2026-11-29T10:00:00+08:00">' in repay


def test_it_says_until_when_a_journey_is_under_maintenance(lending, frozen):
    actions.schedule_maintenance(
        title="Disbursement upgrade",
        starts_at=frozen - timedelta(minutes=5),
        ends_at=frozen + timedelta(hours=2),
        components=[lending.disbursement],
        actor=None,
        via="system",
        now=frozen - timedelta(days=1),
    )
    actions.advance_maintenances(frozen)
    html = panel(get("/"))
    receive = journey(html, "Receive the money")
    assert "under maintenance until" in receive
    assert '<time datetime="2026-11-29T12:00:00+08:00">' in receive
    assert "works right now" in journey(html, "Repay")
    zh = journey(panel(get("/", "zh-hans")), "收到借款")
    assert "维护中，预计结束于" in zh and "2026年11月29日 12:00" in zh


def test_it_warns_of_planned_maintenance_on_a_working_journey(lending, frozen):
    actions.schedule_maintenance(
        title="Repayment database move",
        starts_at=frozen + timedelta(days=1),
        ends_at=frozen + timedelta(days=1, hours=1),
        components=[lending.repayment],
        actor=None,
        via="system",
    )
    repay = journey(panel(get("/")), "Repay")
    assert "works right now" in repay
    assert "Planned maintenance “Repayment database move”" in repay


def test_it_is_left_out_when_no_journeys_are_configured(db, make_component):
    make_component("only")
    assert "Is it me or the system?" not in get("/")
