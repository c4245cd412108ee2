"""Silent vantage points: one from which no result has arrived for too long (an agent cut off
from the site, a probe worker gone) while monitoring as a whole goes on.

The stall watch (`monitors.stall.watch`) decides who is quiet and calls `track_silences`,
which keeps one open `VantagePointSilence` row per silent vantage point: opened once, with
one staff alert, and closed once, with one more, when its results arrive again. While it is
open the quorum leaves that vantage point out (`confirmation.probe_status_across`), so each
flip retakes the quorum of every probe at once (`results.settle_automatic_incidents`) rather
than waiting for the beat's next settle.

The public page says nothing about a silent vantage point: its probes' statuses are still
current, from the vantage points still heard. Only when a probe is left with none heard does
the page say that the checks are delayed (a `MonitoringStall`, `monitors.stall`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from monitors.models import VantagePointSilence
from monitors.results import settle_automatic_incidents
from statuspage.subscriptions.staff import alert_staff
from statuspage.times import to_the_second as local_text

log = logging.getLogger(__name__)


def alert_silent(silence: VantagePointSilence, threshold: timedelta) -> None:
    name, since = silence.vantage_point, local_text(silence.started_at)
    seconds = f"{threshold.total_seconds():.0f}"
    alert_staff(
        f"Vantage point {name} is silent since {since}",
        f"No result has arrived from vantage point {name} for longer than {seconds} s (the "
        f"last at {since}). Until it delivers again its probe states count as unknown: each "
        "probe's quorum is taken over its other vantage points, so this one can neither open "
        "an outage nor hide one that they confirm, and the public page is unchanged. A probe "
        "that runs only from here is frozen at its last status, and then the public page says "
        "that the checks are delayed.\n\n"
        "Check the agent (its process, its link to this site, its token) or the probe worker "
        f"of the queue probes.{name}. An agent keeps its results while it cannot reach the "
        "site and uploads them when it can. You will get one more email when results arrive "
        "again.",
        event="monitoring_stalled",
        subject_alt=f"探测点 {name} 自 {since} 起无结果",
        body_alt=f"超过 {seconds} 秒未收到探测点 {name} 的结果（最后一次：{since}）。"
        "在恢复之前，它的探测状态按“未知”计：法定数只在其他探测点之间计算，它既不能引发故障，"
        "也不能掩盖其他探测点确认的故障，公开页面不变。仅从该探测点运行的探测保持最后状态，"
        "此时公开页面会提示自动检测延迟。\n\n"
        f"请检查 agent（进程、与本站的连接、令牌）或队列 probes.{name} 的探测 worker。",
        path="/console/probes/",
    )


def alert_heard(silence: VantagePointSilence, now: datetime) -> None:
    name, since = silence.vantage_point, local_text(silence.started_at)
    minutes = f"{(now - silence.started_at).total_seconds() / 60:.0f}"
    alert_staff(
        f"Vantage point {name} delivers again (silent since {since})",
        f"Results from vantage point {name} arrive again as of {local_text(now)}, after about "
        f"{minutes} minutes without. Its probe states count in the quorum again. Results an "
        "agent kept while it was cut off fill the gap in the history as they are uploaded.",
        event="monitoring_stalled",
        subject_alt=f"探测点 {name} 已恢复上报（自 {since} 起中断）",
        body_alt=f"自 {local_text(now)} 起再次收到探测点 {name} 的结果，中断约 {minutes} 分钟。"
        "它的探测状态重新计入法定数；agent 在断开期间保存的结果上传后会补全历史。",
        path="/console/probes/",
    )


def track_silences(
    now: datetime,
    silent: Mapping[str, datetime],
    stalling: Collection[str],
    known: Collection[str],
    thresholds: Mapping[str, timedelta],
) -> list[tuple[str, str]]:
    """Open a silence for each vantage point in `silent` ({name: last heard}) that has none,
    close the open ones no longer in it, and retake the quorum if one flipped. Return the
    flips as (vantage point, "silent" or "heard").

    Staff hear of each silence once when it starts and once when it ends, however many
    watchers run (a partial unique index, conditional UPDATEs), except while it is part of a
    stall (in `stalling`): the stall's own alert names it then. A vantage point no enabled
    probe lists any more (not in `known`) is closed without a word."""
    flips = []
    open_now = {row.vantage_point: row for row in VantagePointSilence.objects.filter(ended_at=None)}
    for name, since in sorted(silent.items()):
        silence = open_now.get(name)
        with transaction.atomic():
            if silence is None:
                try:
                    with transaction.atomic():
                        silence = VantagePointSilence.objects.create(
                            vantage_point=name, started_at=since, noticed_at=now
                        )
                except IntegrityError:
                    continue  # another watcher opened it a moment ago
                flips.append((name, "silent"))
            if name in stalling or silence.alerted:
                continue
            if VantagePointSilence.objects.filter(pk=silence.pk, alerted=False).update(
                alerted=True
            ):
                alert_silent(silence, thresholds.get(name, timedelta(0)))
    for name, silence in open_now.items():
        if name in silent:
            continue
        with transaction.atomic():
            closed = VantagePointSilence.objects.filter(pk=silence.pk, ended_at=None).update(
                ended_at=now
            )
            if closed and silence.alerted and name in known:
                alert_heard(silence, now)
        if closed:
            flips.append((name, "heard"))
    if flips:
        log.info("vantage points %s", ", ".join(f"{name} {flip}" for name, flip in flips))
        settle_automatic_incidents(now)
    return flips
