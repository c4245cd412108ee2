import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import feedparser
import icalendar
import pytest
import time_machine
from django.core.management import CommandError, call_command

from monitors.models import Probe
from statuspage.public.caching import clear_public_cache
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def published(db, tmp_path) -> tuple[Path, dict]:
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        world = worlds.busy(NOW)
        # A probe, so that the front page has charts (files of their own, shown by <img>).
        for name in ("bureau", "secret"):
            Probe.objects.create(component=world["components"][name], name="health", kind="http")
        out = StringIO()
        call_command("publish_static", str(tmp_path / "site"), stdout=out)
    assert "Published version" in out.getvalue()
    return tmp_path / "site", world


@pytest.fixture
def site(published) -> Path:
    return published[0]


def check_file(path: Path) -> None:
    """Each kind of file is what it says it is."""
    content = path.read_bytes()
    if path.suffix == ".json":
        json.loads(content)
    elif path.suffix in (".rss", ".atom"):
        assert not feedparser.parse(content).bozo, path
    elif path.suffix == ".ics":
        icalendar.Calendar.from_ical(content)
    elif path.suffix == ".svg":
        ET.fromstring(content)
    elif path.suffix == ".html":
        text = content.decode()
        assert text.lstrip().lower().startswith("<!doctype html>"), path
        HTMLParser().feed(text)
    else:
        raise AssertionError(f"unexpected file {path}")


def test_every_listed_file_exists_and_is_valid(site):
    meta = json.loads((site / "snapshot.json").read_text())
    assert meta["files"]
    for relative in meta["files"]:
        check_file(site / relative)


def test_it_writes_the_whole_public_site(published):
    site, world = published
    expected = [
        "index.html",
        "index.en.html",
        "index.zh-hans.html",
        "history/index.html",
        f"incidents/{world['open'].pk}/index.html",
        f"incidents/{world['open'].pk}/index.zh-hans.html",
        f"maintenance/{world['upcoming'].pk}/index.html",
        "components/bureau/index.html",
        "api/v2/summary.json",
        "api/v2/status.json",
        "api/v2/components.json",
        "api/v2/incidents.json",
        "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances.json",
        "api/v2/scheduled-maintenances/upcoming.json",
        "api/v2/scheduled-maintenances/active.json",
        "feeds/incidents.rss",
        "feeds/incidents.atom",
        "feeds/components/bureau.rss",
        "feeds/components/loan-app.atom",
        "calendar/maintenance.ics",
        "badge.svg",
        "components/bureau/badge.svg",
        "components/bureau/response-time-24h.svg",
        "components/bureau/response-time-7d.svg",
        "static/public/status.css",
    ]
    missing = [name for name in expected if not (site / name).is_file()]
    assert not missing
    assert not list(site.glob("components/risk-engine/*"))  # the internal component's probe


def test_pages_are_in_both_languages(site):
    english = (site / "index.en.html").read_text()
    chinese = (site / "index.zh-hans.html").read_text()
    assert '<html lang="en"' in english
    assert '<html lang="zh-hans"' in chinese
    assert (site / "index.html").read_text() == english


def test_every_link_in_the_pages_resolves_inside_the_snapshot(site):
    from statuspage.public.snapshot import is_document, page_file, same_site_paths

    for page in site.rglob("index.html"):
        base = "/" + str(page.parent.relative_to(site)).strip(".")
        for path in same_site_paths(page.read_text(), base):
            relative = path.lstrip("/") if is_document(path) else page_file(path)
            assert (site / relative).is_file(), f"{base} links to {path}"


def test_nothing_internal_is_published(site):
    for path in site.rglob("*"):
        if path.is_file() and path.suffix != ".css" and path.suffix != ".js":
            assert worlds.SECRET not in path.read_text(errors="replace"), path
    assert not (site / "components/risk-engine").exists()
    assert not (site / "console").exists()


def test_it_needs_a_directory(db, settings):
    settings.STATIC_SNAPSHOT_DIR = ""
    with pytest.raises(CommandError):
        call_command("publish_static")
