"""`make run`: prepare the embedded setup and start every process; Ctrl-C stops them all.

Prepares (migrate, demo staff user, example config, static files), then runs the lending
platform simulator, the web server (gunicorn), a Celery worker for the default queue, a probe
worker for the local vantage point and the single beat, and prints the URLs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
EXAMPLE_CONFIG = ROOT / "examples" / "lending-platform.yaml"


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True)


def prepare() -> None:
    manage("migrate", "--noinput", "-v", "0")
    manage("ensure_demo_user")
    if EXAMPLE_CONFIG.exists():
        manage("apply_config", str(EXAMPLE_CONFIG))
    manage("collectstatic", "--noinput", "-v", "0")


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
        "beat": [*celery, "beat", "-l", "INFO", "-s", str(ROOT / "var" / "celerybeat-schedule")],
    }


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def stop_on_signal(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops everything the way Ctrl-C does


def main() -> int:
    os.chdir(ROOT)
    port = os.environ.get("PORT", "8000")
    vantage_point = os.environ.get("PROBE_VANTAGE_POINTS", "local").split(",")[0].strip()
    # Links in emails, feeds and the JSON must point where this server really listens.
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    prepare()
    processes: dict[str, subprocess.Popen] = {}
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        for name, argv in commands(port, vantage_point).items():
            processes[name] = subprocess.Popen(argv, cwd=ROOT)
        print(
            f"\n  Status page      http://127.0.0.1:{port}/\n"
            f"  Staff console    http://127.0.0.1:{port}/console/\n"
            f"  Admin            http://127.0.0.1:{port}/admin/\n"
            f"  Token API        http://127.0.0.1:{port}/api/v1/openapi.json\n"
            f"  Statuspage JSON  http://127.0.0.1:{port}/api/v2/summary.json\n"
            f"  Simulator        http://127.0.0.1:8100/_control\n"
            f"  Emails           {ROOT / 'var' / 'mail'}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping.", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
