"""Recurring maintenance: an RFC 5545 recurrence rule (read by python-dateutil's rrule, not by
hand) whose occurrences become ordinary Maintenance rows, RECURRENCE_HORIZON_DAYS ahead.

Being ordinary rows, occurrences start and complete by themselves, get their reminders, show
on the public page and in upcoming.json, and count in the self-check, with no second code
path. Subscribers hear about the series once (its first occurrence); the beat
(`extend_series`) creates later ones as the horizon moves. One occurrence is edited or
cancelled like any window; a cancelled occurrence is never created again (its row stays, and
the calendar feed turns it into an EXDATE). Cancelling the series cancels its future windows
and stops it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import islice

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from statuspage import actions
from statuspage.changes import public_change
from statuspage.models import (
    AuditEntry,
    Component,
    Maintenance,
    MaintenanceSeries,
    MaintenanceStatus,
)

ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
MAX_RULE_LENGTH = 500


def rule_text(text: str) -> str:
    """The rule as stored and sent: one line without its optional `RRULE:` (in any case)."""
    text = (text or "").strip()
    return text[len("RRULE:") :] if text.upper().startswith("RRULE:") else text


def parse_recurrence(text: str, first_start: datetime, duration: timedelta) -> rrule:
    """The rule, anchored at the first window's start in TIME_ZONE; ValidationError on the
    `recurrence` field with the reason when it is not a usable RRULE."""
    text = rule_text(text)
    if not text:
        raise ValidationError({"recurrence": "A recurrence rule is required, e.g. FREQ=WEEKLY."})
    if len(text) > MAX_RULE_LENGTH or "\n" in text:
        raise ValidationError({"recurrence": "One RRULE line of at most 500 characters."})
    try:
        rule = rrulestr(text, dtstart=timezone.localtime(first_start))
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        raise ValidationError({"recurrence": f"Not a valid RFC 5545 RRULE: {error}."}) from None
    if not isinstance(rule, rrule):
        raise ValidationError({"recurrence": "Give one RRULE, without RDATE or EXDATE."})
    if rule._freq not in ALLOWED_FREQUENCIES:
        raise ValidationError(
            {"recurrence": "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY for maintenance."}
        )
    # Never rule.count(): an endless rule would be walked to the year 9999 (and fail there).
    first_two = list(islice(rule, 2))
    if not first_two:
        raise ValidationError({"recurrence": "The rule gives no occurrence."})
    if len(first_two) == 2 and first_two[1] - first_two[0] < duration:
        raise ValidationError(
            {"recurrence": "Occurrences would overlap: the window is longer than the interval."}
        )
    return rule


def rule_of(series: MaintenanceSeries) -> rrule:
    return parse_recurrence(series.recurrence, series.first_starts_at, series.duration)


def schedule_recurring_maintenance(
    *,
    recurrence: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    actor,
    via: str,
    description: str = "",
    components: Iterable[Component] = (),
    auto_start: bool = True,
    auto_complete: bool = True,
    is_public: bool = True,
    notify: bool = True,
    title_alt: str = "",
    description_alt: str = "",
    now: datetime | None = None,
) -> Maintenance:
    """Create the series and its occurrences within the horizon; return the first one."""
    now = now or timezone.now()
    actions.check_title(title)
    actions.check_window(starts_at, ends_at)
    parse_recurrence(recurrence, starts_at, ends_at - starts_at)
    components = list(components)
    with public_change(now):
        series = MaintenanceSeries.objects.create(
            recurrence=rule_text(recurrence),
            first_starts_at=starts_at,
            duration=ends_at - starts_at,
            title=title.strip(),
            title_alt=title_alt.strip(),
            description=description,
            description_alt=description_alt,
            is_public=is_public,
            auto_start=auto_start,
            auto_complete=auto_complete,
            created_at=now,
        )
        series.components.set(components)
        actions.audit(actor, via, "maintenance_series.schedule", series, None,
                      {"recurrence": series.recurrence, "title": series.title}, now)  # fmt: skip
        created = materialize(series, now, actor=actor, via=via, notify_first=notify)
        if not created:
            raise ValidationError({"recurrence": "Every occurrence of the rule is already over."})
    return created[0]


def materialize(
    series: MaintenanceSeries,
    now: datetime,
    *,
    actor=None,
    via: str = AuditEntry.Via.SYSTEM,
    notify_first: bool = False,
) -> list[Maintenance]:
    """Create the occurrences that start before the horizon and are not over, unless they
    exist (a cancelled or moved one included); return the ones created."""
    horizon = now + timedelta(days=settings.RECURRENCE_HORIZON_DAYS)
    existing = set(series.occurrences.values_list("occurrence_start", flat=True))
    components = list(series.components.all())
    created: list[Maintenance] = []
    for start in rule_of(series).between(now - series.duration, horizon, inc=True):
        if start in existing or start + series.duration <= now:
            continue
        try:
            with transaction.atomic():
                maintenance = actions.schedule_maintenance(
                    title=series.title,
                    title_alt=series.title_alt,
                    description=series.description,
                    description_alt=series.description_alt,
                    starts_at=start,
                    ends_at=start + series.duration,
                    components=components,
                    auto_start=series.auto_start,
                    auto_complete=series.auto_complete,
                    is_public=series.is_public,
                    # Subscribers hear about a series once, not about every week of it.
                    notify=notify_first and not created,
                    actor=actor,
                    via=via,
                    now=now,
                )
                Maintenance.objects.filter(pk=maintenance.pk).update(
                    series=series, occurrence_start=start
                )
        except IntegrityError:
            continue  # another beat created it a moment ago
        maintenance.series, maintenance.occurrence_start = series, start
        created.append(maintenance)
    return created


def extend_series(now: datetime) -> int:
    """The beat's pass: create the occurrences the moving horizon now reaches."""
    created = 0
    for series in MaintenanceSeries.objects.filter(cancelled_at__isnull=True):
        with public_change(now, changed=False):
            # One creator per series at a time.
            MaintenanceSeries.objects.select_for_update().filter(pk=series.pk).first()
            created += len(materialize(series, now))
    return created


