"""The live site under gunicorn, its database gone: the public page and JSON still answer 200,
from the snapshot. Two ways a database goes: unreachable from the start (a closed port), and
stopped while the server runs (PostgreSQL behind a TCP relay that the test shuts down)."""

import socket
import threading
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest
from django.db import connection

from statuspage.public.caching import clear_public_cache
from statuspage.public.snapshot import publish
from tests.public import worlds
from tests.servers import LiveSite, free_port

pytestmark = pytest.mark.integration


class Relay:
    """A TCP relay to the database server; `stop()` is the database going away: the listener
    closes and every open connection is cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    def pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        # shutdown() first: on Linux a bare close() leaves a thread blocked in accept() running.
        with suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self.sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def serve(tmp_path: Path, database_url: str, snapshot: Path) -> LiveSite:
    # LiveSite reads the version on every request: with it remembered, a cached page would
    # still be served from the cache for that moment after the database went (which is fine,
    # but not what this test looks at).
    return LiveSite(tmp_path, DATABASE_URL=database_url, STATIC_SNAPSHOT_DIR=str(snapshot))


def fetch(url: str, language: str = "en"):
    request = urllib.request.Request(url, headers={"Accept-Language": language})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def snapshot(transactional_db, tmp_path):
    clear_public_cache()
    worlds.busy(worlds_now())
    target = tmp_path / "snap"
    publish(target)
    return target


def worlds_now():
    from django.utils import timezone

    return timezone.now()


def test_the_page_is_served_from_the_snapshot_when_the_database_is_unreachable(snapshot, tmp_path):
    url = f"postgres://postgres@127.0.0.1:{free_port()}/statuspage"
    site = serve(tmp_path, url, snapshot)
    base = site.base
    try:
        status, headers, body = fetch(f"{base}/", "zh-CN")
        assert status == 200
        assert headers["X-Served-From"] == "snapshot"
        assert "实时状态暂时不可用" in body.decode()
        status, headers, body = fetch(f"{base}/api/v2/summary.json")
        assert status == 200
        assert body == (snapshot / "api/v2/summary.json").read_bytes()
    finally:
        site.stop()


def test_the_page_falls_back_when_postgresql_stops_under_a_running_server(snapshot, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    settings_dict = connection.settings_dict
    relay = Relay(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432))
    user = settings_dict["USER"]
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    url = f"postgres://{user}{password}@127.0.0.1:{relay.port}/{settings_dict['NAME']}"
    site = serve(tmp_path, url, snapshot)
    base = site.base
    try:
        status, headers, body = fetch(f"{base}/api/v2/summary.json")
        assert status == 200
        assert "X-Served-From" not in headers
        relay.stop()
        status, headers, body = fetch(f"{base}/")
        assert status == 200
        assert headers["X-Served-From"] == "snapshot"
        assert "This page was last updated at" in body.decode()
        status, headers, _ = fetch(f"{base}/api/v2/incidents.json")
        assert status == 200
        assert headers["X-Served-From"] == "snapshot"
    finally:
        relay.stop()
        site.stop()
