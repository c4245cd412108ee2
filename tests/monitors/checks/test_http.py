import json

import pytest

from monitors.checks import REGISTRY
from monitors.checks.http import HttpCheck
from monitors.conditions import evaluate

CREDIT_BUREAU_CONDITIONS = [
    {"condition": "[STATUS] == 200", "severity": "major_outage"},
    {"condition": "[BODY].code == 0000", "severity": "partial_outage"},
    {"condition": "[RESPONSE_TIME] < 200", "severity": "degraded_performance"},
]


def run(url: str, timeout: float = 2.0, **config):
    return HttpCheck.run({"url": url, **config}, timeout=timeout)


def test_it_is_registered_under_its_kind():
    assert REGISTRY["http"] is HttpCheck


def test_it_reports_status_body_and_timing(http_server):
    outcome = run(http_server.url("/ok"))

    assert outcome.connected
    assert outcome.status_code == 200
    assert json.loads(outcome.body)["data"]["state"] == "ok"
    assert 0 < outcome.response_time_ms < 2000
    assert outcome.certificate_expires_in_s is None  # plain http has no certificate
    assert evaluate(CREDIT_BUREAU_CONDITIONS, outcome).ok


def test_a_server_error_fails_even_without_conditions(http_server):
    outcome = run(http_server.url("/error"))

    verdict = evaluate([], outcome)

    assert outcome.connected and outcome.status_code == 500
    assert (verdict.ok, verdict.failed_condition, verdict.seen) == (False, "[STATUS] < 400", "500")


def test_a_200_whose_body_says_the_call_failed_fails_on_the_body(http_server):
    outcome = run(http_server.url("/bad-payload"))

    verdict = evaluate(CREDIT_BUREAU_CONDITIONS, outcome)

    assert outcome.status_code == 200
    assert (verdict.ok, verdict.failed_condition, verdict.seen, verdict.severity) == (
        False,
        "[BODY].code == 0000",
        "9999",
        "partial_outage",
    )


def test_a_slow_answer_fails_the_response_time_condition_as_degraded(http_server):
    outcome = run(http_server.url("/slow?ms=300"))

    verdict = evaluate(CREDIT_BUREAU_CONDITIONS, outcome)

    assert outcome.connected and outcome.response_time_ms >= 300
    assert (verdict.ok, verdict.failed_condition, verdict.severity) == (
        False,
        "[RESPONSE_TIME] < 200",
        "degraded_performance",
    )
    assert float(verdict.seen) >= 300


def test_it_gives_up_on_a_server_that_does_not_answer_in_time(http_server):
    outcome = run(http_server.url("/slow?ms=1500"), timeout=0.3)

    assert not outcome.connected
    assert outcome.error == "timed out after 0.3s"
    assert evaluate(CREDIT_BUREAU_CONDITIONS, outcome).severity == "major_outage"


def test_the_timeout_bounds_the_whole_body_not_each_read(http_server):
    outcome = run(http_server.url("/drip"), timeout=0.5)

    assert not outcome.connected
    assert outcome.error == "timed out after 0.5s"


def test_it_reports_a_refused_connection(closed_port):
    outcome = run(f"http://127.0.0.1:{closed_port}/ok")

    assert not outcome.connected
    assert outcome.error == "connection refused"
    verdict = evaluate(CREDIT_BUREAU_CONDITIONS, outcome)
    assert (verdict.severity, verdict.seen) == ("major_outage", "connection refused")


def test_it_follows_redirects_up_to_the_limit(http_server):
    outcome = run(http_server.url("/redirect/3"), max_redirects=3)

    assert outcome.connected and outcome.status_code == 200
    assert outcome.details["redirects"] == 3


def test_it_fails_past_the_redirect_limit(http_server):
    outcome = run(http_server.url("/redirect/4"), max_redirects=3)

    assert not outcome.connected
    assert outcome.error == "more than 3 redirects"
    assert outcome.status_code == 302


def test_with_no_redirects_allowed_it_reports_the_redirect_itself(http_server):
    outcome = run(http_server.url("/redirect/1"), max_redirects=0)

    assert outcome.connected and outcome.status_code == 302
    assert evaluate([{"condition": "[STATUS] == any(301, 302)"}], outcome).ok


