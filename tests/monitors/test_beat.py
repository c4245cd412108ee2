"""Two beats at once: the lease (monitors.beat) and the dispatcher behind it.

The races need a real database server: run with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_NAME (skipped on in-memory SQLite, whose
connections cannot be shared between threads)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection, connections

from monitors.beat import BEAT, hold_lease, release_lease
from monitors.models import Lease, ProbeState
from monitors.scheduler import dispatch_due
from statuspage.celery import app

from .conftest import START

BROKER = os.environ.get("MONITORS_TEST_BROKER", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parents[2]
LEASE = 15  # the default BEAT_LEASE_SECONDS
RENEW = LEASE / 3


def at(seconds: float):
    return START + timedelta(seconds=seconds)


@pytest.mark.django_db
def test_the_first_beat_takes_the_lease_and_the_second_waits():
    assert hold_lease(BEAT, "a", at(0), LEASE)
    assert not hold_lease(BEAT, "b", at(1), LEASE)
    assert hold_lease(BEAT, "a", at(RENEW), LEASE)
    assert not hold_lease(BEAT, "b", at(LEASE), LEASE)  # renewed at 5 s: held until 20 s
    lease = Lease.objects.get()
    assert (lease.holder, lease.since, lease.expires_at) == ("a", at(0), at(RENEW + LEASE))


@pytest.mark.django_db
def test_a_dead_holder_is_replaced_within_30_seconds():
    assert hold_lease(BEAT, "a", at(0), LEASE)
    # "a" dies just after renewing; "b" keeps trying at every one of its own renewals.
    tries = [at(0.5 + RENEW * k) for k in range(20)]
    taken = next(moment for moment in tries if hold_lease(BEAT, "b", moment, LEASE))
    assert taken - at(0) <= timedelta(seconds=30)
    assert taken - at(0) <= timedelta(seconds=LEASE + RENEW)
    # The old holder, back from a pause, learns at its next renewal that it lost the lease.
    assert not hold_lease(BEAT, "a", taken + timedelta(seconds=1), LEASE)
    assert Lease.objects.get().holder == "b"


@pytest.mark.django_db
def test_a_stopped_holder_gives_the_lease_back_and_another_takes_it_at_once():
    assert hold_lease(BEAT, "a", at(0), LEASE)
    release_lease(BEAT, "b")  # not its lease: nothing happens
    assert not hold_lease(BEAT, "b", at(1), LEASE)
    release_lease(BEAT, "a")
    assert hold_lease(BEAT, "b", at(2), LEASE)
    assert Lease.objects.get().since == at(2)


# --- races, each beat with its own database connection ----------------------------------------


@pytest.fixture
def shared_database():
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and ("memory" in name or name == ":memory:"):
        pytest.skip("threads need a database file or server (set DATABASE_URL)")


def together(*calls):
    """Run the calls at the same moment, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # reported by the assertions
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_of_beats_claiming_at_the_same_moment_exactly_one_gets_the_lease(shared_database):
    for round_ in range(5):
        now = at(round_ * (LEASE + 1))  # the previous round's lease has expired
        outcomes = together(
            *[lambda h=h, n=now: hold_lease(BEAT, f"beat-{h}", n, LEASE) for h in range(4)]
        )
        assert sorted(outcomes) == [False, False, False, True], outcomes


@pytest.fixture
def broker_client():
    client = redis.Redis.from_url(BROKER)
    client.delete("probes.sh", "probes.sz")
    yield client
    client.delete("probes.sh", "probes.sz")


def sent_runs(client) -> list[tuple[int, str, str]]:
    """(probe id, vantage point, slot) of every run in the run_probes messages on the two
    queues."""
    runs = []
    for queue in ("probes.sh", "probes.sz"):
        for raw in client.lrange(queue, 0, -1):
            args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
            vantage_point, wires = args
            runs += [(probe_id, vantage_point, slot) for probe_id, slot, _, _ in wires]
    return runs


