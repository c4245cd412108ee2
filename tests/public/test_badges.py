import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from monitors.models import MonitoringStall, Probe
from statuspage import actions
from statuspage.public.caching import clear_public_cache
from tests.public import worlds

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_public_cache()


def badge(client, path: str) -> tuple[object, ET.Element]:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    return response, ET.fromstring(response.content)


def words(svg: ET.Element) -> list[str]:
    return [t.text for t in svg.iter(f"{SVG}text")]


def test_the_page_badge_says_all_is_well_in_words(db, client):
    worlds.components()
    _, svg = badge(client, "/badge.svg")
    assert words(svg) == ["status", "all systems operational"]
    assert svg.get("aria-label") == "status: all systems operational"
    assert svg.find(f"{SVG}title").text == "status: all systems operational"


def test_the_page_badge_follows_the_page_status(db, client):
    c = worlds.components()
    actions.set_component_status(c["bureau"], "partial_outage", actor=None, via="system")
    _, svg = badge(client, "/badge.svg")
    assert words(svg) == ["status", "partial system outage"]


def test_a_component_badge_names_the_component_and_its_status(db, client):
    c = worlds.components()
    actions.set_component_status(c["bureau"], "degraded_performance", actor=None, via="system")
    _, svg = badge(client, "/components/bureau/badge.svg")
    assert words(svg) == ["Credit bureau", "degraded performance"]


def test_an_internal_component_has_no_badge(db, client):
    worlds.components()
    assert client.get("/components/risk-engine/badge.svg").status_code == 404


def test_badges_are_embeddable_and_cacheable(db, client):
    worlds.components()
    response, _ = badge(client, "/badge.svg")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "X-Frame-Options" not in response
    assert response["Cache-Control"].startswith("public, max-age=")
    assert client.get("/badge.svg", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_badges_speak_the_readers_language(db, client):
    c = worlds.components()
    c["bureau"].name_alt = "征信中心"
    c["bureau"].save()
    actions.set_component_status(c["bureau"], "partial_outage", actor=None, via="system")
    response, svg = badge(client.__class__(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"), "/badge.svg")
    assert words(svg) == ["状态", "部分系统中断"]
    assert "Accept-Language" in response["Vary"]
    _, svg = badge(client.__class__(HTTP_ACCEPT_LANGUAGE="zh-hans"), "/components/bureau/badge.svg")
    assert words(svg) == ["征信中心", "部分中断"]
    # The cache keeps one badge per language: English readers still read English.
    _, svg = badge(client.__class__(HTTP_ACCEPT_LANGUAGE="en"), "/components/bureau/badge.svg")
    assert words(svg) == ["Credit bureau", "partial outage"]
    # An embedding page can fix the language in the address.
    _, svg = badge(client, "/badge.svg?lang=zh-hans")
    assert words(svg)[0] == "状态"
    _, svg = badge(client, "/badge.svg?lang=fr")
    assert words(svg)[0] == "status"


def test_while_checks_are_delayed_operational_is_not_claimed(db, client):
    c = worlds.components()
    Probe.objects.create(component=c["bureau"], name="health", kind="http", config={})
    Probe.objects.create(component=c["loan-app"], name="health", kind="http", config={})
    actions.set_component_status(c["loan-app"], "partial_outage", actor=None, via="system")
    now = timezone.now()
    MonitoringStall.objects.create(started_at=now, noticed_at=now)
    clear_public_cache()
    # The page has a known problem: it still says so.
    assert words(badge(client, "/badge.svg")[1]) == ["status", "partial system outage"]
    assert words(badge(client, "/components/loan-app/badge.svg")[1]) == [
        "Loan App",
        "partial outage",
    ]
    # Probed and "operational": nobody has seen it work lately.
    _, svg = badge(client, "/components/bureau/badge.svg")
    assert words(svg) == ["Credit bureau", "checks delayed"]
    assert svg.findall(f"{SVG}rect")[1].get("fill") == "#6a737d"
    # Not probed: its status is the staff's word, which no stall makes older.
    assert words(badge(client, "/components/service-1/badge.svg")[1]) == [
        "Service 1",
        "operational",
    ]
    zh = client.__class__(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert words(badge(zh, "/components/bureau/badge.svg")[1]) == ["Credit bureau", "检测延迟"]


def test_a_page_with_no_known_problem_says_its_checks_are_delayed(db, client):
    worlds.components()
    now = timezone.now()
    MonitoringStall.objects.create(started_at=now, noticed_at=now)
    _, svg = badge(client, "/badge.svg")
    assert words(svg) == ["status", "checks delayed"]
    _, svg = badge(client.__class__(HTTP_ACCEPT_LANGUAGE="zh-hans"), "/badge.svg")
    assert words(svg) == ["状态", "检测延迟"]
