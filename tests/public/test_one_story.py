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
    assert "Major Service Outage" not in html.split('id="status-labels"')[0]
    assert "works again; we are monitoring the fix" in html
    assert f'<a href="/incidents/{recovering.pk}">' in html
    # Not "everything works, it must be your account" while a fix is being watched.
    assert "most likely on your account" not in html
    summary = Client().get("/api/v2/summary.json").json()
    assert summary["status"]["indicator"] == "none"
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/").content.decode()
    assert "正在恢复" in zh


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
