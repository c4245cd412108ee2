"""Staff-written Markdown never brings a script, an event handler or a javascript: link into
a console page."""

from html.parser import HTMLParser

import pytest

from statuspage import actions
from statuspage.models import AuditEntry

VIA = AuditEntry.Via.CONSOLE
HOSTILE = (
    "Hello <script>alert('s')</script>\n\n"
    '<img src="x" onerror="alert(1)">\n\n'
    '[click](javascript:alert(2)) and <a href="javascript:alert(3)">this</a>'
)


class ElementCollector(HTMLParser):
    """Every element the browser would build, with its attributes. Text inside a <textarea>
    (the raw Markdown in an edit form) is text, not elements, exactly as for a browser."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_clean(content: str) -> None:
    parser = ElementCollector()
    parser.feed(content)
    assert parser.elements, "nothing parsed"
    for tag, attrs in parser.elements:
        assert tag != "script"
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:")


@pytest.fixture
def incident(staff):
    incident = actions.open_incident(
        title="Hostile", body=HOSTILE, body_alt=HOSTILE, actor=staff, via=VIA
    )
    actions.add_note(body=HOSTILE, incident=incident, actor=staff, via=VIA)
    actions.resolve_incident(incident, body="done", actor=staff, via=VIA)
    actions.write_postmortem(incident, body=HOSTILE, actor=staff, via=VIA)
    return incident


def test_it_sanitises_updates_notes_and_the_postmortem(staff_client, incident):
    response = staff_client.get(f"/console/incidents/{incident.pk}/")
    content = response.content.decode()
    assert content.count("Hello") >= 4  # body, body_alt, note, postmortem all rendered
    assert_clean(content)


def test_it_sanitises_maintenance_descriptions_and_notes(staff_client, staff):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    maintenance = actions.schedule_maintenance(
        title="Hostile",
        description=HOSTILE,
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        actor=staff,
        via=VIA,
    )
    actions.add_note(body=HOSTILE, maintenance=maintenance, actor=staff, via=VIA)
    content = staff_client.get(f"/console/maintenance/{maintenance.pk}/").content.decode()
    assert content.count("Hello") >= 3
    assert_clean(content)


def test_it_escapes_titles(staff_client, staff):
    incident = actions.open_incident(
        title="<script>alert('t')</script>", body="x", actor=staff, via=VIA
    )
    content = staff_client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "<script>alert" not in content
    assert "&lt;script&gt;" in content
