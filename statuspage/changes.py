"""The one way through for every change the public can see: `with public_change(now) as change:`.

Actions (console, API, system), the admin, `apply_config` and the probe recorder all write
inside this boundary. It

1. opens the transaction and takes every component row lock, in primary-key order, through
   `lock_components` (the one global order: whoever decides about statuses waits here first);
2. lets the body write, and write its public events with `change.record_event`;
3. at the end recomputes the component statuses once (their change events included), runs
   what waited for the final statuses (`change.after_recompute`), bumps the public version
   once, and enqueues the fan-out of every event written inside it, on commit.

Changes nest: an inner `public_change` joins the outer one (its own savepoint, no second lock,
recompute or bump), so an action called from the recorder or the admin is published once,
with the rest.

Lock order, everywhere: the probe row a recorder works for (taken before this boundary; see
`monitors.recorder.record_batch`), then all component rows (here), then the incident or
maintenance row an action edits, then the SiteState row (the bump, at the very end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from threading import local

from django.db import transaction
from django.utils import timezone

from statuspage.enqueue import enqueue_on_commit
from statuspage.models import Event, SiteState
from statuspage.recompute import StatusChange, lock_components, store_statuses
from statuspage.subscriptions.tasks import fan_out_event

_open = local()  # the change under way in this thread, if any


@dataclass
class PublicChange:
    now: datetime
    changed: bool  # bump the version even if no status moved and no event was written
    event_ids: list[int] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    waiting: list[Callable[[], None]] = field(default_factory=list)

    def record_event(self, kind: str, notify: bool = True, **links) -> Event:
        """Write a public event (the outbox row notifications are sent from); its fan-out is
        enqueued when the change commits."""
        event = Event.objects.create(kind=kind, notify=notify, created_at=self.now, **links)
        self.event_ids.append(event.pk)
        return event

    def after_recompute(self, then: Callable[[], None]) -> None:
        """Run `then` inside the transaction once the statuses are final (an audit entry that
        records the resulting status, say)."""
        self.waiting.append(then)


def current_change() -> PublicChange | None:
    return getattr(_open, "change", None)


@contextmanager
def public_change(now: datetime | None = None, *, changed: bool = True) -> Iterator[PublicChange]:
    """Write a change the public can see (see the module's docstring). With `changed=False`
    (the recorder, the beat, an admin form that may not save), the version is bumped only if
    a status moved, an event was written or a joined change declared itself changed."""
    outer = current_change()
    if outer is not None:
        yield from _join(outer, changed)
        return
    change = PublicChange(now or timezone.now(), changed)
    with transaction.atomic():
        lock_components()
        _open.change = change
        try:
            yield change
            finish(change)
        finally:
            _open.change = None


def _join(outer: PublicChange, changed: bool) -> Iterator[PublicChange]:
    # A savepoint of its own, so that an inner change that fails (and is caught) leaves
    # neither its rows nor its events behind.
    written = len(outer.event_ids), len(outer.waiting)
    try:
        with transaction.atomic():
            yield outer
    except BaseException:
        del outer.event_ids[written[0] :]
        del outer.waiting[written[1] :]
        raise
    outer.changed = outer.changed or changed


def finish(change: PublicChange) -> None:
    now = change.now
    change.status_changes, touched = store_statuses(now)
    for moved in change.status_changes:
        change.record_event(
            Event.Kind.COMPONENT_STATUS_CHANGED,
            notify=moved.is_public,
            component_id=moved.component_id,
            old_status=moved.old_status,
            new_status=moved.new_status,
        )
    for then in change.waiting:
        then()
    if change.changed or touched or change.event_ids:
        SiteState.bump(now)
    if change.event_ids:
        # One task fans out every unclaimed event up to the last one, oldest first.
        enqueue_on_commit(fan_out_event, max(change.event_ids))
