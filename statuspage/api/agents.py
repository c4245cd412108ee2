"""The site's side of the remote agents (`statuspage-agent`; the protocol is AGENT_PROTOCOL.md):
`GET /api/v1/agent/assignment` and `POST /api/v1/agent/results`.

Plain Django views rather than routes of the token API (`statuspage.api.v1`): an agent token
(`spa_`, `monitors.agent_tokens`) is not a staff token, and the protocol's answers
(`{"detail": ...}`, 304, 413, gzip bodies read under a size cap) are not that API's. Bearer
tokens and no session, so no CSRF.

A probe's config (headers, bodies: possibly secrets) leaves the site only here, and only to an
agent of a vantage point the probe lists.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)

from monitors import confirmation
from monitors.agent_tokens import authenticate_agent, touch_agent_token
from monitors.models import MINIMUM_INTERVAL_SECONDS, AgentToken, Probe
from monitors.results import RunResult, clip, record_result
from statuspage import status as rules

MAX_RESULTS = 5000
MAX_BODY_BYTES = 16 * 1024 * 1024
# Kinds an agent cannot run: a heartbeat is a call the site receives, not a check to make.
SITE_ONLY_KINDS = {"heartbeat"}


def detail(status: int, reason) -> JsonResponse:
    response = JsonResponse({"detail": reason}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="agent"'
    return response


def bad_body(message: str, location: tuple = ("body",)) -> JsonResponse:
    return detail(400, [{"loc": list(location), "msg": message}])


def agent_view(view):
    """Bearer-token authentication for an agent's request: 401 with the reason, or the view
    called with the live token."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return detail(401, "an agent token is required: Authorization: Bearer spa_…")
        token, reason = authenticate_agent(raw.strip())
        if token is None:
            return detail(401, reason)
        touch_agent_token(token, timezone.now())
        return view(request, token)

    return csrf_exempt(wrapper)


# --- the assignment -----------------------------------------------------------------------------


def assigned_probes(vantage_point: str) -> list[Probe]:
    """The enabled probes that list `vantage_point` and that an agent can run, by id."""
    probes = Probe.objects.filter(is_enabled=True).exclude(kind__in=SITE_ONLY_KINDS).order_by("pk")
    return [probe for probe in probes if vantage_point in (probe.vantage_points or [])]


def probe_spec(probe: Probe) -> dict:
    """What an agent needs to run the probe as a worker would (the same interval floor and
    timeout cap as `monitors.scheduler` and `monitors.tasks`)."""
    return {
        "id": probe.pk,
        "name": probe.name,
        "kind": probe.kind,
        "config": probe.config,
        "conditions": probe.conditions,
        "interval_seconds": max(MINIMUM_INTERVAL_SECONDS, probe.interval_seconds),
        "recheck_seconds": max(1, probe.recheck_seconds),
        "timeout_seconds": min(probe.timeout_seconds, settings.PROBE_MAX_TIMEOUT_SECONDS),
    }


@agent_view
@require_GET
def assignment(request: HttpRequest, token: AgentToken) -> HttpResponse:
    """The specs of the probes this agent runs; 304 when its `If-None-Match` is current."""
    probes = [probe_spec(probe) for probe in assigned_probes(token.vantage_point)]
    document = {"vantage_point": token.vantage_point, "probes": probes}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    etag = '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is None:
        document = {
            "vantage_point": token.vantage_point,
            "server_time": timezone.now().isoformat(),
            "probes": probes,
        }
        response = JsonResponse(document)
    else:
        response = not_modified
    response["ETag"] = etag
    # It carries secrets: no cache may keep it (the agent keeps its own copy and the ETag).
    response["Cache-Control"] = "no-store"
    return response


# --- the results --------------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    """In UTC, or a ValueError (a 400) for a moment that has none (year 1 at +01:00)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


def failure_severity(value: str) -> str:
    if value and value not in rules.FAILING:
        choices = ", ".join(sorted(rules.FAILING))
        raise ValueError(f"{value!r} is not a severity (empty, or one of {choices})")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(utc)]
Severity = Annotated[str, AfterValidator(failure_severity)]


