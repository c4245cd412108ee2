"""The customer-service lookup over a scripted history (times in Asia/Shanghai, UTC+8):

- 1 March 14:00-15:00, a public incident: repayments in a major outage;
- 3 March 02:00-03:00, announced maintenance of repayments;
- 8 March 09:30, one failed check from one vantage point that opened nothing;
- 5 March 10:00, nothing at all.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from monitors.models import Probe, ProbeResult, ProbeRollup, VantagePointProblem
from statuspage.models import (
    Component,
    ComponentStatusChange,
    Incident,
    IncidentComponent,
    Journey,
    Maintenance,
)
from statuspage.roles import VIEWER, set_role


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


NOW = local("2026-03-10T12:00")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def viewer_client(db) -> Client:
    user = get_user_model().objects.create_user("cs-agent", is_staff=True)
    set_role(user, VIEWER)
    client = Client()
    client.force_login(user)
    return client


def change(component, old, new, at):
    ComponentStatusChange.objects.create(component=component, old_status=old, new_status=new, at=at)


@pytest.fixture
def history(db, settings):
    settings.SITE_URL = "https://status.example.com"
    ledger = Component.objects.create(name="Ledger", slug="ledger", name_alt="账本")
    repayments = Component.objects.create(name="Repayments", slug="repayments", name_alt="还款")
    repayments.depends_on.set([ledger])
    journey = Journey.objects.create(slug="repay", name="Repaying a loan", name_alt="还款")
    journey.components.set([repayments])

    incident = Incident.objects.create(
        title="Repayments fail",
        title_alt="还款失败",
        status="resolved",
        started_at=local("2026-03-01T14:00"),
        resolved_at=local("2026-03-01T15:00"),
    )
    IncidentComponent.objects.create(incident=incident, component=repayments, status="major_outage")
    change(repayments, "operational", "major_outage", local("2026-03-01T14:00"))
    change(repayments, "major_outage", "operational", local("2026-03-01T15:00"))

    maintenance = Maintenance.objects.create(
        title="Ledger upgrade",
        title_alt="账本升级",
        status="completed",
        starts_at=local("2026-03-03T02:00"),
        ends_at=local("2026-03-03T03:00"),
        started_at=local("2026-03-03T02:00"),
        completed_at=local("2026-03-03T03:00"),
    )
    maintenance.components.set([repayments])
    change(repayments, "operational", "under_maintenance", local("2026-03-03T02:00"))
    change(repayments, "under_maintenance", "operational", local("2026-03-03T03:00"))

    probe = Probe.objects.create(component=repayments, name="health", kind="http")
    for minute, ok in ((29, True), (30, False), (31, True)):
        at = local(f"2026-03-08T09:{minute}")
        ProbeResult.objects.create(
            probe=probe,
            vantage_point="shanghai",
            scheduled_at=at,
            checked_at=at + timedelta(seconds=10),
            ok=ok,
            error="" if ok else "timed out",
        )
    VantagePointProblem.objects.create(
        probe=probe,
        vantage_point="shanghai",
        started_at=local("2026-03-08T09:30"),
        ended_at=local("2026-03-08T09:31"),
    )
    # Long ago (raw results purged): an hour with two failed checks out of 60.
    ProbeRollup.objects.create(
        probe=probe,
        vantage_point="shanghai",
        period=ProbeRollup.Period.HOUR,
        start=local("2026-01-05T08:00"),
        checks=60,
        failures=2,
    )
    return {"incident": incident, "maintenance": maintenance, "probe": probe}


def look(client, about="journey:repay", at="", until="", language="en", tz="Asia/Shanghai"):
    params = {"about": about, "at": at, "until": until, "language": language, "tz": tz}
    return client.get("/console/lookup/", params)


def test_it_names_the_public_incident_and_links_it_in_the_reply(viewer_client, history):
    response = look(viewer_client, at="2026-03-01T14:05")
    assert response.status_code == 200
    assert response.context["answer"] == "incident"
    page = response.content.decode()
    assert "Yes: a public incident covered that time." in page
    reply = response.context["reply"]
    incident = history["incident"]
    assert "“Repayments fail”, from 2026-03-01 14:00" in reply
    assert "It was fixed at 2026-03-01 15:00" in reply
    assert f"https://status.example.com/incidents/{incident.pk}" in reply


def test_the_reply_is_in_the_borrowers_language(viewer_client, history):
    reply = look(viewer_client, at="2026-03-01T14:05", language="zh-hans").context["reply"]
    assert "“还款失败”" in reply
    assert "这不是您的账户造成的。该问题已于" in reply  # no space between Chinese sentences
    assert f"/incidents/{history['incident'].pk}" in reply


def test_it_reads_the_time_in_the_staff_members_zone(viewer_client, history):
    # 06:05 UTC is 14:05 in Shanghai: during the incident.
    assert look(viewer_client, at="2026-03-01T06:05", tz="UTC").context["answer"] == "incident"
    # 14:05 UTC is 22:05 in Shanghai: long after.
    assert look(viewer_client, at="2026-03-01T14:05", tz="UTC").context["answer"] == "quiet"


def test_it_names_announced_maintenance(viewer_client, history):
    response = look(viewer_client, at="2026-03-03T02:30")
    assert response.context["answer"] == "maintenance"
    reply = response.context["reply"]
    assert "planned maintenance" in reply and "“Ledger upgrade”" in reply
    assert f"/maintenance/{history['maintenance'].pk}" in reply
    periods = response.context["findings"].periods
    assert [(p.component.slug, p.status) for p in periods] == [("repayments", "under_maintenance")]


def test_a_probe_blip_that_opened_nothing_is_not_blamed_on_the_platform(viewer_client, history):
    response = look(viewer_client, at="2026-03-08T09:35")
    assert response.context["answer"] == "blip"
    page = response.content.decode()
    assert "1 of 3 checks failed" in page
    assert "failed only from shanghai" in page
    reply = response.context["reply"]
    assert "short disruption of Repaying a loan" in reply
    assert "your credit score is too low for the amount requested;" in reply


def test_a_quiet_time_points_to_the_account_with_the_self_checks_reasons(viewer_client, history):
    response = look(viewer_client, at="2026-03-05T10:00")
    assert response.context["answer"] == "quiet"
    assert (
        "No platform problem was seen at that time; the cause is likely on the account side."
        in response.content.decode()
    )
    reply = look(viewer_client, at="2026-03-05T10:00", language="zh-hans").context["reply"]
    assert "当时还款运行正常" in reply
    assert "您的信用评分不足以申请该金额；" in reply
    assert "具体原因可在 App 的账户消息中查看。" in reply


def test_a_range_lists_everything_and_the_incident_comes_first(viewer_client, history):
    response = look(viewer_client, at="2026-03-01T00:00", until="2026-03-07T00:00")
    assert response.context["answer"] == "incident"
    findings = response.context["findings"]
    assert [m.title for m in findings.maintenances] == ["Ledger upgrade"]
    assert [(p.status, p.starts_at, p.ends_at) for p in findings.periods] == [
        ("major_outage", local("2026-03-01T14:00"), local("2026-03-01T15:00")),
        ("under_maintenance", local("2026-03-03T02:00"), local("2026-03-03T03:00")),
    ]


def test_a_status_already_failing_before_the_window_is_seen(viewer_client, history):
    ledger = Component.objects.get(slug="ledger")
    change(ledger, "operational", "partial_outage", local("2026-03-05T09:00"))
    response = look(viewer_client, about="component:repayments", at="2026-03-05T10:00")
    # The ledger is a dependency of repayments: its unannounced trouble counts.
    assert response.context["answer"] == "unannounced"
    period = response.context["findings"].periods[0]
    assert (period.component.slug, period.starts_at) == ("ledger", local("2026-03-05T09:45"))


def test_old_failures_come_from_the_hourly_rollups(viewer_client, history):
    response = look(viewer_client, at="2026-01-05T08:20")
    assert response.context["answer"] == "blip"
    (failed,) = response.context["findings"].probe_failures
    assert (failed.source, failed.failures, failed.checks) == ("hourly", 2, 60)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"at": "2026-03-05T10:00", "until": "2026-03-05T09:00"}, "until"),
        ({"at": "2026-03-01T10:00", "until": "2026-03-09T10:00"}, "until"),
        ({"at": "yesterday"}, "at"),
        ({"at": "2026-03-05T10:00", "about": "journey:nope"}, "about"),
        ({"at": "2026-03-05T10:00", "about": "nonsense"}, "about"),
        ({"at": "2026-03-05T10:00", "language": "fr"}, "language"),
    ],
)
def test_bad_input_is_refused_with_the_field(viewer_client, history, params, field):
    response = look(viewer_client, **params)
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_an_unknown_time_zone_falls_back_to_the_sites(viewer_client, history):
    response = look(viewer_client, at="2026-03-01T14:05", tz="Mars/Olympus")
    assert response.status_code == 400  # the field says so; nothing breaks
    assert "tz" in response.context["form"].errors


def test_its_query_count_does_not_grow_with_history(
    viewer_client, history, django_assert_max_num_queries
):
    # A fixed handful: the session, role and second factor (5), the form's choices (2), the
    # journey (2), the dependencies (2), then one or two per kind of finding, the session saved.
    with django_assert_max_num_queries(21):
        look(viewer_client, at="2026-03-08T09:35")
    for day in range(2, 28):
        for at in (local(f"2026-02-{day:02}T10:00"), local(f"2026-02-{day:02}T10:05")):
            ProbeRollup.objects.create(
                probe=history["probe"], vantage_point="shanghai", period="hour", start=at
            )
    with django_assert_max_num_queries(23):  # with an incident: its components (2)
        look(viewer_client, at="2026-03-01T14:05")
