from datetime import UTC, datetime

import feedparser
import pytest
import time_machine

from statuspage import actions
from statuspage.public.caching import clear_public_cache
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        yield


def parse(client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


def test_the_rss_feed_is_rss_2(db, client):
    worlds.busy(NOW)
    response, feed = parse(client, "/feeds/incidents.rss")
    assert feed.version == "rss20"
    assert response["Content-Type"].startswith("application/rss+xml")


def test_the_atom_feed_is_atom_1(db, client):
    worlds.busy(NOW)
    response, feed = parse(client, "/feeds/incidents.atom")
    assert feed.version == "atom10"
    assert response["Content-Type"].startswith("application/atom+xml")


@pytest.mark.parametrize("path", ["/feeds/incidents.rss", "/feeds/incidents.atom"])
def test_each_entry_has_a_stable_id_a_link_dates_and_its_updates(db, client, settings, path):
    settings.SITE_URL = "https://status.example.com"
    world = worlds.busy(NOW)
    _, feed = parse(client, path)
    entries = {entry.link: entry for entry in feed.entries}
    link = f"https://status.example.com/incidents/{world['open'].pk}"
    entry = entries[link]
    assert entry.id == link
    assert entry.title == "Credit checks are slow [Identified]"
    assert entry.published_parsed[:5] == (2026, 11, 20, 2, 0)
    if path.endswith(".atom"):  # RSS 2.0 items have no updated date
        assert entry.updated_parsed[:5] == (2026, 11, 20, 3, 0)
    content = entry.get("content", [{}])[0].get("value") or entry.summary
    assert "The bureau&#x27;s gateway drops connections." in content or (
        "The bureau's gateway drops connections." in content
    )
    assert "We are investigating slow answers" in content
    assert f"https://status.example.com/maintenance/{world['upcoming'].pk}" in entries


def test_a_new_update_moves_the_entry_not_its_id(db, client):
    world = worlds.busy(NOW)
    _, before = parse(client, "/feeds/incidents.atom")
    with time_machine.travel(NOW.replace(hour=5), tick=False):
        actions.post_incident_update(
            world["open"], status="monitoring", body="Fix deployed.", actor=None, via="system"
        )
        _, after = parse(client, "/feeds/incidents.atom")
    assert after.entries[0].id == next(
        e.id for e in before.entries if e.id.endswith(f"/incidents/{world['open'].pk}")
    )
    assert "Fix deployed." in after.entries[0].summary
    assert len(after.entries) == len(before.entries)


@pytest.mark.parametrize("path", ["/feeds/incidents.rss", "/feeds/incidents.atom"])
def test_internal_only_data_never_appears(db, client, path):
    worlds.busy(NOW)
    response, feed = parse(client, path)
    assert worlds.SECRET not in response.content.decode()
    assert len(feed.entries) == 6  # 2 incidents, 4 maintenances (the cancelled one included)


@pytest.mark.parametrize("suffix", ["rss", "atom"])
def test_a_component_feed_has_only_what_touches_it(db, client, suffix):
    worlds.busy(NOW)
    _, feed = parse(client, f"/feeds/components/loan-app.{suffix}")
    assert sorted(e.title for e in feed.entries) == [
        "Database upgrade [Scheduled]",
        "Repayments delayed [Resolved]",
    ]
    assert "Loan App" in feed.feed.title


def test_an_internal_component_has_no_feed(db, client):
    worlds.components()
    assert client.get("/feeds/components/risk-engine.rss").status_code == 404
    assert client.get("/feeds/components/nothing.atom").status_code == 404


def test_feeds_can_be_read_from_other_sites(db, client):
    assert client.get("/feeds/incidents.rss")["Access-Control-Allow-Origin"] == "*"


def chinese_incident(c):
    c["bureau"].name_alt = "征信中心"
    c["bureau"].save()
    incident = actions.open_incident(
        title="Credit checks fail",
        title_alt="征信查询失败",
        body="Checks fail.",
        body_alt="征信查询失败，我们正在处理。",
        actor=None,
        via="system",
        impact="major",
        components={c["bureau"]: "major_outage"},
    )
    return incident


@pytest.mark.parametrize("suffix", ["incidents.rss", "incidents.atom", "components/bureau.rss"])
def test_each_language_has_its_own_feed(db, client, suffix):
    chinese_incident(worlds.components())
    _, zh = parse(client, f"/feeds/zh-hans/{suffix}")
    _, en = parse(client, f"/feeds/{suffix}")
    [zh_entry], [en_entry] = zh.entries, en.entries
    assert zh_entry.title == "征信查询失败 [调查中]"
    zh_content = zh_entry.get("content", [{}])[0].get("value") or zh_entry.summary
    assert "征信查询失败，我们正在处理。" in zh_content and "影响：严重" in zh_content
    assert "受影响：征信中心。" in zh_content and "Checks fail." not in zh_content
    assert zh.feed.title.startswith("借贷平台服务状态：")
    assert en_entry.title == "Credit checks fail [Investigating]"
    assert "Affected: Credit bureau." in (
        en_entry.get("content", [{}])[0].get("value") or en_entry.summary
    )


def test_a_feed_in_an_unknown_language_is_not_found(db, client):
    worlds.components()
    assert client.get("/feeds/fr/incidents.rss").status_code == 404
    assert client.get("/feeds/zh-hant/incidents.atom").status_code == 404


def test_each_languages_pages_link_their_own_feeds(db, client):
    worlds.components()
    zh = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'href="/feeds/zh-hans/incidents.rss"' in zh and 'href="/feeds/incidents.rss"' not in zh
    component = client.get("/components/bureau", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'href="/feeds/zh-hans/components/bureau.atom"' in component
    en = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/feeds/incidents.rss"' in en and "/feeds/zh-hans/" not in en
