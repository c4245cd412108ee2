"""The customer-service lookup: "a borrower says repaying failed at 14:05: was that us?".

`gather(components, start, end)` reads what happened to some components (and what they depend
on) during a window, with a fixed handful of indexed queries whatever the history's size;
`verdict(findings)` is the plain rule that turns it into one answer for the borrower.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from monitors.models import Probe, ProbeResult, ProbeRollup, VantagePointProblem
from statuspage import status as rules
from statuspage.languages import pick, uses_second_language
from statuspage.models import (
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    Maintenance,
    MaintenanceStatus,
)

# A borrower's "at 14:05" is approximate: a moment is looked at with this margin either side.
MOMENT_MARGIN = timedelta(minutes=15)
# Failed checks come from the raw results for windows up to this long (to the second), from
# the hourly rollups for longer ones: counting a week of raw results would take most of the
# lookup's 100 ms, and over a week an hour is precise enough.
RAW_RESULTS_MAX = timedelta(hours=6)
# The longest range looked at in one go (the lookup must stay fast on a year of history).
MAX_RANGE = timedelta(days=7)

INCIDENT = "incident"  # a public incident covered the time: link it
MAINTENANCE = "maintenance"  # announced maintenance covered the time
UNANNOUNCED = "unannounced"  # a component was not operational, nothing public says why
BLIP = "blip"  # checks failed briefly but no status changed and nothing was opened
QUIET = "quiet"  # nothing was seen: the cause is likely on the account's side


@dataclass(frozen=True)
class StatusPeriod:
    component: Component
    status: str
    starts_at: datetime  # clipped to the window
    ends_at: datetime
    began_before: bool = False  # already in this status when the window began
    went_on: bool = False  # still in it when the window ended (or now)

    @property
    def label(self) -> str:
        return ComponentStatus(self.status).label


@dataclass(frozen=True)
class ProbeFailures:
    probe: Probe
    vantage_point: str
    failures: int
    checks: int
    first_at: datetime
    last_at: datetime
    source: str  # "results" (raw, still kept) or "hourly" (rollups: times are hour starts)


@dataclass
class Findings:
    start: datetime
    end: datetime
    components: list[Component]  # those asked about, then what they depend on
    asked_ids: frozenset[int]
    incidents: list[Incident] = field(default_factory=list)
    maintenances: list[Maintenance] = field(default_factory=list)
    periods: list[StatusPeriod] = field(default_factory=list)  # non-operational only
    probe_failures: list[ProbeFailures] = field(default_factory=list)
    vantage_problems: list[VantagePointProblem] = field(default_factory=list)

    @property
    def public_incidents(self) -> list[Incident]:
        return [incident for incident in self.incidents if incident.is_public]

    @property
    def public_maintenances(self) -> list[Maintenance]:
        return [window for window in self.maintenances if window.is_public]

    @property
    def failing_periods(self) -> list[StatusPeriod]:
        return [p for p in self.periods if p.status in rules.FAILING]


def window_around(moment: datetime) -> tuple[datetime, datetime]:
    return moment - MOMENT_MARGIN, moment + MOMENT_MARGIN


def with_dependencies(components: Iterable[Component]) -> list[Component]:
    """The components and, after them, everything they depend on (transitively)."""
    through = Component.depends_on.through
    edges: dict[int, set[int]] = {}
    for source, target in through.objects.values_list("from_component_id", "to_component_id"):
        edges.setdefault(source, set()).add(target)
    asked = list(components)
    seen = {c.pk for c in asked}
    queue = list(seen)
    while queue:
        for target in edges.get(queue.pop(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    extra = Component.objects.filter(pk__in=seen - {c.pk for c in asked})
    return asked + list(extra)


def gather(asked: Iterable[Component], start: datetime, end: datetime, now: datetime) -> Findings:
    """What happened to `asked` and their dependencies between `start` and `end`."""
    components = with_dependencies(asked)
    asked_ids = frozenset(c.pk for c in asked)
    ids = [c.pk for c in components]
    findings = Findings(start=start, end=end, components=components, asked_ids=asked_ids)

    findings.incidents = list(
        Incident.objects.filter(components__in=ids, started_at__lte=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .prefetch_related("affected__component")
        .distinct()
        .order_by("started_at")
    )
    # A window counts as it happened when it started, as planned otherwise; one still
    # scheduled did not happen.
    findings.maintenances = [
        window
        for window in Maintenance.objects.filter(components__in=ids)
        .exclude(status__in=(MaintenanceStatus.CANCELLED, MaintenanceStatus.SCHEDULED))
        .filter(
            Q(starts_at__lte=end, ends_at__gte=start)
            | Q(started_at__lte=end, completed_at__gte=start)
            | Q(started_at__lte=end, completed_at__isnull=True)
        )
        .distinct()
        .order_by("starts_at")
        if window_overlaps(window, start, end, now)
    ]
    findings.periods = status_periods(components, start, end, now)
    probes = {p.pk: p for p in Probe.objects.filter(component__in=ids).select_related("component")}
    findings.probe_failures = probe_failures(probes, start, end, now)
    findings.vantage_problems = list(
        VantagePointProblem.objects.filter(probe__in=probes, started_at__lte=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .select_related("probe__component")
        .order_by("started_at")
    )
    return findings


def window_overlaps(window: Maintenance, start: datetime, end: datetime, now: datetime) -> bool:
    began = window.started_at or window.starts_at
    if window.started_at and window.completed_at is None:
        ended = now if window.status != MaintenanceStatus.COMPLETED else window.ends_at
    else:
        ended = window.completed_at or window.ends_at
    return began <= end and ended >= start


def status_periods(
    components: list[Component], start: datetime, end: datetime, now: datetime
) -> list[StatusPeriod]:
    """Each component's non-operational stretches within the window, from its status changes:
    the status it had at `start` (its last change before), then each change inside."""
    ids = [c.pk for c in components]
    before = ComponentStatusChange.objects.filter(component=OuterRef("pk"), at__lte=start)
    after = ComponentStatusChange.objects.filter(component=OuterRef("pk"), at__gt=start)
    at_start = {
        row["pk"]: row["then"] or row["next_old"] or row["status"]
        for row in Component.objects.filter(pk__in=ids)
        .annotate(
            then=Subquery(before.order_by("-at", "-id").values("new_status")[:1]),
            next_old=Subquery(after.order_by("at", "id").values("old_status")[:1]),
        )
        .values("pk", "then", "next_old", "status")
    }
    changes: dict[int, list[tuple[datetime, str]]] = {}
    for component_id, at, new_status in ComponentStatusChange.objects.filter(
        component__in=ids, at__gt=start, at__lte=end
    ).values_list("component_id", "at", "new_status"):
        changes.setdefault(component_id, []).append((at, new_status))
    end = min(end, now)
    periods = []
    for component in components:
        status, since = at_start.get(component.pk, rules.OPERATIONAL), start
        for at, new_status in [*changes.get(component.pk, []), (end, None)]:
            if status != rules.OPERATIONAL and at > since:
                periods.append(
                    StatusPeriod(component, status, since, at, since == start, new_status is None)
                )
            status, since = new_status, at
    return periods


def probe_failures(
    probes: dict[int, Probe], start: datetime, end: datetime, now: datetime
) -> list[ProbeFailures]:
    """Failed checks per probe and vantage point: from the raw results while they are kept and
    the window is short (RAW_RESULTS_MAX), from the hourly rollups otherwise."""
    if not probes:
        return []
    kept_since = now - timedelta(days=settings.RESULT_RETENTION_DAYS)
    found = []
    if start >= kept_since and end - start <= RAW_RESULTS_MAX:
        rows = (
            ProbeResult.objects.filter(probe__in=probes, checked_at__gte=start, checked_at__lte=end)
            .values("probe_id", "vantage_point")
            .annotate(
                failures=Count("pk", filter=Q(ok=False)),
                checks=Count("pk"),
                first_at=Min("checked_at", filter=Q(ok=False)),
                last_at=Max("checked_at", filter=Q(ok=False)),
            )
            .filter(failures__gt=0)
        )
        source = "results"
    else:
        hour = start.replace(minute=0, second=0, microsecond=0)
        rows = (
            ProbeRollup.objects.filter(
                probe__in=probes,
                period=ProbeRollup.Period.HOUR,
                start__gte=hour,
                start__lte=end,
                failures__gt=0,
            )
            .values("probe_id", "vantage_point")
            .annotate(
                failures=Sum("failures"),
                checks=Sum("checks"),
                first_at=Min("start"),
                last_at=Max("start"),
            )
        )
        source = "hourly"
    for row in rows:
        found.append(
            ProbeFailures(
                probe=probes[row["probe_id"]],
                vantage_point=row["vantage_point"],
                failures=row["failures"],
                checks=row["checks"],
                first_at=row["first_at"],
                last_at=row["last_at"],
                source=source,
            )
        )
    found.sort(key=lambda f: (f.first_at, f.probe.pk, f.vantage_point))
    return found


def verdict(findings: Findings) -> str:
    """One answer, the most telling first: a public incident, announced maintenance, a status
    that was not operational, failed checks that opened nothing, or nothing at all."""
    if findings.public_incidents:
        return INCIDENT
    if findings.public_maintenances:
        return MAINTENANCE
    if findings.failing_periods or findings.incidents:
        return UNANNOUNCED
    if findings.probe_failures or findings.vantage_problems:
        return BLIP
    return QUIET


# --- the reply to the borrower ------------------------------------------------------------------

ACCOUNT_REASONS = (
    # The self-check's account reasons (templates/public/_selfcheck.html), same words.
    gettext_noop("your credit score is too low for the amount requested;"),
    gettext_noop("your account is frozen for your security after a suspicious login;"),
    gettext_noop("you have too many loans with other lenders;"),
    gettext_noop("your income has not been verified yet."),
)


def public_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def borrower_reply(
    findings: Findings, answer: str, subject: tuple[str, str], language: str, zone
) -> str:
    """A reply customer service can send as is, in the borrower's language. `subject` is what
    was asked about (a journey's or component's name and second-language name); times are
    written in `zone`."""
    with translation.override(language):
        alt = uses_second_language(language)
        name = pick(subject[0], subject[1], alt)

        def when(moment: datetime | None) -> str:
            return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M") if moment else ""

        # Chinese runs its sentences together; a space after "。" reads as a typo.
        gap = "" if language.startswith("zh") else " "
        if answer == INCIDENT:
            incident = findings.public_incidents[0]
            text = _(
                "Thank you for your patience. At that time we had a problem on our side: "
                "“%(title)s”, from %(start)s. It was not caused by your account."
            ) % {
                "title": pick(incident.title, incident.title_alt, alt),
                "start": when(incident.started_at),
            }
            if incident.resolved_at:
                text += gap + _("It was fixed at %(end)s; please try again.") % {
                    "end": when(incident.resolved_at)
                }
            else:
                text += gap + _("We are still working on it; please try again later.")
            text += gap + _("Details: %(link)s") % {
                "link": public_link(f"/incidents/{incident.pk}")
            }
            return text
        if answer == MAINTENANCE:
            window = findings.public_maintenances[0]
            return _(
                "At that time %(name)s was under planned maintenance, announced in advance: "
                "“%(title)s”, %(start)s to %(end)s. It was not caused by your account; please "
                "try again now. Details: %(link)s"
            ) % {
                "name": name,
                "title": pick(window.title, window.title_alt, alt),
                "start": when(window.started_at or window.starts_at),
                "end": when(window.completed_at or window.ends_at),
                "link": public_link(f"/maintenance/{window.pk}"),
            }
        if answer == UNANNOUNCED:
            return _(
                "Thank you for your patience. At that time %(name)s was not working normally "
                "because of a problem on our side, not because of your account. Please try "
                "again; if it still fails, contact us again."
            ) % {"name": name}
        reasons = "\n".join(f"- {_(reason)}" for reason in ACCOUNT_REASONS)
        if answer == BLIP:
            opening = _(
                "At that time our checks saw a short disruption of %(name)s that recovered by "
                "itself within minutes. Please try again. If it still fails, the reason is most "
                "likely on your account:"
            ) % {"name": name}
        else:
            opening = _(
                "We checked: %(name)s was working normally at that time, so the reason is most "
                "likely on your account:"
            ) % {"name": name}
        return f"{opening}\n{reasons}\n{_('Your app shows the reason in your account messages.')}"
