import pytest

from monitors.checks import REGISTRY
from monitors.checks.tls import TlsCheck
from monitors.conditions import evaluate


def run(server, certificates, server_name: str = "localhost", timeout: float = 2.0, **config):
    return TlsCheck.run(
        {
            "host": server.host,
            "port": server.port,
            "server_name": server_name,
            "ca_bundle": certificates.ca_bundle,
            **config,
        },
        timeout=timeout,
    )


def test_it_is_registered_under_its_kind():
    assert REGISTRY["tls"] is TlsCheck


def test_a_valid_certificate_reports_days_left(https_server, certificates):
    outcome = run(https_server("valid"), certificates)

    assert outcome.connected and outcome.error == ""
    assert outcome.details["chain_ok"] and outcome.details["hostname_ok"]
    assert outcome.details["days_left"] == 29  # 30 days minus the seconds since issuing
    assert 29 * 86400 < outcome.certificate_expires_in_s <= 30 * 86400
    assert evaluate([{"condition": "[CERTIFICATE_EXPIRATION] > 336h"}], outcome).ok


def test_a_certificate_close_to_expiry_fails_the_expiration_condition(https_server, certificates):
    outcome = run(https_server("expiring"), certificates)

    verdict = evaluate(
        [{"condition": "[CERTIFICATE_EXPIRATION] > 336h", "severity": "degraded_performance"}],
        outcome,
    )

    assert outcome.connected and outcome.details["days_left"] == 4
    assert (verdict.ok, verdict.severity) == (False, "degraded_performance")
    assert verdict.seen.startswith(("119h59m", "120h"))  # 5 days, less the test's own seconds


def test_an_expired_certificate_is_read_and_fails(https_server, certificates):
    outcome = run(https_server("expired"), certificates)

    assert not outcome.connected
    assert outcome.error == "certificate verify failed: certificate has expired"
    assert outcome.details["chain_ok"] is False
    assert outcome.details["hostname_ok"] is True
    assert outcome.details["days_left"] == -2
    assert outcome.certificate_expires_in_s < 0
    assert evaluate([], outcome).severity == "major_outage"


def test_a_certificate_for_another_name_fails_on_the_hostname(https_server, certificates):
    outcome = run(https_server("wrong-name"), certificates)

    assert not outcome.connected
    assert outcome.details["chain_ok"] is True
    assert outcome.details["hostname_ok"] is False
    assert "mismatch" in outcome.error


def test_the_name_checked_is_the_server_name(https_server, certificates):
    outcome = run(https_server("wrong-name"), certificates, server_name="credit-bureau.example")

    assert outcome.connected
    assert outcome.details["hostname_ok"] is True


def test_a_self_signed_certificate_fails_on_the_chain(https_server, certificates):
    outcome = run(https_server("self-signed"), certificates)

    assert not outcome.connected
    assert outcome.error == "certificate verify failed: self-signed certificate"
    assert outcome.details["chain_ok"] is False
    assert outcome.details["hostname_ok"] is False  # trustme's CA names no host
    assert outcome.details["days_left"] > 300


def test_with_verification_off_a_bad_chain_still_connects(https_server, certificates):
    outcome = run(https_server("self-signed"), certificates, verify_tls=False)

    assert outcome.connected
    assert outcome.details["chain_ok"] is False
    # A run that passed carries no error; what verification would have said is a detail.
    assert outcome.error == ""
    assert outcome.details["not_verified_because"] == "self-signed certificate"


def test_a_plain_tcp_server_fails_the_handshake(http_server, certificates):
    outcome = run(http_server, certificates)

    assert not outcome.connected
    assert outcome.error.startswith("TLS handshake failed")


def test_it_reports_a_refused_connection(closed_port, certificates):
    outcome = TlsCheck.run({"host": "127.0.0.1", "port": closed_port}, timeout=2)

    assert (outcome.connected, outcome.error) == (False, "connection refused")


def test_it_times_out_on_a_server_that_never_answers(unanswered_listener, certificates):
    outcome = run(unanswered_listener, certificates, timeout=0.3)

    assert (outcome.connected, outcome.error) == (False, "timed out after 0.3s")


def test_it_fills_in_defaults():
    assert TlsCheck.validate({"host": "api.lending.test"}) == {
        "host": "api.lending.test",
        "port": 443,
        "server_name": "api.lending.test",
        "verify_tls": True,
        "ca_bundle": None,
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "host: required"),
        ({"host": "a.test", "port": "https"}, "port: expected a port number"),
        ({"host": "a.test", "server_name": "a b"}, "server_name: expected a host name"),
        ({"host": "a.test", "verify_tls": 1}, "verify_tls: expected true or false"),
        ({"host": "a.test", "sni": "b.test"}, "sni: unknown setting"),
    ],
)
def test_it_rejects_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        TlsCheck.validate(config)
