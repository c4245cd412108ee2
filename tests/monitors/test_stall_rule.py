"""The rule that says monitoring has stalled: a pure function of the clock, the dispatcher's
last run, each vantage point's last result and the threshold."""

from datetime import UTC, datetime, timedelta

import pytest

from monitors.stall import default_threshold, silences, stalled_since

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
T = timedelta(seconds=120)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("case", "last_dispatch", "last_results", "expected"),
    [
        ("all fresh", ago(2), {"local": ago(10), "shanghai": ago(30)}, None),
        ("no vantage point yet, dispatcher fresh", ago(2), {}, None),
        ("exactly at the threshold is not stale", ago(120), {"local": ago(120)}, None),
        ("dispatcher silent past the threshold", ago(121), {"local": ago(5)}, ago(121)),
        ("dispatcher silent, nothing to dispatch yet", ago(400), {}, ago(400)),
        ("one vantage point silent", ago(2), {"local": ago(5), "shanghai": ago(300)}, ago(300)),
        ("both silent: since the first", ago(200), {"local": ago(150)}, ago(200)),
        ("vantage point fell silent first", ago(130), {"local": ago(500)}, ago(500)),
        ("a clock ahead of ours is not silence", NOW + T, {"local": NOW + T}, None),
    ],
)
def test_stalled_since(case, last_dispatch, last_results, expected):
    assert stalled_since(NOW, last_dispatch, last_results, T) == expected, case


def test_silences_name_each_quiet_source_oldest_first():
    quiet = silences(NOW, ago(200), {"local": ago(10), "beijing": ago(900)}, T)
    assert [(s.source, s.since) for s in quiet] == [
        ("beijing", ago(900)),
        ("dispatcher", ago(200)),
    ]
    assert [s.label for s in quiet] == ["vantage point beijing", "the dispatcher (beat)"]


@pytest.mark.parametrize(
    ("shortest", "seconds"),
    [(None, 120), (5, 120), (15, 120), (40, 120), (41, 123), (60, 180), (300, 900)],
)
def test_the_default_threshold_is_three_intervals_and_at_least_two_minutes(shortest, seconds):
    assert default_threshold(shortest) == timedelta(seconds=seconds)
