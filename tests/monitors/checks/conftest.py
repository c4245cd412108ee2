"""Real local servers for the probe kinds, each bound to port 0 on 127.0.0.1.

- an HTTP server (threaded, standard library) with a few routes that misbehave on purpose;
- HTTPS/TLS servers with certificates made by trustme: valid, expired, wrong name, self-signed;
- a DNS responder on a UDP port built with dnspython;
- a TCP listener, and one whose accept queue is full (connections to it time out).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import trustme

HEALTHY_BODY = {"data": {"state": "ok"}, "items": [{"id": 3}, {"id": 4}], "code": "0000"}
FAILED_CALL_BODY = {"data": {"state": "error"}, "items": [], "code": "9999"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", **headers):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        request_body = self.rfile.read(length) if length else b""
        if url.path == "/ok":
            self._send(200, json.dumps(HEALTHY_BODY).encode())
        elif url.path == "/bad-payload":
            self._send(200, json.dumps(FAILED_CALL_BODY).encode())
        elif url.path == "/error":
            self._send(500, b'{"error": "internal"}')
        elif url.path == "/no-content":
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/slow":
            time.sleep(int(query["ms"][0]) / 1000)
            self._send(200, json.dumps(HEALTHY_BODY).encode())
        elif url.path == "/drip":
            # Headers at once, then a byte every 0.1 s: each read is quick, the whole is not.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        elif url.path.startswith("/redirect/"):
            left = int(url.path.rsplit("/", 1)[1])
            if left == 0:
                self._send(200, json.dumps(HEALTHY_BODY).encode())
            else:
                self._send(302, b"", Location=f"/redirect/{left - 1}")
        elif url.path == "/big":
            self._send(200, b"a" * (200 * 1024), content_type="text/plain")
        elif url.path == "/latin1":
            self._send(200, "café".encode("latin-1"), content_type="text/plain; charset=latin-1")
        elif url.path == "/echo":
            echoed = {
                "method": self.command,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": request_body.decode(),
            }
            self._send(200, json.dumps(echoed).encode())
        else:
            self._send(404, b'{"error": "not found"}')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _route


@dataclass
class RunningServer:
    host: str
    port: int

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"


def _serve(server: ThreadingHTTPServer) -> Iterator[RunningServer]:
    server.daemon_threads = True
    server.block_on_close = False  # a handler still dripping bytes must not hold up teardown
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield RunningServer("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_server() -> Iterator[RunningServer]:
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


# --- TLS -------------------------------------------------------------------------------------


@dataclass
class Certificates:
    ca: trustme.CA
    ca_bundle: str  # path of the PEM file with the test CA, for `ca_bundle` in a probe config


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> Certificates:
    ca = trustme.CA()
    bundle = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return Certificates(ca, str(bundle))


def _server_context(certificates: Certificates, variant: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    now = datetime.now(UTC)
    if variant == "valid":
        certificates.ca.issue_cert(
            "localhost", "127.0.0.1", not_after=now + timedelta(days=30)
        ).configure_cert(context)
    elif variant == "expiring":
        certificates.ca.issue_cert(
            "localhost", "127.0.0.1", not_after=now + timedelta(days=5)
        ).configure_cert(context)
    elif variant == "expired":
        certificates.ca.issue_cert(
            "localhost",
            "127.0.0.1",
            not_before=now - timedelta(days=60),
            not_after=now - timedelta(days=2),
        ).configure_cert(context)
    elif variant == "wrong-name":
        certificates.ca.issue_cert(
            "credit-bureau.example", not_after=now + timedelta(days=30)
        ).configure_cert(context)
    elif variant == "self-signed":
        # A CA certificate is self-signed: serving it with its own key is exactly that case.
        stranger = trustme.CA()
        with stranger.cert_pem.tempfile() as cert, stranger.private_key_pem.tempfile() as key:
            context.load_cert_chain(cert, key)
    else:
        raise ValueError(variant)
    return context


@pytest.fixture
def https_server(certificates) -> Iterator:
    """Start an HTTPS server (it also serves as the tls kind's target) with a given certificate."""
    started = []

    def start(variant: str = "valid") -> RunningServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = _server_context(certificates, variant).wrap_socket(
            server.socket, server_side=True
        )
        generator = _serve(server)
        started.append(generator)
        return next(generator)

    yield start
    for generator in started:
        next(generator, None)


# --- DNS -------------------------------------------------------------------------------------


@dataclass
class DnsResponder:
    host: str
    port: int
    records: dict[str, str]  # name -> IPv4 address
    servfail: set[str]
    silent: set[str]


@pytest.fixture
def dns_responder() -> Iterator[DnsResponder]:
    """Answers A queries from `records`, NXDOMAIN for unknown names, SERVFAIL for names in
    `servfail`, and nothing at all for names in `silent`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    responder = DnsResponder(
        "127.0.0.1",
        sock.getsockname()[1],
        records={"loans.lending.test.": "10.0.0.7", "bureau.lending.test.": "10.0.0.8"},
        servfail={"broken.lending.test."},
        silent={"silent.lending.test."},
    )
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.05)
        while not stop.is_set():
            try:
                wire, client = sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text().lower()
            if name in responder.silent:
                continue
            response = dns.message.make_response(query)
            if name in responder.servfail:
                response.set_rcode(dns.rcode.SERVFAIL)
            elif name not in responder.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A:
                response.answer.append(
                    dns.rrset.from_text(name, 60, "IN", "A", responder.records[name])
                )
            sock.sendto(response.to_wire(), client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield responder
    stop.set()
    thread.join(timeout=2)
    sock.close()


# --- TCP -------------------------------------------------------------------------------------


@pytest.fixture
def tcp_listener() -> Iterator[RunningServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield RunningServer("127.0.0.1", listener.getsockname()[1])
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound then released, so the kernel answers with a reset)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def unanswered_listener() -> Iterator[RunningServer]:
    """A listener whose accept queue is full: the kernel drops new SYNs, so connecting hangs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)  # let the handshakes land in the queue
    yield RunningServer("127.0.0.1", port)
    for filler in fillers:
        filler.close()
    listener.close()