def test_it_sends_method_headers_and_json_body(http_server):
    outcome = run(
        http_server.url("/echo"),
        method="post",
        headers={"X-Probe": "lending", "Authorization": "Bearer t"},
        body={"amount": 1000},
    )

    echoed = json.loads(outcome.body)
    assert echoed["method"] == "POST"
    assert echoed["headers"]["x-probe"] == "lending"
    assert echoed["headers"]["content-type"] == "application/json"
    assert json.loads(echoed["body"]) == {"amount": 1000}


def test_it_sends_a_text_body_as_is(http_server):
    outcome = run(http_server.url("/echo"), method="PUT", body="ping")

    assert json.loads(outcome.body)["body"] == "ping"


def test_a_head_request_has_an_empty_body(http_server):
    outcome = run(http_server.url("/ok"), method="HEAD")

    assert outcome.status_code == 200 and outcome.body == ""


def test_it_caps_the_body_at_64_kib(http_server):
    outcome = run(http_server.url("/big"))

    assert len(outcome.body) == 64 * 1024
    assert evaluate([{"condition": "len([BODY]) < 1000"}], outcome).seen == str(64 * 1024)


def test_it_decodes_the_body_with_the_declared_charset(http_server):
    assert run(http_server.url("/latin1")).body == "café"


def test_it_reads_the_certificate_expiry_over_https(https_server, certificates):
    server = https_server("valid")

    outcome = run(server.url("/ok", scheme="https"), ca_bundle=certificates.ca_bundle)

    assert outcome.connected and outcome.status_code == 200
    assert 29 * 86400 < outcome.certificate_expires_in_s <= 30 * 86400
    assert evaluate([{"condition": "[CERTIFICATE_EXPIRATION] > 336h"}], outcome).ok


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("expired", "certificate has expired"),
        ("self-signed", "self-signed certificate"),
        ("wrong-name", "mismatch"),
    ],
)
def test_a_bad_certificate_means_not_connected(https_server, certificates, variant, reason):
    server = https_server(variant)

    outcome = run(server.url("/ok", scheme="https"), ca_bundle=certificates.ca_bundle)

    assert not outcome.connected
    assert outcome.error.startswith("certificate verify failed:")
    assert reason in outcome.error
    assert evaluate([], outcome).severity == "major_outage"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verification_can_be_turned_off(https_server):
    server = https_server("self-signed")

    outcome = run(server.url("/ok", scheme="https"), verify_tls=False)

    assert outcome.connected and outcome.status_code == 200
    assert outcome.certificate_expires_in_s > 0


def test_it_fills_in_defaults():
    assert HttpCheck.validate({"url": "https://loans.lending.test/health"}) == {
        "url": "https://loans.lending.test/health",
        "method": "GET",
        "headers": {},
        "body": None,
        "verify_tls": True,
        "ca_bundle": None,
        "max_redirects": 5,
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "url: required"),
        ({"url": "ftp://files.lending.test/"}, "url: expected an http:// or https:// URL"),
        ({"url": "loans.lending.test"}, "url: expected an http:// or https:// URL"),
        ({"url": "http://a.test", "method": "FETCH"}, "method: expected one of"),
        ({"url": "http://a.test", "headers": ["X-A: b"]}, "headers: expected a mapping"),
        ({"url": "http://a.test", "headers": {"X-A": None}}, "headers: expected a mapping"),
        ({"url": "http://a.test", "body": {1, 2}}, "body: expected text or JSON"),
        ({"url": "http://a.test", "verify_tls": "no"}, "verify_tls: expected true or false"),
        ({"url": "http://a.test", "max_redirects": -1}, "max_redirects: expected a whole number"),
        ({"url": "http://a.test", "max_redirects": 2.5}, "max_redirects: expected a whole number"),
        ({"url": "http://a.test", "verify_ssl": False}, "verify_ssl: unknown setting"),
    ],
)
def test_it_rejects_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        HttpCheck.validate(config)
