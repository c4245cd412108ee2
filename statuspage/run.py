"""`make run`: prepare the embedded setup and start every process; Ctrl-C stops them all.

Prepares (migrate, demo staff user, example config, the `edge` agent's token, static files),
then runs the lending platform simulator, the web server (gunicorn), a Celery worker for the
default queue, a probe worker for the local vantage point (it uses only the broker), the
recorder that stores what the probe workers found (monitors/recorder.py), the single beat, and
a remote agent (`statuspage-agent`) for the vantage point `edge`, which reaches the site over
HTTP like one in another data centre would.

The terminal stays readable: the URLs and the demo login, then one line per process start,
exit or restart. Each process writes to `$VAR_DIR/log/<name>.log` (VAR_DIR defaults to `var/`,
as in the settings; the preparation logs to `prepare.log`). A site process that exits is
started again after a backoff (1 s, doubling up to 30 s, back to 1 s once it has run for a
minute). The simulator is observed, not supervised: it is the platform the site monitors, so
when it dies it stays down and the site shows the outage (start it again by hand with
`python -m examples.simulator`). Ctrl-C or SIGTERM stops everything.

EXAMPLE_CONFIG names another config file to apply at start (the tests use a small one).

Why not a kept supervisor: honcho (like foreman) stops everything when one process exits,
which is what this replaced; supervisord restarts a process that ran past `startsecs` at once,
with no delay, and gives one that fails sooner up as FATAL after `startretries` (a broker
outage would leave the workers down), besides wanting a config file and a control socket;
circus brings ZeroMQ. The supervisor below is about 130 lines, tested with real short-lived
processes (tests/core/test_run.py) and for real (tests/core/test_run_live.py).

A little over 400 lines: the preparation, the process list and the supervisor are one
program that `make run` starts; the supervisor part is the one to split out if it grows.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
EXAMPLE_CONFIG = Path(
    os.environ.get("EXAMPLE_CONFIG") or ROOT / "examples" / "lending-platform.yaml"
)
VAR_DIR = ROOT / (os.environ.get("VAR_DIR") or "var")  # as in the settings; absolute wins
LOG_DIR = VAR_DIR / "log"
# Where a random demo password is kept (var/ is this machine's own data, like the database).
DEMO_PASSWORD_FILE = VAR_DIR / "demo-password"
# Processes watched but never restarted: the simulator is the monitored platform, and its
# death is an outage for the site to show, not a fault of the site.
OBSERVED = frozenset({"simulator"})
# The demo's remote agent: its vantage point, its token (made once, kept like the password) and
# the spool its results wait in while the site is down.
AGENT_VANTAGE_POINT = "edge"
AGENT_TOKEN_FILE = VAR_DIR / "agent-token"
AGENT_SPOOL = VAR_DIR / "agent-spool.sqlite3"


class PrepareFailed(Exception):
    pass


def manage(log, *args: str, env: dict | None = None) -> str:
    """Run a management command, its output appended to `log`; return that output."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    log.write(f"$ manage.py {' '.join(args)}\n{result.stdout}{result.stderr}")
    log.flush()
    if result.returncode != 0:
        raise PrepareFailed(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def saved_demo_password() -> str | None:
    try:
        return DEMO_PASSWORD_FILE.read_text().strip() or None
    except OSError:
        return None


def save_demo_password(password: str) -> None:
    DEMO_PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_PASSWORD_FILE.touch(mode=0o600)
    DEMO_PASSWORD_FILE.write_text(password + "\n")


def ensure_demo_user(log) -> str:
    """Make the demo staff user unless it exists; return its login as a line to show. A random
    password is kept under var/ so that every `make run` can show it, not only the first."""
    env = dict(os.environ)
    username = env.get("DEMO_USERNAME", "demo")
    chosen = env.get("DEMO_PASSWORD") or saved_demo_password()
    password = chosen or secrets.token_urlsafe(12)
    said = manage(log, "ensure_demo_user", env={**env, "DEMO_PASSWORD": password})
    if said.startswith("Created"):
        if not env.get("DEMO_PASSWORD"):
            save_demo_password(password)
        return f"user {username}, password {password}"
    if chosen:
        return f"user {username}, password {password}"
    return f"user {username}; reset its password with manage.py changepassword {username}"


def ensure_agent_token(log) -> None:
    """Make the demo agent's token unless one is kept under var/ (`make clean` forgets both
    the database and the token)."""
    if AGENT_TOKEN_FILE.exists() and AGENT_TOKEN_FILE.read_text().strip():
        return
    token = manage(log, "create_agent_token", AGENT_VANTAGE_POINT).strip()
    AGENT_TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    AGENT_TOKEN_FILE.touch(mode=0o600)
    AGENT_TOKEN_FILE.write_text(token + "\n")


def prepare(log) -> str:
    """Migrate, make the demo user, apply the example config, make the agent's token, collect
    static files; return the demo login as a line to show."""
    manage(log, "migrate", "--noinput", "-v", "0")
    login = ensure_demo_user(log)
    if EXAMPLE_CONFIG.exists():
        manage(log, "apply_config", str(EXAMPLE_CONFIG))
    ensure_agent_token(log)
    manage(log, "collectstatic", "--noinput", "-v", "0")
    return login


def commands(port: str, vantage_point: str) -> dict[str, list[str]]:
    celery = [str(BIN / "celery"), "-A", "statuspage"]
    return {
        "simulator": [PYTHON, "-m", "examples.simulator"],
        "web": [
            str(BIN / "gunicorn"),
            "statuspage.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ],
        "worker": [
            *celery,
            "worker",
            "-Q",
            "default",
            "-P",
            "threads",
            "-c",
            "8",
            "-n",
            "default@%h",
            "-l",
            "INFO",
        ],
        f"probes.{vantage_point}": [
            *celery,
            "worker",
            "-Q",
            f"probes.{vantage_point}",
            "-P",
            "threads",
            "-c",
            "20",
            "-n",
            f"probes-{vantage_point}@%h",
            "-l",
            "INFO",
        ],
        "recorder": [
            *celery,
            "worker",
            "-Q",
            "results",
            "-P",
            "solo",
            "-n",
            "recorder@%h",
            "-l",
            "INFO",
        ],
        "beat": [*celery, "beat", "-l", "INFO", "-s", str(VAR_DIR / "celerybeat-schedule")],
        # Over HTTP to the web server, as from another data centre: no database, no broker.
        f"agent.{AGENT_VANTAGE_POINT}": [
            str(BIN / "statuspage-agent"),
            "--url",
            f"http://127.0.0.1:{port}",
            "--token-file",
            str(AGENT_TOKEN_FILE),
            "--spool",
            str(AGENT_SPOOL),
        ],
    }


def shown(path: Path, base: Path = ROOT) -> str:
    """`path` as the terminal shows it: relative to `base` when it is inside it."""
    return os.path.relpath(path, base) if path.is_relative_to(base) else str(path)


def clock_text() -> str:
    return time.strftime("%H:%M:%S")


def exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"


@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    # Exits in a row that came too soon after a start: each one doubles the next delay.
    quick_exits: int = 0
    restart_at: float | None = None
    starts: int = 0


@dataclass
class Supervisor:
    """Starts processes, logs each to `<log_dir>/<name>.log`, restarts those that exit after a
    backoff, and stops them all. `poll()` does one pass and never sleeps, so that tests drive
    it with their own clock."""

    commands: dict[str, list[str]]
    log_dir: Path
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    cwd: Path = ROOT
    first_backoff: float = 1.0
    max_backoff: float = 30.0
    # A process that ran this long before exiting is restarted after the first backoff again.
    stable_after: float = 60.0
    observed: frozenset[str] = frozenset()
    children: dict[str, Child] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.children = {name: Child(name, argv) for name, argv in self.commands.items()}
        self.width = max((len(name) for name in self.commands), default=0)

    def tell(self, name: str, text: str) -> None:
        self.say(f"{clock_text()}  {name:<{self.width}}  {text}")

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def launch(self, child: Child) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(child.name), "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting ---\n".encode())
            log.flush()
            # Its own process group: Ctrl-C reaches the supervisor alone, which stops each
            # process once, and a process that will not stop is killed with its children
            # (gunicorn's workers).
            child.process = subprocess.Popen(
                child.argv,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        child.started_at = self.clock()
        child.restart_at = None
        child.starts += 1
        where = shown(self.log_path(child.name), self.cwd)
        verb = "started" if child.starts == 1 else "restarted"
        self.tell(child.name, f"{verb} (pid {child.process.pid}), log {where}")

    def start_all(self) -> None:
        for child in self.children.values():
            self.launch(child)

    def backoff(self, child: Child) -> float:
        return min(self.max_backoff, self.first_backoff * 2 ** (child.quick_exits - 1))

    def poll(self) -> None:
        """Notice exits (and say so), restart what is due."""
        now = self.clock()
        for child in self.children.values():
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                ran = now - child.started_at
                child.process = None
                if child.name in self.observed:
                    self.tell(
                        child.name, f"{exit_text(code)} after {ran:.0f} s; observed, not restarted"
                    )
                    continue
                child.quick_exits = 1 if ran >= self.stable_after else child.quick_exits + 1
                delay = self.backoff(child)
                child.restart_at = now + delay
                self.tell(
                    child.name, f"{exit_text(code)} after {ran:.0f} s; restarting in {delay:g} s"
                )
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                self.launch(child)

    def running(self) -> list[Child]:
        return [c for c in self.children.values() if c.process and c.process.poll() is None]

    def stop_all(self, timeout: float = 8.0) -> None:
        """SIGTERM every process, SIGKILL those still running after `timeout` seconds (the
        default keeps Ctrl-C's promise of everything stopped within 10 s)."""
        for child in self.children.values():
            child.restart_at = None
        running = self.running()
        for child in running:
            child.process.terminate()
        deadline = time.monotonic() + timeout
        for child in running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
                self.tell(child.name, "did not stop in time; killed")
            else:
                self.tell(child.name, "stopped")


def stop_on_signal(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops everything the way Ctrl-C does


def supervise(supervisor: Supervisor, interval: float = 0.5) -> int:
    """Run until Ctrl-C or SIGTERM, then stop everything."""
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        supervisor.start_all()
        while True:
            supervisor.poll()
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()


def banner(port: str, login: str) -> str:
    base = f"http://127.0.0.1:{port}"
    return (
        f"\n  Status page      {base}/\n"
        f"  Staff console    {base}/console/   ({login})\n"
        f"  Admin            {base}/admin/\n"
        f"  Health           {base}/health\n"
        f"  Token API        {base}/api/v1/openapi.json\n"
        f"  Statuspage JSON  {base}/api/v2/summary.json\n"
        f"  Simulator        http://127.0.0.1:{os.environ.get('SIMULATOR_PORT', 8100)}/_control\n"
        f"  Emails           {shown(VAR_DIR / 'mail')}/\n"
        f"  Logs             {shown(LOG_DIR)}/<process>.log\n"
        "  Ctrl-C stops everything.\n"
    )


def main() -> int:
    os.chdir(ROOT)
    port = os.environ.get("PORT", "8000")
    vantage_point = os.environ.get("PROBE_VANTAGE_POINTS", "local").split(",")[0].strip()
    # Links in emails, feeds and the JSON must point where this server really listens.
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    prepare_log = LOG_DIR / "prepare.log"
    print(f"Preparing: migrate, demo user, example config, static files ({shown(prepare_log)})")
    try:
        with open(prepare_log, "a") as log:
            login = prepare(log)
    except PrepareFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    print(banner(port, login), flush=True)
    supervisor = Supervisor(
        commands(port, vantage_point),
        LOG_DIR,
        say=lambda line: print(line, flush=True),
        observed=OBSERVED,
    )
    return supervise(supervisor)


if __name__ == "__main__":
    sys.exit(main())
