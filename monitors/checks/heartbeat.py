"""The `heartbeat` kind: an external job calls a secret URL; silence or a reported failure fails.

Think of the nightly upload of loan records to the credit bureau: the job ends with
`curl -fsS https://status.example/probes/heartbeat/<token>` (or `.../<token>/fail`). The
check itself only compares the last call with the clock.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.utils import timezone

from monitors.checks.base import (
    Check,
    Outcome,
    format_duration,
    parse_duration,
    reject_unknown_keys,
)

DEFAULT_GRACE_SECONDS = 300.0
MIN_PERIOD_SECONDS = 10.0


def new_heartbeat_token() -> str:
    """A fresh secret for a heartbeat URL (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


class HeartbeatCheck(Check):
    kind = "heartbeat"

    @classmethod
    def validate(cls, config: dict) -> dict:
        reject_unknown_keys(config, {"period", "grace"})
        if config.get("period") in (None, ""):
            raise ValueError("period: required")
        try:
            period = parse_duration(config["period"])
        except ValueError as exc:
            raise ValueError(f"period: {exc}") from None
        if period < MIN_PERIOD_SECONDS:
            raise ValueError(f"period: must be at least {MIN_PERIOD_SECONDS:g}s")
        try:
            grace = parse_duration(config.get("grace", DEFAULT_GRACE_SECONDS))
        except ValueError as exc:
            raise ValueError(f"grace: {exc}") from None
        return {"period": period, "grace": grace}

    @classmethod
    def run(cls, config: dict, timeout: float, probe=None) -> Outcome:
        config = cls.validate(config)
        if probe is None:
            return Outcome(connected=False, error="heartbeat check needs its probe", kind=cls.kind)
        return heartbeat_outcome(config, probe, timezone.now())


def heartbeat_outcome(config: dict, probe, now: datetime) -> Outcome:
    """Whether the job behind `probe` called in time, and whether it said it succeeded.

    Reads the probe's ping fields afresh: the row the caller holds may predate the last ping.
    """
    if probe.pk is not None:
        fresh = (
            type(probe)
            .objects.filter(pk=probe.pk)
            .values("last_ping_at", "last_ping_ok", "created_at")
            .first()
        )
        if fresh:
            probe.last_ping_at = fresh["last_ping_at"]
            probe.last_ping_ok = fresh["last_ping_ok"]
            probe.created_at = fresh["created_at"]
    allowed = config["period"] + config["grace"]
    expectation = f"expected every {format_duration(config['period'])}"
    if config["grace"]:
        expectation += f" + {format_duration(config['grace'])} grace"
    details = {
        "last_ping_at": probe.last_ping_at.isoformat() if probe.last_ping_at else None,
        "last_ping_ok": probe.last_ping_ok,
    }
    if probe.last_ping_at is None:
        waited = (now - probe.created_at).total_seconds()
        if waited > allowed:
            return Outcome(
                connected=False,
                error=f"never called ({expectation})",
                details=details,
                kind=HeartbeatCheck.kind,
            )
        return Outcome(connected=True, details=details, kind=HeartbeatCheck.kind)
    silence = (now - probe.last_ping_at).total_seconds()
    details["seconds_since_ping"] = round(silence, 1)
    if silence > allowed:
        return Outcome(
            connected=False,
            error=f"last call {format_duration(silence)} ago ({expectation})",
            details=details,
            kind=HeartbeatCheck.kind,
        )
    if not probe.last_ping_ok:
        return Outcome(
            connected=False,
            error=f"the job reported failure {format_duration(silence)} ago",
            details=details,
            kind=HeartbeatCheck.kind,
        )
    return Outcome(connected=True, details=details, kind=HeartbeatCheck.kind)
