"""How a probe worker's results travel to the recorder (`monitors.recorder`): together, in few
large `record_results` messages, and never lost silently (`monitors.runner` explains the
batching)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings

log = logging.getLogger(__name__)


class ResultSender:
    """The process's one way to the recorder: results from every batch running in the process
    go out together, in a message per PROBE_RESULTS_PER_MESSAGE results or
    PROBE_RESULTS_FLUSH_SECONDS (whichever first), so that the recorder sees a few large
    batches rather than many small ones. A batch waits (`wait_sent`) until its results are
    with the broker before its message may be acknowledged; once no run in the process is
    still under way (`expect`, `add`, `forget`), a waiting batch's results go at once, since
    holding them would only delay its acknowledgement and the page."""

    def __init__(self, publish: Callable[[list[dict]], None]) -> None:
        self.publish = publish
        self.lock = threading.Condition()
        self.pending: list[dict] = []
        self.first_pending_at = 0.0
        self.expected = 0  # runs under way, whose result is still to come
        self.waiting = 0  # batches waiting in `wait_sent`
        self.queued = 0  # results handed in so far
        self.sent = 0  # of those, how many the broker has (or were given up on)
        self.failed_upto = 0  # results up to here were lost with a failed publish
        self.thread = threading.Thread(target=self.loop, daemon=True, name="result-sender")
        self.thread.start()

    def expect(self) -> None:
        """A run has started: its result (`add`) or its absence (`forget`) will follow."""
        with self.lock:
            self.expected += 1

    def forget(self) -> None:
        """An expected run gave no result (it expired before it could start)."""
        with self.lock:
            self.expected -= 1
            self.lock.notify_all()

    def add(self, wire: dict) -> int:
        """Hand in an expected run's result; return its ticket for `wait_sent`."""
        with self.lock:
            if not self.pending:
                self.first_pending_at = time.monotonic()
            self.pending.append(wire)
            self.expected -= 1
            self.queued += 1
            self.lock.notify_all()
            return self.queued

    def wait_sent(self, ticket: int) -> None:
        """Wait until the result with `ticket` (and every earlier one) went out; raise if the
        broker refused it: the batch fails, its results lost like runs dispatched while the
        broker is down (the next slots run as usual)."""
        with self.lock:
            self.waiting += 1
            self.lock.notify_all()
            while self.sent < ticket:
                self.lock.wait()
            self.waiting -= 1
            if ticket <= self.failed_upto:
                raise ConnectionError("results could not be sent to the recorder")

    def loop(self) -> None:
        while True:
            with self.lock:
                while not self.pending:
                    self.lock.wait()
                while len(self.pending) < settings.PROBE_RESULTS_PER_MESSAGE and not (
                    self.waiting and not self.expected
                ):
                    left = self.first_pending_at + settings.PROBE_RESULTS_FLUSH_SECONDS
                    if left <= time.monotonic():
                        break
                    self.lock.wait(left - time.monotonic())
                batch = self.pending[: settings.PROBE_RESULTS_PER_MESSAGE]
                self.pending = self.pending[len(batch) :]
                self.first_pending_at = time.monotonic()
                upto = self.sent + len(batch)
            try:
                self.publish(batch)
            except Exception:
                log.exception("could not send %s results to the recorder", len(batch))
                with self.lock:
                    self.failed_upto = upto
            with self.lock:
                self.sent = upto
                self.lock.notify_all()


class ImmediateSender:
    """Publishes each result at once, in the caller's thread: for eager tasks (tests), whose
    recorder must run inside the caller's transaction."""

    def __init__(self, publish: Callable[[list[dict]], None]) -> None:
        self.publish = publish

    def expect(self) -> None:
        pass

    def forget(self) -> None:
        pass

    def add(self, wire: dict) -> int:
        self.publish([wire])
        return 0

    def wait_sent(self, ticket: int) -> None:
        pass


_senders: dict[Callable, ResultSender] = {}
_senders_lock = threading.Lock()


def sender_for(publish: Callable[[list[dict]], None]) -> ResultSender:
    with _senders_lock:
        if publish not in _senders:
            _senders[publish] = ResultSender(publish)
        return _senders[publish]
