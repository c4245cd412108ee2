import re
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


def test_it_shows_the_full_timeline_components_and_postmortem(lending):
    incident = open_incident(
        {lending.bureau: "major_outage", lending.internal: "major_outage"},
        NOW - timedelta(hours=3),
        title="Bureau down",
        title_alt="征信中心故障",
    )
    actions.post_incident_update(
        incident,
        status="monitoring",
        body="A fix is in.",
        actor=None,
        via="system",
        now=NOW - timedelta(hours=2),
    )
    actions.resolve_incident(
        incident, body="All good.", actor=None, via="system", now=NOW - timedelta(hours=1)
    )
    actions.write_postmortem(incident, body="## Why\nA **bad** deploy.", actor=None, via="system")
    actions.add_note(body=f"{SECRET} note", actor=None, via="system", incident=incident)
    html = get(f"/incidents/{incident.pk}")
    assert '<h1 id="incident-title">Bureau down</h1>' in html
    for body in ("All good.", "A fix is in.", "Checks against the bureau"):
        assert body in html
    assert "Central bank credit reference" in html
    assert "A <strong>bad</strong> deploy." in html
    assert "Postmortem" in html
    assert SECRET not in html
    zh = get(f"/incidents/{incident.pk}", "zh-hans")
    assert "征信中心故障" in zh and "人行征信中心" in zh and "事后复盘" in zh and "已解决" in zh


def test_postmortem_headings_sit_below_the_pages_own(lending):
    incident = open_incident({lending.bureau: "major_outage"}, NOW - timedelta(hours=3))
    actions.resolve_incident(incident, body="Fixed.", actor=None, via="system", now=NOW)
    actions.write_postmortem(
        incident, body="# Summary\nBad deploy.\n\n## Timeline\nAt 10:00.", actor=None, via="system"
    )
    html = get(f"/incidents/{incident.pk}")
    headings = re.findall(r"<h(\d)[^>]*>([^<]*)</h\d>", html)
    levels = {text: int(level) for level, text in headings}
    assert levels["Postmortem"] == 2
    assert levels["Summary"] == 3 and levels["Timeline"] == 4
    assert [level for level, _ in headings].count("1") == 1  # the page's title only


def test_it_hides_an_unpublished_postmortem(lending):
    incident = open_incident({lending.bureau: "major_outage"}, NOW - timedelta(hours=3))
    actions.resolve_incident(incident, body="Done.", actor=None, via="system")
    actions.write_postmortem(
        incident, body="Draft analysis", actor=None, via="system", publish=False
    )
    assert "Draft analysis" not in get(f"/incidents/{incident.pk}")


def test_it_is_404_for_an_internal_incident(client, lending):
    incident = open_incident({lending.internal: "major_outage"}, NOW, is_public=False)
    assert client.get(f"/incidents/{incident.pk}").status_code == 404
    assert client.get("/incidents/999999").status_code == 404
