"""What staff see of a TLS probe: the certificate a real server presented, end to end."""

import pytest
from django.utils import timezone

from monitors.checks.tls import TlsCheck
from monitors.conditions import evaluate
from monitors.models import Probe, ProbeState
from monitors.recorder import record_result
from monitors.results import RunResult

pytestmark = pytest.mark.django_db


def check_and_record(probe: Probe, server, certificates, **config) -> None:
    config = {
        "host": server.host,
        "port": server.port,
        "server_name": "localhost",
        "ca_bundle": certificates.ca_bundle,
        **config,
    }
    outcome = TlsCheck.run(config, timeout=2.0)
    run = RunResult.from_check(outcome, evaluate(probe.conditions, outcome))
    record_result(probe, "local", run, now=timezone.now())


@pytest.fixture
def tls_probe(make_component):
    return Probe.objects.create(
        component=make_component("gateway-tls"),
        name="certificate",
        kind="tls",
        config={"host": "127.0.0.1"},
        conditions=[{"condition": "[CONNECTED] == true", "severity": "major_outage"}],
    )


def test_the_probe_page_shows_the_certificates_subject_issuer_and_expiry(
    admin_client, tls_probe, https_server, certificates
):
    check_and_record(tls_probe, https_server("valid"), certificates)
    html = admin_client.get(f"/console/probes/{tls_probe.pk}/").content.decode()
    state = ProbeState.objects.get(probe=tls_probe)
    assert state.certificate["days_left"] == 29
    assert "<dt>Subject</dt>" in html and "<dt>Issuer</dt>" in html
    assert "trustme" in state.certificate["issuer"] and state.certificate["issuer"] in html
    assert state.certificate["subject"] in html
    assert "in 29 days" in html
    assert "chain and name verified" in html


def test_an_ok_result_with_verification_off_never_says_certificate_verify_failed(
    admin_client, tls_probe, https_server, certificates
):
    check_and_record(tls_probe, https_server("self-signed"), certificates, verify_tls=False)
    response = admin_client.get(f"/console/probes/{tls_probe.pk}/")
    html = response.content.decode()
    [result] = response.context["recent"]["local"]
    assert result.ok and result.error == ""
    assert "certificate verify failed" not in html
    assert "chain not trusted" in html
    assert "Not enforced (verify_tls is off). OpenSSL says: self-signed certificate" in html


def test_a_run_that_cannot_connect_keeps_the_last_certificate_read(
    tls_probe, https_server, certificates
):
    server = https_server("valid")
    check_and_record(tls_probe, server, certificates)
    record_result(
        tls_probe, "local", RunResult.from_error("connection refused"), now=timezone.now()
    )
    assert ProbeState.objects.get(probe=tls_probe).certificate["days_left"] == 29
