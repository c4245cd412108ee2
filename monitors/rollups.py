"""History that stays fast: hourly and daily rollups updated as results arrive, raw results
purged in batches, uptime from the daily component rollups.

Pages and APIs read rollups (a few hundred rows for 90 days), never raw results older than a
day, so their cost does not grow with the number of results stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection

from monitors.latency import (
    LATENCY_BUCKETS_MS,
    bucket_index,
    empty_histogram,
    histogram_percentile,
    merge_histograms,
)
from monitors.models import ProbeResult, ProbeRollup
from statuspage import status as rules
from statuspage import times
from statuspage.models import Component, ComponentDay


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class RollupEntry:
    """One result as the rollups count it."""

    probe_id: int
    vantage_point: str
    checked_at: datetime
    ok: bool
    latency_ms: float | None
    downtime_seconds: float


def add_to_rollups(
    probe_id: int,
    vantage_point: str,
    checked_at: datetime,
    ok: bool,
    latency_ms: float | None,
    downtime_seconds: float,
) -> None:
    """Count one result in its hour's and its day's rollup (see `add_many_to_rollups`)."""
    add_many_to_rollups(
        [RollupEntry(probe_id, vantage_point, checked_at, ok, latency_ms, downtime_seconds)]
    )


def add_many_to_rollups(entries: Iterable[RollupEntry]) -> None:
    """Count results in their hours' and days' rollups: the entries are summed per rollup row
    here, then one upsert adds the sums in the database (counters added, histograms added
    bucket by bucket), so that it needs no read first and no lock (each row is updated
    atomically by its own statement), and a batch costs one statement per 500 rows."""
    sums: dict[tuple, list] = {}
    for entry in entries:
        for period, start in (
            (ProbeRollup.Period.HOUR, hour_start(entry.checked_at)),
            (ProbeRollup.Period.DAY, times.day_start(entry.checked_at)),
        ):
            key = (entry.probe_id, entry.vantage_point, period, start)
            row = sums.get(key)
            if row is None:
                row = sums[key] = [0, 0, 0.0, None, 0.0, 0, empty_histogram()]
            row[0] += 1
            row[1] += 0 if entry.ok else 1
            row[2] += entry.downtime_seconds
            if entry.latency_ms is not None:
                if row[3] is None or entry.latency_ms > row[3]:
                    row[3] = entry.latency_ms
                row[4] += entry.latency_ms
                row[5] += 1
                row[6][bucket_index(entry.latency_ms)] += 1
    if not sums:
        return
    histogram_field = ProbeRollup._meta.get_field("histogram")
    start_field = ProbeRollup._meta.get_field("start")
    rows = list(sums.items())
    sql_for = ROLLUP_UPSERT.format
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), 500):
            chunk = rows[offset : offset + 500]
            values: list = []
            for (probe_id, vantage_point, period, start), row in chunk:
                values += [probe_id, vantage_point, period]
                values.append(start_field.get_db_prep_save(start, connection))
                values += row[:6]
                values.append(histogram_field.get_db_prep_save(row[6], connection))
            placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                sql_for(rows=placeholders, histogram=add_histograms_sql(connection.vendor)),
                values,
            )


# A missing row starts from the sums (EXCLUDED). The maximum ignores NULL (no latency) on
# every database, which GREATEST/MAX do not. Each key appears once per statement (summed
# above), as ON CONFLICT DO UPDATE requires.
ROLLUP_UPSERT = """
    INSERT INTO monitors_proberollup
        (probe_id, vantage_point, period, start, checks, failures, downtime_seconds,
         latency_max_ms, latency_sum_ms, latency_count, histogram)
    VALUES {rows}
    ON CONFLICT (probe_id, vantage_point, period, start) DO UPDATE SET
        checks = monitors_proberollup.checks + EXCLUDED.checks,
        failures = monitors_proberollup.failures + EXCLUDED.failures,
        downtime_seconds = monitors_proberollup.downtime_seconds + EXCLUDED.downtime_seconds,
        latency_max_ms = CASE
            WHEN EXCLUDED.latency_max_ms IS NULL
                OR monitors_proberollup.latency_max_ms >= EXCLUDED.latency_max_ms
            THEN monitors_proberollup.latency_max_ms
            ELSE EXCLUDED.latency_max_ms END,
        latency_sum_ms = monitors_proberollup.latency_sum_ms + EXCLUDED.latency_sum_ms,
        latency_count = monitors_proberollup.latency_count + EXCLUDED.latency_count,
        histogram = {histogram}
