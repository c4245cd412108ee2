"""`make run`'s supervisor, with short-lived dummy commands: one line per start, exit and
restart, a log file per process, restarts with backoff, and everything stopped on SIGTERM."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from statuspage import run
from statuspage.run import Supervisor, banner
from tests.servers import wait_for

EXIT_3 = [
    sys.executable,
    "-c",
    "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)",
]
SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def supervisor(tmp_path, clock, **commands) -> tuple[Supervisor, list[str]]:
    lines: list[str] = []
    sup = Supervisor(commands, tmp_path / "log", say=lines.append, clock=clock, cwd=tmp_path)
    return sup, lines


def wait_for_exit(sup: Supervisor, name: str) -> None:
    sup.children[name].process.wait(timeout=10)


def test_each_process_logs_to_its_own_file_and_gets_one_line_per_start(tmp_path, clock):
    sup, lines = supervisor(tmp_path, clock, simulator=EXIT_3, web=SLEEP)
    sup.start_all()
    try:
        wait_for_exit(sup, "simulator")
        log = (tmp_path / "log" / "simulator.log").read_text()
        assert "out\n" in log and "err\n" in log
        assert len(lines) == 2
        pid = sup.children["simulator"].process.pid
        assert lines[0].endswith(f"simulator  started (pid {pid}), log log/simulator.log")
        assert "web        started (pid" in lines[1]
    finally:
        sup.stop_all(timeout=5)


def test_a_process_that_exits_is_restarted_with_a_growing_backoff(tmp_path, clock):
    sup, lines = supervisor(tmp_path, clock, simulator=EXIT_3, web=SLEEP)
    sup.start_all()
    try:
        web_pid = sup.children["web"].process.pid
        delays = []
        for expected in (1, 2, 4, 8):
            wait_for_exit(sup, "simulator")
            sup.poll()
            assert lines[-1].endswith(f"exited with 3 after 0 s; restarting in {expected} s")
            delays.append(expected)
            clock.now += expected - 0.1
            sup.poll()
            assert sup.children["simulator"].process is None  # not yet
            clock.now += 0.1
            sup.poll()
            assert "simulator  restarted (pid" in lines[-1]
        assert sup.children["web"].process.pid == web_pid  # the others run on untouched
        assert sup.children["web"].process.poll() is None
        assert (tmp_path / "log" / "simulator.log").read_text().count("starting ---") == 5
    finally:
        sup.stop_all(timeout=5)


def test_the_backoff_stops_at_30_seconds(tmp_path, clock):
    sup, lines = supervisor(tmp_path, clock, simulator=EXIT_3)
    sup.children["simulator"].quick_exits = 9
    sup.start_all()
    wait_for_exit(sup, "simulator")
    sup.poll()
    assert lines[-1].endswith("restarting in 30 s")


def test_a_process_that_ran_for_a_while_is_restarted_after_the_first_backoff(tmp_path, clock):
    sup, lines = supervisor(tmp_path, clock, simulator=EXIT_3)
    sup.children["simulator"].quick_exits = 5
    sup.start_all()
    wait_for_exit(sup, "simulator")
    clock.now += 90
    sup.poll()
    assert lines[-1].endswith("exited with 3 after 90 s; restarting in 1 s")


def test_an_observed_process_that_exits_is_not_restarted(tmp_path, clock):
    lines: list[str] = []
    sup = Supervisor(
        {"simulator": EXIT_3, "web": SLEEP},
        tmp_path / "log",
        say=lines.append,
        clock=clock,
        cwd=tmp_path,
        observed=frozenset({"simulator"}),
    )
    sup.start_all()
    try:
        wait_for_exit(sup, "simulator")
        sup.poll()
        assert lines[-1].endswith("simulator  exited with 3 after 0 s; observed, not restarted")
        clock.now += 3600
        sup.poll()
        assert sup.children["simulator"].process is None
        assert len(lines) == 3
        assert sup.children["web"].process.poll() is None
    finally:
        sup.stop_all(timeout=5)


def test_a_killed_process_is_named_by_its_signal(tmp_path, clock):
    sup, lines = supervisor(tmp_path, clock, beat=SLEEP)
    sup.start_all()
    sup.children["beat"].process.kill()
    wait_for_exit(sup, "beat")
    sup.poll()
    assert "beat  was killed by SIGKILL after 0 s; restarting in 1 s" in lines[-1]


def test_stop_all_stops_everything_and_kills_what_ignores_sigterm(tmp_path, clock):
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)",
    ]
    sup, lines = supervisor(tmp_path, clock, web=SLEEP, worker=stubborn)
    sup.start_all()
    log = tmp_path / "log" / "worker.log"
    while "ready" not in log.read_text():
        sup.children["worker"].process.poll()
    processes = [child.process for child in sup.children.values()]
    sup.stop_all(timeout=0.5)
    assert all(process.poll() is not None for process in processes)
    assert any(line.endswith("web     stopped") for line in lines)
    assert lines[-1].endswith("worker  did not stop in time; killed")
    sup.poll()
    assert all(
        child.process is None or child.process.poll() is not None for child in sup.children.values()
    )


def test_a_process_that_will_not_stop_is_killed_with_its_children(tmp_path, clock):
    # Like gunicorn's master and workers: the parent ignores SIGTERM, and so does its child.
    stubborn = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    sup, lines = supervisor(tmp_path, clock, web=[sys.executable, "-c", stubborn])
    sup.start_all()
    log = tmp_path / "log" / "web.log"

    def printed_pid() -> str | None:
        last = log.read_text().rstrip().rsplit("\n", 1)[-1]
        return last if last.isdigit() else None

    child = int(wait_for(printed_pid, what="the child's pid"))
    sup.stop_all(timeout=0.5)
    assert lines[-1].endswith("web  did not stop in time; killed")

    def gone() -> bool:  # killed: at worst a zombie until init reaps it
        try:
            return Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    # Its own child dies too (SIGKILL takes effect when the kernel next schedules it).
    wait_for(gone, timeout=10, what="the child to be killed")


def test_sigterm_stops_the_supervisor_and_every_process(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from statuspage.run import Supervisor, supervise
        sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
        say = lambda line: print(line, flush=True)
        sup = Supervisor({{"a": sleep, "b": sleep}}, Path({str(tmp_path)!r}), say=say)
        sys.exit(supervise(sup, interval=0.05))
        """
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    pids = []
    for _ in range(2):
        line = runner.stdout.readline()
        pids.append(int(line.split("pid ")[1].split(")")[0]))
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=15) == 0
    rest = runner.stdout.read()
    assert rest.count("stopped") == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_banner_shows_the_urls_the_login_and_where_the_logs_are(monkeypatch):
    monkeypatch.setattr(run, "VAR_DIR", run.ROOT / "var")
    monkeypatch.setattr(run, "LOG_DIR", run.ROOT / "var" / "log")
    text = banner("8077", "user demo, password s3cret")
    assert "http://127.0.0.1:8077/" in text
    assert "http://127.0.0.1:8077/health" in text
    assert "user demo, password s3cret" in text
    assert "  Logs             var/log/<process>.log\n" in text


def test_the_banner_shows_a_var_dir_elsewhere_in_full(monkeypatch):
    monkeypatch.setattr(run, "VAR_DIR", Path("/srv/status"))
    monkeypatch.setattr(run, "LOG_DIR", Path("/srv/status/log"))
    text = banner("8077", "user demo")
    assert "  Emails           /srv/status/mail/\n" in text
    assert "  Logs             /srv/status/log/<process>.log\n" in text
