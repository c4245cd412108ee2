"""The site's side of the remote agents (AGENT_PROTOCOL.md): the assignment with its ETag, and
the results upload with its refusals."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from monitors.agent_tokens import issue_agent_token, revoke_agent_token
from monitors.models import AgentToken, Probe, ProbeResult, ProbeState
from statuspage.api import agents

NOW = datetime(2026, 12, 2, 2, 40, tzinfo=UTC)
SECRET = {"Authorization": "Bearer bureau-secret-123"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bureau(components) -> Probe:
    return Probe.objects.create(
        component=components["bureau"],
        name="Credit bureau API",
        kind="http",
        config={"url": "http://bureau.internal/health", "headers": SECRET},
        conditions=[{"condition": "[STATUS] == 200"}],
        vantage_points=["local", "edge"],
        interval_seconds=30,
        timeout_seconds=5.0,
    )


@pytest.fixture
def gateway(components) -> Probe:
    """A probe the edge agent does not run: its config must never reach it."""
    return Probe.objects.create(
        component=components["gateway"],
        name="Gateway",
        kind="http",
        config={"url": "http://gateway.internal/", "headers": {"X-Key": "gateway-secret-456"}},
        vantage_points=["local"],
    )


class Agent:
    """An agent's side of the protocol, over Django's test client."""

    def __init__(self, raw_token: str | None) -> None:
        self.client = Client()
        self.raw_token = raw_token

    def headers(self, **extra) -> dict:
        headers = {"Authorization": f"Bearer {self.raw_token}"} if self.raw_token else {}
        return {**headers, **extra}

    def assignment(self, etag: str | None = None):
        extra = {"If-None-Match": etag} if etag else {}
        return self.client.get("/api/v1/agent/assignment", headers=self.headers(**extra))

    def upload_raw(self, body: bytes, encoding: str | None = "gzip"):
        extra = {"Content-Encoding": encoding} if encoding else {}
        return self.client.post(
            "/api/v1/agent/results",
            body,
            content_type="application/json",
            headers=self.headers(**extra),
        )

    def upload(self, results: list[dict], encoding: str | None = "gzip"):
        body = json.dumps({"results": results}).encode()
        return self.upload_raw(gzip.compress(body) if encoding == "gzip" else body, encoding)


@pytest.fixture
def edge(db) -> Agent:
    return Agent(issue_agent_token("edge")[1])


def run(probe: Probe, seconds_ago: float, ok: bool = True, **fields) -> dict:
    """One result as the agent sends it: slot and check `seconds_ago`."""
    at = (NOW - timedelta(seconds=seconds_ago)).isoformat()
    return {
        "probe": probe.pk,
        "scheduled_at": at,
        "checked_at": at,
        "ok": ok,
        "latency_ms": 12.5,
        "status_code": 200 if ok else 500,
        "failed_condition": "" if ok else "[STATUS] == 200",
        "seen": "" if ok else "500",
        "error": "",
        "severity": "" if ok else "major_outage",
        **fields,
    }


# --- the assignment -----------------------------------------------------------------------------


def test_the_assignment_carries_the_full_spec_of_the_probes_of_its_vantage_point(
    edge, bureau, gateway
):
    response = edge.assignment()
    assert response.status_code == 200
    body = response.json()
    assert body["vantage_point"] == "edge"
    assert body["server_time"] == NOW.isoformat()
    assert body["probes"] == [
        {
            "id": bureau.pk,
            "name": "Credit bureau API",
            "kind": "http",
            "config": {"url": "http://bureau.internal/health", "headers": SECRET},
            "conditions": [{"condition": "[STATUS] == 200"}],
            "interval_seconds": 30,
            "recheck_seconds": 10,
            "timeout_seconds": 5.0,
        }
    ]
    assert response["Cache-Control"] == "no-store"


def test_secrets_reach_only_the_agents_that_run_the_probe(edge, bureau, gateway, api):
    assert b"gateway-secret-456" not in edge.assignment().content
    local = Agent(issue_agent_token("local")[1])
    assert b"gateway-secret-456" in local.assignment().content
    # Nothing else shows a config: the probes API is for staff tokens, and leaves it out.
    for path in ("/probes", f"/probes/{bureau.pk}", f"/probes/{gateway.pk}"):
        listed = api.get(path)
        assert listed.status_code == 200
        assert b"secret" not in listed.content and b"config" not in listed.content


def test_disabled_and_heartbeat_probes_are_not_assigned(edge, bureau, components):
    Probe.objects.create(
        component=components["gateway"],
        name="off",
        kind="http",
        vantage_points=["edge"],
        is_enabled=False,
    )
    Probe.objects.create(
        component=components["gateway"],
        name="nightly job",
        kind="heartbeat",
        config={"period": "1d"},
        vantage_points=["edge"],
    )
    assert [probe["id"] for probe in edge.assignment().json()["probes"]] == [bureau.pk]


def test_an_unchanged_assignment_answers_304_and_a_change_a_new_etag(edge, bureau, frozen):
    first = edge.assignment()
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    frozen.shift(5)  # server_time moved: the assignment did not
    again = edge.assignment(etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    bureau.config = {"url": "http://bureau.internal/v2/health", "headers": SECRET}
    bureau.save()
    changed = edge.assignment(etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["probes"][0]["config"]["url"].endswith("/v2/health")
    # A probe that stops listing the vantage point leaves the assignment.
    bureau.vantage_points = ["local"]
    bureau.save()
    gone = edge.assignment(changed["ETag"])
    assert gone.status_code == 200 and gone.json()["probes"] == []


def test_an_etag_from_another_vantage_point_is_not_current(edge, bureau):
    local = Agent(issue_agent_token("local")[1])
    assert edge.assignment(local.assignment()["ETag"]).status_code == 200


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "an agent token is required"),
        ("Basic abc", "an agent token is required"),
        ("Bearer spa_" + "x" * 43, "this agent token is not known"),
        ("Bearer sp_" + "x" * 43, "this is not an agent token"),
    ],
)
def test_a_missing_or_unknown_token_is_a_401_with_its_reason(edge, bureau, authorization, reason):
    headers = {"Authorization": authorization} if authorization else {}
    for response in (
        Client().get("/api/v1/agent/assignment", headers=headers),
        Client().post(
            "/api/v1/agent/results", b"{}", content_type="application/json", headers=headers
        ),
    ):
        assert response.status_code == 401
        assert response.json()["detail"].startswith(reason)
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_with_its_reason_and_stores_nothing(edge, bureau):
    revoke_agent_token(AgentToken.objects.get())
    response = edge.upload([run(bureau, 30)])
    assert response.status_code == 401
    assert response.json() == {"detail": "this agent token was revoked"}
    assert edge.assignment().status_code == 401
    assert not ProbeResult.objects.exists()


def test_a_staff_api_token_is_not_an_agent_token(api, bureau):
    staff = Agent(api.token)
    assert staff.assignment().status_code == 401
    assert staff.upload([run(bureau, 30)]).status_code == 401


def test_an_agent_token_opens_nothing_of_the_token_api(edge, bureau):
    response = Client().get("/api/v1/probes", headers=edge.headers())
    assert response.status_code == 401


def test_using_the_token_is_recorded_at_most_once_a_minute(edge, bureau, frozen):
    edge.assignment()
    assert AgentToken.objects.get().last_used_at == NOW
    frozen.shift(30)
    edge.assignment()
    assert AgentToken.objects.get().last_used_at == NOW
    frozen.shift(31)
    edge.assignment()
    assert AgentToken.objects.get().last_used_at == NOW + timedelta(seconds=61)


def test_the_wrong_method_is_a_405(edge):
    assert edge.client.post("/api/v1/agent/assignment", headers=edge.headers()).status_code == 405
    assert edge.client.get("/api/v1/agent/results", headers=edge.headers()).status_code == 405


# --- uploading results --------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", None, "identity"])
def test_results_are_recorded_with_the_time_they_were_received(edge, bureau, encoding):
    response = edge.upload([run(bureau, 60), run(bureau, 30)], encoding=encoding)
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "refused": [],
        "received_at": NOW.isoformat(),
    }
    stored = list(ProbeResult.objects.order_by("scheduled_at"))
    assert [r.scheduled_at for r in stored] == [NOW - timedelta(seconds=s) for s in (60, 30)]
    assert {(r.vantage_point, r.ok, r.latency_ms, r.received_at) for r in stored} == {
        ("edge", True, 12.5, NOW)
    }
    state = ProbeState.objects.get(probe=bureau, vantage_point="edge")
    assert state.last_scheduled_at == NOW - timedelta(seconds=30)


def test_a_re_upload_changes_nothing_and_counts_duplicates(edge, bureau, frozen):
    batch = [run(bureau, 90, ok=False), run(bureau, 60, ok=False), run(bureau, 30, ok=False)]
    edge.upload(batch)
    state = ProbeState.objects.get(probe=bureau, vantage_point="edge")
    frozen.shift(5)
    again = edge.upload(batch).json()
    assert (again["accepted"], again["duplicates"], again["refused"]) == (0, 3, [])
    assert ProbeResult.objects.count() == 3
    assert ProbeState.objects.get(pk=state.pk).consecutive_failures == 3
    assert set(ProbeResult.objects.values_list("received_at", flat=True)) == {NOW}


def test_results_are_recorded_in_slot_order_whatever_the_batch_order(edge, bureau):
    # Three failures sent newest first still confirm the failure (threshold 3) in order.
    edge.upload([run(bureau, 30, ok=False), run(bureau, 90, ok=False), run(bureau, 60, ok=False)])
    state = ProbeState.objects.get(probe=bureau, vantage_point="edge")
    assert state.is_down and state.last_scheduled_at == NOW - timedelta(seconds=30)


def test_a_spooled_gap_older_than_the_state_still_lands_in_history(edge, bureau):
    edge.upload([run(bureau, 30)])
    # The agent's spool, uploaded after a newer result got through: history is complete.
    response = edge.upload([run(bureau, 600 - 30 * i) for i in range(19)])
    assert response.json()["accepted"] == 19
    assert ProbeResult.objects.filter(probe=bureau, vantage_point="edge").count() == 20
    state = ProbeState.objects.get(probe=bureau, vantage_point="edge")
    assert state.last_scheduled_at == NOW - timedelta(seconds=30)


def test_each_refusal_names_its_result_and_its_reason(edge, bureau, gateway, settings):
    settings.RESULT_RETENTION_DAYS = 14
    settings.AGENT_CLOCK_TOLERANCE_SECONDS = 60
    too_old = NOW - timedelta(days=14, seconds=1)
    batch = [
        run(bureau, 30),
        run(gateway, 30),
        {**run(bureau, 30), "probe": 999_999},
        {**run(bureau, 0), "scheduled_at": too_old.isoformat(), "checked_at": too_old.isoformat()},
        run(bureau, -61),
        run(bureau, -59),  # within the tolerance
    ]
    response = edge.upload(batch)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    foreign = "probe {} is not assigned to vantage point edge"
    assert [(r["index"], r["probe"], r["reason"]) for r in body["refused"]] == [
        (1, gateway.pk, foreign.format(gateway.pk)),
        (2, 999_999, foreign.format(999_999)),
        (3, bureau.pk, "checked_at is older than the retention (14 days)"),
        (4, bureau.pk, "checked_at is in the future"),
    ]
    assert not ProbeResult.objects.filter(probe=gateway).exists()


def test_a_slot_in_the_future_is_refused(edge, bureau):
    result = {**run(bureau, 0), "scheduled_at": (NOW + timedelta(hours=1)).isoformat()}
    (refused,) = edge.upload([result]).json()["refused"]
    assert refused["reason"] == "scheduled_at is in the future"


def test_an_offset_other_than_utc_is_the_same_moment(edge, bureau):
    at = (NOW - timedelta(seconds=30)).astimezone(
        datetime.fromisoformat("2026-01-01T00:00:00+08:00").tzinfo
    )
    edge.upload([{**run(bureau, 30), "scheduled_at": at.isoformat(), "checked_at": at.isoformat()}])
    assert ProbeResult.objects.get().checked_at == NOW - timedelta(seconds=30)


def test_long_texts_are_clipped_and_a_failure_without_severity_gets_the_default(edge, bureau):
    edge.upload([{**run(bureau, 30, ok=False), "error": "x\x00" * 1000, "severity": ""}])
    stored = ProbeResult.objects.get()
    assert len(stored.error) == 300 and "\x00" not in stored.error
    assert stored.severity == "partial_outage"


def test_an_empty_batch_is_fine(edge):
    body = edge.upload([]).json()
    assert (body["accepted"], body["duplicates"], body["refused"]) == (0, 0, [])


# --- bad bodies ---------------------------------------------------------------------------------


def missing_at(body: dict, location: list) -> bool:
    return any(error["loc"] == location for error in body["detail"])


@pytest.mark.parametrize(
    ("body", "encoding", "location"),
    [
        (b"", None, ["body"]),
        (b"not json", None, ["body"]),
        (b"[1, 2]", None, ["body"]),
        (b'{"results": {"probe": 1}}', None, ["body", "results"]),
        (b'{"results": [1]}', None, ["body", "results", 0]),
        (b'{"results": [{"probe": 1, "latency_ms": NaN}]}', None, ["body"]),
        (b"\x1f\x8b\x08\x00garbage", "gzip", ["body"]),
        (gzip.compress(b'{"results": []}')[:-6], "gzip", ["body"]),
        (b'{"results": []}', "br", ["body"]),
        (b"\xff\xfe\x00{", None, ["body"]),
        (b"[" * 100_000, None, ["body"]),
    ],
)
def test_a_body_that_does_not_parse_is_a_400(edge, body, encoding, location):
    response = edge.upload_raw(body, encoding)
    assert response.status_code == 400
    assert missing_at(response.json(), location), response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"probe": "7x"}, "probe"),
        ({"probe": True}, "probe"),
        ({"probe": 2**64}, "probe"),
        ({"ok": "yes"}, "ok"),
        ({"scheduled_at": "yesterday"}, "scheduled_at"),
        ({"checked_at": "2026-12-02T02:40:00"}, "checked_at"),  # no offset
        ({"checked_at": "0001-01-01T00:00:00+01:00"}, "checked_at"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 1e300}, "latency_ms"),
        ({"status_code": 70000}, "status_code"),
        ({"severity": "apocalypse"}, "severity"),
        ({"failed_condition": 5}, "failed_condition"),
    ],
)
def test_a_bad_field_is_a_400_naming_it(edge, bureau, change, field):
    response = edge.upload([{**run(bureau, 30), **change}])
    assert response.status_code == 400
    assert missing_at(response.json(), ["body", "results", 0, field]), response.json()
    assert not ProbeResult.objects.exists()


def test_a_missing_field_is_a_400(edge, bureau):
    result = run(bureau, 30)
    del result["checked_at"]
    response = edge.upload([result])
    assert response.status_code == 400
    assert missing_at(response.json(), ["body", "results", 0, "checked_at"])


def test_more_results_than_the_limit_is_a_413(edge, bureau):
    response = edge.upload([run(bureau, 30)] * (agents.MAX_RESULTS + 1))
    assert response.status_code == 413
    assert not ProbeResult.objects.exists()


def test_a_body_larger_than_the_limit_is_a_413_compressed_or_not(edge, bureau, monkeypatch):
    monkeypatch.setattr(agents, "MAX_BODY_BYTES", 1000)
    padded = json.dumps({"results": [], "padding": " " * 2000}).encode()
    assert edge.upload_raw(padded, None).status_code == 413
    # A small gzip that inflates beyond the limit (a zip bomb) is stopped while inflating.
    bomb = gzip.compress(padded)
    assert len(bomb) < 1000
    assert edge.upload_raw(bomb, "gzip").status_code == 413


def test_a_body_over_djangos_upload_limit_but_within_16_mb_is_read(edge, bureau, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    padded = json.dumps({"results": [run(bureau, 30)], "padding": " " * 5000}).encode()
    response = edge.upload_raw(padded, None)
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_what_an_agent_delivered_shows_in_the_probes_results_with_its_arrival(
    edge, bureau, api, frozen
):
    frozen.shift(600)  # the link was down: the agent uploads a result kept for ten minutes
    edge.upload([run(bureau, 0)])
    (row,) = api.get(f"/probes/{bureau.pk}/results", {"vantage_point": "edge"}).json()
    assert row["checked_at"] == "2026-12-02T02:40:00Z"
    assert row["received_at"] == "2026-12-02T02:50:00Z"
