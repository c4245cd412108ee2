import logging
import threading
from datetime import UTC, datetime

import pytest

from monitors.agent.client import SiteClient
from monitors.agent.spool import Spool
from monitors.agent.uploader import Uploader
from tests.servers import free_port

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def result(probe: int, n: int = 0) -> dict:
    at = datetime.fromtimestamp(NOW.timestamp() + n, UTC).isoformat()
    return {"probe": probe, "scheduled_at": at, "checked_at": at, "ok": True,
            "latency_ms": 1.0, "status_code": 200, "failed_condition": "", "seen": "",
            "error": "", "severity": ""}  # fmt: skip


@pytest.fixture
def spool(tmp_path):
    s = Spool(tmp_path / "spool.sqlite3", 86400 * 365, 1_000_000, clock=NOW.timestamp)
    yield s
    s.close()


def uploader(spool, url, **options) -> Uploader:
    return Uploader(spool, SiteClient(url, "spa_test"), threading.Event(), **options)


def test_results_go_in_order_gzipped_and_leave_the_spool_after_a_200(spool, fake_site):
    spool.add([result(1, n) for n in range(3)])
    u = uploader(spool, fake_site.url)
    assert u.upload_once() == u.pause_seconds  # a batch that was not full: pause
    assert fake_site.accepted == [result(1, n) for n in range(3)]
    assert len(spool) == 0
    assert u.upload_once() is None  # nothing left


def test_batches_hold_at_most_5000_results(spool, fake_site):
    spool.add([result(1, n) for n in range(12_000)])
    u = uploader(spool, fake_site.url)
    while u.upload_once() is not None:
        pass
    assert [len(batch) for batch in fake_site.batches] == [5000, 5000, 2000]
    assert fake_site.accepted == [result(1, n) for n in range(12_000)]


def test_refused_results_are_dropped_with_the_sites_reason(spool, fake_site, caplog):
    fake_site.refuse_probes = {9}
    spool.add([result(1), result(9), result(1, 1)])
    with caplog.at_level(logging.WARNING):
        uploader(spool, fake_site.url).upload_once()
    assert len(spool) == 0
    assert "probe 9 is not assigned to vantage point edge" in caplog.text


def test_a_refused_token_keeps_the_spool_and_backs_off_to_30_seconds(spool, fake_site, caplog):
    fake_site.answers = [(401, {"detail": "this agent token was revoked"})] * 7
    spool.add([result(1), result(2)])
    u = uploader(spool, fake_site.url)
    with caplog.at_level(logging.WARNING):
        waits = [u.upload_once() for _ in range(7)]
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    assert len(spool) == 2
    assert caplog.text.count("this agent token was revoked") == 1  # said once, not per retry
    assert u.upload_once() == u.pause_seconds  # the token works again
    assert len(spool) == 0 and u.backoff == 0


def test_an_unreachable_site_keeps_the_spool(spool):
    spool.add([result(1)])
    u = uploader(spool, f"http://127.0.0.1:{free_port()}")
    assert u.upload_once() == 1
    assert u.upload_once() == 2
    assert len(spool) == 1


def test_a_server_error_keeps_the_spool(spool, fake_site):
    fake_site.answers = [(503, {"detail": "busy"})]
    spool.add([result(1)])
    u = uploader(spool, fake_site.url)
    assert u.upload_once() == 1
    assert len(spool) == 1
    u.upload_once()
    assert fake_site.accepted == [result(1)]


def test_too_large_a_batch_halves_the_batch_size(spool, fake_site):
    fake_site.answers = [(413, {"detail": "too large"})]
    spool.add([result(1, n) for n in range(100)])
    u = uploader(spool, fake_site.url, batch_size=40)
    assert u.upload_once() == 0
    while u.upload_once() is not None:
        pass
    assert [len(batch) for batch in fake_site.batches] == [40, 20, 20, 20, 20, 20]
    assert len(fake_site.accepted) == 100


def test_a_batch_the_site_cannot_parse_is_narrowed_down_to_the_bad_result(spool, fake_site):
    # Batches of 8, 4 and 2 are refused with the bad result (the first) in them, then it alone.
    bad = (400, {"detail": [{"loc": ["body"], "msg": "bad"}]})
    fake_site.answers = [bad] * 4
    spool.add([result(1, n) for n in range(8)])
    u = uploader(spool, fake_site.url, batch_size=8)
    while u.upload_once() is not None:
        pass
    assert [len(batch) for batch in fake_site.batches] == [8, 4, 2, 1, 7]
    assert fake_site.accepted == [result(1, n) for n in range(1, 8)]


def test_results_the_bounds_dropped_are_reported_with_the_next_upload(tmp_path, fake_site, caplog):
    small = Spool(tmp_path / "small.sqlite3", 86400 * 365, 3, clock=NOW.timestamp)
    small.add([result(1, n) for n in range(5)])
    with caplog.at_level(logging.WARNING):
        uploader(small, fake_site.url).upload_once()
    assert "2 results were dropped from the spool" in caplog.text
    assert fake_site.accepted == [result(1, n) for n in range(2, 5)]


def test_a_site_that_records_slowly_gets_smaller_batches(spool, fake_site):
    # Each request "takes" 20 s by the uploader's clock: the next batch is half as big (10 s'
    # worth), so that no request outlasts the web server's timeout.
    ticks = iter(range(0, 10_000, 20))
    spool.add([result(1, n) for n in range(9000)])
    u = uploader(spool, fake_site.url, clock=lambda: next(ticks))
    u.upload_once()
    u.upload_once()
    assert [len(batch) for batch in fake_site.batches] == [5000, 2500]
