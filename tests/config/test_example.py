"""examples/lending-platform.yaml applies cleanly, and its probes pass against the simulator."""

import re
from datetime import timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from examples.simulator import SERVICE_BY_SLUG, Simulator
from monitors.checks import REGISTRY
from monitors.conditions import evaluate
from monitors.models import Probe
from statuspage.config_file import load_config
from statuspage.models import Component, Journey, MaintenanceSeries

pytestmark = [
    pytest.mark.django_db,
    # The example's gateway probes skip verification of the simulator's self-signed certificate.
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lending-platform.yaml"


def apply(path) -> str:
    out = StringIO()
    call_command("apply_config", str(path), stdout=out)
    return out.getvalue()


def test_the_example_applies_cleanly_and_twice_changes_nothing():
    assert "Applied" in apply(EXAMPLE)
    assert "No changes" in apply(EXAMPLE)


def test_the_example_describes_the_lending_platform():
    apply(EXAMPLE)
    slugs = set(Component.objects.values_list("slug", flat=True))
    assert {
        "loan-application",
        "credit-limit-engine",
        "disbursement",
        "repayment",
        "api-gateway",
        "credit-bureau-pboc",
        "credit-bureau-baihang",
        "dns",
        "gateway-tls",
        "inter-dc-link",
    } <= slugs
    assert all(Component.objects.values_list("name_alt", flat=True))
    loans = Component.objects.get(slug="loan-application")
    assert {"credit-limit-engine", "credit-bureau-pboc", "api-gateway"} <= set(
        loans.depends_on.values_list("slug", flat=True)
    )
    assert list(Journey.objects.values_list("slug", flat=True)) == [
        "apply",
        "credit-limit",
        "receive-money",
        "repay",
    ]


def test_every_component_has_a_probe_and_every_kind_is_used():
    apply(EXAMPLE)
    assert not Component.objects.filter(probes=None).exists()
    assert set(Probe.objects.values_list("kind", flat=True)) == set(REGISTRY)
    conditions = [c for p in Probe.objects.all() for c in p.conditions]
    assert {"condition": "[CERTIFICATE_EXPIRATION] > 336h", "severity": "degraded_performance"} in (
        conditions
    )
    assert any(
        c["condition"].startswith("[RESPONSE_TIME]") and c["severity"] == "degraded_performance"
        for c in conditions
    )
    for bureau in ("credit-bureau-pboc", "credit-bureau-baihang"):
        bureau_conditions = Probe.objects.get(component__slug=bureau).conditions
        assert any("0000" in c["condition"] for c in bureau_conditions), bureau
    assert all(15 <= p.interval_seconds <= 60 for p in Probe.objects.all())


def test_the_credit_reference_interface_has_its_weekly_window_in_both_languages():
    apply(EXAMPLE)
    series = MaintenanceSeries.objects.get(config_slug="credit-reference-weekly")
    assert series.title_alt and series.description_alt
    windows = list(series.occurrences.all())
    assert windows
    for window in windows:
        starts = timezone.localtime(window.starts_at, ZoneInfo("Asia/Shanghai"))
        assert (starts.strftime("%A %H:%M"), window.ends_at - window.starts_at) == (
            "Sunday 02:00",
            timedelta(hours=2),
        )
        assert [c.slug for c in window.components.all()] == ["credit-bureau-pboc"]


def test_every_http_probe_targets_a_simulator_endpoint():
    for spec in load_config(EXAMPLE).components:
        for probe in spec.probes:
            if probe.fields["kind"] != "http":
                continue
            url = probe.fields["config"]["url"]
            service = SERVICE_BY_SLUG[spec.slug]
            port = Simulator(port=8100, tls_port=8443).wanted_port(service)
            assert re.match(rf"https?://127\.0\.0\.1:{port}/", url), url
            assert url.split(f":{port}", 1)[1] in {f"/{spec.slug}/health", service.business_path}


@pytest.fixture
def example_against_simulator(tmp_path):
    """The example applied with its fixed simulator ports mapped to a running simulator's."""
    with Simulator(port=0, tls_port=0) as simulator:
        fixed = Simulator(port=8100, tls_port=8443)
        ports = {fixed.wanted_port(s): simulator.ports[slug] for slug, s in SERVICE_BY_SLUG.items()}
        text = re.sub(
            r"\b(8\d{3})\b",
            lambda m: str(ports.get(int(m.group(1)), m.group(1))),
            EXAMPLE.read_text(encoding="utf-8"),
        )
        path = tmp_path / "lending-platform.yaml"
        path.write_text(text, encoding="utf-8")
        apply(path)
        yield simulator


def verdicts() -> dict[str, object]:
    results = {}
    for probe in Probe.objects.select_related("component"):
        outcome = REGISTRY[probe.kind].run(probe.config, probe.timeout_seconds, probe)
        results[str(probe)] = evaluate(probe.conditions, outcome)
    return results


def test_every_probe_of_the_example_passes_against_the_simulator(example_against_simulator):
    failing = {name: v.failed_condition for name, v in verdicts().items() if not v.ok}
    assert failing == {}


def test_the_bureau_probe_catches_a_bad_payload_and_the_link_probe_a_refusal(
    example_against_simulator,
):
    example_against_simulator.set_mode("credit-bureau-pboc", "bad_payload")
    example_against_simulator.set_mode("credit-bureau-baihang", "bad_payload")
    example_against_simulator.set_mode("inter-dc-link", "down")
    example_against_simulator.set_mode("dns", "error")
    results = verdicts()
    assert results["credit-bureau-pboc/query"].failed_condition == "[BODY].code == 0000"
    assert results["credit-bureau-baihang/query"].failed_condition.startswith("[BODY] == pat(")
    assert results["inter-dc-link/connect"].severity == "major_outage"
    assert results["dns/resolve-api"].failed_condition == "[DNS_RCODE] == NOERROR"
    assert results["loan-application/health"].ok
