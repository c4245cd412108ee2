"""Probe kinds: `REGISTRY` maps a Probe's `kind` to the class that validates and runs it."""

from monitors.checks.base import Check, Outcome, parse_duration
from monitors.checks.dns import DnsCheck
from monitors.checks.heartbeat import HeartbeatCheck
from monitors.checks.http import HttpCheck
from monitors.checks.tcp import TcpCheck
from monitors.checks.tls import TlsCheck

REGISTRY: dict[str, type[Check]] = {
    check.kind: check for check in (HttpCheck, TcpCheck, DnsCheck, TlsCheck, HeartbeatCheck)
}


def get_check(kind: str) -> type[Check]:
    """The class for `kind`; ValueError("kind: ...") when there is none."""
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(
            f"kind: unknown probe kind {kind!r} (expected one of {', '.join(sorted(REGISTRY))})"
        ) from None


def validate_config(kind: str, config: dict) -> dict:
    """The normalised config of a probe of `kind`; ValueError("field: reason") if invalid."""
    return get_check(kind).validate(config if config is not None else {})


__all__ = ["REGISTRY", "Check", "Outcome", "get_check", "parse_duration", "validate_config"]