"""


def add_histograms_sql(vendor: str) -> str:
    """SQL for the stored histogram plus the new one, bucket by bucket; a stored histogram of
    the wrong shape (none stored yet) starts afresh from the new one."""
    size = len(LATENCY_BUCKETS_MS) + 1
    stored, new = "monitors_proberollup.histogram", "EXCLUDED.histogram"
    if vendor == "postgresql":
        buckets = ", ".join(
            f"({stored} ->> {i})::integer + ({new} ->> {i})::integer" for i in range(size)
        )
        return (
            f"CASE WHEN jsonb_array_length({stored}) = {size} "
            f"THEN jsonb_build_array({buckets}) ELSE {new} END"
        )
    if vendor == "sqlite":
        buckets = ", ".join(
            f"json_extract({stored}, '$[{i}]') + json_extract({new}, '$[{i}]')" for i in range(size)
        )
        return (
            f"CASE WHEN json_array_length({stored}) = {size} "
            f"THEN json_array({buckets}) ELSE {new} END"
        )
    raise NotImplementedError(f"rollup histograms on {vendor}")


def purge_old_results(now: datetime, batch_size: int = 5000) -> int:
    """Delete raw results older than RESULT_RETENTION_DAYS, a batch at a time so that no
    single statement holds locks for long; return how many went."""
    cutoff = now - timedelta(days=settings.RESULT_RETENTION_DAYS)
    deleted = 0
    while True:
        batch = list(
            ProbeResult.objects.filter(checked_at__lt=cutoff)
            .order_by("checked_at")
            .values_list("id", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        deleted += ProbeResult.objects.filter(id__in=batch).delete()[0]


def purge_old_rollups(now: datetime, batch_size: int = 5000) -> int:
    """Delete rollups older than ROLLUP_RETENTION_DAYS (at least 400)."""
    cutoff = now - timedelta(days=settings.ROLLUP_RETENTION_DAYS)
    deleted = 0
    while True:
        batch = list(
            ProbeRollup.objects.filter(start__lt=cutoff).values_list("id", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        deleted += ProbeRollup.objects.filter(id__in=batch).delete()[0]


@dataclass(frozen=True)
class DayHistory:
    """A probe's (or a component's) day, from the daily rollups of all its vantage points."""

    day: date
    checks: int
    failures: int
    downtime_seconds: float
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None


def daily_history(probe_ids: Iterable[int], days: int, now: datetime) -> list[DayHistory]:
    """The last `days` days (oldest first) of the given probes, summed over vantage points.
    Reads only daily rollups: one indexed range per probe, whatever the raw results hold."""
    first = times.day_start(now) - timedelta(days=days - 1)
    rows: dict[date, list[ProbeRollup]] = {}
    for rollup in ProbeRollup.objects.filter(
        probe_id__in=list(probe_ids), period=ProbeRollup.Period.DAY, start__gte=first
    ):
        rows.setdefault(times.local_day(rollup.start), []).append(rollup)
    history = []
    for offset in range(days):
        day = times.local_day(first) + timedelta(days=offset)
        group = rows.get(day, [])
        histogram = merge_histograms(r.histogram for r in group)
        maxima = [r.latency_max_ms for r in group if r.latency_max_ms is not None]
        maximum = max(maxima) if maxima else None
        history.append(
            DayHistory(
                day=day,
                checks=sum(r.checks for r in group),
                failures=sum(r.failures for r in group),
                downtime_seconds=sum(r.downtime_seconds for r in group),
                p50_ms=histogram_percentile(histogram, 0.5, maximum),
                p95_ms=histogram_percentile(histogram, 0.95, maximum),
                max_ms=maximum,
            )
        )
    return history


@dataclass(frozen=True)
class Uptime:
    """A component's uptime over a period: counting announced maintenance as downtime, and
    leaving it out of the period altogether (what the SLA usually means)."""

    period_seconds: float
    down_seconds: float
    maintenance_seconds: float

    @property
    def with_maintenance(self) -> float:
        """Percent of the period up, maintenance counted as down."""
        if self.period_seconds <= 0:
            return 100.0
        down = self.down_seconds + self.maintenance_seconds
        return round(100.0 * (1 - down / self.period_seconds), 4)

    @property
    def without_maintenance(self) -> float:
        """Percent of the period up, announced maintenance excluded from the period."""
        period = self.period_seconds - self.maintenance_seconds
        if period <= 0:
            return 100.0
        return round(100.0 * (1 - self.down_seconds / period), 4)


def component_uptime(component: Component, days: int, now: datetime) -> Uptime:
    """Uptime over the last `days` days (today included) from the daily component rollups,
    plus the time spent so far in the current status, which no rollup holds yet. Downtime
    counts as on the public page (`statuspage.status.DOWNTIME_WEIGHT`)."""
    first_day = times.day_start(now) - timedelta(days=days - 1)
    period = (now - first_day).total_seconds()
    down = 0.0
    maintenance = 0.0
    for row in ComponentDay.objects.filter(component=component, day__gte=first_day.date()):
        down += rules.downtime_seconds(row.partial_seconds, row.major_seconds)
        maintenance += row.maintenance_seconds
    open_since = max(component.status_since, first_day)
    open_seconds = max(0.0, (now - open_since).total_seconds())
    if component.status == rules.MAINTENANCE:
        maintenance += open_seconds
    else:
        down += rules.DOWNTIME_WEIGHT.get(component.status, 0.0) * open_seconds
    return Uptime(period, min(down, period), min(maintenance, period))
