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
