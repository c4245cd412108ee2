"""What every probe kind shares: the outcome of one check, the class contract, small helpers.

A probe kind is a small class in the `monitors.checks.REGISTRY`: `validate(config)` normalises
a probe's config (or raises `ValueError("field: reason")`), `run(config, timeout, probe)`
performs one check and describes what it saw as an `Outcome`. `run` never raises because the
target is in trouble: refused connections, timeouts and bad certificates are outcomes too.
Whether an outcome is good news is decided afterwards by `monitors.conditions.evaluate`.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from statuspage.text import truncate

BODY_LIMIT_BYTES = 64 * 1024
ERROR_LIMIT_CHARS = 200


@dataclass
class Outcome:
    """What one check saw; the values behind the condition placeholders."""

    connected: bool  # [CONNECTED]: the target was reached
    response_time_ms: float | None = None  # [RESPONSE_TIME]
    status_code: int | None = None  # [STATUS] (http)
    body: str | None = None  # [BODY] (http; decoded text, truncated to 64 KiB)
    certificate_expires_in_s: float | None = None  # [CERTIFICATE_EXPIRATION]
    dns_rcode: str | None = None  # [DNS_RCODE] e.g. "NOERROR", "NXDOMAIN"
    error: str = ""  # short reason when the check could not complete
    details: dict = field(default_factory=dict)  # kind-specific extras
    # The kind that produced it: lets `evaluate` apply the kind's default conditions to a
    # probe that has none of its own.
    kind: str = ""


class Check:
    """One probe kind. Subclasses fill in `kind`, `validate` and `run`."""

    kind: ClassVar[str] = ""
    # Conditions that apply when a probe of this kind lists none, so that, say, an HTTP probe
    # without conditions still fails on a 500.
    default_conditions: ClassVar[tuple[dict, ...]] = ()

    @classmethod
    def validate(cls, config: dict) -> dict:
        """The config with defaults filled in; raises ValueError("field: reason")."""
        raise NotImplementedError

    @classmethod
    def run(cls, config: dict, timeout: float, probe=None) -> Outcome:
        """Check the target once, within `timeout` seconds; never raises for target trouble."""
        raise NotImplementedError


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string such as "30s", "5m", "24h", "1h30m", "7d".

    A bare number (or numeric string) means seconds. Raises ValueError for anything else,
    including negative values and booleans (YAML's `yes` must not become one second).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 5m or 24h, not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            seconds = duration_text_seconds(text)
            if seconds is None:
                raise ValueError(
                    f"expected a duration such as 30s, 5m or 24h, not {value!r}"
                ) from None
    else:
        raise ValueError(f"expected a duration such as 30s, 5m or 24h, not {value!r}")
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        raise ValueError(f"expected a positive duration, not {value!r}")
    return seconds


def duration_text_seconds(text: str) -> float | None:
    """Seconds for a suffixed duration ("1h30m", "500ms"), None when `text` is not one."""
    position, total = 0, 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            return None
        total += float(match.group(1)) * _DURATION_UNIT_SECONDS[match.group(2)]
        position = match.end()
    return total if text else None


def format_duration(seconds: float) -> str:
    """A compact duration for people: 90061 -> "25h1m1s", -3600 -> "-1h"."""
    sign = "-" if seconds < 0 else ""
    remaining = int(abs(seconds))
    hours, remaining = divmod(remaining, 3600)
    minutes, secs = divmod(remaining, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return sign + ("".join(parts) or "0s")


# --- config helpers shared by the kinds ------------------------------------------------------


def reject_unknown_keys(config: object, allowed: set[str]) -> dict:
    if not isinstance(config, dict):
        raise ValueError(f"config: expected a mapping, not {type(config).__name__}")
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(
            f"{unknown[0]}: unknown setting (expected one of {', '.join(sorted(allowed))})"
        )
    return config


def require_text(config: dict, key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: required")
    return value.strip()


def validate_port(value: object, key: str = "port") -> int:
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected a port number, not {value!r}")
    try:
        port = int(value)  # YAML and forms may give "443"
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected a port number, not {value!r}") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{key}: must be between 1 and 65535")
    return port


def validate_bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key}: expected true or false, not {value!r}")
    return value


def validate_host(value: object, key: str = "host") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: required")
    host = value.strip()
    if any(ch.isspace() for ch in host) or "/" in host:
        raise ValueError(f"{key}: expected a host name or IP address, not {value!r}")
    return host


# --- run helpers ---------------------------------------------------------------------------


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def short(text: str) -> str:
    return truncate(" ".join(str(text).split()), ERROR_LIMIT_CHARS)


def describe_network_error(exc: BaseException, timeout: float) -> str:
    """A short, stable reason for a failed connection, the words an on-call engineer expects."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return short(f"certificate verify failed: {exc.verify_message or exc.reason}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timed out after {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, socket.gaierror):
        return short(f"could not resolve host: {exc.strerror or exc}")
    if isinstance(exc, ssl.SSLError):
        return short(f"TLS handshake failed: {exc.reason or exc}")
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return short(f"unreachable: {exc.strerror}")
    return short(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def certificate_expires_in_s(der: bytes, now: datetime | None = None) -> float | None:
    """Seconds until the DER certificate's notAfter (negative once expired); None if unreadable."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    now = now or datetime.now(UTC)
    return (cert.not_valid_after_utc - now).total_seconds()
