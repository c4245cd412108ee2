"""Emptying the spool into the site, in order, in batches; nothing leaves the spool before the
site has answered 200 for it.

- 200: the batch is deleted; results the site refused one by one (a probe not assigned to
  this vantage point, too old for retention, in the future) can never be accepted, so they go
  with it, each logged with the site's reason.
- 400: the body did not parse. Halve the batch until the culprit is alone, then drop it:
  one bad result must not hold back (or take down) 4,999 good ones.
- 413: too large: the batch size is halved for good.
- 401 (a revoked or unknown token), 5xx, no connection: everything stays in the spool; retry
  after a backoff of 1 s doubling to 30 s, logging the reason.

Batches are also sized to the site's pace: one that took longer than TARGET_REQUEST_SECONDS
makes the next ones smaller (and a request that timed out halves them), so that a site
recording slowly (after a long outage, under load) is never sent a batch that outlasts its
web server's request timeout (gunicorn's default is 30 s) and is retried forever.
"""

from __future__ import annotations

import logging
import threading
import time

import requests

from monitors.agent.client import SiteClient
from monitors.agent.spool import Spool

log = logging.getLogger(__name__)

MAX_BATCH = 5000
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
TARGET_REQUEST_SECONDS = 10.0
# Refusals logged one by one per batch; the rest are counted.
REFUSALS_LOGGED = 10


class Uploader:
    """`upload_once()` makes one attempt and says how long to wait before the next; `run()`
    loops on it until `stopped` is set."""

    def __init__(
        self,
        spool: Spool,
        client: SiteClient,
        stopped: threading.Event,
        batch_size: int = MAX_BATCH,
        pause_seconds: float = 2.0,
        clock=time.monotonic,
    ) -> None:
        self.spool = spool
        self.client = client
        self.stopped = stopped
        self.limit = max(1, min(MAX_BATCH, batch_size))  # halved by each 413
        self.size = self.limit  # below the limit while a 400 is being narrowed down
        self.pause_seconds = pause_seconds
        self.clock = clock
        self.backoff = 0.0
        self.failing_since_reason = ""
        self.uploaded = 0

    def run(self) -> None:
        while not self.stopped.is_set():
            wait = self.upload_once()
            if wait is None:  # nothing to send: wait for a result
                self.spool.added.wait(1.0)
                self.spool.added.clear()
            elif wait:
                self.stopped.wait(wait)

    def upload_once(self) -> float | None:
        """One attempt; the seconds to wait before the next (0: at once, None: the spool is
        empty)."""
        rows = self.spool.oldest(self.size)
        if not rows:
            return None
        ids = [row_id for row_id, _ in rows]
        started = self.clock()
        try:
            answer = self.client.post_results([body for _, body in rows])
        except requests.RequestException as exc:
            if isinstance(exc, requests.Timeout):
                self.size = max(1, len(rows) // 2)
            return self.retry_later(f"the site cannot be reached ({type(exc).__name__})")
        if answer.status == 200:
            self.taken(ids, answer.document or {})
            full = len(rows) >= self.size
            # Next: as many as the site records in TARGET_REQUEST_SECONDS at this pace.
            elapsed = max(self.clock() - started, 0.001)
            paced = int(len(rows) * TARGET_REQUEST_SECONDS / elapsed)
            self.size = max(1, min(self.limit, paced))
            return 0.0 if full else self.pause_seconds
        if answer.status == 400:
            if len(rows) > 1:
                self.size = max(1, len(rows) // 2)
                return 0.0
            log.error("the site refused a result it cannot parse, dropped: %s", answer.reason)
            self.spool.delete(ids)
            self.size = self.limit
            return 0.0
        if answer.status == 413:
            self.limit = self.size = max(1, len(rows) // 2)
            log.warning("the site found a batch too large: batches of %d from now on", self.limit)
            return 0.0
        if answer.status == 401:
            return self.retry_later(f"the site refused the agent's token: {answer.reason}")
        return self.retry_later(f"the site answered {answer.status}: {answer.reason}")

    def taken(self, ids: list[int], document: dict) -> None:
        refused = document.get("refused") or []
        for refusal in refused[:REFUSALS_LOGGED]:
            log.warning(
                "the site refused a result of probe %s, dropped: %s",
                refusal.get("probe"),
                refusal.get("reason"),
            )
        if len(refused) > REFUSALS_LOGGED:
            log.warning("... and %d more refused results, dropped", len(refused) - REFUSALS_LOGGED)
        self.spool.delete(ids)
        self.uploaded += len(ids)
        if self.backoff:
            log.info("the site takes results again; %d waiting in the spool", len(self.spool))
        self.backoff = 0.0
        self.failing_since_reason = ""
        dropped = self.spool.take_dropped()
        if dropped:
            log.warning(
                "%d results were dropped from the spool (too old or too many) since the last "
                "upload; %d over the spool's life",
                dropped,
                self.spool.dropped_total(),
            )
        log.debug(
            "uploaded %d: %s accepted, %s duplicates, %d refused",
            len(ids),
            document.get("accepted"),
            document.get("duplicates"),
            len(refused),
        )

    def retry_later(self, reason: str) -> float:
        self.backoff = min(MAX_BACKOFF, self.backoff * 2) if self.backoff else FIRST_BACKOFF
        if reason != self.failing_since_reason:  # once per reason, not once per retry
            log.warning(
                "%s; %d results kept in the spool, retrying with backoff",
                reason,
                len(self.spool),
            )
            self.failing_since_reason = reason
        return self.backoff
