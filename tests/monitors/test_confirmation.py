from dataclasses import dataclass

import pytest

from monitors.confirmation import (
    Confirmation,
    probe_status,
    probe_status_across,
    quorum_size,
    step,
    worse_severity,
)


def run_sequence(results: str, failure_threshold=3, success_threshold=2) -> list[bool]:
    """'FFS…' -> whether the vantage point is confirmed down after each run."""
    current = Confirmation()
    downs = []
    for mark in results:
        current = step(current, mark == "S", failure_threshold, success_threshold)
        downs.append(current.is_down)
    return downs


@pytest.mark.parametrize(
    "results, thresholds, expected",
    [
        ("F", (3, 2), [False]),
        ("FF", (3, 2), [False, False]),
        ("FFF", (3, 2), [False, False, True]),
        ("FFSFF", (3, 2), [False, False, False, False, False]),
        ("FFFS", (3, 2), [False, False, True, True]),
        ("FFFSS", (3, 2), [False, False, True, True, False]),
        ("FFFSFSS", (3, 2), [False, False, True, True, True, True, False]),
        ("F", (1, 1), [True]),
        ("FS", (1, 1), [True, False]),
    ],
)
def test_thresholds_confirm_failures_and_recoveries(results, thresholds, expected):
    assert run_sequence(results, *thresholds) == expected


@pytest.mark.parametrize(
    "state, in_transition",
    [
        (Confirmation(), False),
        (Confirmation(consecutive_failures=1), True),
        (Confirmation(consecutive_failures=3, is_down=True), False),
        (Confirmation(consecutive_successes=1, is_down=True), True),
    ],
)
def test_it_rechecks_only_while_something_is_unconfirmed(state, in_transition):
    assert state.in_transition is in_transition


@pytest.mark.parametrize(
    "vantage_points, quorum, expected",
    [(1, None, 1), (2, None, 2), (3, None, 2), (4, None, 3), (5, None, 3), (3, 1, 1), (2, 5, 2)],
)
def test_quorum_is_more_than_half_unless_set(vantage_points, quorum, expected):
    assert quorum_size(vantage_points, quorum) == expected


@pytest.mark.parametrize(
    "down, quorum, expected",
    [
        ([], 1, "operational"),
        (["partial_outage"], 2, "operational"),
        (["partial_outage", "degraded_performance"], 2, "partial_outage"),
        (["major_outage", ""], 2, "major_outage"),
        ([""], 1, "partial_outage"),
    ],
)
def test_a_probe_fails_with_the_worst_severity_once_a_quorum_confirms(down, quorum, expected):
    assert probe_status(down, quorum) == expected


def test_the_worst_severity_seen_while_failing_is_kept():
    assert worse_severity("", "degraded_performance") == "degraded_performance"
    assert worse_severity("major_outage", "degraded_performance") == "major_outage"
    assert worse_severity("degraded_performance", "") == "partial_outage"


@dataclass(frozen=True)
class State:
    vantage_point: str
    is_down: bool
    severity: str = ""


def states(marks: str) -> list[State]:
    """ "local:D edge:U": D confirmed down (major outage), U up, - no state yet."""
    found = []
    for mark in marks.split():
        name, state = mark.split(":")
        if state != "-":
            found.append(State(name, state == "D", "major_outage" if state == "D" else ""))
    return found


@pytest.mark.parametrize(
    "case, marks, quorum, silent, expected",
    [
        # Two vantage points, a majority (both) needed.
        ("both heard, one down: its network", "local:D edge:U", None, "", "operational"),
        ("both heard, both down", "local:D edge:D", None, "", "major_outage"),
        ("silent agent cannot hide local's outage", "local:D edge:U", None, "edge", "major_outage"),
        ("silent agent cannot open an outage", "local:U edge:D", None, "edge", "operational"),
        ("silent agent's last 'down' does not count", "local:U edge:D", 2, "edge", "operational"),
        ("the heard one up, the silent one down", "local:U edge:D", 1, "edge", "operational"),
        ("all silent: last known stands", "local:D edge:D", None, "local edge", "major_outage"),
        ("all silent, last known up", "local:U edge:U", None, "local edge", "operational"),
        ("a single silent vantage point keeps its state", "local:D", None, "local", "major_outage"),
        # Three vantage points: the quorum is taken over those heard.
        ("3 heard, 2 of 3 down", "a:D b:D c:U", None, "", "major_outage"),
        ("b silent: 1 of 2 heard down is not a majority", "a:D b:D c:U", None, "b", "operational"),
        ("c silent: 2 of 2 heard down", "a:D b:D c:U", None, "c", "major_outage"),
        ("b, c silent: a alone decides", "a:D b:U c:U", None, "b c", "major_outage"),
        ("quorum 2 with one heard becomes 1", "a:D b:U c:U", 2, "b c", "major_outage"),
        ("quorum 2, two heard, one down", "a:D b:U c:D", 2, "c", "operational"),
        ("no state yet at a heard one counts as up", "a:D b:- c:D", None, "c", "operational"),
        # Names that are not the probe's vantage points change nothing.
        ("silence elsewhere is ignored", "local:D edge:U", None, "tokyo", "operational"),
        ("a state of an unlisted vantage point", "local:U edge:U old:D", 1, "", "operational"),
    ],
)  # fmt: skip
def test_a_silent_vantage_point_is_unknown_in_the_quorum(case, marks, quorum, silent, expected):
    listed = [m.split(":")[0] for m in marks.split() if not m.startswith("old")]
    status = probe_status_across(states(marks), listed, quorum, set(silent.split()))
    assert status == expected, case
