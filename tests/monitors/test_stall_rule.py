"""The rule that says monitoring has stalled: a pure function of the clock, the dispatcher's
last run, each vantage point's last result and the threshold."""

from datetime import UTC, datetime, timedelta

import pytest

from monitors.stall import (
    Silence,
    default_threshold,
    silences,
    stalled_since,
    stalling,
    vantage_point_threshold,
)

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
    # Each vantage point runs probes of its own: any one falling silent freezes some status.
    alone = [{name} for name in last_results]
    assert stalled_since(NOW, last_dispatch, last_results, T, alone) == expected, case


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


@pytest.mark.parametrize(
    ("case", "quiet", "probes", "expected"),
    [
        ("nothing quiet", "", ["local edge"], ""),
        ("an agent silent, its probes heard at local", "edge", ["local edge", "local"], ""),
        ("both of a probe's vantage points", "edge local", ["local edge"], "edge local"),
        ("a probe run only from the silent agent", "edge", ["local edge", "edge"], "edge"),
        ("the dispatcher always stalls", "dispatcher", ["local"], "dispatcher"),
        ("the dispatcher, and edge covered", "dispatcher edge", ["local edge"], "dispatcher"),
        ("a quiet name no probe lists", "gone", ["local"], ""),
        ("a probe without vantage points", "edge", ["", "local edge"], ""),
    ],
)
def test_only_a_probe_left_with_no_vantage_point_heard_stalls_the_page(
    case, quiet, probes, expected
):
    silent = [Silence(name, ago(300)) for name in quiet.split()]
    found = stalling(silent, [set(names.split()) for names in probes])
    assert [s.source for s in found] == expected.split(), case


@pytest.mark.parametrize(
    ("threshold", "shortest", "seconds"),
    [(120, 30, 120), (120, 60, 180), (45, 30, 90), (600, 300, 900), (120, 5, 120)],
)
def test_a_vantage_point_may_stay_quiet_three_of_its_own_intervals(threshold, shortest, seconds):
    limit = vantage_point_threshold(timedelta(seconds=threshold), shortest)
    assert limit == timedelta(seconds=seconds)


def test_each_vantage_point_is_held_to_its_own_threshold():
    thresholds = {"edge": timedelta(seconds=900)}
    quiet = silences(NOW, ago(2), {"local": ago(200), "edge": ago(800)}, T, thresholds)
    assert [s.source for s in quiet] == ["local"]