def cancel_series(series: MaintenanceSeries, *, actor, via: str, now: datetime | None = None):
    """Stop the series: its windows not yet started are cancelled, none is created again."""
    now = now or timezone.now()
    with public_change(now):
        MaintenanceSeries.objects.filter(pk=series.pk).update(cancelled_at=now)
        series.cancelled_at = now
        for maintenance in series.occurrences.filter(status=MaintenanceStatus.SCHEDULED):
            actions.set_maintenance_status(
                maintenance, MaintenanceStatus.CANCELLED, actor=actor, via=via, now=now
            )
        actions.audit(actor, via, "maintenance_series.cancel", series, None, None, now)
    return series


SERIES_FIELDS = {
    "title",
    "title_alt",
    "description",
    "description_alt",
    "duration",
    "recurrence",
    "auto_start",
    "auto_complete",
    "is_public",
}


def series_state(series: MaintenanceSeries) -> dict:
    return {
        "title": series.title,
        "recurrence": series.recurrence,
        "duration_minutes": int(series.duration.total_seconds() // 60),
        "components": sorted(series.components.values_list("slug", flat=True)),
    }


def edit_series(
    series: MaintenanceSeries,
    *,
    actor,
    via: str,
    now: datetime | None = None,
    components: Iterable[Component] | None = None,
    **fields,
) -> MaintenanceSeries:
    """Change the whole series (texts, duration, components, flags or rule) from now on.

    Its windows not yet started take the new values; those the new rule no longer gives are
    cancelled quietly, and those it gives anew are created. Cancelled windows stay cancelled;
    windows that started are history and keep what they were."""
    now = now or timezone.now()
    unknown = set(fields) - SERIES_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    if "title" in fields:
        fields["title"] = str(fields["title"]).strip()
        actions.check_title(fields["title"])
    if "recurrence" in fields:
        fields["recurrence"] = rule_text(str(fields["recurrence"]))
    duration = fields.get("duration", series.duration)
    if duration <= timedelta(0):
        raise ValidationError({"duration": "The window must last at least a minute."})
    text = fields.get("recurrence", series.recurrence)
    rule = parse_recurrence(text, series.first_starts_at, duration)
    components = list(components) if components is not None else None
    with public_change(now):
        series = MaintenanceSeries.objects.select_for_update().get(pk=series.pk)
        if series.cancelled_at is not None:
            raise ValidationError({"series": "This series is cancelled."})
        before = series_state(series)
        changed = {name: value for name, value in fields.items() if getattr(series, name) != value}
        for name, value in changed.items():
            setattr(series, name, value)
        series.save()
        if components is not None:
            series.components.set(components)
        upcoming = list(
            series.occurrences.filter(status=MaintenanceStatus.SCHEDULED, starts_at__gt=now)
        )
        # From the earliest: a window moved later may belong to a date already past.
        earliest = min((m.occurrence_start for m in upcoming), default=now)
        latest = max((m.occurrence_start for m in upcoming), default=now)
        still_given = set(rule.between(earliest, latest, inc=True))
        per_occurrence = {
            name: value for name, value in changed.items() if name not in ("duration", "recurrence")
        }
        for maintenance in upcoming:
            if maintenance.occurrence_start not in still_given:
                actions.set_maintenance_status(
                    maintenance,
                    MaintenanceStatus.CANCELLED,
                    body="No longer part of the series.",
                    notify=False,
                    actor=actor,
                    via=via,
                    now=now,
                )
                continue
            window = {}
            if "duration" in changed:
                window["ends_at"] = maintenance.starts_at + duration
            if not (per_occurrence or window or components is not None):
                continue
            actions.edit_maintenance(
                maintenance,
                components=components,
                actor=actor,
                via=via,
                now=now,
                **per_occurrence,
                **window,
            )
        materialize(series, now, actor=actor, via=via)
        after = series_state(series)
        actions.audit(actor, via, "maintenance_series.edit", series, before, after, now)
    return series
