"""A stand-in for the site's two agent endpoints, for the tests of the agent's own behaviour
(spool, retries, batching). It implements the protocol only as far as those tests need; the
end-to-end tests run the real site (test_agent_site.py, test_agent_netns.py)."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeSite:
    """Answers the assignment with `probes` (ETag by content) and results with the next
    status of `answers` (200 once they run out), remembering every batch it was sent."""

    def __init__(self) -> None:
        self.probes: list[dict] = []
        self.vantage_point = "edge"
        self.answers: list[tuple[int, dict]] = []
        self.batches: list[list[dict]] = []  # each posted batch, accepted or not
        self.accepted: list[dict] = []
        self.refuse_probes: set[int] = set()
        self.assignment_requests: list[str] = []  # the If-None-Match of each
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/api/v1/agent/assignment":
                    return self.reply(404, {"detail": "not found"})
                body = {"vantage_point": site.vantage_point, "probes": site.probes,
                        "server_time": "2026-12-02T02:40:00+00:00"}  # fmt: skip
                etag = f'"{hash(json.dumps(site.probes, sort_keys=True)) & 0xFFFFFFFF:x}"'
                site.assignment_requests.append(self.headers.get("If-None-Match", ""))
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return None
                return self.reply(200, body, ETag=etag)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                results = json.loads(raw)["results"]
                with site.lock:
                    site.batches.append(results)
                    status, answer = site.answers.pop(0) if site.answers else (200, None)
                    if status == 200 and answer is None:
                        answer = site.take(results)
                return self.reply(status, answer)

            def reply(self, status, document, **headers):
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def take(self, results: list[dict]) -> dict:
        refused = []
        for index, result in enumerate(results):
            if result["probe"] in self.refuse_probes:
                reason = f"probe {result['probe']} is not assigned to vantage point edge"
                refused.append({"index": index, "probe": result["probe"], "reason": reason})
            else:
                self.accepted.append(result)
        return {"accepted": len(results) - len(refused), "duplicates": 0, "refused": refused,
                "received_at": "2026-12-02T02:40:00+00:00"}  # fmt: skip


@pytest.fixture
def fake_site():
    site = FakeSite()
    yield site
    site.server.shutdown()
    site.server.server_close()
