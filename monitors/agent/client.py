"""The agent's two requests to the site (the protocol: AGENT_PROTOCOL.md in the project's
notes, the site side in `monitors/agent_views.py`): its assignment, with ETag, and a batch of
results, gzip-compressed JSON, both with the agent's bearer token."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

import requests

USER_AGENT = "statuspage-agent/1"
ASSIGNMENT_PATH = "/api/v1/agent/assignment"
RESULTS_PATH = "/api/v1/agent/results"
# (connect, read) seconds: a batch of 5,000 results may take the site a while to record.
TIMEOUT = (5.0, 120.0)


@dataclass(frozen=True)
class Answer:
    """The site's answer: its status, its JSON (None if none or unreadable), its ETag."""

    status: int
    document: dict | None = None
    etag: str = ""

    @property
    def reason(self) -> str:
        """The `detail` of a refusal, as text (a list of errors for a 400)."""
        detail = (self.document or {}).get("detail") if isinstance(self.document, dict) else None
        if detail is None:
            return f"HTTP {self.status}"
        return detail if isinstance(detail, str) else json.dumps(detail)[:500]


class SiteClient:
    """One HTTP session to the site. Raises `requests.RequestException` when the site cannot
    be reached; any HTTP answer, an error status included, is an `Answer`."""

    def __init__(self, url: str, token: str, timeout: tuple[float, float] = TIMEOUT) -> None:
        self.base = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT})

    def close(self) -> None:
        self.session.close()

    def assignment(self, etag: str = "") -> Answer:
        headers = {"If-None-Match": etag} if etag else {}
        response = self.session.get(
            self.base + ASSIGNMENT_PATH, headers=headers, timeout=self.timeout
        )
        return answer(response)

    def post_results(self, results_json: list[str]) -> Answer:
        """Post results given as JSON texts (as the spool keeps them), joined, not re-encoded."""
        body = ('{"results":[' + ",".join(results_json) + "]}").encode()
        response = self.session.post(
            self.base + RESULTS_PATH,
            data=gzip.compress(body, compresslevel=5),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            timeout=self.timeout,
        )
        return answer(response)


def answer(response: requests.Response) -> Answer:
    with response:
        try:
            document = response.json() if response.content else None
        except ValueError:
            document = None
        return Answer(response.status_code, document, response.headers.get("ETag", ""))
