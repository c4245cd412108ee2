"""Internal stays internal, everywhere: an internal component's name, slug and probe names
never reach a public surface (the pages, /api/v2, feeds, iCal, badges, the static snapshot,
emails to subscribers and webhook payloads), whether it fails on its own (an automatic
incident) or staff name it in a public incident or maintenance."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client

from statuspage import actions
from statuspage.models import Component, Incident, InternalNote, Maintenance
from statuspage.public.snapshot import DATA_PATHS, publish
from tests.monitors.conftest import bad, clock, feed, make_probe  # noqa: F401
from tests.subscriptions.conftest import receiver, run_pipeline, smtp, subscribe  # noqa: F401

pytestmark = pytest.mark.django_db

INTERNAL_NAME = "Credit data reporting"
INTERNAL_NAME_ALT = "征信数据报送"
INTERNAL_SLUG = "credit-data-reporting"
PROBE_NAME = "nightly-upload"
SEEN = "E503-upstream-bytes"
MARKERS = (INTERNAL_NAME, INTERNAL_NAME_ALT, INTERNAL_SLUG, PROBE_NAME, SEEN)


def leaks(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker.lower() in text.lower()]


@pytest.fixture
def world(clock, make_component, make_probe, subscribe, smtp, receiver):
    internal = make_component(
        INTERNAL_SLUG, name=INTERNAL_NAME, name_alt=INTERNAL_NAME_ALT, is_public=False
    )
    make_component("disbursement", name="Disbursement", name_alt="放款", depends_on=[internal])
    repayment = make_component("repayment", name="Repayment", name_alt="还款")
    subscribe("borrower@example.com")
    subscribe("borrower-zh@example.com", language="zh-hans")
    subscribe(receiver.url, kind="webhook", secret="s3cret")

    # The internal component fails from its own probe: an automatic incident opens.
    probe = make_probe(internal, name=PROBE_NAME)
    for _ in range(3):
        feed(probe, "local", bad("major_outage", seen=SEEN), clock)
    # Staff name it in a public incident and a public maintenance, beside public components.
    now = clock.now()
    manual = actions.open_incident(
        title="Repayments are slow",
        body="We are looking into slow repayments.",
        actor=None,
        via="console",
        components={repayment: "partial_outage", internal: "major_outage"},
        now=now,
    )
    actions.post_incident_update(
        manual, status="identified", body="Found it.", actor=None, via="console", now=now
    )
    actions.schedule_maintenance(
        title="Database upgrade",
        description="Upgrading the reporting database.",
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(hours=3),
        components=[repayment, internal],
        actor=None,
        via="console",
        now=now,
    )
    run_pipeline(now)
    return {"internal": internal, "smtp": smtp, "receiver": receiver}


def public_paths() -> list[str]:
    paths = ["/", "/history", *DATA_PATHS, "/feeds/zh-hans/incidents.rss"]
    for slug in Component.objects.public().values_list("slug", flat=True):
        paths += [
            f"/components/{slug}",
            f"/components/{slug}/badge.svg",
            f"/components/{slug}/response-time-24h.svg",
            f"/feeds/components/{slug}.rss",
            f"/feeds/components/{slug}.atom",
        ]
    paths += [f"/incidents/{pk}" for pk in Incident.objects.values_list("pk", flat=True)]
    paths += [f"/maintenance/{pk}" for pk in Maintenance.objects.values_list("pk", flat=True)]
    return paths


def test_the_internal_root_cause_makes_an_internal_automatic_incident(world):
    automatic = Incident.objects.get(origin="automatic")
    assert automatic.root_cause == world["internal"]
    assert not automatic.is_public
    # Staff keep the details, in an internal note.
    note = InternalNote.objects.get(incident=automatic)
    assert PROBE_NAME in note.body and SEEN in note.body


def test_no_public_page_or_document_names_the_internal_component(world):
    for language in ("en", "zh-hans"):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        for path in public_paths():
            response = client.get(path)
            body = response.content.decode()
            assert response.status_code in (200, 404), path
            assert leaks(body) == [], (language, path)


def test_the_internal_component_and_its_incident_have_no_public_page(world):
    client = Client()
    automatic = Incident.objects.get(origin="automatic")
    for path in (
        f"/components/{INTERNAL_SLUG}",
        f"/components/{INTERNAL_SLUG}/badge.svg",
        f"/feeds/components/{INTERNAL_SLUG}.rss",
        f"/incidents/{automatic.pk}",
    ):
        assert client.get(path).status_code == 404, path


def test_a_public_dependent_shows_a_public_safe_cause(world):
    assert Component.objects.get(slug="disbursement").status == "degraded_performance"
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/components/disbursement").content.decode()
    assert "because of a supporting system" in english
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/").content.decode()
    assert "后台支撑系统" in chinese


def test_the_static_snapshot_names_no_internal_component(world, tmp_path, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "status.example.com"]  # SITE_URL's
    publish(tmp_path / "site")
    files = [p for p in (tmp_path / "site").resolve().rglob("*") if p.is_file()]
    assert any(p.name.endswith(".json") for p in files)
    for path in files:
        if path.suffix in (".gz", ".br", ".png", ".woff2"):
            continue
        assert leaks(Path(path).read_text(errors="replace")) == [], path


def test_subscribers_emails_name_no_internal_component(world):
    messages = world["smtp"].handler.messages
    assert messages, "the manual incident and the maintenance were sent"
    for message in messages:
        text = message["Subject"] + "".join(
            part.get_content()
            for part in message.walk()
            if part.get_content_type() != "multipart/alternative" and not part.is_multipart()
        )
        assert leaks(text) == [], message["Subject"]


def test_webhook_payloads_name_no_internal_component(world):
    requests = world["receiver"].requests
    assert requests, "webhooks were delivered"
    for request in requests:
        document = json.loads(request["body"])
        assert leaks(json.dumps(document, ensure_ascii=False)) == [], document.get("incident")
