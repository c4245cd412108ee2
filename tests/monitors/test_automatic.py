from datetime import timedelta

import pytest
from django.test import override_settings

from monitors.automatic import root_causes
from monitors.results import settle_automatic_incidents
from statuspage import actions
from statuspage.models import AuditEntry, Component, Incident, IncidentStatus

from .conftest import bad, feed, good

pytestmark = pytest.mark.django_db

QUIET = 600


def fail(probe, clock, times=3, severity="partial_outage", vantage_point="local"):
    for _ in range(times):
        feed(probe, vantage_point, bad(severity), clock)


def recover(probe, clock, times=2, vantage_point="local"):
    for _ in range(times):
        feed(probe, vantage_point, good(), clock)


def status_of(component) -> Component:
    return Component.objects.get(pk=component.pk)


@pytest.mark.parametrize(
    "auto_status, depends_on, maintenance, expected",
    [
        ({1: "partial_outage", 2: "operational"}, {2: [1]}, [], {1: [2]}),
        # The dependent fails too: still one root cause, the dependency.
        ({1: "major_outage", 2: "partial_outage"}, {2: [1]}, [], {1: [2]}),
        # Through a chain: 3 -> 2 -> 1, only 1 is a root and both others are affected.
        (
            {1: "partial_outage", 2: "operational", 3: "degraded_performance"},
            {2: [1], 3: [2]},
            [],
            {1: [2, 3]},
        ),
        # Two independent failures: two roots.
        ({1: "partial_outage", 2: "partial_outage"}, {}, [], {1: [], 2: []}),
        # Under maintenance: no root cause, and a failing dependency under maintenance still
        # explains its dependents' failures.
        ({1: "partial_outage", 2: "partial_outage"}, {2: [1]}, [1], {}),
        # A dependent under maintenance is not listed as affected.
        ({1: "partial_outage", 2: "operational"}, {2: [1]}, [2], {1: []}),
        # A cycle does not loop forever.
        ({1: "partial_outage", 2: "operational"}, {1: [2], 2: [1]}, [], {1: [2]}),
    ],
)
def test_root_causes(auto_status, depends_on, maintenance, expected):
    assert root_causes(auto_status, depends_on, maintenance) == expected


def test_one_incident_names_the_root_cause_of_a_dependency_failure(
    clock, make_component, make_probe
):
    bureau = make_component("credit-bureau", name="Credit bureau", name_alt="征信接口")
    loans = make_component("loan-application", name="Loan application", depends_on=[bureau])
    bureau_probe = make_probe(bureau)
    loans_probe = make_probe(loans)
    for _ in range(3):
        feed(loans_probe, "local", bad(), clock, step=0)
        feed(bureau_probe, "local", bad("major_outage", seen="503"), clock)

    incident = Incident.objects.get()
    assert incident.origin == "automatic" and incident.root_cause == bureau
    assert incident.impact == "critical"
    assert dict(incident.affected.values_list("component__slug", "status")) == {
        "credit-bureau": "major_outage",
        "loan-application": "partial_outage",
    }
    assert status_of(loans).status_cause_id == bureau.pk
    first = incident.updates.get()
    # What the probes saw is for staff: an internal note, never the public timeline.
    assert "`[STATUS] == 200` failed (value seen: `503`)" in incident.notes.get().body
    assert "503" not in first.body
    assert "Loan application" in first.body
    assert "征信接口" in first.body_alt and "503" not in first.body_alt
    assert incident.title_alt == "征信接口：严重中断"


def test_a_dependent_alone_shows_degraded_because_of_its_dependency(
    clock, make_component, make_probe
):
    bureau = make_component("credit-bureau")
    loans = make_component("loan-application", depends_on=[bureau])
    fail(make_probe(bureau), clock)
    loans = status_of(loans)
    assert (loans.status, loans.status_cause_id) == ("degraded_performance", bureau.pk)
    incident = Incident.objects.get()
    assert dict(incident.affected.values_list("component__slug", "status")) == {
        "credit-bureau": "partial_outage",
        "loan-application": "degraded_performance",
    }


