"""The availability report, with figures worked out by hand (times in Asia/Shanghai).

February 2026 has 28 days: 28 x 1440 = 40,320 minutes. Repayments, tracked all along, spent
60 minutes in a major outage (3 Feb), 100 in a partial outage (10 Feb), 120 in announced
maintenance (15 Feb) and 30 degraded (20 Feb):

- downtime, maintenance excluded: 60 + 30 % of 100 = 90 minutes
  -> (40,320 - 90) / 40,320 = 99.7767...%, shown as 99.77%;
- maintenance included: 90 + 120 = 210 minutes -> (40,320 - 210) / 40,320 = 99.4791...%;
- operational: 40,320 - 60 - 100 - 120 - 30 = 40,010 minutes.

Its public incidents touching February lasted 90 (31 Jan 23:00 to 1 Feb 00:30), 60 and 100
minutes: a mean time to recovery of 250 / 3 = 83.3, shown as 83 minutes.

The ledger was tracked from 15 February only: 14 days, 20,160 minutes; its 20 minutes of
partial outage on 16 February are 6 minutes of downtime -> 99.9702...%. Its outage on 10
February, before tracking began, does not count.
"""

import csv
from datetime import date, datetime

import pytest
import time_machine

from statuspage.models import Component, ComponentDay, Incident, IncidentComponent
from statuspage.reports import availability


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


NOW = local("2026-03-10T12:00")
FEB = (date(2026, 2, 1), date(2026, 2, 28))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def incident(component, title, start, end, is_public=True, title_alt=""):
    made = Incident.objects.create(
        title=title,
        title_alt=title_alt,
        status="resolved",
        impact="major",
        is_public=is_public,
        started_at=local(start),
        resolved_at=local(end),
    )
    IncidentComponent.objects.create(incident=made, component=component, status="major_outage")
    return made


@pytest.fixture
def history(db):
    repayments = Component.objects.create(
        name="Repayments", name_alt="还款", slug="repayments", start_date=date(2025, 1, 1)
    )
    ledger = Component.objects.create(name="Ledger", slug="ledger", start_date=date(2026, 2, 15))
    Component.objects.create(name="Back office", slug="back-office", is_public=False)
    day = ComponentDay.objects.create
    day(
        component=repayments,
        day=date(2026, 1, 31),
        worst_status="major_outage",
        major_seconds=86400,
    )
    day(component=repayments, day=date(2026, 2, 3), worst_status="major_outage", major_seconds=3600)
    day(
        component=repayments,
        day=date(2026, 2, 10),
        worst_status="partial_outage",
        partial_seconds=6000,
    )
    day(
        component=repayments,
        day=date(2026, 2, 15),
        worst_status="under_maintenance",
        maintenance_seconds=7200,
    )
    day(
        component=repayments,
        day=date(2026, 2, 20),
        worst_status="degraded_performance",
        degraded_seconds=1800,
    )
    day(component=ledger, day=date(2026, 2, 10), worst_status="major_outage", major_seconds=3600)
    day(
        component=ledger, day=date(2026, 2, 16), worst_status="partial_outage", partial_seconds=1200
    )
    incident(repayments, "Night failure", "2026-01-31T23:00", "2026-02-01T00:30")
    incident(
        repayments, "Repayments fail", "2026-02-03T10:00", "2026-02-03T11:00", title_alt="还款失败"
    )
    incident(repayments, "Slow repayments", "2026-02-10T09:00", "2026-02-10T10:40")
    incident(repayments, "Internal only", "2026-02-12T09:00", "2026-02-12T10:00", is_public=False)
    incident(repayments, "January trouble", "2026-01-20T09:00", "2026-01-21T10:00")
    return repayments, ledger


def by_slug(rows):
    return {row.component.slug: row for row in rows}


def test_the_figures_match_the_ones_worked_out_by_hand(history):
    rows = by_slug(availability(*FEB, NOW, use_alt=False))
    assert set(rows) == {"repayments", "ledger"}  # internal components are not reported
    repayments = rows["repayments"]
    assert repayments.tracked_minutes == 40320
    assert repayments.minutes == {
        "operational": 40010,
        "degraded_performance": 30,
        "partial_outage": 100,
        "major_outage": 60,
        "under_maintenance": 120,
    }
    assert repayments.uptime_excluding_maintenance == pytest.approx(100 * (40320 - 90) / 40320)
    assert repayments.uptime_including_maintenance == pytest.approx(100 * (40320 - 210) / 40320)
    assert (repayments.excluding_text, repayments.including_text) == ("99.77%", "99.47%")
    assert [i.title for i in repayments.incidents] == [
        "Night failure",
        "Repayments fail",
        "Slow repayments",
    ]
    assert [i.duration_minutes for i in repayments.incidents] == [90, 60, 100]
    assert repayments.time_to_recovery_minutes == 83


