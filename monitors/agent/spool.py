"""The agent's spool: every result is written here first, and leaves only once the site has
taken it (answered 200). A SQLite file, so that results survive the site being unreachable
and the agent being restarted.

It also keeps the last assignment, so that an agent restarted while the site cannot be
reached goes on probing; the file is created readable by its owner only.

Bounded by age and by count: results older than `max_age_seconds` (by `checked_at`) and,
beyond `max_results`, the oldest ones are dropped. Drops are counted (in the file, so the
count survives a restart) and the caller logs them. Rows keep their insertion order (an
integer key), which is the order they are uploaded in; each row holds its result as the JSON
text that goes on the wire, so that a batch is joined, not parsed and dumped again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    checked_at REAL NOT NULL,  -- seconds since the epoch, for the age bound
    body TEXT NOT NULL  -- the result as uploaded (JSON)
);
CREATE INDEX IF NOT EXISTS results_checked_at ON results (checked_at);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kept (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# How often, at most, the age bound is applied (it is a DELETE over an index).
AGE_CHECK_SECONDS = 10.0


class Spool:
    """A thread-safe queue of results on disk (one connection behind a lock: writes come from
    the probe threads, reads and deletes from the uploader)."""

    def __init__(
        self,
        path: str | Path,
        max_age_seconds: float,
        max_results: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.max_age_seconds = max_age_seconds
        self.max_results = max_results
        self.clock = clock
        self.lock = threading.Lock()
        # Set whenever results are added: the uploader waits on it when the spool is empty.
        self.added = threading.Event()
        # Private: the kept assignment holds the probes' configs (headers, bodies: secrets).
        self.path.touch(mode=0o600, exist_ok=True)
        self.connection = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        self.connection.execute("PRAGMA journal_mode=WAL")
        # A crash of the agent loses nothing; a power cut may lose the last second or so.
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(SCHEMA)
        self.size = self.connection.execute("SELECT count(*) FROM results").fetchone()[0]
        self.next_age_check = 0.0
        self.dropped_unreported = 0

    def close(self) -> None:
        with self.lock:
            self.connection.close()

    def __len__(self) -> int:
        return self.size

    def add(self, results: Iterable[dict]) -> int:
        """Append results (dicts with an ISO `checked_at`); return how many old ones the
        bounds dropped to make room."""
        rows = [(epoch_seconds(result["checked_at"]), json.dumps(result)) for result in results]
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                self.connection.executemany(
                    "INSERT INTO results (checked_at, body) VALUES (?, ?)", rows
                )
                self.size += len(rows)
                dropped = self._apply_bounds()
                self.connection.execute("COMMIT")
            except BaseException:
                self.connection.execute("ROLLBACK")
                self.size = self.connection.execute("SELECT count(*) FROM results").fetchone()[0]
                raise
        self.added.set()
        return dropped

    def _apply_bounds(self) -> int:
        dropped = 0
        now = self.clock()
        if now >= self.next_age_check:
            self.next_age_check = now + AGE_CHECK_SECONDS
            cursor = self.connection.execute(
                "DELETE FROM results WHERE checked_at < ?", (now - self.max_age_seconds,)
            )
            dropped += cursor.rowcount
        excess = self.size - dropped - self.max_results
        if excess > 0:
            cursor = self.connection.execute(
                "DELETE FROM results WHERE id IN (SELECT id FROM results ORDER BY id LIMIT ?)",
                (excess,),
            )
            dropped += cursor.rowcount
        if dropped:
            self.size -= dropped
            self.dropped_unreported += dropped
            self.connection.execute(
                "INSERT INTO counters (name, value) VALUES ('dropped', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                (dropped,),
            )
        return dropped

    def oldest(self, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` of the oldest results, as (row id, JSON text), in spool order."""
        with self.lock:
            return self.connection.execute(
                "SELECT id, body FROM results ORDER BY id LIMIT ?", (limit,)
            ).fetchall()

    def delete(self, ids: list[int]) -> None:
        """Forget results the site has taken (or refused for good)."""
        if not ids:
            return
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            deleted = 0
            # Uploaded batches are runs of consecutive ids: delete them by range.
            for first, last in id_ranges(ids):
                deleted += self.connection.execute(
                    "DELETE FROM results WHERE id BETWEEN ? AND ?", (first, last)
                ).rowcount
            self.connection.execute("COMMIT")
            self.size -= deleted

    def keep(self, name: str, value: str) -> None:
        """Keep a value beside the results (the last assignment, for a restart while the
        site cannot be reached)."""
        with self.lock:
            self.connection.execute(
                "INSERT INTO kept (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def kept(self, name: str) -> str | None:
        with self.lock:
            row = self.connection.execute(
                "SELECT value FROM kept WHERE name = ?", (name,)
            ).fetchone()
        return row[0] if row else None

    def dropped_total(self) -> int:
        """Results dropped by the bounds over the spool file's whole life."""
        with self.lock:
            row = self.connection.execute(
                "SELECT value FROM counters WHERE name = 'dropped'"
            ).fetchone()
        return row[0] if row else 0

    def take_dropped(self) -> int:
        """Results dropped since the last call (for the uploader's log line)."""
        with self.lock:
            dropped, self.dropped_unreported = self.dropped_unreported, 0
        return dropped


def id_ranges(ids: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]."""
    ranges: list[tuple[int, int]] = []
    for row_id in sorted(ids):
        if ranges and row_id == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], row_id)
        else:
            ranges.append((row_id, row_id))
    return ranges


def epoch_seconds(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()