@override_settings(AUTO_RESOLVE_QUIET_SECONDS=QUIET)
def test_recovery_moves_to_monitoring_then_resolved_after_the_quiet_period(clock, make_probe):
    probe = make_probe()
    fail(probe, clock)
    recover(probe, clock)
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.MONITORING
    assert status_of(probe.component).status == "operational"

    clock.shift(QUIET - 60)
    assert settle_automatic_incidents(clock.now()) == []
    clock.shift(60)
    assert settle_automatic_incidents(clock.now()) == ["resolved bureau"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert [u.status for u in incident.updates.order_by("display_at")] == [
        "investigating",
        "monitoring",
        "resolved",
    ]
    assert incident.updates.get(status="resolved").body_alt


@override_settings(AUTO_RESOLVE_QUIET_SECONDS=QUIET)
def test_flapping_within_the_quiet_period_keeps_one_incident(clock, make_probe):
    probe = make_probe()
    for _ in range(3):
        fail(probe, clock)
        recover(probe, clock)
    incident = Incident.objects.get()
    assert [u.status for u in incident.updates.order_by("display_at", "id")] == [
        "investigating",
        "monitoring",
        "investigating",
        "monitoring",
        "investigating",
        "monitoring",
    ]
    clock.shift(QUIET)
    settle_automatic_incidents(clock.now())
    fail(probe, clock)
    assert Incident.objects.count() == 2  # after resolution, a new failure is a new incident


@override_settings(AUTO_RESOLVE_QUIET_SECONDS=QUIET)
def test_a_taken_over_incident_only_gets_the_recovery_update(clock, make_probe, staff):
    probe = make_probe()
    fail(probe, clock)
    incident = Incident.objects.get()
    actions.post_incident_update(
        incident,
        status=IncidentStatus.IDENTIFIED,
        body="The bureau's gateway is rejecting our certificate.",
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
    )
    fail(probe, clock, severity="major_outage")  # worse now: not auto-edited
    incident.refresh_from_db()
    assert incident.taken_over_at is not None and incident.impact == "major"

    recover(probe, clock)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.MONITORING
    assert incident.updates.order_by("-display_at", "-id").first().author is None

    fail(probe, clock)
    recover(probe, clock)
    clock.shift(QUIET * 2)
    settle_automatic_incidents(clock.now())
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.MONITORING
    assert incident.updates.count() == 3
    assert Incident.objects.count() == 1


def test_no_incident_during_maintenance_and_one_after_an_overrun(clock, make_probe, staff):
    probe = make_probe()
    now = clock.now()
    maintenance = actions.schedule_maintenance(
        title="Bureau certificate rotation",
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
        components=[probe.component],
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
    )
    actions.advance_maintenances(clock.now())
    fail(probe, clock, times=10)
    assert not Incident.objects.exists()
    assert status_of(probe.component).status == "under_maintenance"

    clock.shift(30 * 60)
    actions.advance_maintenances(clock.now())
    maintenance.refresh_from_db()
    assert maintenance.status == "completed"
    fail(probe, clock, times=1)  # the very next failed run, or the beat, opens it
    incident = Incident.objects.get()
    assert incident.root_cause_id == probe.component_id
    assert status_of(probe.component).status == "partial_outage"


def test_the_beat_opens_the_incident_when_a_maintenance_ends_with_failures(
    clock, make_probe, staff
):
    probe = make_probe()
    now = clock.now()
    actions.schedule_maintenance(
        title="Window",
        starts_at=now,
        ends_at=now + timedelta(minutes=5),
        components=[probe.component],
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
    )
    actions.advance_maintenances(clock.now())
    fail(probe, clock)
    clock.shift(300)
    actions.advance_maintenances(clock.now())
    assert settle_automatic_incidents(clock.now()) == ["opened bureau"]


def test_concurrent_reconciles_reuse_the_open_incident(clock, make_probe):
    probe = make_probe()
    fail(probe, clock)
    assert settle_automatic_incidents(clock.now()) == []
    assert Incident.objects.count() == 1


def test_a_dependency_with_an_unconfirmed_failure_holds_back_its_dependents():
    assert root_causes({1: "operational", 2: "partial_outage"}, {2: [1]}, [], [1]) == {}


def test_a_dependent_incident_is_folded_into_the_root_cause_found_later(
    clock, make_component, make_probe
):
    bureau = make_component("credit-bureau")
    loans = make_component("loan-application", depends_on=[bureau])
    bureau_probe, loans_probe = make_probe(bureau), make_probe(loans)
    fail(loans_probe, clock)
    first = Incident.objects.get()
    assert first.root_cause == loans
    for _ in range(3):
        feed(bureau_probe, "local", bad(), clock, step=0)
        feed(loans_probe, "local", bad(), clock)
    first.refresh_from_db()
    assert first.status == IncidentStatus.RESOLVED
    assert "caused by **Credit Bureau**" in first.updates.first().body
    open_incident = Incident.objects.get(resolved_at__isnull=True)
    assert open_incident.root_cause == bureau
    assert set(open_incident.affected.values_list("component__slug", flat=True)) == {
        "credit-bureau",
        "loan-application",
    }


@override_settings(AUTO_RESOLVE_QUIET_SECONDS=0)
def test_disabling_a_failing_probe_clears_its_component_at_the_next_beat(clock, make_probe):
    probe = make_probe()
    fail(probe, clock)
    assert status_of(probe.component).status == "partial_outage"
    probe.is_enabled = False
    probe.save()
    assert settle_automatic_incidents(clock.now()) == ["monitoring bureau"]
    assert status_of(probe.component).auto_status == "operational"
    assert settle_automatic_incidents(clock.now()) == ["resolved bureau"]


def test_a_public_automatic_incident_names_no_internal_dependent_nor_probe_detail(
    clock, make_component, make_probe
):
    bureau = make_component("credit-bureau", name="Credit bureau")
    make_component("loan-application", name="Loan application", depends_on=[bureau])
    make_component("risk-feed", name="Risk feed", is_public=False, depends_on=[bureau])
    probe = make_probe(bureau, name="pboc-query")
    fail(probe, clock, severity="major_outage")

    incident = Incident.objects.get()
    assert incident.is_public
    body = incident.updates.get().body
    assert "Loan application" in body
    assert "Risk feed" not in body
    assert "pboc-query" not in body and "[STATUS]" not in body
    assert "pboc-query" in incident.notes.get().body


def test_an_escalation_is_told_in_the_timeline_and_the_title_follows(
    clock, make_component, make_probe
):
    bureau = make_component("credit-bureau", name="Credit bureau", name_alt="征信接口")
    probe = make_probe(bureau)
    fail(probe, clock, severity="partial_outage")
    incident = Incident.objects.get()
    assert (incident.title, incident.impact) == ("Credit bureau: partial outage", "major")

    fail(probe, clock, severity="major_outage")
    incident.refresh_from_db()
    assert (incident.title, incident.impact) == ("Credit bureau: major outage", "critical")
    assert incident.title_alt == "征信接口：严重中断"
    latest = incident.updates.order_by("-display_at", "-id").first()
    assert "the problem is worse" in latest.body and "down (major outage)" in latest.body
    assert "情况加重" in latest.body_alt
    assert "(UTC+08:00)" in latest.body and "（UTC+08:00）" in latest.body_alt
    assert "CST" not in latest.body + latest.body_alt
    assert latest.notify_subscribers


def test_subscribers_hear_of_an_escalation_at_most_once_per_window(
    clock, make_component, make_probe, settings
):
    settings.ESCALATION_NOTIFY_MINUTES = 15
    bureau = make_component("credit-bureau", name="Credit bureau")
    probe = make_probe(bureau)
    fail(probe, clock, severity="partial_outage")
    incident = Incident.objects.get()
    fail(probe, clock, severity="major_outage")  # worse: told
    recover(probe, clock)  # monitoring: told
    fail(probe, clock, severity="major_outage")  # failing again, 1 minute later: quiet
    updates = list(incident.updates.order_by("display_at", "id"))
    assert [u.status for u in updates] == [
        "investigating",
        "investigating",
        "monitoring",
        "investigating",
    ]
    assert [u.notify_subscribers for u in updates] == [True, True, True, False]
    assert "failing again" in updates[-1].body

    clock.shift(15 * 60)
    recover(probe, clock)
    fail(probe, clock, severity="major_outage")
    last = incident.updates.order_by("-display_at", "-id").first()
    assert "failing again" in last.body and last.notify_subscribers


def test_a_failure_right_after_a_window_says_the_work_overran(clock, make_component, make_probe):
    bureau = make_component("credit-bureau", name="Credit bureau")
    probe = make_probe(bureau)
    now = clock.now()
    window = actions.schedule_maintenance(
        title="Bureau upgrade",
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
        components=[bureau],
        actor=None,
        via="console",
        now=now,
    )
    actions.advance_maintenances(now)
    window.refresh_from_db()
    assert window.status == "in_progress"
    fail(probe, clock)
    assert not Incident.objects.exists()  # announced work
    clock.shift(30 * 60)
    actions.advance_maintenances(clock.now())
    settle_automatic_incidents(clock.now())
    body = Incident.objects.get().updates.get().body
    assert "overran its window, which ended at 29 Nov 2026, 10:30 (UTC+08:00)" in body