class ResultIn(BaseModel):
    # Fields a newer agent may add are ignored, not refused.
    model_config = ConfigDict(extra="ignore")

    probe: StrictInt = Field(ge=1, le=2**63 - 1)
    scheduled_at: Moment
    checked_at: Moment
    ok: StrictBool
    latency_ms: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False)
    status_code: StrictInt | None = Field(None, ge=0, le=999)
    failed_condition: str = ""
    seen: str = ""
    error: str = ""
    severity: Severity = ""

    def run(self) -> RunResult:
        return RunResult(
            ok=self.ok,
            latency_ms=self.latency_ms,
            status_code=self.status_code,
            failed_condition=clip(self.failed_condition, 200),
            seen=clip(self.seen, 200),
            error=clip(self.error, 300),
            severity="" if self.ok else (self.severity or confirmation.DEFAULT_SEVERITY),
        )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    results: list[ResultIn]


class TooLarge(Exception):
    pass


def read_body(request: HttpRequest) -> bytes:
    """The request's body, gunzipped if it says so, at most MAX_BODY_BYTES of it (TooLarge
    beyond), read from the stream: `request.body` stops at DATA_UPLOAD_MAX_MEMORY_SIZE."""
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise ValueError(f"Content-Encoding {encoding!r} is not supported (gzip or identity)")
    inflater = zlib.decompressobj(wbits=31)
    try:
        body = inflater.decompress(raw, MAX_BODY_BYTES + 1)
    except zlib.error as error:
        raise ValueError(f"the gzip body does not decompress: {error}") from None
    if len(body) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise TooLarge
    if not inflater.eof:
        raise ValueError("the gzip body is truncated")
    return body


def refusal(item: ResultIn, probes: dict[int, Probe], vantage_point: str, now: datetime) -> str:
    """Why a well-formed result can never be accepted, or "" to accept it."""
    if item.probe not in probes:
        return f"probe {item.probe} is not assigned to vantage point {vantage_point}"
    if item.checked_at < now - timedelta(days=settings.RESULT_RETENTION_DAYS):
        return f"checked_at is older than the retention ({settings.RESULT_RETENTION_DAYS} days)"
    tolerance = timedelta(seconds=settings.AGENT_CLOCK_TOLERANCE_SECONDS)
    if item.checked_at > now + tolerance:
        return "checked_at is in the future"
    # A slot in the future would make every later run look like a late redelivery.
    if item.scheduled_at > now + tolerance:
        return "scheduled_at is in the future"
    return ""


def record(vantage_point: str, runs: list[tuple[Probe, ResultIn]], received_at: datetime) -> int:
    """Store accepted results, oldest slot first; return how many were new (the others were
    stored before: a re-upload). Older than the probe state's last slot still lands in
    history (`record_result` counts a late run without moving the state back)."""
    stored = 0
    for probe, item in runs:
        result = record_result(
            probe,
            vantage_point,
            item.run(),
            now=received_at,
            checked_at=item.checked_at,
            scheduled_at=item.scheduled_at,
        )
        stored += result is not None
    return stored


@agent_view
@require_POST
def results(request: HttpRequest, token: AgentToken) -> HttpResponse:
    """Take a batch of results: each accepted, a duplicate, or refused with its reason."""
    received_at = timezone.now()
    try:
        body = read_body(request)
    except TooLarge:
        return detail(413, f"at most {MAX_BODY_BYTES} bytes, decompressed, per request")
    except ValueError as error:
        return bad_body(str(error))
    try:
        document = json.loads(body, parse_constant=reject_constant)
    except (ValueError, RecursionError) as error:
        return bad_body(f"not JSON: {error}")
    if isinstance(document, dict) and isinstance(document.get("results"), list):
        if len(document["results"]) > MAX_RESULTS:
            return detail(413, f"at most {MAX_RESULTS} results per request")
    try:
        batch = BatchIn.model_validate(document)
    except ValidationError as invalid:
        return detail(
            400, [{"loc": ["body", *e["loc"]], "msg": e["msg"]} for e in invalid.errors()]
        )
    probes = {probe.pk: probe for probe in assigned_probes(token.vantage_point)}
    refused = []
    accepted = []
    for index, item in enumerate(batch.results):
        reason = refusal(item, probes, token.vantage_point, received_at)
        if reason:
            refused.append({"index": index, "probe": item.probe, "reason": reason})
        else:
            accepted.append((probes[item.probe], item))
    accepted.sort(key=lambda run: (run[1].scheduled_at, run[0].pk))
    stored = record(token.vantage_point, accepted, received_at)
    return JsonResponse(
        {
            "accepted": stored,
            "duplicates": len(accepted) - stored,
            "refused": refused,
            "received_at": received_at.isoformat(),
        }
    )


def reject_constant(name: str) -> float:
    """Python's json reads NaN and Infinity, which JSON does not have."""
    raise ValueError(f"{name} is not a JSON number")
