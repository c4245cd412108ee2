import json
import socket
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory

from statuspage import actions
from statuspage.models import SiteState
from statuspage.public import snapshot
from statuspage.public.caching import clear_public_cache
from statuspage.public.fallback import should_fall_back
from statuspage.public.snapshot import publish, read_meta, refresh_if_stale
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        yield


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database_unreachable():
    """Point the connection at nothing (a closed port, or a file in no directory) until the
    block ends: every query, including connecting, fails as it does when the server is down."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/directory/statuspage.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def test_publish_swaps_a_link_to_a_complete_build(db, tmp_path):
    worlds.busy(NOW)
    target = tmp_path / "site"
    publish(target)
    first = target.resolve()
    assert target.is_symlink()
    assert (target / "index.html").is_file()
    assert read_meta(target)["version"] == SiteState.current().version
    actions.set_component_status(
        worlds.Component.objects.get(slug="bureau"), "major_outage", actor=None, via="system"
    )
    publish(target)
    assert target.resolve() != first
    assert not first.exists(), "the replaced build is removed"
    summary = json.loads((target / "api/v2/summary.json").read_text())
    assert summary["status"]["indicator"] == "critical"


def test_publish_takes_the_place_of_a_plain_directory(db, tmp_path):
    worlds.components()
    target = tmp_path / "site"
    target.mkdir()
    (target / "old.txt").write_text("old")
    publish(target)
    assert target.is_symlink()
    assert not (target / "old.txt").exists()


def test_a_failed_build_leaves_the_published_snapshot_alone(db, tmp_path, monkeypatch):
    worlds.components()
    target = tmp_path / "site"
    publish(target)
    published = target.resolve()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "write_tree", broken)
    with pytest.raises(OSError):
        publish(target)
    assert target.resolve() == published
    assert [p.name for p in tmp_path.iterdir() if ".build-" in p.name] == [published.name]


def test_refresh_writes_each_version_once(db, tmp_path):
    c = worlds.components()
    actions.set_component_status(c["bureau"], "partial_outage", actor=None, via="system")
    target = tmp_path / "site"
    version = SiteState.current().version
    assert refresh_if_stale(target) == version
    assert refresh_if_stale(target) is None
    assert SiteState.current().snapshot_version == version
    actions.set_component_status(c["bureau"], "operational", actor=None, via="system")
    assert refresh_if_stale(target) == version + 1
    assert read_meta(target)["version"] == version + 1


def test_a_claimed_version_is_not_written_by_another_worker(db, tmp_path):
    c = worlds.components()
    actions.set_component_status(c["bureau"], "partial_outage", actor=None, via="system")
    state = SiteState.current()
    # Another worker claimed this version a moment ago (the conditional UPDATE it ran).
    SiteState.objects.filter(pk=1).update(snapshot_version=state.version)
    assert refresh_if_stale(tmp_path / "site") is None
    assert not (tmp_path / "site").exists()


def test_a_failed_refresh_gives_its_claim_back(db, tmp_path, monkeypatch):
    c = worlds.components()
    actions.set_component_status(c["bureau"], "partial_outage", actor=None, via="system")
    before = SiteState.current().snapshot_version

    def broken(target, now=None):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "publish", broken)
    with pytest.raises(OSError):
        refresh_if_stale(tmp_path / "site")
    assert SiteState.current().snapshot_version == before


def test_the_beat_task_refreshes_the_configured_directory(db, tmp_path, settings):
    from statuspage.public.tasks import refresh_snapshot

    settings.STATIC_SNAPSHOT_DIR = str(tmp_path / "snap")
    c = worlds.components()
    actions.set_component_status(c["bureau"], "partial_outage", actor=None, via="system")
    assert refresh_snapshot() == SiteState.current().version
    assert (tmp_path / "snap" / "api/v2/summary.json").is_file()


# --- the database-down fallback ---------------------------------------------------------------


@pytest.fixture
def published(transactional_db, tmp_path, settings):
    settings.STATIC_SNAPSHOT_DIR = str(tmp_path / "snap")
    worlds.busy(NOW)
    publish(settings.STATIC_SNAPSHOT_DIR)
    clear_public_cache()
    return tmp_path / "snap"


def test_the_page_is_served_from_the_snapshot_when_the_database_is_down(published, client):
    with database_unreachable():
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["X-Served-From"] == "snapshot"
    html = response.content.decode()
    assert "Live status is temporarily unavailable. This page was last updated at" in html
    assert (
        '<time datetime="2026-11-20T12:00:00+08:00">20 Nov 2026, 12:00 (UTC+08:00)</time>' in html
    )
    assert html.index("snapshot-notice") > html.index("<body")
    assert "Credit checks are slow" in html


def test_the_notice_is_in_the_visitors_language(published, client):
    with database_unreachable():
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    html = response.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "实时状态暂时不可用" in html


def test_the_json_is_served_from_the_snapshot(published, client):
    with database_unreachable():
        response = client.get("/api/v2/summary.json")
    assert response.status_code == 200
    assert response["X-Served-From"] == "snapshot"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.content == (published / "api/v2/summary.json").read_bytes()


def test_a_page_the_snapshot_lacks_is_a_503_not_a_500(published, client):
    with database_unreachable():
        response = client.get("/incidents/999999")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_without_a_snapshot_it_is_a_503(transactional_db, client, settings, tmp_path):
    settings.STATIC_SNAPSHOT_DIR = str(tmp_path / "never-published")
    with database_unreachable():
        assert client.get("/api/v2/status.json").status_code == 503


@pytest.mark.parametrize(
    "method, path",
    [("get", "/console/"), ("get", "/admin/"), ("get", "/api/v1/incidents"), ("post", "/")],
)
def test_only_public_reads_are_answered_from_it(method, path):
    request = getattr(RequestFactory(), method)(path)
    assert not should_fall_back(request)
    assert should_fall_back(RequestFactory().get("/incidents/3"))


def test_the_snapshot_cannot_be_escaped(published, client):
    with database_unreachable():
        response = client.get("/../../../etc/passwd")
    assert response.status_code in (404, 503)


def test_two_workers_at_once_write_a_version_once(transactional_db, tmp_path):
    c = worlds.components()
    actions.set_component_status(c["bureau"], "partial_outage", actor=None, via="system")
    version = SiteState.current().version
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(refresh_if_stale(tmp_path / "site"))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [version, None]
    assert len([p for p in tmp_path.iterdir() if ".build-" in p.name]) == 1


def test_beat_runs_the_refresh_task_every_few_seconds(settings):
    from statuspage.celery import app

    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "statuspage.public.tasks.refresh_snapshot"
    )
    assert entry["schedule"] <= 10
    app.loader.import_default_modules()
    assert "statuspage.public.tasks.refresh_snapshot" in app.tasks
