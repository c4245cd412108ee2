"""The control endpoint and the command line that switch the simulator's modes."""

import pytest
import requests

from examples.simulator import MODES, SERVICE_BY_SLUG, Mode, ModeError, Simulator, main, parse_mode


def control(simulator, path="/_control"):
    return f"http://127.0.0.1:{simulator.control_port}{path}"


def test_get_control_lists_every_component_its_mode_and_port(simulator):
    listing = requests.get(control(simulator), timeout=2).json()
    assert listing["modes"] == list(MODES)
    assert set(listing["components"]) == set(SERVICE_BY_SLUG)
    pboc = listing["components"]["credit-bureau-pboc"]
    assert pboc["mode"] == "ok"
    assert pboc["port"] == simulator.ports["credit-bureau-pboc"]
    assert simulator.url("credit-bureau-pboc", "/credit-bureau-pboc/query") in pboc["endpoints"]


def test_post_control_switches_a_component(simulator):
    response = requests.post(
        control(simulator, "/_control/credit-bureau-pboc"), json={"mode": "error:502"}, timeout=2
    )
    assert response.status_code == 200
    assert response.json()["components"]["credit-bureau-pboc"]["mode"] == "error:502"
    url = simulator.url("credit-bureau-pboc", "/credit-bureau-pboc/query")
    assert requests.get(url, timeout=2).status_code == 502


def test_post_control_all_switches_every_component(simulator):
    simulator.set_mode("repayment", "error")
    simulator.set_mode("dns", "down")
    requests.post(control(simulator, "/_control/all"), json={"mode": "ok"}, timeout=2)
    assert {str(simulator.mode_of(slug)) for slug in SERVICE_BY_SLUG} == {"ok"}
    assert requests.get(simulator.url("repayment"), timeout=2).status_code == 200


def test_post_control_rejects_an_unknown_mode(simulator):
    response = requests.post(
        control(simulator, "/_control/repayment"), json={"mode": "broken"}, timeout=2
    )
    assert response.status_code == 400
    assert "unknown mode" in response.json()["error"]
    assert simulator.mode_of("repayment") == Mode("ok")


def test_post_control_rejects_an_unknown_component(simulator):
    response = requests.post(control(simulator, "/_control/nope"), json={"mode": "ok"}, timeout=2)
    assert response.status_code == 404


def test_post_control_rejects_a_body_that_is_not_json(simulator):
    response = requests.post(control(simulator, "/_control/repayment"), data="error", timeout=2)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "text, mode",
    [
        ("ok", Mode("ok")),
        ("slow", Mode("slow")),
        ("slow:1500", Mode("slow", 1500)),
        ("error:503", Mode("error", 503)),
        ("maintenance:60", Mode("maintenance", 60)),
        ("bad_payload", Mode("bad_payload")),
        ("timeout", Mode("timeout")),
        ("down", Mode("down")),
    ],
)
def test_parse_mode_reads_a_mode_and_its_parameter(text, mode):
    assert parse_mode(text) == mode


@pytest.mark.parametrize("text", ["", "broken", "slow:fast", "error:404", "down:5", "slow:-1"])
def test_parse_mode_rejects_nonsense(text):
    with pytest.raises(ModeError):
        parse_mode(text)


def test_fixed_ports_follow_the_documented_layout():
    simulator = Simulator(port=8100, tls_port=8443)
    wanted = {slug: simulator.wanted_port(service) for slug, service in SERVICE_BY_SLUG.items()}
    assert wanted["credit-bureau-pboc"] == 8106
    assert wanted["dns"] == 8110
    assert wanted["gateway-tls"] == 8443
    assert len(set(wanted.values())) == len(wanted)


def test_the_cli_sets_a_mode_and_shows_the_status(simulator, capsys):
    port = str(simulator.control_port)
    assert main(["--port", port, "set", "loan-application", "slow:1200"]) == 0
    assert simulator.mode_of("loan-application") == Mode("slow", 1200)
    capsys.readouterr()
    assert main(["--port", port, "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split()[:2] == ["loan-application", "slow:1200"] for line in lines)
    assert any(line.split()[:2] == ["repayment", "ok"] for line in lines)


def test_the_cli_rejects_an_unknown_mode_without_calling_the_simulator(simulator):
    with pytest.raises(SystemExit, match="unknown mode"):
        main(["--port", str(simulator.control_port), "set", "repayment", "broken"])


def test_the_cli_names_an_unknown_component(simulator):
    with pytest.raises(SystemExit, match="unknown component"):
        main(["--port", str(simulator.control_port), "set", "nope", "ok"])


def test_the_cli_says_when_the_simulator_is_not_running(simulator):
    port = simulator.control_port
    simulator.stop()
    with pytest.raises(SystemExit, match="cannot reach"):
        main(["--port", str(port), "status"])


def test_it_names_the_component_whose_port_is_taken(simulator):
    taken = simulator.ports["repayment"]
    clash = Simulator(port=0, tls_port=0)
    clash.ports["repayment"] = taken  # as if repayment's fixed port were in use
    with pytest.raises(OSError, match=f"repayment on port {taken}"):
        clash.start()
    assert clash.listeners == {}
