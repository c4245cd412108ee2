"""Every public page in zh-hans, with every text we control written in Chinese too, shows no
English interface string.

The check is a heuristic over what a reader sees (text, and the title, aria-label, placeholder
and alt attributes): any ASCII word outside a short list of names and acronyms that Chinese
pages use as they are (RSS, API, the time zone's name) fails, with its context. It catches
strings never marked for translation, translations missing from the catalogue, and fields with
no second-language version, which a list of known English strings would not."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.test import Client

from statuspage import actions
from statuspage.models import Component, ComponentGroup
from statuspage.subscriptions import links
from statuspage.subscriptions.models import Subscriber
from tests.public.pages import platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)

# Words a Chinese page may show as they are: acronyms and product names, the language switch's
# own name for English, the zone name, and parts of the address placeholder.
ALLOWED = {
    "API", "RSS", "Atom", "JSON", "App", "TLS", "DNS", "UTC", "Asia", "Shanghai", "English",
    "name", "example", "com", "SVG",
}  # fmt: skip
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
SKIPPED = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+")
SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes outside script and style, and the
    attributes shown as tooltips, placeholders or read by screen readers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "option":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def english_words(text: str) -> list[str]:
    text = SKIPPED.sub(" ", text)
    found = []
    for match in ASCII_WORD.finditer(text):
        if match.group() not in ALLOWED:
            start = max(0, match.start() - 30)
            found.append(f"{match.group()!r} in …{text[start : match.end() + 30]!r}…")
    return found


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def feed_text(xml: bytes) -> str:
    """A feed's titles and contents, as a reader's app shows them."""
    root = ET.fromstring(xml)
    texts = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("title", "description", "summary", "content", "subtitle") and element.text:
            texts.append(visible_text(element.text))
    return " ".join(texts)


@pytest.fixture
def bilingual_site(db):
    """The test platform with every text staff write given in Chinese as well."""
    with time_machine.travel(NOW, tick=False):
        p = platform()
        for group in ComponentGroup.objects.all():
            group.description, group.description_alt = "Services.", "服务。"
            group.save()
        for component in Component.objects.filter(is_public=True):
            component.description = f"What {component.name} does."
            component.description_alt = f"{component.name_alt}的说明。"
            component.save()
        hour = timedelta(hours=1)
        current = actions.open_incident(
            title="Credit checks failing",
            title_alt="征信查询失败",
            body="Checks time out.",
            body_alt="征信查询超时。",
            components={p.bureau: "major_outage"},
            impact="major",
            actor=None,
            via="system",
            now=NOW - 2 * hour,
        )
        actions.post_incident_update(
            current,
            status="identified",
            body="The bureau's link is down.",
            body_alt="征信机构的专线中断。",
            actor=None,
            via="system",
            now=NOW - hour,
        )
        past = actions.open_incident(
            title="Repayments delayed",
            title_alt="还款延迟",
            body="Repayments are delayed.",
            body_alt="还款有延迟。",
            components={p.repayment: "partial_outage"},
            actor=None,
            via="system",
            now=NOW - 30 * hour,
        )
        actions.resolve_incident(
            past,
            body="Repayments are back.",
            body_alt="还款已恢复。",
            actor=None,
            via="system",
            now=NOW - 28 * hour,
        )
        actions.write_postmortem(
            past,
            body="# What happened\nA bad deploy.",
            body_alt="# 经过\n一次错误的发布。",
            actor=None,
            via="system",
        )
        maintenance = actions.schedule_maintenance(
            title="Core banking upgrade",
            title_alt="核心系统升级",
            description="Repayments pause.",
            description_alt="还款暂停。",
            starts_at=NOW + 3 * hour,
            ends_at=NOW + 4 * hour,
            components=[p.repayment],
            actor=None,
            via="system",
        )
        subscriber = Subscriber.objects.create(
            email="borrower@example.com",
            address_key="borrower@example.com",
            language="zh-hans",
            confirmed_at=NOW,
        )
        yield {
            "incident": current,
            "past": past,
            "maintenance": maintenance,
            "component": p.bureau,
            "subscriber": subscriber,
        }


def pages(site: dict) -> list[str]:
    subscriber = site["subscriber"]
    site_url_less = lambda url: re.sub(r"^https?://[^/]+", "", url)  # noqa: E731
    return [
        "/",
        "/history",
        f"/incidents/{site['incident'].pk}",
        f"/incidents/{site['past'].pk}",
        f"/maintenance/{site['maintenance'].pk}",
        f"/components/{site['component'].slug}",
        "/subscriptions/",
        site_url_less(links.manage_url(subscriber)),
        site_url_less(links.unsubscribe_url(subscriber)),
        site_url_less(links.confirm_url(subscriber)),
        "/subscriptions/manage/not-a-token/",  # the "link no longer works" page
        "/no-such-page",  # the 404 page
    ]


def test_every_public_page_in_chinese_shows_no_english_interface_string(bilingual_site):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    problems = []
    with time_machine.travel(NOW, tick=False):
        for path in pages(bilingual_site):
            response = client.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            problems += [
                f"{path}: {word}" for word in english_words(visible_text(response.content.decode()))
            ]
        # The forms' answers: subscribed (check your inbox), confirmed, unsubscribed.
        answer = client.post("/subscriptions/", {"email": "new@example.com", "language": "zh-hans"})
        problems += [
            f"subscribe answer: {w}" for w in english_words(visible_text(answer.content.decode()))
        ]
    assert problems == []


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/zh-hans/incidents.rss",
        "/feeds/zh-hans/incidents.atom",
        "/feeds/zh-hans/components/pboc.rss",
    ],
)
def test_the_chinese_feeds_show_no_english_interface_string(bilingual_site, path):
    with time_machine.travel(NOW, tick=False):
        response = Client().get(path)
    assert response.status_code == 200
    assert english_words(feed_text(response.content)) == []


def test_the_chinese_badges_show_no_english_word(bilingual_site):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for path in ("/badge.svg", "/components/pboc/badge.svg"):
        svg = ET.fromstring(client.get(path).content)
        text = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
        assert english_words(text) == [], path


def test_the_check_catches_an_untranslated_string():
    assert english_words(visible_text("<p>所有系统运行正常</p><p title='Show details'>x</p>")) == [
        "'Show' in …'所有系统运行正常 Show details x'…",
        "'details' in …'所有系统运行正常 Show details x'…",
    ]
    assert english_words(visible_text("<p>RSS · Asia/Shanghai (UTC+08:00)</p>")) == []
