import pytest

from monitors.checks import REGISTRY
from monitors.checks.tcp import TcpCheck
from monitors.conditions import evaluate


def test_it_is_registered_under_its_kind():
    assert REGISTRY["tcp"] is TcpCheck


def test_it_connects_to_a_listener(tcp_listener):
    outcome = TcpCheck.run({"host": tcp_listener.host, "port": tcp_listener.port}, timeout=2)

    assert outcome.connected
    assert outcome.error == ""
    assert 0 <= outcome.response_time_ms < 2000
    assert evaluate([], outcome).ok


def test_it_reports_a_refused_connection(closed_port):
    outcome = TcpCheck.run({"host": "127.0.0.1", "port": closed_port}, timeout=2)

    assert not outcome.connected
    assert outcome.error == "connection refused"
    verdict = evaluate([], outcome)
    assert (verdict.ok, verdict.severity, verdict.seen) == (
        False,
        "major_outage",
        "connection refused",
    )


def test_it_gives_up_after_the_timeout(unanswered_listener):
    outcome = TcpCheck.run(
        {"host": unanswered_listener.host, "port": unanswered_listener.port}, timeout=0.3
    )

    assert not outcome.connected
    assert outcome.error == "timed out after 0.3s"


def test_it_reports_a_name_that_does_not_resolve():
    outcome = TcpCheck.run({"host": "no-such-host.invalid", "port": 80}, timeout=2)

    assert not outcome.connected
    assert outcome.error.startswith("could not resolve host")


def test_a_condition_on_connected_can_soften_the_severity(closed_port):
    outcome = TcpCheck.run({"host": "127.0.0.1", "port": closed_port}, timeout=2)

    verdict = evaluate(
        [{"condition": "[CONNECTED] == true", "severity": "degraded_performance"}], outcome
    )

    assert (verdict.ok, verdict.severity, verdict.seen) == (False, "degraded_performance", "false")


def test_it_accepts_the_port_as_text():
    assert TcpCheck.validate({"host": " db.lending.test ", "port": "5432"}) == {
        "host": "db.lending.test",
        "port": 5432,
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"port": 80}, "host: required"),
        ({"host": "a.test"}, "port: required"),
        ({"host": "a.test", "port": 0}, "port: must be between 1 and 65535"),
        ({"host": "a.test", "port": 70000}, "port: must be between 1 and 65535"),
        ({"host": "a.test", "port": "http"}, "port: expected a port number"),
        ({"host": "a.test", "port": True}, "port: expected a port number"),
        ({"host": "http://a.test", "port": 80}, "host: expected a host name"),
        ({"host": "a.test", "port": 80, "tls": True}, "tls: unknown setting"),
    ],
)
def test_it_rejects_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        TcpCheck.validate(config)
