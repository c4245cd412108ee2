"""Real servers a test owns and may stop: a private Redis, a private PostgreSQL cluster, the
site under gunicorn, Celery workers. Never the machine's shared servers, which other tests rely
on."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import suppress
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 20) -> None:
    # Waiting on another process, not on the clock: poll until it listens.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if process is not None and process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"exited with {process.returncode}: {output}")
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def wait_for(predicate, timeout: float = 30.0, what: str = ""):
    """The first true value of `predicate()`, polled: for waiting on another process (a worker,
    a server), never on a clock that the test could move."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout} s waiting for {what or predicate}")


def stop_process(process: subprocess.Popen) -> str:
    """Terminate a server (killed if it lingers); its output, if it was piped."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return (output or b"").decode(errors="replace")


def wait_until_closed(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} still open")


class PrivateRedis:
    """`redis-server` on a free port, without persistence; `stop()` and `start()` again on the
    same port are a Redis outage and its end."""

    def __init__(self, directory: Path) -> None:
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            pytest.skip("needs redis-server (apt-get install redis-server)")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None
        wait_until_closed(self.port)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary directory, pg_ctl on a free
    port). As root, the cluster runs as the `postgres` user, as PostgreSQL requires."""

    def __init__(self) -> None:
        self.pg_ctl = shutil.which("pg_ctl")
        self.initdb = shutil.which("initdb")
        if self.pg_ctl is None or self.initdb is None:
            pytest.skip("needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql)")
        self.as_user: list[str] = []
        # Under /tmp, which every user can reach (pytest's own temporary root is private).
        self.directory = Path(tempfile.mkdtemp(prefix="statuspage-pg-"))
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("as root, needs runuser to run PostgreSQL as the postgres user")
            self.as_user = ["runuser", "-u", "postgres", "--"]
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self.data = self.directory / "data"
        self.port = free_port()

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def run(self, *command: str) -> None:
        result = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise AssertionError(f"{command[0]} failed: {result.stdout}{result.stderr}")

    def init(self) -> PrivatePostgres:
        self.run(self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(self.pg_ctl, "-D", str(self.data), "-o", options, "-w", "-l",
                 str(self.directory / "log"), "start")  # fmt: skip
        wait_for_port(self.port)

    def stop(self) -> None:
        self.run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        wait_until_closed(self.port)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        with suppress(AssertionError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def test_database_url() -> str:
    """The URL of the test database, for a process the test starts."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is the answer under test, not a step to follow


NO_REDIRECTS = urllib.request.build_opener(KeepRedirects)


class LiveSite:
    """The site under gunicorn (one worker, two threads), with the environment given. Its
    output goes to a file (a pipe nobody reads until the end would fill and stall it)."""

    def __init__(self, tmp_path: Path, *, also_on: tuple[str, ...] = (), **environment: str):
        """`also_on`: more addresses to listen on (the same port), e.g. a veth's."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "statuspage.settings",
            "VAR_DIR": str(tmp_path / "var"),
            "PUBLIC_VERSION_TTL_MS": "0",
            **environment,
        }
        self.log = tmp_path / f"site-{self.port}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "statuspage.wsgi:application", "--bind",
                 f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "2", "--log-level",
                 "warning", "--timeout", "60",
                 *[arg for host in also_on for arg in ("--bind", f"{host}:{self.port}")]],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for_port(self.port, self.process)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.log.read_text(errors='replace')}") from None

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str):
        """(status, headers, body) of a request; an HTTP error status is an answer too."""
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers
        )
        try:
            with NO_REDIRECTS.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def get(self, path: str, **headers: str):
        return self.request("GET", path, **headers)

    def stop(self) -> str:
        """Stop the site; what it wrote."""
        stop_process(self.process)
        return self.log.read_text(errors="replace")


class CeleryWorker:
    """`celery -A statuspage worker` on the test database and `broker_url`, with the worker
    options given (queues, pool, concurrency, log level). It runs in a process group of its own,
    its pool's children included: `kill()` is a crash, `stop()` a shutdown."""

    def __init__(
        self,
        broker_url: str,
        *options: str,
        name: str | None = None,
        log: Path | None = None,
        **environment: str,
    ) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "statuspage.settings",
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": broker_url,
            **environment,
        }
        name = name or f"test-{uuid.uuid4().hex[:8]}"
        argv = [sys.executable, "-m", "celery", "-A", "statuspage", "worker", "-n", f"{name}@%h"]
        # Its output goes to `log`, else to the test's (pytest shows it when the test fails).
        output = open(log, "wb") if log is not None else None
        try:
            self.process = subprocess.Popen(
                [*argv, *options],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,
            )
        finally:
            if output is not None:
                output.close()  # the worker has its own copy

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        # The whole group, even when the main process is gone: its pool's children may not be.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


class BackgroundLoop:
    """`loop()` in a daemon thread for the length of a `with` block, told to end by
    `self.stopped`; the thread's database connections are closed when it ends."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def loop(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        from django.db import connections

        try:
            self.loop()
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(20)
