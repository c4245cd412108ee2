"""The rules that turn single results into confirmed failures, as plain functions.

A vantage point confirms a failure after `failure_threshold` consecutive failed runs and a
recovery after `success_threshold` consecutive good ones; in between it keeps what it had, so
a single blip changes nothing. A probe is failing when a quorum of its vantage points confirm
the failure; a failure confirmed by fewer is that vantage point's network, not an outage. A
silent vantage point (no result for too long: an agent cut off, a worker gone) is unknown and
left out of the quorum.
Nothing here touches the database, a broker or the clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from statuspage import status as rules

# The severity of a failed run whose verdict names none (a condition given without one, an
# error, a crashed check).
DEFAULT_SEVERITY = rules.PARTIAL


@dataclass(frozen=True)
class Confirmation:
    """The counters of one probe at one vantage point."""

    consecutive_failures: int = 0
    consecutive_successes: int = 0
    is_down: bool = False

    @property
    def in_transition(self) -> bool:
        """A failure or a recovery has been seen but not confirmed yet: the time to recheck
        faster than the normal interval."""
        if self.is_down:
            return self.consecutive_successes > 0
        return self.consecutive_failures > 0


def step(
    current: Confirmation, ok: bool, failure_threshold: int, success_threshold: int
) -> Confirmation:
    """The counters after one more run."""
    if ok:
        successes = current.consecutive_successes + 1
        is_down = current.is_down and successes < success_threshold
        return replace(
            current, consecutive_failures=0, consecutive_successes=successes, is_down=is_down
        )
    failures = current.consecutive_failures + 1
    is_down = current.is_down or failures >= failure_threshold
    return replace(current, consecutive_failures=failures, consecutive_successes=0, is_down=is_down)


def quorum_size(vantage_points: int, quorum: int | None) -> int:
    """How many vantage points must confirm a failure: the probe's own quorum (at most the
    number of vantage points), else more than half of them."""
    if quorum:
        return max(1, min(quorum, vantage_points))
    return vantage_points // 2 + 1


def probe_status(down_severities: Iterable[str], quorum: int) -> str:
    """A probe's status from the severities of its vantage points that confirm a failure:
    the worst of them once a quorum confirm it, else operational."""
    severities = [s or DEFAULT_SEVERITY for s in down_severities]
    if len(severities) < quorum:
        return rules.OPERATIONAL
    return rules.worst(severities)


class VantagePointState(Protocol):
    """What the quorum reads of a probe's state at one vantage point (a `ProbeState`)."""

    vantage_point: str
    is_down: bool
    severity: str


def probe_status_across(
    states: Iterable[VantagePointState],
    vantage_points: Sequence[str],
    quorum: int | None,
    silent: Collection[str] = (),
) -> str:
    """A probe's status from its states at its `vantage_points` (states of vantage points it
    no longer lists do not count). The quorum is taken over the vantage points that are not
    `silent`: a silent one is unknown, so it can neither open an outage nor hide one that the
    others confirm. When every one of them is silent, their last known states stand: nothing
    newer is known, and the page then says that the checks are delayed (`monitors.stall`)."""
    heard = [vp for vp in vantage_points if vp not in silent] or list(vantage_points)
    down = [state.severity for state in states if state.is_down and state.vantage_point in heard]
    return probe_status(down, quorum_size(len(heard), quorum))


def worse_severity(current: str, seen: str) -> str:
    """The worse of two failure severities (blank counts as nothing seen yet)."""
    if not current:
        return seen or DEFAULT_SEVERITY
    return rules.worst((current, seen or DEFAULT_SEVERITY))
