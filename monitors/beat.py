"""No single point of failure in scheduling: any number of beats, one of them sending.

Run a beat on two machines (or more). Each one ticks through the schedule as usual, but only
the holder of the "beat" lease sends anything: a `Lease` row claimed with a conditional UPDATE
(`hold_lease`), renewed every BEAT_LEASE_SECONDS / 3, and taken over by another beat once it has
not been renewed for BEAT_LEASE_SECONDS. A beat that is stopped gives the lease back, so the
other one takes over at its next renewal; a beat that dies (or loses the database) stops
renewing, so the other one takes over within BEAT_LEASE_SECONDS + BEAT_LEASE_SECONDS / 3
(20 s by default).

A holder sends only until its lease, as it last renewed it, runs out by its own monotonic clock,
so two beats overlap only when their wall clocks disagree by more than the renewal margin. Even
then nothing runs twice that matters: every periodic task is safe to run twice (see the README),
and the probe dispatcher claims each (probe, vantage point) slot under a row lock.

Standby beats still advance their schedule without sending (Celery reserves each due entry
before applying it), so a takeover does not fire every daily task at once.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from monitors.models import Lease

log = logging.getLogger(__name__)

BEAT = "beat"


def hold_lease(name: str, holder: str, now: datetime, seconds: float) -> bool:
    """Claim or renew the lease `name` for `holder` until `now + seconds`: True when `holder`
    holds it now. It is taken only when free (never claimed, expired or given back); a holder
    that lost it to another finds out here, since renewing matches its own name only."""
    until = now + timedelta(seconds=seconds)
    if Lease.objects.filter(name=name, holder=holder, expires_at__gt=now).update(expires_at=until):
        return True
    if Lease.objects.filter(Q(name=name), Q(expires_at__lte=now) | Q(holder="")).update(
        holder=holder, expires_at=until, since=now
    ):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=until, since=now)
    except IntegrityError:
        return False  # another claimed it first, or holds it
    return True


def release_lease(name: str, holder: str) -> None:
    """Give the lease back (only if `holder` still holds it): the next claim takes it at once."""
    Lease.objects.filter(name=name, holder=holder).update(holder="")


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeasedScheduler(PersistentScheduler):
    """Celery beat's scheduler that sends due tasks only while it holds the beat lease
    (`celery -A statuspage beat`, set by CELERY_BEAT_SCHEDULER)."""

    def __init__(self, *args, **kwargs) -> None:
        self.holder = holder_name()
        self.lease_seconds = float(settings.BEAT_LEASE_SECONDS)
        self.renew_every = self.lease_seconds / 3
        self.held_until = 0.0  # monotonic: may send until then
        self.next_renewal = 0.0  # monotonic
        super().__init__(*args, **kwargs)

    @property
    def is_leader(self) -> bool:
        return time.monotonic() < self.held_until

    def renew(self) -> bool:
        """Claim or renew the lease now; a database error keeps what was held (it runs out)."""
        started = time.monotonic()
        was_leader = self.is_leader
        try:
            close_old_connections()
            held = hold_lease(BEAT, self.holder, timezone.now(), self.lease_seconds)
        except DatabaseError:
            log.warning("beat %s: could not renew the lease", self.holder, exc_info=True)
            self.next_renewal = started + min(self.renew_every, 1.0)
            return self.is_leader
        self.next_renewal = started + self.renew_every
        # Measured from before the UPDATE: the row says later, never earlier, than we think.
        self.held_until = started + self.lease_seconds if held else 0.0
        if held != was_leader:
            log.warning(
                "beat %s %s", self.holder, "holds the lease: sending" if held else "is on standby"
            )
        return held

    def tick(self, *args, **kwargs) -> float:
        if time.monotonic() >= self.next_renewal:
            self.renew()
        delay = super().tick(*args, **kwargs)
        return max(0.0, min(delay, self.next_renewal - time.monotonic()))

    def apply_entry(self, entry, producer=None) -> None:
        if self.is_leader:
            super().apply_entry(entry, producer=producer)
        else:
            log.debug("beat %s on standby: not sending %s", self.holder, entry.name)

    def close(self) -> None:
        if self.is_leader:
            try:
                close_old_connections()
                release_lease(BEAT, self.holder)
            except DatabaseError:
                log.warning("beat %s: could not give the lease back", self.holder)
        self.held_until = 0.0
        super().close()
