"""Where webhooks may go: `https` URLs without credentials whose host resolves to public
internet addresses only, checked when staff save one and again on every connection.

A webhook URL is typed by a person but fetched by the worker from inside the network, so
without this it reaches the cloud metadata service, the local Redis or any internal host
(server-side request forgery). The connection-time check resolves the name once, validates
each address and connects to a validated address itself, so that a name which resolves to a
public address when saved and to a private one when used (DNS rebinding) is refused too.
`WEBHOOK_ALLOWED_NETWORKS` opens internal ranges on purpose; `WEBHOOK_ALLOW_HTTP` allows
plain http.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that are never public, whatever a resolver says (RFC 6761, 6762; ICANN's .internal).
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".invalid", ".test", ".home.arpa")
NAT64 = ipaddress.ip_network("64:ff9b::/96")

NOT_PUBLIC = (
    "The host must resolve to public internet addresses only (not private, loopback, "
    "link-local, multicast or reserved ones)."
)


class BlockedAddress(NewConnectionError):
    """The webhook's host resolved to no address a webhook may reach."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, Teredo), if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def is_allowed_address(address: IPAddress) -> bool:
    """A public unicast address, or one inside WEBHOOK_ALLOWED_NETWORKS."""
    candidates = [address]
    inner = embedded_ipv4(address)
    if inner is not None:
        candidates.append(inner)
    allowed = settings.WEBHOOK_ALLOWED_NETWORKS
    if any(candidate in network for candidate in candidates for network in allowed):
        return True
    return all(
        candidate.is_global
        and not (
            candidate.is_multicast
            or candidate.is_private
            or candidate.is_reserved
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_unspecified
        )
        for candidate in candidates
    )


def resolve(host: str, port: int) -> list[tuple[int, IPAddress]]:
    """Every (address family, address) the host resolves to; [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    found = []
    for family, _type, _proto, _name, sockaddr in infos:
        # A scoped IPv6 address ("fe80::1%eth0") is link-local anyway: drop the scope.
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if (family, address) not in found:
            found.append((family, address))
    return found


def url_problem(url: str) -> str | None:
    """Why a URL cannot be a webhook without looking its host up, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    schemes = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in schemes:
        return "Webhook URLs must start with https://."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "Webhook URLs cannot carry a user name or password."
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "Enter a valid URL."
    if host == "localhost" or host.endswith(PRIVATE_SUFFIXES):
        return NOT_PUBLIC
    if port == 0:
        return "Enter a valid URL."
    return None


def check_webhook_url(url: str) -> None:
    """Save-time check: raise a ValidationError saying what is wrong with the URL."""
    problem = url_problem(url)
    if problem:
        raise ValidationError(problem)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname.rstrip("."), port)
    # A name that does not resolve gets the same answer as a private one: the form must not
    # tell staff which internal names exist.
    if not addresses or not all(is_allowed_address(address) for _f, address in addresses):
        raise ValidationError(NOT_PUBLIC)


class GuardedConnectionMixin:
    """Resolves the host once, and connects only to addresses `is_allowed_address` accepts;
    TLS still checks the certificate against the host name."""

    def _new_conn(self) -> socket.socket:
        addresses = [a for _f, a in resolve(self._dns_host, self.port) if is_allowed_address(a)]
        if not addresses:
            raise BlockedAddress(self, "no address this webhook may reach")
        error: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (str(address), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class GuardedHTTPConnection(GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }


def guarded_session() -> requests.Session:
    """A requests session that only reaches allowed addresses, ignoring proxy variables (a
    proxy would do the connecting, unchecked)."""
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", GuardedAdapter())
    session.mount("https://", GuardedAdapter())
    return session


def is_blocked(exc: requests.RequestException) -> bool:
    """Whether a request failed because its host resolved to no allowed address."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BlockedAddress):
            return True
        reason = getattr(current, "reason", None)
        nested = (
            current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        )
        current = reason if isinstance(reason, BaseException) else nested or current.__cause__
    return False
