from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from monitors.checks.heartbeat import HeartbeatCheck, new_heartbeat_token
from monitors.models import Probe

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def probe(make_component):
    return Probe.objects.create(
        component=make_component("bureau-upload"),
        name="nightly-upload",
        kind="heartbeat",
        config={"period": "24h"},
        heartbeat_token=new_heartbeat_token(),
    )


@pytest.fixture
def client():
    # CSRF checks on, as for a real client: the endpoint must not need a token.
    return Client(enforce_csrf_checks=True)


def refreshed(probe: Probe) -> Probe:
    probe.refresh_from_db()
    return probe


def test_a_get_records_a_successful_call(client, probe):
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/probes/heartbeat/{probe.heartbeat_token}")

    assert response.status_code == 200
    assert response.content == b"OK\n"
    assert "no-cache" in response["Cache-Control"]
    assert (refreshed(probe).last_ping_at, probe.last_ping_ok) == (NOW, True)


def test_a_post_works_without_a_csrf_token(client, probe):
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            f"/probes/heartbeat/{probe.heartbeat_token}", data="done", content_type="text/plain"
        )

    assert response.status_code == 200
    assert refreshed(probe).last_ping_at == NOW


def test_a_head_request_counts_too(client, probe):
    with time_machine.travel(NOW, tick=False):
        response = client.head(f"/probes/heartbeat/{probe.heartbeat_token}")

    assert response.status_code == 200
    assert refreshed(probe).last_ping_at == NOW


def test_the_fail_url_records_a_failure(client, probe):
    with time_machine.travel(NOW, tick=False):
        response = client.post(f"/probes/heartbeat/{probe.heartbeat_token}/fail")

    assert response.status_code == 200
    assert (refreshed(probe).last_ping_at, probe.last_ping_ok) == (NOW, False)


def test_status_fail_in_the_query_records_a_failure(client, probe):
    client.get(f"/probes/heartbeat/{probe.heartbeat_token}?status=fail")

    assert refreshed(probe).last_ping_ok is False


def test_a_success_after_a_failure_clears_it(client, probe):
    client.get(f"/probes/heartbeat/{probe.heartbeat_token}/fail")
    client.get(f"/probes/heartbeat/{probe.heartbeat_token}")

    assert refreshed(probe).last_ping_ok is True


def test_an_unknown_token_is_404(client, probe):
    response = client.get(f"/probes/heartbeat/{new_heartbeat_token()}")

    assert response.status_code == 404
    assert refreshed(probe).last_ping_at is None


def test_an_overlong_token_is_404(client, probe):
    response = client.get(f"/probes/heartbeat/{'a' * 65}")

    assert response.status_code == 404


def test_a_token_of_another_kind_of_probe_is_404(client, probe):
    Probe.objects.filter(pk=probe.pk).update(kind="http")

    response = client.get(f"/probes/heartbeat/{probe.heartbeat_token}")

    assert response.status_code == 404


def test_it_rejects_other_methods(client, probe):
    response = client.put(f"/probes/heartbeat/{probe.heartbeat_token}")

    assert response.status_code == 405


def test_a_delayed_call_never_moves_the_last_call_backwards(client, probe):
    Probe.objects.filter(pk=probe.pk).update(last_ping_at=NOW + timedelta(minutes=5))

    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/probes/heartbeat/{probe.heartbeat_token}/fail")

    assert response.status_code == 200
    assert (refreshed(probe).last_ping_at, probe.last_ping_ok) == (
        NOW + timedelta(minutes=5),
        True,
    )


def test_a_missed_call_then_fails_the_probe_and_a_new_call_recovers_it(client, probe):
    config = HeartbeatCheck.validate(probe.config)
    with time_machine.travel(NOW, tick=False):
        client.get(f"/probes/heartbeat/{probe.heartbeat_token}")
    with time_machine.travel(NOW + timedelta(hours=24, minutes=6), tick=False):
        assert not HeartbeatCheck.run(config, timeout=1, probe=probe).connected
        client.get(f"/probes/heartbeat/{probe.heartbeat_token}")
        assert HeartbeatCheck.run(config, timeout=1, probe=probe).connected
