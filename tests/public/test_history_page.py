from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from statuspage import actions
from tests.public.pages import SECRET, get, open_incident, platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def lending(db):
    with time_machine.travel(NOW, tick=False):
        yield platform()


def test_it_lists_incidents_and_maintenance_by_month_three_months_a_page(lending):
    for days, title in ((2, "November trouble"), (40, "October trouble"), (100, "August trouble")):
        incident = open_incident(
            {lending.repayment: "partial_outage"}, NOW - timedelta(days=days), title=title
        )
        actions.resolve_incident(
            incident,
            body="Fixed.",
            actor=None,
            via="system",
            now=NOW - timedelta(days=days) + timedelta(hours=1),
        )
    open_incident(
        {lending.internal: "major_outage"}, NOW, title=f"{SECRET} incident", is_public=False
    )
    actions.schedule_maintenance(
        title="December upgrade",
        starts_at=NOW + timedelta(days=3),
        ends_at=NOW + timedelta(days=3, hours=1),
        actor=None,
        via="system",
    )
    first = get("/history")
    assert "November 2026" in first and "October 2026" in first and "September 2026" in first
    assert "November trouble" in first and "October trouble" in first
    assert "August trouble" not in first
    assert SECRET not in first
    assert 'href="?page=2"' in first
    second = get("/history?page=2")
    assert "August 2026" in second and "August trouble" in second
    assert 'href="?page=1"' in second
    assert 'href="?page=3"' not in second
    zh = get("/history", "zh-hans")
    assert "2026年11月" in zh and "事件与维护历史" in zh


def test_it_shows_maintenance_in_its_month(lending):
    actions.schedule_maintenance(
        title="Gateway upgrade",
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=2),
        actor=None,
        via="system",
    )
    html = get("/history")
    assert "Gateway upgrade" in html


@pytest.mark.parametrize("page", ["0", "-1", "abc", "100000"])
def test_it_is_404_for_a_page_that_cannot_exist(client, lending, page):
    assert client.get(f"/history?page={page}").status_code == 404
