from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from monitors.models import ProbeResult, ProbeRollup

from .conftest import bad, feed, good

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, staff):
    client.force_login(staff)
    return client


def test_it_requires_staff(client, make_probe):
    probe = make_probe()
    for url in ("/console/probes/", f"/console/probes/{probe.pk}/"):
        assert client.get(url).status_code == 302
        user = get_user_model().objects.create_user(f"bob{probe.pk}{len(url)}", password="x")
        client.force_login(user)
        assert client.get(url).status_code == 403
        client.logout()


def test_it_rejects_post(console):
    assert console.post("/console/probes/").status_code == 405


def test_the_list_puts_failing_probes_first_then_unconfirmed_then_network_problems(
    console, clock, make_probe, make_component
):
    fine = make_probe(make_component("a-fine"), name="fine")
    network = make_probe(make_component("b-network"), name="network", vantage_points=["sh", "sz"])
    unconfirmed = make_probe(make_component("c-unconfirmed"), name="unconfirmed")
    failing = make_probe(make_component("d-failing"), name="failing")
    for _ in range(3):
        feed(fine, "local", good(), clock, step=0)
        feed(network, "sh", bad(), clock, step=0)
        feed(network, "sz", good(), clock, step=0)
        feed(failing, "local", bad(), clock)
    feed(unconfirmed, "local", bad(), clock)

    response = console.get("/console/probes/")
    names = [row.probe.name for row in response.context["rows"]]
    assert names == ["failing", "unconfirmed", "network", "fine"]
    assert b"network problem (1)" in response.content


def test_the_probe_page_shows_results_state_chart_and_problems(console, clock, make_probe):
    probe = make_probe(vantage_points=["sh", "sz"])
    for _ in range(3):
        feed(probe, "sh", bad(seen="503"), clock, step=0)
        feed(probe, "sz", good(120), clock)
    clock.shift(3600)
    feed(probe, "sz", good(80), clock)

    response = console.get(f"/console/probes/{probe.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>[STATUS] == 200</code>" in html and "<code>503</code>" in html
    assert "3 / 3" in html  # sh's failures against the threshold
    assert html.count("<polyline") == 4  # p50 and p95 for each vantage point
    assert "ongoing" in html  # sh's network problem
    assert set(response.context["recent"]) == {"sh", "sz"}


def test_the_probe_page_never_reads_results_older_than_a_day(console, clock, make_probe):
    probe = make_probe()
    old = clock.now() - timedelta(days=2)
    ProbeResult.objects.create(
        probe=probe, vantage_point="local", scheduled_at=old, checked_at=old, ok=False
    )
    response = console.get(f"/console/probes/{probe.pk}/")
    assert response.context["recent"]["local"] == []
    assert not ProbeRollup.objects.exists()


def test_a_heartbeat_probe_page_gives_its_full_url_and_curl_lines(console, make_probe, settings):
    from django.test import Client

    settings.SITE_URL = "https://status.example.com"
    probe = make_probe(
        kind="heartbeat", config={"period": "24h"}, conditions=[], heartbeat_token="tok-123_ABC"
    )
    html = console.get(f"/console/probes/{probe.pk}/").content.decode()
    url = "https://status.example.com/probes/heartbeat/tok-123_ABC"
    assert f'<code class="copy">{url}</code>' in html
    assert f"curl -fsS -m 10 --retry 3 {url}</pre>" in html
    assert f"curl -fsS -m 10 --retry 3 {url}/fail" in html
    assert "never" in html  # no call yet
    # The URL shown is one the site answers.
    assert Client().get(url.removeprefix(settings.SITE_URL)).status_code == 200
    assert "success" in console.get(f"/console/probes/{probe.pk}/").content.decode()


def test_statuses_are_shown_as_words(console, clock, make_probe):
    probe = make_probe()
    for _ in range(3):
        feed(probe, "local", bad(severity="partial_outage"), clock)
    for url in ("/console/probes/", f"/console/probes/{probe.pk}/"):
        html = console.get(url).content.decode()
        assert "Failing: partial outage" in html
        assert "partial_outage<" not in html and ": partial_outage" not in html
