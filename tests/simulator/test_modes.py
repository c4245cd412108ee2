"""Every mode of the simulator, against a simulator started in-process on ephemeral ports."""

import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest
import requests
from cryptography import x509

from examples.simulator import SERVICES, Simulator


def test_it_starts_in_well_under_a_second():
    started = time.monotonic()
    with Simulator(port=0, tls_port=0):
        elapsed = time.monotonic() - started
    assert elapsed < 0.5


def test_every_http_component_answers_ok_on_its_health_and_business_endpoints(simulator):
    for service in SERVICES:
        if service.transport == "dns":
            continue
        for path in (f"/{service.slug}/health", service.business_path):
            url = simulator.url(service.slug, path)
            response = requests.get(url, verify=str(simulator.certificate_path), timeout=5)
            assert response.status_code == 200, (service.slug, path)
            assert response.json()["code"] == "0000"
            assert response.json()["data"]["state"] == "ok"


def test_the_bureau_query_returns_code_0000(simulator):
    response = requests.get(
        simulator.url("credit-bureau-pboc", "/credit-bureau-pboc/query"), timeout=5
    )
    assert response.text.startswith('{"code":"0000"')


def test_it_accepts_post_on_the_business_endpoint(simulator):
    url = simulator.url("loan-application", "/loan-application/quote")
    response = requests.post(url, json={"amount": "5000.00"}, timeout=5)
    assert response.json()["data"]["quote_id"]


def test_an_unknown_path_is_404(simulator):
    response = requests.get(simulator.url("repayment", "/nope"), timeout=5)
    assert response.status_code == 404


def test_slow_answers_after_the_latency_set(simulator):
    simulator.set_mode("credit-limit-engine", "slow:300")
    started = time.monotonic()
    response = requests.get(simulator.url("credit-limit-engine"), timeout=5)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_error_answers_500_by_default_or_the_status_given(simulator):
    simulator.set_mode("disbursement", "error")
    assert requests.get(simulator.url("disbursement"), timeout=5).status_code == 500
    simulator.set_mode("disbursement", "error:502")
    assert requests.get(simulator.url("disbursement"), timeout=5).status_code == 502


def test_maintenance_answers_503_with_retry_after(simulator):
    simulator.set_mode("repayment", "maintenance")
    response = requests.get(simulator.url("repayment"), timeout=5)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "600"
    simulator.set_mode("repayment", "maintenance:120")
    assert requests.get(simulator.url("repayment"), timeout=5).headers["Retry-After"] == "120"


def test_bad_payload_answers_200_with_a_body_saying_the_bureau_call_failed(simulator):
    simulator.set_mode("credit-bureau-baihang", "bad_payload")
    url = simulator.url("credit-bureau-baihang", "/credit-bureau-baihang/query")
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    assert response.json()["code"] == "E503"
    assert "credit bureau call failed" in response.json()["message"]


def test_timeout_accepts_and_never_answers_until_the_client_gives_up(simulator):
    simulator.set_mode("loan-application", "timeout")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(simulator.url("loan-application"), timeout=(2, 0.5))
    assert time.monotonic() - started < 2


def test_timeout_does_not_hold_up_other_requests(simulator):
    simulator.set_mode("loan-application", "timeout")
    held = socket.create_connection(("127.0.0.1", simulator.ports["loan-application"]))
    held.sendall(b"GET /loan-application/health HTTP/1.0\r\n\r\n")
    try:
        held.settimeout(0.3)
        with pytest.raises(TimeoutError):
            held.recv(1)
        # The same component and the others still answer while that request hangs.
        simulator.set_mode("loan-application", "ok")
        assert requests.get(simulator.url("loan-application"), timeout=2).status_code == 200
        assert requests.get(simulator.url("repayment"), timeout=2).status_code == 200
    finally:
        held.close()


def test_down_refuses_connections_and_ok_reopens_the_same_port(simulator):
    port = simulator.ports["inter-dc-link"]
    simulator.set_mode("inter-dc-link", "down")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    simulator.set_mode("inter-dc-link", "ok")
    assert simulator.ports["inter-dc-link"] == port
    assert requests.get(simulator.url("inter-dc-link"), timeout=2).status_code == 200


def test_a_mode_on_one_component_leaves_the_others_ok(simulator):
    simulator.set_mode("credit-bureau-pboc", "error")
    assert requests.get(simulator.url("credit-bureau-baihang"), timeout=2).status_code == 200


def test_the_gateway_serves_tls_with_a_self_signed_certificate_for_its_name(simulator):
    context = ssl.create_default_context(cafile=str(simulator.certificate_path))
    port = simulator.ports["gateway-tls"]
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        with context.wrap_socket(raw, server_hostname="gateway.lending.test") as tls:
            der = tls.getpeercert(binary_form=True)
    certificate = x509.load_der_x509_certificate(der)
    remaining = certificate.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=89) < remaining <= timedelta(days=90)
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusted = ssl.create_default_context()
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            untrusted.wrap_socket(raw, server_hostname="gateway.lending.test")


def test_the_certificate_lifetime_can_be_shortened_to_show_an_expiring_one():
    with Simulator(port=0, tls_port=0, cert_days=3) as short_lived:
        pem = short_lived.certificate_path.read_bytes()
        certificate = x509.load_pem_x509_certificate(pem)
    assert certificate.not_valid_after_utc - datetime.now(UTC) < timedelta(days=3)


def test_a_silent_tcp_client_does_not_stall_the_tls_listener(simulator):
    port = simulator.ports["gateway-tls"]
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        url = simulator.url("gateway-tls")
        response = requests.get(url, verify=str(simulator.certificate_path), timeout=2)
    assert response.status_code == 200


def ask_dns(simulator, name="api.lending.test.", timeout=2.0):
    query = dns.message.make_query(name, "A")
    return dns.query.udp(query, "127.0.0.1", port=simulator.ports["dns"], timeout=timeout)


@pytest.mark.parametrize(
    "mode, rcode",
    [
        ("ok", dns.rcode.NOERROR),
        ("error", dns.rcode.SERVFAIL),
        ("maintenance", dns.rcode.REFUSED),
        ("bad_payload", dns.rcode.NXDOMAIN),
    ],
)
def test_dns_answers_with_the_rcode_of_its_mode(simulator, mode, rcode):
    simulator.set_mode("dns", mode)
    response = ask_dns(simulator)
    assert response.rcode() == rcode
    if mode == "ok":
        assert response.answer[0][0].address == "127.0.0.1"


def test_dns_answers_nxdomain_outside_its_zone(simulator):
    assert ask_dns(simulator, "example.com.").rcode() == dns.rcode.NXDOMAIN


@pytest.mark.parametrize("mode", ["timeout", "down"])
def test_dns_timeout_and_down_give_no_answer(simulator, mode):
    simulator.set_mode("dns", mode)
    with pytest.raises(dns.exception.Timeout):
        ask_dns(simulator, timeout=0.3)


def test_dns_slow_answers_late_without_holding_up_other_queries(simulator):
    simulator.set_mode("dns", "slow:400")
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(ask_dns(simulator))) for _ in range(3)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 0.8  # three slow answers side by side, not one after another
    assert [r.rcode() for r in results] == [dns.rcode.NOERROR] * 3
