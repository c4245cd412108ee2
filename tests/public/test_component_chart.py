import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from monitors.models import Probe, ProbeRollup
from statuspage.public.caching import clear_public_cache
from tests.public.pages import get, platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def lending(db):
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        yield platform()


def probe_with_latency(component, milliseconds: float) -> Probe:
    probe = Probe.objects.create(component=component, name="health", kind="http")
    ProbeRollup.objects.create(
        probe=probe,
        vantage_point="local",
        period="hour",
        start=NOW - timedelta(hours=2),
        checks=60,
        latency_sum_ms=60 * milliseconds,
        latency_count=60,
    )
    return probe


def test_the_front_page_links_to_its_charts_instead_of_inlining_them(lending):
    probe_with_latency(lending.repayment, 180.0)
    html = get("/")
    assert '<svg class="chart"' not in html and '<path class="line"' not in html
    assert '<img class="chart" src="/components/repay/response-time-24h.svg"' in html
    assert 'src="/components/repay/response-time-7d.svg"' in html
    assert 'loading="lazy"' in html
    # Without the image (or without pictures at all) the numbers are still there.
    assert (
        'alt="Response time of Repayment, last 24 hours. Hourly average response time: '
        '180 ms on average, at most 180 ms."' in html
    )
    assert "average 180 ms" in html


def test_the_front_page_describes_its_charts_in_chinese(lending):
    probe_with_latency(lending.repayment, 180.0)
    html = get("/", "zh-hans")
    assert 'src="/components/repay/response-time-7d.svg"' in html
    assert "平均 180 毫秒" in html


def test_it_serves_a_chart_as_a_cacheable_svg_document(lending):
    probe_with_latency(lending.repayment, 180.0)
    client = Client()
    for label in ("24h", "7d"):
        response = client.get(f"/components/repay/response-time-{label}.svg")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("image/svg+xml")
        assert "max-age=" in response["Cache-Control"] and "public" in response["Cache-Control"]
        root = ET.fromstring(response.content)
        assert root.tag == f"{SVG}svg"
        assert root.find(f"{SVG}style") is not None  # no page stylesheet inside an <img>
        assert root.find(f"{SVG}path") is not None
        assert "Repayment" in root.find(f"{SVG}title").text
        again = client.get(
            f"/components/repay/response-time-{label}.svg", HTTP_IF_NONE_MATCH=response["ETag"]
        )
        assert again.status_code == 304


def test_it_has_no_chart_for_a_component_without_probes(lending):
    assert Client().get("/components/repay/response-time-24h.svg").status_code == 404


def test_it_has_no_chart_for_an_internal_component(lending):
    probe_with_latency(lending.internal, 180.0)
    response = Client().get(f"/components/{lending.internal.slug}/response-time-24h.svg")
    assert response.status_code == 404


def test_it_has_no_chart_for_a_disabled_probe(lending):
    probe = probe_with_latency(lending.repayment, 180.0)
    probe.is_enabled = False
    probe.save()
    assert Client().get("/components/repay/response-time-7d.svg").status_code == 404
