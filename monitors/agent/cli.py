"""`statuspage-agent`: the command line, and the threads it runs.

    statuspage-agent --url https://status.example.com --token-file /etc/statuspage-agent/token

The main thread runs the scheduler; one thread refreshes the assignment every `--refresh`
seconds (If-None-Match: an unchanged assignment costs a 304); one uploads the spool. SIGTERM
or SIGINT stops them all within a few seconds: runs under way get two seconds to report, and
whatever is in the spool stays there for the next start.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import requests

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "STATUSPAGE_AGENT_TOKEN"
# A clock this far from the site's: results may be refused as "in the future", and slots
# disagree with the site's; said once, at each assignment that shows it.
CLOCK_SKEW_WARNING_SECONDS = 5.0
GRACE_SECONDS = 2.0


def duration(text: str) -> float:
    from monitors.checks.base import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="statuspage-agent",
        description=(
            "Run the status site's probes from this vantage point and deliver the results. "
            "Needs only HTTP(S) to the site and an agent token "
            "(made on the site with: manage.py create_agent_token VANTAGE_POINT)."
        ),
    )
    p.add_argument("--url", required=True, help="the status site, e.g. https://status.example")
    p.add_argument(
        "--token",
        help=f"the agent token (better: the environment variable {TOKEN_VARIABLE} or "
        "--token-file, which other users cannot read in the process list)",
    )
    p.add_argument("--token-file", type=Path, help="read the agent token from this file")
    p.add_argument(
        "--spool",
        type=Path,
        default=Path("statuspage-agent.sqlite3"),
        help="the SQLite file results wait in until the site takes them (default: %(default)s)",
    )
    p.add_argument(
        "--refresh",
        type=duration,
        default=5.0,
        help="how often to ask for the assignment, e.g. 5s (default: 5 seconds)",
    )
    p.add_argument(
        "--max-spool-age",
        type=duration,
        default=24 * 3600.0,
        help="drop spooled results older than this, e.g. 24h (default: 24 hours)",
    )
    p.add_argument(
        "--max-spool-results",
        type=int,
        default=1_000_000,
        help="keep at most this many results in the spool, dropping the oldest "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--workers", type=int, default=32, help="probes run at once (default: %(default)s)"
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=5000,
        help="results per upload, at most 5000 (default: %(default)s)",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="(default: %(default)s)",
    )
    return p


def read_token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        try:
            return args.token_file.read_text().strip()
        except OSError as exc:
            raise SystemExit(f"statuspage-agent: cannot read --token-file: {exc}") from None
    token = (args.token or os.environ.get(TOKEN_VARIABLE, "")).strip()
    if not token:
        raise SystemExit(
            f"statuspage-agent: no token: give --token, --token-file or {TOKEN_VARIABLE}"
        )
    return token


def keep_django_settings_empty() -> None:
    """The checks import a little of Django (timezone helpers); give it settings of its own,
    without a database, so that nothing can reach for the site's settings module."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True, DATABASES={}, INSTALLED_APPS=[])


class Assignment:
    """Refreshes the assignment every `refresh` seconds and hands changes to the scheduler."""

    def __init__(self, client, scheduler, spool, stopped: threading.Event, refresh: float):
        self.client = client
        self.scheduler = scheduler
        self.spool = spool
        self.stopped = stopped
        self.refresh = refresh
        self.etag = ""
        self.vantage_point = ""
        self.specs: list = []
        self.trouble = ""  # the last failure said, so that it is said once

    def run(self) -> None:
        while not self.stopped.is_set():
            self.refresh_once()
            self.stopped.wait(self.refresh)

    def resume(self) -> None:
        """Probe with the assignment kept from the last run until the site answers."""
        kept = self.spool.kept("assignment")
        if kept:
            self.take(json.loads(kept), etag="")
            log.info("probing with the assignment kept from the last run until the site answers")

    def refresh_once(self) -> None:
        try:
            answer = self.client.assignment(self.etag)
        except requests.RequestException as exc:
            return self.say(f"the site cannot be reached ({type(exc).__name__}); probing goes on")
        if answer.status == 304:
            return self.say("")
        if answer.status != 200 or not isinstance(answer.document, dict):
            return self.say(
                f"the assignment was refused ({answer.status}: {answer.reason}); "
                "probing goes on with the last one"
            )
        self.say("")
        self.take(answer.document, answer.etag)
        self.spool.keep("assignment", json.dumps(answer.document))
        log.info("vantage point %s: %d probes assigned", self.vantage_point, len(self.specs))
        self.check_clock(answer.document.get("server_time"))

    def take(self, document: dict, etag: str) -> None:
        from monitors.agent.runner import ProbeSpec

        self.specs = []
        for item in document.get("probes") or []:
            try:
                self.specs.append(ProbeSpec.from_assignment(item))
            except ValueError as exc:
                log.error("%s; skipped", exc)
        self.scheduler.assign(self.specs, time.time())
        self.etag = etag
        self.vantage_point = str(document.get("vantage_point", ""))

    def say(self, trouble: str) -> None:
        if trouble and trouble != self.trouble:
            log.warning("%s", trouble)
        elif not trouble and self.trouble:
            log.info("the site answers again")
        self.trouble = trouble

    @staticmethod
    def check_clock(server_time) -> None:
        try:
            skew = time.time() - datetime.fromisoformat(server_time).timestamp()
        except (TypeError, ValueError):
            return
        if abs(skew) > CLOCK_SKEW_WARNING_SECONDS:
            log.warning(
                "this machine's clock is %+.0f s off the site's: fix it (NTP), or results "
                "may be refused as in the future",
                skew,
            )


def run(args: argparse.Namespace, token: str, stopped: threading.Event) -> int:
    keep_django_settings_empty()
    from monitors.agent.client import SiteClient
    from monitors.agent.runner import Scheduler
    from monitors.agent.spool import Spool
    from monitors.agent.uploader import Uploader

    spool = Spool(args.spool, args.max_spool_age, args.max_spool_results)
    if len(spool):
        log.info("%d results waiting in the spool %s", len(spool), args.spool)

    def record(result: dict) -> None:
        dropped = spool.add([result])
        if dropped:
            log.warning("spool full: dropped the %d oldest results", dropped)

    client = SiteClient(args.url, token)
    scheduler = Scheduler(record, workers=args.workers)
    uploader = Uploader(spool, client, stopped, batch_size=args.batch_size)
    assignment = Assignment(client, scheduler, spool, stopped, args.refresh)
    assignment.resume()
    threads = [
        threading.Thread(target=assignment.run, name="assignment", daemon=True),
        threading.Thread(target=uploader.run, name="uploader", daemon=True),
    ]
    for thread in threads:
        thread.start()
    log.info("statuspage-agent started: site %s, spool %s", args.url, args.spool)
    while not stopped.is_set():
        stopped.wait(scheduler.tick())
    scheduler.shutdown()
    deadline = time.monotonic() + GRACE_SECONDS
    while not scheduler.idle() and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.abandon()
    for thread in threads:
        thread.join(GRACE_SECONDS)
    if not any(thread.is_alive() for thread in threads):
        spool.close()  # else an upload is under way: exiting leaves the file consistent
    log.info("stopped; %d results kept in the spool", len(spool))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    token = read_token(args)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    stopped = threading.Event()

    def stop(signum, frame) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return run(args, token, stopped)


if __name__ == "__main__":
    sys.exit(main())
