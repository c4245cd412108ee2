"""GET /api/v1/reports/availability: the report's figures as JSON (worked out by hand in
tests/console/test_reports.py)."""

from datetime import datetime

import pytest
import time_machine

from tests.console.test_reports import history  # noqa: F401  (the scripted February)

NOW = datetime.fromisoformat("2026-03-10T12:00+08:00")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_it_reports_each_public_component(api, history):  # noqa: F811
    response = api.get("/reports/availability", {"from": "2026-02-01", "to": "2026-02-28"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"], body["time_zone"]) == (
        "2026-02-01",
        "2026-02-28",
        "Asia/Shanghai",
    )
    found = {row["component"]: row for row in body["components"]}
    assert set(found) == {"repayments", "ledger"}
    repayments, ledger = found["repayments"], found["ledger"]
    assert repayments["uptime_percent"] == {
        "maintenance_excluded": 99.7767,
        "maintenance_included": 99.4791,
    }
    assert repayments["minutes"]["partial_outage"] == 100
    assert repayments["time_to_recovery_minutes"] == 83
    assert [i["duration_minutes"] for i in repayments["incidents"]] == [90, 60, 100]
    assert repayments["incidents"][1]["title"] == "Repayments fail"
    assert ledger["tracked_minutes"] == 20160


def test_it_gives_incident_titles_in_chinese_when_asked(api, history):  # noqa: F811
    response = api.get(
        "/reports/availability", {"from": "2026-02-01", "to": "2026-02-28", "lang": "zh-hans"}
    )
    (repayments,) = [row for row in response.json()["components"] if row["name_alt"] == "还款"]
    assert repayments["incidents"][1]["title"] == "还款失败"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-02-28"}, "from"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "2026-02-28", "to": "2026-02-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-02-01"}, "to"),
    ],
)
def test_bad_dates_are_a_400_naming_the_field(api, history, params, field):  # noqa: F811
    response = api.get("/reports/availability", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_it_needs_a_token(anonymous):
    assert anonymous.get("/reports/availability").status_code == 401
