"""Customer-service lookup benchmark: time per /console/lookup/ request on the benchmark world
(benchmarks/public_page.py: 40 components, a year of history) grown with what the lookup reads:
a year of status changes and of hourly probe rollups, and RESULT_RETENTION_DAYS (14) of raw
results, one a minute per probe. Goal: every kind of question answered in under 100 ms.

    .venv/bin/python benchmarks/lookup.py [--runs 30] \
        [--database-url postgres://postgres@127.0.0.1:5432/sp_lookup_bench]

The requests go through Django's whole stack (middleware, session, permissions, template) in
this process, as a logged-in viewer. Everything runs under a private VAR_DIR; with no
--database-url the database is SQLite there. The database named is flushed and filled: never
point it at a database you care about.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW_DAYS = 14


def grow_world() -> None:
    """What the lookup reads on top of the public-page world."""
    from django.utils import timezone

    from monitors.models import Probe, ProbeResult, ProbeRollup
    from statuspage.models import Component, ComponentDay, ComponentStatusChange, Journey

    now = timezone.now()
    components = list(Component.objects.order_by("pk"))
    for index in range(3):
        journey = Journey.objects.create(slug=f"journey-{index}", name=f"Journey {index}")
        journey.components.set(components[index * 10 : index * 10 + 5])
    # Two status changes for each bad day of the daily rollups: into the status, and back.
    changes = []
    for day in ComponentDay.objects.exclude(worst_status="operational"):
        start = timezone.make_aware(datetime(day.day.year, day.day.month, day.day.day, 10))
        seconds = day.major_seconds or day.partial_seconds
        changes.append(
            ComponentStatusChange(
                component_id=day.component_id,
                old_status="operational",
                new_status=day.worst_status,
                at=start,
            )
        )
        changes.append(
            ComponentStatusChange(
                component_id=day.component_id,
                old_status=day.worst_status,
                new_status="operational",
                at=start + timedelta(seconds=seconds),
            )
        )
    ComponentStatusChange.objects.bulk_create(changes, batch_size=5000)
    hour = now.replace(minute=0, second=0, microsecond=0)
    probes = list(Probe.objects.all())
    ProbeRollup.objects.all().delete()
    for probe in probes:
        rollups = [
            ProbeRollup(
                probe=probe,
                vantage_point="local",
                period=ProbeRollup.Period.HOUR,
                start=hour - timedelta(hours=back),
                checks=60,
                failures=1 if (back + probe.pk) % 37 == 0 else 0,
                latency_sum_ms=7200,
                latency_count=60,
            )
            for back in range(365 * 24)
        ]
        ProbeRollup.objects.bulk_create(rollups, batch_size=5000)
        minute = now.replace(second=0, microsecond=0)
        results = [
            ProbeResult(
                probe=probe,
                vantage_point="local",
                scheduled_at=minute - timedelta(minutes=back),
                checked_at=minute - timedelta(minutes=back),
                ok=(back + probe.pk) % 500 != 0,
                latency_ms=120,
            )
            for back in range(RAW_DAYS * 24 * 60)
        ]
        ProbeResult.objects.bulk_create(results, batch_size=5000)


def questions(now) -> list[tuple[str, dict]]:
    from django.utils import timezone

    def local(moment) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")

    return [
        (
            "journey, a moment yesterday",
            {"about": "journey:journey-0", "at": local(now - timedelta(days=1))},
        ),
        (
            "journey, a moment 200 days ago",
            {"about": "journey:journey-1", "at": local(now - timedelta(days=200))},
        ),
        (
            "component, the last 7 days",
            {
                "about": "component:service-7-4",
                "at": local(now - timedelta(days=8)),
                "until": local(now - timedelta(days=1)),
            },
        ),
        (
            "journey, 7 days 300 days ago",
            {
                "about": "journey:journey-2",
                "at": local(now - timedelta(days=307)),
                "until": local(now - timedelta(days=300)),
            },
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="requests per question")
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database as a previous run filled it (with --database-url)",
    )
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="lookup-bench-"))
    os.environ.update(
        {
            "VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "statuspage.settings",
            "STATIC_SNAPSHOT_DIR": "",
            "LOG_LEVEL": "WARNING",
            "MONITORING_WATCH_SECONDS": "0",
        }
    )
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from benchmarks.public_page import populate
    from statuspage.roles import VIEWER, set_role

    try:
        if args.reuse and args.database_url:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        else:
            print(f"Filling the database ({connection.vendor}) ...", flush=True)
            started = time.monotonic()
            populate()
            grow_world()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            print(f"  done in {time.monotonic() - started:.1f} s", flush=True)
        from monitors.models import ProbeResult, ProbeRollup
        from statuspage.models import ComponentStatusChange

        print(
            f"  {ProbeResult.objects.count():,} raw results, "
            f"{ProbeRollup.objects.count():,} rollups, "
            f"{ComponentStatusChange.objects.count():,} status changes"
        )
        user, _ = get_user_model().objects.get_or_create(username="cs-bench", is_staff=True)
        set_role(user, VIEWER)
        client = Client()
        client.force_login(user)
        now = timezone.now()
        print(f"\n{'question':36} {'answer':12} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
        failed = False
        for label, params in questions(now):
            params = {"language": "en", "tz": "Asia/Shanghai", "until": "", **params}
            response = client.get("/console/lookup/", params)  # warm-up
            assert response.status_code == 200, response.content[:500]
            timings = []
            for _ in range(args.runs):
                began = time.perf_counter()
                client.get("/console/lookup/", params)
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            answer = re.search(r"lookup-answer answer-(\w+)", response.content.decode())
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            failed |= p95 >= 100
            print(
                f"{label:36} {answer.group(1) if answer else '?':12} "
                f"{statistics.median(timings):10.1f} {p95:8.1f} {timings[-1]:8.1f}"
            )
        print(f"\n{connection.vendor}; {os.cpu_count()} CPUs; goal: p95 < 100 ms")
        print("Reproduce: .venv/bin/python " + " ".join(["benchmarks/lookup.py", *sys.argv[1:]]))
    finally:
        connection.close()
        shutil.rmtree(var_dir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
