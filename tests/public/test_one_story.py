"""The banner, the component list, the self-check, the incident cards and the JSON tell one
story (the rule: statuspage.status.page_story; its table test is in tests/core)."""

import pytest
from django.test import Client

from statuspage.models import Incident, Journey
from tests.monitors.conftest import bad, clock, feed, good, make_probe  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def recovering(clock, make_component, make_probe):
    disbursement = make_component("disbursement", name="Disbursement")
    journey = Journey.objects.create(slug="borrow", name="Borrow money")
    journey.components.set([disbursement])
    probe = make_probe(disbursement)
    for _ in range(3):
        feed(probe, "local", bad("major_outage"), clock)
    for _ in range(2):
        feed(probe, "local", good(), clock)
    incident = Incident.objects.get()
    assert (incident.status, incident.impact) == ("monitoring", "critical")
    return incident


def test_a_fix_being_monitored_is_told_calmly_everywhere(recovering):
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "banner-recovering" in html
    assert "Recovering: a fix is in place and we are monitoring it" in html
    assert "Major Service Outage" not in html
    assert "works again; we are monitoring the fix" in html
    assert f'<a href="/incidents/{recovering.pk}">' in html
    # Not "everything works, it must be your account" while a fix is being watched.
    assert "most likely on your account" not in html
    summary = Client().get("/api/v2/summary.json").json()
    assert (summary["status"]["indicator"], summary["status"]["story"]) == ("none", "recovering")
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/").content.decode()
    assert "正在恢复" in zh


def test_the_page_carries_what_its_refresh_script_compares_with_summary_json(recovering):
    # The script fetches the page again when these differ, so they must agree when nothing moved.
    summary = Client().get("/api/v2/summary.json").json()
    for language in ("en", "zh-hans"):
        html = Client(HTTP_ACCEPT_LANGUAGE=language).get("/").content.decode()
        assert (
            f'<div id="live-page" data-story="recovering" '
            f'data-updated-at="{summary["page"]["updated_at"]}">' in html
        )
    assert summary["status"]["story"] == "recovering"


def test_an_outage_is_an_outage_on_the_banner_and_in_the_self_check(
    clock,
    make_component,
    make_probe,
):
    gateway = make_component("gateway", name="API gateway")
    journey = Journey.objects.create(slug="borrow", name="Borrow money")
    journey.components.set([gateway])
    probe = make_probe(gateway)
    for _ in range(3):
        feed(probe, "local", bad("major_outage"), clock)
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "banner-critical" in html and "Major Service Outage" in html
    assert 'href="#icon-major_outage"' in html.split('class="selfcheck"')[1].split("</section>")[0]


def test_while_the_checks_are_delayed_the_page_never_says_all_is_well(
    clock, make_component, make_probe, settings
):
    from monitors.models import DispatcherState

    settings.MONITORING_WATCH_SECONDS = 10  # the web requests notice a stall, as in production
    repay = make_component("repayment", name="Repayment")
    journey = Journey.objects.create(slug="repay", name="Repay")
    journey.components.set([repay])
    probe = make_probe(repay, interval_seconds=30)
    DispatcherState.record_run(clock.now())
    feed(probe, "local", good(), clock)
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "All Systems Operational" in html and "works right now" in html
    assert "last checked" in html and "most likely on your account" in html

    clock.shift(300)
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "banner-stale" in html
    assert "No known problems, but our automatic checks are delayed" in html
    assert "worked at the last check" in html
    assert "most likely on your account" not in html
    status = Client().get("/api/v2/status.json").json()["status"]
    assert (status["indicator"], status["description"]) == ("none", "All Systems Operational")
    assert (status["story"], status["checks_delayed"]) == ("stalled", True)
    summary = Client().get("/api/v2/summary.json").json()
    assert summary["status"] == status
