import pytest

from monitors.checks import REGISTRY
from monitors.checks.dns import DnsCheck
from monitors.conditions import evaluate


def run(responder, name: str, timeout: float = 2.0, **config):
    return DnsCheck.run(
        {"name": name, "resolver": responder.host, "resolver_port": responder.port, **config},
        timeout=timeout,
    )


def test_it_is_registered_under_its_kind():
    assert REGISTRY["dns"] is DnsCheck


def test_it_resolves_a_name(dns_responder):
    outcome = run(dns_responder, "loans.lending.test")

    assert outcome.connected
    assert outcome.dns_rcode == "NOERROR"
    assert outcome.details["answers"] == ["10.0.0.7"]
    assert outcome.body == "10.0.0.7"
    assert outcome.response_time_ms < 2000
    assert evaluate([], outcome).ok
    assert evaluate(
        [{"condition": "[DNS_RCODE] == NOERROR"}, {"condition": "[BODY] == 10.0.0.7"}], outcome
    ).ok


def test_an_unknown_name_is_nxdomain(dns_responder):
    outcome = run(dns_responder, "gone.lending.test")

    verdict = evaluate([{"condition": "[DNS_RCODE] == NOERROR"}], outcome)

    assert outcome.connected  # the resolver answered; the name is what is missing
    assert (outcome.dns_rcode, outcome.error) == ("NXDOMAIN", "NXDOMAIN")
    assert (verdict.ok, verdict.seen) == (False, "NXDOMAIN")


def test_without_conditions_nxdomain_is_a_major_outage(dns_responder):
    verdict = evaluate([], run(dns_responder, "gone.lending.test"))

    assert (verdict.ok, verdict.failed_condition, verdict.severity) == (
        False,
        "[DNS_RCODE] == NOERROR",
        "major_outage",
    )


def test_it_reports_servfail(dns_responder):
    outcome = run(dns_responder, "broken.lending.test")

    assert outcome.dns_rcode == "SERVFAIL"
    assert not evaluate([{"condition": "[DNS_RCODE] == NOERROR"}], outcome).ok
    assert evaluate([{"condition": "[DNS_RCODE] == any(NOERROR, SERVFAIL)"}], outcome).ok


def test_an_answer_without_records_of_the_type_says_so(dns_responder):
    outcome = run(dns_responder, "loans.lending.test", record_type="AAAA")

    assert outcome.dns_rcode == "NOERROR"
    assert outcome.error == "no AAAA records"
    assert not evaluate([{"condition": "len([BODY]) > 0"}], outcome).ok


def test_a_silent_resolver_times_out(dns_responder):
    outcome = run(dns_responder, "silent.lending.test", timeout=0.3)

    assert not outcome.connected
    assert outcome.error == "timed out after 0.3s"
    assert evaluate([{"condition": "[DNS_RCODE] == NOERROR"}], outcome).severity == "major_outage"


def test_it_fills_in_defaults():
    assert DnsCheck.validate({"name": "loans.lending.test"}) == {
        "name": "loans.lending.test",
        "record_type": "A",
        "resolver": None,
        "resolver_port": 53,
    }
    assert (
        DnsCheck.validate({"name": "x.test", "record_type": "mx", "resolver": "::1"})["record_type"]
        == "MX"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "name: required"),
        ({"name": "a..b"}, "name: not a valid DNS name"),
        ({"name": "x.test", "record_type": "BOGUS"}, "record_type: unknown DNS record type"),
        ({"name": "x.test", "resolver": "dns.google"}, "resolver: expected an IP address"),
        ({"name": "x.test", "resolver_port": 0}, "resolver_port: must be between 1 and 65535"),
        ({"name": "x.test", "server": "1.1.1.1"}, "server: unknown setting"),
    ],
)
def test_it_rejects_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        DnsCheck.validate(config)
