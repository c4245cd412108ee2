"""The real thing for the agent's end-to-end tests: a `statuspage-agent` process (optionally
inside a network namespace) and a local target it probes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.servers import wait_for

__all__ = ["AGENT", "INTERVAL", "Agent", "Target", "wait_for"]

AGENT = Path(sys.executable).parent / "statuspage-agent"
INTERVAL = 10  # the site's shortest probe interval


class Target(ThreadingHTTPServer):
    """A local HTTP service answering 200 (or 500 once `failing`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        target = self
        self.failing = False

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(500 if target.failing else 200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        super().__init__((host, port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://{host}:{self.server_port}/health"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Agent:
    """`statuspage-agent` as a process, its output in a log file; `prefix` runs it elsewhere
    (e.g. `ip netns exec NAME`)."""

    def __init__(self, url: str, token: str, directory: Path, prefix: tuple = ()) -> None:
        self.spool = directory / "agent-spool.sqlite3"
        self.log_path = directory / "agent.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*prefix, str(AGENT), "--url", url, "--spool", str(self.spool),
                 "--refresh", "1", "--log-level", "DEBUG"],
                env={**os.environ, "STATUSPAGE_AGENT_TOKEN": token},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def spooled(self) -> int:
        """Results waiting in the spool (read beside the agent: SQLite in WAL mode)."""
        if not self.spool.exists():
            return 0
        with sqlite3.connect(self.spool, timeout=10) as connection:
            return connection.execute("SELECT count(*) FROM results").fetchone()[0]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


if __name__ == "__main__":
    # A target inside another network namespace: `python -m tests.monitors.agent.live PORT`.
    Target(port=int(sys.argv[1]))
    threading.Event().wait()
