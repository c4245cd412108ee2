import json
from datetime import UTC, datetime

from monitors.agent.spool import Spool, id_ranges

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC).timestamp()


def result(probe: int, at: float = NOW) -> dict:
    moment = datetime.fromtimestamp(at, UTC).isoformat()
    return {"probe": probe, "scheduled_at": moment, "checked_at": moment, "ok": True}


def spool(tmp_path, max_age=3600.0, max_results=1000, clock=lambda: NOW) -> Spool:
    return Spool(tmp_path / "spool.sqlite3", max_age, max_results, clock=clock)


def test_results_come_out_oldest_first_as_the_json_that_went_in(tmp_path):
    s = spool(tmp_path)
    s.add([result(1), result(2)])
    s.add([result(3)])
    rows = s.oldest(2)
    assert [json.loads(body)["probe"] for _, body in rows] == [1, 2]
    assert json.loads(rows[0][1]) == result(1)
    assert len(s) == 3


def test_results_survive_reopening_the_file(tmp_path):
    s = spool(tmp_path)
    s.add([result(1), result(2)])
    s.close()
    again = spool(tmp_path)
    assert len(again) == 2
    assert [json.loads(body)["probe"] for _, body in again.oldest(10)] == [1, 2]


def test_deleting_taken_results_leaves_the_others_in_order(tmp_path):
    s = spool(tmp_path)
    s.add([result(n) for n in range(1, 8)])
    ids = [row_id for row_id, _ in s.oldest(7)]
    s.delete(ids[:3] + ids[5:6])
    assert [json.loads(body)["probe"] for _, body in s.oldest(10)] == [4, 5, 7]
    assert len(s) == 3


def test_beyond_its_size_the_oldest_are_dropped_and_counted_for_good(tmp_path):
    s = spool(tmp_path, max_results=5)
    assert s.add([result(n) for n in range(1, 5)]) == 0
    assert s.add([result(n) for n in range(5, 9)]) == 3
    assert [json.loads(body)["probe"] for _, body in s.oldest(10)] == [4, 5, 6, 7, 8]
    assert s.take_dropped() == 3
    assert s.take_dropped() == 0  # reported once
    s.close()
    assert spool(tmp_path, max_results=5).dropped_total() == 3


def test_results_older_than_its_age_are_dropped(tmp_path):
    now = [NOW]
    s = spool(tmp_path, max_age=600, clock=lambda: now[0])
    s.add([result(1, NOW - 700), result(2, NOW - 100)])  # the first is already too old
    assert [json.loads(body)["probe"] for _, body in s.oldest(10)] == [2]
    now[0] += 1000
    s.add([result(3, now[0])])
    assert [json.loads(body)["probe"] for _, body in s.oldest(10)] == [3]
    assert s.dropped_total() == 2


def test_id_ranges_group_consecutive_ids():
    assert id_ranges([8, 1, 2, 3, 7]) == [(1, 3), (7, 8)]
    assert id_ranges([]) == []