def dispatch_loop(name: str, ticks: list, barrier: threading.Barrier, leased: bool, dies_at):
    """One beat's dispatcher, tick by tick on an explicit clock (2 s apart), in step with the
    other beat through `barrier`; with `leased`, it dispatches only while holding the lease.
    Returns the moments at which it dispatched."""

    def loop():
        dispatched = []
        with app.connection_for_write(BROKER) as broker_connection:
            for now in ticks:
                alive = dies_at is None or now < dies_at
                barrier.wait()
                if alive and (not leased or hold_lease(BEAT, name, now, LEASE)):
                    dispatch_due(now, broker_connection=broker_connection)
                    dispatched.append(now)
        return dispatched

    return loop


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("leased", [True, False], ids=["with the lease", "without it"])
def test_two_beats_at_once_dispatch_each_probe_once_per_slot(
    shared_database, broker_client, make_probe, make_component, leased
):
    for i in range(10):
        make_probe(make_component(f"c{i}"), vantage_points=["sh", "sz"], interval_seconds=10)
    ticks = [at(2 * k) for k in range(60)]  # two minutes
    barrier = threading.Barrier(2)
    one, two = together(
        dispatch_loop("one", ticks, barrier, leased, None),
        dispatch_loop("two", ticks, barrier, leased, None),
    )
    assert not isinstance(one, Exception) and not isinstance(two, Exception), (one, two)
    runs = sent_runs(broker_client)
    assert runs, "nothing was dispatched"
    assert [run for run, count in Counter(runs).items() if count > 1] == []
    # Every (probe, vantage point) ran on each of its slots, about 12 in two minutes.
    per_state = Counter((probe_id, vp) for probe_id, vp, _ in runs)
    assert len(per_state) == 20 and set(per_state.values()) <= {11, 12, 13}
    if leased:
        # Whichever claimed first dispatched on every tick, the standby never.
        assert sorted([one, two], key=len) == [[], ticks]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_when_the_lease_holder_dies_the_other_beat_dispatches_within_30_seconds(
    shared_database, broker_client, make_probe, make_component
):
    for i in range(5):
        make_probe(make_component(f"c{i}"), vantage_points=["sh", "sz"], interval_seconds=10)
    ticks = [at(2 * k) for k in range(90)]
    barrier = threading.Barrier(2)
    died = at(60)
    assert hold_lease(BEAT, "one", at(-1), LEASE)  # "one" is the holder from the start
    one, two = together(
        dispatch_loop("one", ticks, barrier, True, died),
        dispatch_loop("two", ticks, barrier, True, None),
    )
    assert not isinstance(one, Exception) and not isinstance(two, Exception), (one, two)
    assert one[-1] == at(58) and two and two[0] > died
    assert two[0] - one[-1] <= timedelta(seconds=30)
    runs = sent_runs(broker_client)
    assert [run for run, count in Counter(runs).items() if count > 1] == []
    # After the takeover each state is due at once (the gap is not replayed), then on its phase.
    assert ProbeState.objects.filter(next_run_at__lte=ticks[-1]).count() == 0


# --- two real beat processes ------------------------------------------------------------------


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def dispatch_senders(client) -> Counter:
    """How many dispatch_due_probes messages each sending process (its pid) put on the broker."""
    senders: Counter = Counter()
    for raw in client.lrange("default", 0, -1):
        headers = json.loads(raw)["headers"]
        if headers["task"] == "monitors.tasks.dispatch_due_probes":
            senders[int(headers["origin"].split("@")[0].removeprefix("gen"))] += 1
    return senders


def wait_until(predicate, timeout: float, what: str):
    """Real time: the beats are processes of their own, whose clocks cannot be moved."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_beat_processes_send_from_one_and_fail_over_when_it_is_killed(
    shared_database, tmp_path
):
    client = redis.Redis.from_url(BROKER)
    client.delete("default")
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="statuspage.settings",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=BROKER,
        BEAT_LEASE_SECONDS="3",
        PROBE_DISPATCH_SECONDS="1",
    )
    beats = {}
    try:
        for name in ("one", "two"):
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "statuspage", "beat", "-l", "WARNING"]
                + ["-s", str(tmp_path / f"schedule-{name}")],
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
            beats[process.pid] = process
        holder = wait_until(
            lambda: Lease.objects.filter(name=BEAT).exclude(holder="").first(), 30, "a holder"
        )
        leader = int(holder.holder.split(":")[1])
        standby = next(pid for pid in beats if pid != leader)
        wait_until(lambda: dispatch_senders(client)[leader] >= 3, 15, "the leader's dispatches")
        assert dispatch_senders(client)[standby] == 0

        os.killpg(leader, signal.SIGKILL)
        beats[leader].wait(10)
        killed = time.monotonic()
        wait_until(lambda: dispatch_senders(client)[standby], 30, "the standby's dispatches")
        # Lease 3 s, renewed every second: taken over within about 4 s (30 s with the default).
        assert time.monotonic() - killed < 3 * 4 / 3 + 3

        beats[standby].send_signal(signal.SIGTERM)
        beats[standby].wait(15)
        assert Lease.objects.get(name=BEAT).holder == ""  # given back on a clean stop
    finally:
        for process in beats.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        client.delete("default")