def test_days_before_tracking_are_left_out(history):
    ledger = by_slug(availability(*FEB, NOW, use_alt=False))["ledger"]
    assert ledger.tracked_minutes == 20160
    assert ledger.minutes["major_outage"] == 0
    assert ledger.minutes["operational"] == 20160 - 20
    assert ledger.uptime_excluding_maintenance == pytest.approx(100 * (20160 - 6) / 20160)
    assert ledger.excluding_text == "99.97%"
    assert ledger.time_to_recovery is None


def test_today_counts_up_to_now_with_the_ongoing_status(history):
    repayments, _ledger = history
    repayments.status = "major_outage"
    repayments.status_since = local("2026-03-10T11:00")
    repayments.save()
    today = date(2026, 3, 10)
    row = by_slug(availability(today, today, NOW, use_alt=False))["repayments"]
    # 00:00 to 12:00 is 720 minutes, 60 of them in a major outage: 660 / 720 = 91.66...%.
    assert row.tracked_minutes == 720
    assert row.minutes["major_outage"] == 60
    assert row.excluding_text == "91.66%"


def test_the_page_shows_the_figures_and_prints_without_the_console(staff_client, history):
    response = staff_client.get(
        "/console/reports/", {"from": "2026-02-01", "to": "2026-02-28", "lang": "en"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Availability report" in page
    assert "2026-02-01 to 2026-02-28" in page
    assert "99.77%" in page and "99.47%" in page
    assert "83 min" in page
    assert 'class="filters card report-form no-print"' in page


def test_the_page_is_in_chinese_when_asked(staff_client, history):
    response = staff_client.get(
        "/console/reports/", {"from": "2026-02-01", "to": "2026-02-28", "lang": "zh-hans"}
    )
    page = response.content.decode()
    assert "可用性报告" in page
    assert "部分故障按 30% 计为停机" in page
    assert "还款" in page and "还款失败" in page
    assert "99.77%" in page


def test_the_csv_has_one_row_per_component(staff_client, history):
    response = staff_client.get(
        "/console/reports/",
        {"from": "2026-02-01", "to": "2026-02-28", "lang": "en", "format": "csv"},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = csv.reader(response.content.decode("utf-8-sig").splitlines())
    assert header == [
        "Component",
        "Uptime, maintenance excluded (%)",
        "Uptime, maintenance included (%)",
        "Operational (minutes)",
        "Degraded performance (minutes)",
        "Partial outage (minutes)",
        "Major outage (minutes)",
        "Under maintenance (minutes)",
        "Incidents",
        "Time to recovery, mean (minutes)",
    ]
    # In the page's order (by name here): 20,160 - 20 = 20,140 operational minutes for the ledger.
    assert rows == [
        ["Ledger", "99.9702", "99.9702", "20140", "0", "20", "0", "0", "0", ""],
        ["Repayments", "99.7767", "99.4791", "40010", "30", "100", "60", "120", "3", "83"],
    ]


def test_the_chinese_csv_names_components_in_chinese(staff_client, history):
    response = staff_client.get(
        "/console/reports/",
        {"from": "2026-02-01", "to": "2026-02-28", "lang": "zh-hans", "format": "csv"},
    )
    header, _ledger, repayments = csv.reader(response.content.decode("utf-8-sig").splitlines())
    assert header[:2] == ["组件", "可用率，不计维护（%）"]
    assert repayments[:2] == ["还款", "99.7767"]


def test_without_a_range_it_shows_last_month(staff_client, history):
    response = staff_client.get("/console/reports/")
    assert (response.context["first"], response.context["last"]) == FEB


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-28", "to": "2026-02-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-02-01"}, "to"),
        ({"from": "2026-04-01", "to": "2026-04-02"}, "from"),
        ({"from": "February", "to": "2026-02-01"}, "from"),
        ({"from": "2026-02-01", "to": "2026-02-28", "lang": "fr"}, "lang"),
    ],
)
def test_a_bad_range_is_refused_with_the_field(staff_client, history, params, field):
    response = staff_client.get("/console/reports/", {"lang": "en", **params})
    assert response.status_code == 400
    assert field in response.context["form"].errors
