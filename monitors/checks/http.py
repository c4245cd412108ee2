"""The `http` kind: one request with `requests`, its status, body, timing and certificate."""

from __future__ import annotations

import json
import time
import warnings
from urllib.parse import urlsplit

import requests
import urllib3

from monitors.checks.base import (
    BODY_LIMIT_BYTES,
    Check,
    Outcome,
    certificate_expires_in_s,
    describe_network_error,
    elapsed_ms,
    reject_unknown_keys,
    short,
    validate_bool,
)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
USER_AGENT = "statuspage-probe/1"

# verify_tls: false is a probe's deliberate choice (an internal endpoint with a private CA);
# urllib3 would otherwise warn on every run of it.
warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)


class HttpCheck(Check):
    kind = "http"
    default_conditions = ({"condition": "[STATUS] < 400", "severity": "partial_outage"},)

    @classmethod
    def validate(cls, config: dict) -> dict:
        reject_unknown_keys(
            config,
            {"url", "method", "headers", "body", "verify_tls", "ca_bundle", "max_redirects"},
        )
        url = config.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ValueError("url: required")
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url: expected an http:// or https:// URL, not {url!r}")
        method = config.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise ValueError(f"method: expected one of {', '.join(METHODS)}, not {method!r}")
        headers = config.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
            for k, v in headers.items()
        ):
            raise ValueError("headers: expected a mapping of header names to text")
        body = config.get("body")
        if body is not None and not isinstance(body, str):
            try:
                json.dumps(body)
            except (TypeError, ValueError):
                raise ValueError("body: expected text or JSON-serialisable data") from None
        max_redirects = config.get("max_redirects", 5)
        if (
            isinstance(max_redirects, bool)
            or not isinstance(max_redirects, int)
            or not (0 <= max_redirects <= 30)
        ):
            raise ValueError("max_redirects: expected a whole number from 0 to 30")
        ca_bundle = config.get("ca_bundle")
        if ca_bundle is not None and (not isinstance(ca_bundle, str) or not ca_bundle):
            raise ValueError("ca_bundle: expected the path of a PEM file")
        return {
            "url": url,
            "method": method.upper(),
            "headers": {k: str(v) for k, v in headers.items()},
            "body": body,
            "verify_tls": validate_bool(config.get("verify_tls", True), "verify_tls"),
            "ca_bundle": ca_bundle,
            "max_redirects": max_redirects,
        }

    @classmethod
    def run(cls, config: dict, timeout: float, probe=None) -> Outcome:
        config = cls.validate(config)
        # A fresh session per run: every check pays for its own connection (that is what a
        # borrower pays), and no state leaks between probes sharing a worker thread. trust_env
        # off: the prober must reach targets directly, not through whatever proxy or .netrc
        # credentials the worker's environment happens to carry.
        session = requests.Session()
        session.trust_env = False
        # requests consults max_redirects even when not following (to prepare the next hop),
        # so 0 ("report the redirect itself") must not become its limit.
        session.max_redirects = config["max_redirects"] or 30
        session.headers["User-Agent"] = USER_AGENT
        verify: bool | str = config["verify_tls"]
        if verify and config["ca_bundle"]:
            verify = config["ca_bundle"]
        body = config["body"]
        request_kwargs: dict = {}
        if isinstance(body, str):
            request_kwargs["data"] = body.encode()
        elif body is not None:
            request_kwargs["json"] = body
        started = time.perf_counter()
        try:
            with session:
                response = session.request(
                    config["method"],
                    config["url"],
                    headers=config["headers"],
                    timeout=(timeout, timeout),
                    verify=verify,
                    allow_redirects=config["max_redirects"] > 0,
                    stream=True,  # read the body ourselves, with a cap and a deadline
                    **request_kwargs,
                )
                with response:
                    # Until the final response's headers, redirects included: what a client
                    # following the same URL waits before anything happens.
                    response_time = elapsed_ms(started)
                    expires_in = _peer_certificate_expiry(response)
                    text, error = _read_body(response, started, timeout)
        except requests.TooManyRedirects as exc:
            last = exc.response
            return Outcome(
                connected=False,
                status_code=last.status_code if last is not None else None,
                error=f"more than {config['max_redirects']} redirects",
                kind=cls.kind,
            )
        except requests.RequestException as exc:
            return Outcome(
                connected=False, error=_describe_request_error(exc, timeout), kind=cls.kind
            )
        except OSError as exc:  # e.g. an unreadable ca_bundle, raised before any request
            return Outcome(connected=False, error=short(str(exc)), kind=cls.kind)
        if error:
            return Outcome(
                connected=False,
                status_code=response.status_code,
                response_time_ms=response_time,
                error=error,
                kind=cls.kind,
            )
        return Outcome(
            connected=True,
            response_time_ms=response_time,
            status_code=response.status_code,
            body=text,
            certificate_expires_in_s=expires_in,
            details={"url": response.url, "redirects": len(response.history)},
            kind=cls.kind,
        )


def _read_body(response: requests.Response, started: float, timeout: float) -> tuple[str, str]:
    """The decoded body (at most 64 KiB of it) and an error if it could not be read in time.

    requests' read timeout applies to each socket read, so a server dribbling bytes could hold
    a probe forever: the socket's timeout is cut to what is left of the overall deadline
    before every read, and read1 returns whatever has arrived instead of waiting for a full
    chunk.
    """
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    try:
        while size < BODY_LIMIT_BYTES:
            remaining = timeout - (time.perf_counter() - started)
            if remaining <= 0:
                return "", f"timed out after {timeout:g}s"
            _set_socket_timeout(raw, remaining)
            chunk = raw.read1(min(8192, BODY_LIMIT_BYTES - size), decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
            return "", f"timed out after {timeout:g}s"
        return "", _describe_request_error(exc, timeout)
    raw_body = b"".join(chunks)[:BODY_LIMIT_BYTES]
    encoding = response.encoding or "utf-8"
    try:
        return raw_body.decode(encoding, errors="replace"), ""
    except LookupError:  # a charset Python does not know
        return raw_body.decode("utf-8", errors="replace"), ""


def _set_socket_timeout(raw, seconds: float) -> None:
    try:
        raw.connection.sock.settimeout(seconds)
    except (AttributeError, OSError):
        pass  # connection already released (body fully read): nothing left to bound


def _peer_certificate_expiry(response: requests.Response) -> float | None:
    """Seconds to the server certificate's expiry, read from the live TLS socket if https."""
    if not response.url.startswith("https:"):
        return None
    try:
        sock = response.raw.connection.sock
        der = sock.getpeercert(binary_form=True)
    except (AttributeError, ValueError, OSError):
        return None  # the connection was already released; not worth failing the check for
    return certificate_expires_in_s(der) if der else None


def _describe_request_error(exc: requests.RequestException, timeout: float) -> str:
    """Find the socket-level cause inside requests' and urllib3's wrappers."""
    if isinstance(exc, requests.Timeout):
        return f"timed out after {timeout:g}s"
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, requests.RequestException):
            described = describe_network_error(current, timeout)
            if not described.startswith(("OSError", "SSLError", "NewConnectionError")):
                return described
        if "timed out" in str(current).lower():
            return f"timed out after {timeout:g}s"
        for nested in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(nested, BaseException):
                stack.append(nested)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
    if isinstance(exc, requests.exceptions.SSLError):
        return short(f"TLS error: {exc}")
    return short(f"{type(exc).__name__}: {exc}")
