"""Alerts from Alertmanager and Grafana set components' automatic statuses under the same rules
as probes: root-cause grouping, one incident per cause, maintenance, recovery."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from monitors.alerts import (
    MappingRule,
    Matcher,
    map_alert,
    read_alertmanager,
    read_grafana,
    receive_alerts,
)
from monitors.models import FiringAlert
from monitors.results import settle_automatic_incidents
from statuspage import actions
from statuspage.models import AuditEntry, Component, Incident, IncidentStatus

from .conftest import bad, feed

SLUGS = {"credit-bureau", "disburse"}


# --- the mapping, a pure rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    "severity, status",
    [
        ("critical", "major_outage"),
        ("error", "partial_outage"),
        ("major", "partial_outage"),
        ("warning", "degraded_performance"),
        ("WARNING", "degraded_performance"),
    ],
)
def test_the_component_label_and_severity_map_to_a_status(severity, status):
    labels = {"component": "disburse", "severity": severity}
    assert map_alert(labels, [], SLUGS) == ("disburse", status)


@pytest.mark.parametrize(
    "labels",
    [
        {"component": "disburse", "severity": "info"},
        {"component": "disburse"},
        {"component": "no-such-component", "severity": "critical"},
        {"alertname": "HighLoad", "severity": "critical"},
    ],
)
def test_an_alert_without_a_known_component_or_severity_matches_nothing(labels):
    assert map_alert(labels, [], SLUGS) is None


def rule(*matchers, component="credit-bureau", status=""):
    return MappingRule(tuple(Matcher.parse(m) for m in matchers), component, status)


def test_a_mapping_rule_sets_the_component_and_status():
    rules = [rule("alertname=BureauTimeouts", 'env=~"prod|staging"', status="partial_outage")]
    labels = {"alertname": "BureauTimeouts", "env": "prod", "severity": "critical"}
    assert map_alert(labels, rules, SLUGS) == ("credit-bureau", "partial_outage")
    # Not matched by the rule: the default mapping applies.
    assert map_alert({**labels, "env": "dev"}, rules, SLUGS) is None
    dev = {**labels, "env": "dev", "component": "disburse"}
    assert map_alert(dev, rules, SLUGS) == ("disburse", "major_outage")


def test_a_mapping_rule_without_a_status_takes_the_severitys():
    rules = [rule("team=bureau")]
    assert map_alert({"team": "bureau", "severity": "warning"}, rules, SLUGS) == (
        "credit-bureau",
        "degraded_performance",
    )


def test_the_first_matching_rule_wins_and_negative_matchers_exclude():
    rules = [
        rule("job=payouts", "env!=prod", component="disburse", status="degraded_performance"),
        rule("job=payouts", component="disburse", status="major_outage"),
    ]
    assert map_alert({"job": "payouts", "env": "test"}, rules, SLUGS)[1] == "degraded_performance"
    assert map_alert({"job": "payouts", "env": "prod"}, rules, SLUGS)[1] == "major_outage"
    assert map_alert({"job": "payouts-x"}, [rule('job!~"pay.*"')], SLUGS) is None


@pytest.mark.parametrize("text", ["no operator", "1abc=x", 'env=~"("'])
def test_a_bad_matcher_is_refused_with_the_reason(text):
    with pytest.raises(ValueError, match="matcher|regular expression"):
        Matcher.parse(text)


# --- reading payloads ----------------------------------------------------------------------------


def payload(*alerts, version="4"):
    return json.dumps({"version": version, "status": "firing", "alerts": list(alerts)}).encode()


def alert(status="firing", fingerprint="f1", starts="2026-11-29T02:00:00Z", **labels):
    return {
        "status": status,
        "labels": {"alertname": "BureauDown", **labels},
        "annotations": {"summary": "Bureau answers 503"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


@pytest.mark.parametrize(
    "body, field",
    [
        (b"not json", "body"),
        (b"[]", "body"),
        (payload(alert(), version="3"), "version"),
        (json.dumps({"version": "4"}).encode(), "alerts"),
        (payload("x"), "alerts.0"),
        (payload({**alert(), "status": "maybe"}), "alerts.0.status"),
        (payload({**alert(), "labels": {"a": 1}}), "alerts.0.labels"),
        (payload({**alert(), "labels": {}}), "alerts.0.labels"),
        (payload(alert(), {**alert(), "startsAt": "yesterday"}), "alerts.1.startsAt"),
        (payload({**alert(), "startsAt": "2026-11-29T02:00:00"}), "alerts.0.startsAt"),
        (payload({**alert(), "endsAt": 5}), "alerts.0.endsAt"),
        (payload({**alert(), "fingerprint": 7}), "alerts.0.fingerprint"),
    ],
)
def test_a_payload_that_does_not_parse_names_the_field(body, field):
    with pytest.raises(ValidationError) as caught:
        read_alertmanager(body)
    assert field in caught.value.message_dict


def test_go_zero_end_times_and_nanoseconds_are_read():
    (read,) = read_alertmanager(
        payload({**alert(), "startsAt": "2026-11-29T02:00:00.123456789+08:00"})
    )
    assert read.ends_at is None
    assert read.starts_at.isoformat() == "2026-11-29T02:00:00.123456+08:00"


def test_grafana_payloads_need_no_version_and_a_missing_fingerprint_comes_from_labels():
    body = {"alerts": [{**alert(), "fingerprint": None}], "orgId": 1, "state": "alerting"}
    (first,) = read_grafana(json.dumps(body).encode())
    (again,) = read_grafana(json.dumps(body).encode())
    assert first.fingerprint and first.fingerprint == again.fingerprint


# --- carrying them to statuses and incidents -----------------------------------------------------


@pytest.fixture
def bureau(make_component):
    return make_component("credit-bureau", name="Credit bureau")


def send(clock, *alerts, source="alertmanager"):
    return receive_alerts(source, read_alertmanager(payload(*alerts)), [], clock.now())


def status_of(component) -> Component:
    return Component.objects.get(pk=component.pk)


@pytest.mark.django_db
def test_a_firing_alert_sets_the_status_and_opens_one_incident(clock, bureau):
    done = send(clock, alert(component="credit-bureau", severity="critical"))
    assert done.as_dict()["matched"] == 1
    assert status_of(bureau).auto_status == "major_outage"
    assert status_of(bureau).status == "major_outage"
    incident = Incident.objects.get()
    assert (incident.origin, incident.root_cause, incident.impact) == (
        "automatic",
        bureau,
        "critical",
    )
    # What the alert said is for staff only.
    assert "BureauDown" in incident.notes.get().body
    assert "BureauDown" not in incident.updates.get().body


@pytest.mark.django_db
def test_the_same_notification_twice_changes_nothing(clock, bureau):
    firing = alert(component="credit-bureau", severity="critical")
    send(clock, firing)
    clock.shift(60)
    send(clock, firing)
    assert Incident.objects.count() == 1
    assert Incident.objects.get().updates.count() == 1
    row = FiringAlert.objects.get()
    assert row.times_received == 2


@override_settings(AUTO_RESOLVE_QUIET_SECONDS=600)
@pytest.mark.django_db
def test_a_resolved_alert_clears_the_status_and_recovers_the_incident(clock, bureau):
    send(clock, alert(component="credit-bureau", severity="error"))
    clock.shift(120)
    send(clock, alert("resolved", component="credit-bureau", severity="error"))
    assert status_of(bureau).status == "operational"
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.MONITORING
    clock.shift(600)
    assert settle_automatic_incidents(clock.now()) == ["resolved credit-bureau"]


@pytest.mark.django_db
def test_a_late_firing_retry_after_the_resolution_is_ignored(clock, bureau):
    firing = alert(component="credit-bureau", severity="critical")
    send(clock, firing)
    send(clock, alert("resolved", component="credit-bureau", severity="critical"))
    done = send(clock, firing)
    assert done.ignored == 1
    assert status_of(bureau).auto_status == "operational"
    # The same labels firing again later are a new episode.
    send(clock, {**firing, "startsAt": "2026-11-29T03:00:00Z"})
    assert status_of(bureau).auto_status == "major_outage"


@pytest.mark.django_db
def test_an_alert_whose_end_has_passed_is_cleared_by_the_beat(clock, bureau):
    ends = (clock.now() + timedelta(minutes=5)).isoformat()
    send(clock, {**alert(component="credit-bureau", severity="warning"), "endsAt": ends})
    assert status_of(bureau).status == "degraded_performance"
    clock.shift(5 * 60)
    settle_automatic_incidents(clock.now())
    assert status_of(bureau).status == "operational"
    assert Incident.objects.get().status == IncidentStatus.MONITORING


@pytest.mark.django_db
def test_an_unmatched_alert_is_kept_and_counted(clock, bureau):
    done = send(clock, alert(fingerprint="u1", team="ops", severity="critical"))
    assert (done.matched, done.unmatched) == (0, 1)
    row = FiringAlert.objects.get()
    assert row.component is None and row.name == "BureauDown"
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_an_alert_on_a_dependency_makes_it_the_one_root_cause(clock, bureau, make_component):
    loans = make_component("loan-application", depends_on=[bureau])
    send(
        clock,
        alert(fingerprint="a", component="loan-application", severity="error"),
        alert(fingerprint="b", component="credit-bureau", severity="critical"),
    )
    incident = Incident.objects.get()
    assert incident.root_cause == bureau
    assert dict(incident.affected.values_list("component__slug", "status")) == {
        "credit-bureau": "major_outage",
        "loan-application": "partial_outage",
    }
    assert status_of(loans).status_cause_id == bureau.pk


@pytest.mark.django_db
def test_an_alert_and_a_failing_probe_share_one_incident(clock, bureau, make_probe):
    send(clock, alert(component="credit-bureau", severity="warning"))
    probe = make_probe(bureau)
    for _ in range(3):
        feed(probe, "local", bad("major_outage"), clock)
    incident = Incident.objects.get()
    assert incident.impact == "critical"
    # The probe recovering leaves the alert's status in place.
    from .conftest import good

    for _ in range(2):
        feed(probe, "local", good(), clock)
    assert status_of(bureau).auto_status == "degraded_performance"


@pytest.mark.django_db
def test_no_incident_while_the_component_is_under_maintenance(clock, bureau, staff):
    now = clock.now()
    actions.schedule_maintenance(
        title="Bureau rotation",
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
        components=[bureau],
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
    )
    actions.advance_maintenances(now)
    send(clock, alert(component="credit-bureau", severity="critical"))
    assert not Incident.objects.exists()
    assert status_of(bureau).status == "under_maintenance"
    clock.shift(30 * 60)
    actions.advance_maintenances(clock.now())
    settle_automatic_incidents(clock.now())
    assert Incident.objects.get().root_cause == bureau
