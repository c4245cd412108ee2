"""Upstream text a probe records (a body value, an error) is stored without control
characters, so the automatic incident it opens cannot break a feed or the snapshot."""

import feedparser
import pytest

from monitors.checks.base import Outcome
from monitors.conditions import evaluate
from monitors.models import ProbeResult, ProbeState
from monitors.results import RunResult
from statuspage.models import Incident

from .conftest import feed

pytestmark = pytest.mark.django_db


def upstream_run() -> RunResult:
    """What a server answering `{"code":"E\\u0007503"}` makes of a `[BODY].code == ok` check."""
    outcome = Outcome(
        connected=True, response_time_ms=12.0, status_code=200, body='{"code":"E\\u0007503"}'
    )
    verdict = evaluate([{"condition": "[BODY].code == ok"}], outcome)
    return RunResult.from_check(outcome, verdict)


def test_a_body_value_with_a_control_character_is_stored_without_it(clock, make_probe):
    probe = make_probe(conditions=[{"condition": "[BODY].code == ok"}])
    for _ in range(3):
        feed(probe, "local", upstream_run(), clock)
    assert set(ProbeResult.objects.values_list("seen", flat=True)) == {"E503"}
    assert ProbeState.objects.get().seen == "E503"
    assert Incident.objects.filter(origin="automatic").count() == 1


def test_the_automatic_incident_s_feed_is_readable(client, clock, make_probe):
    probe = make_probe(conditions=[{"condition": "[BODY].code == ok"}])
    for _ in range(3):
        feed(probe, "local", upstream_run(), clock)
    response = client.get("/feeds/incidents.atom")
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo and len(parsed.entries) == 1


def test_an_error_text_is_stored_without_control_characters():
    run = RunResult.from_error("ConnectionError: \x1b[0mreset\x00 by peer")
    assert run.error == "ConnectionError: [0mreset by peer"
