"""Outbound URLs of staff channels may not reach private networks (no SSRF): checked when a
channel is saved and again right before each send, since DNS can change in between.

CHANNELS_ALLOW_PRIVATE_URLS=true lifts the address check (a robot gateway inside the
platform's own network, or the tests' local receivers); the scheme and credential checks stay.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def shape_problem(url: str) -> str:
    """What is wrong with the URL itself, without resolving it; empty when nothing."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http://)"
    if not parts.hostname:
        return "has no host name"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    return ""


def unsafe_reason(url: str) -> str:
    """Why `url` must not be posted to; empty when it may."""
    problem = shape_problem(url)
    if problem:
        return problem
    parts = urlsplit(url)
    port = parts.port
    if settings.CHANNELS_ALLOW_PRIVATE_URLS:
        return ""
    try:
        addresses = {
            info[4][0]
            for info in socket.getaddrinfo(
                parts.hostname, port or (443 if parts.scheme == "https" else 80),
                type=socket.SOCK_STREAM,
            )
        }  # fmt: skip
    except (socket.gaierror, UnicodeError):
        return f"{parts.hostname} does not resolve"
    for address in sorted(addresses):
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return f"{parts.hostname} resolves to a private or reserved address ({ip})"
    return ""
