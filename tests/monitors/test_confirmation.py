import pytest

from monitors.confirmation import (
    Confirmation,
    probe_status,
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
