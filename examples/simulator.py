"""The lending-platform simulator: the endpoints `examples/lending-platform.yaml` probes.

    python -m examples.simulator [--host 127.0.0.1] [--port 8100] [--tls-port 8443]
    python -m examples.simulator set credit-bureau-pboc bad_payload
    python -m examples.simulator set loan-application slow:1500
    python -m examples.simulator set all ok
    python -m examples.simulator status

Every simulated component listens on its own port, so that `down` really refuses connections
(the listening socket is closed, and reopened on the same port when the mode changes back):

    port + 0   the control endpoint: GET /_control, POST /_control/<component> {"mode": ...}
    port + N   each HTTP component (see SERVICES), serving /<slug>/health and its business path
    port + 10  dns: a DNS responder on UDP (A records for *.lending.test)
    tls-port   gateway-tls: HTTPS with a self-signed certificate generated at start

With `--port 0` (the tests) every listener gets an ephemeral port instead; `GET /_control` lists
them. SIMULATOR_PORT and SIMULATOR_TLS_PORT in the environment set the defaults of `--port`
and `--tls-port` (for a second `make run` on one machine, or the supervisor's test).

Modes, for each component:

    ok              200 {"code": "0000", "data": {"state": "ok", ...}}
    slow[:ms]       the same after a delay (default 1500 ms)
    error[:status]  HTTP 500 (or the given 5xx)
    maintenance[:s] 503 with Retry-After (default 600 s)
    bad_payload     200 whose body says the call failed: {"code": "E503", ...}
    timeout         accepts the connection and never answers, until the client gives up
    down            refuses connections (the component's listening socket is closed)

For dns: error = SERVFAIL, maintenance = REFUSED, bad_payload = NXDOMAIN, timeout = no answer,
down = the UDP socket is closed (a UDP client sees that as a timeout, or as refused when the
kernel's ICMP "port unreachable" reaches a connected socket).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import select
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODES = ("ok", "slow", "error", "maintenance", "bad_payload", "timeout", "down")
DEFAULT_SLOW_MS = 1500
DEFAULT_RETRY_AFTER = 600
# A request in `timeout` mode is held at most this long, so that a client that never hangs up
# does not pin a thread forever.
TIMEOUT_HOLD_SECONDS = 300
DNS_DOMAIN = "lending.test."
TLS_SERVER_NAME = "gateway.lending.test"


@dataclass(frozen=True)
class Service:
    slug: str
    offset: int  # port = base port + offset (ignored for the TLS service, which uses tls-port)
    business_path: str  # the endpoint that does the component's real work
    business_data: tuple[tuple[str, str], ...] = ()
    transport: str = "http"  # http | https | dns


SERVICES: tuple[Service, ...] = (
    Service("api-gateway", 1, "/api-gateway/v1/ping", (("gateway", "gw-sh-01"),)),
    Service("loan-application", 2, "/loan-application/quote", (("quote_id", "Q-20261129-0001"),)),
    Service("credit-limit-engine", 3, "/credit-limit-engine/limit", (("limit", "50000.00"),)),
    Service("disbursement", 4, "/disbursement/transfer", (("channel", "bank-direct"),)),
    Service("repayment", 5, "/repayment/schedule", (("next_due", "2026-12-10"),)),
    Service("credit-bureau-pboc", 6, "/credit-bureau-pboc/query", (("bureau", "pboc"),)),
    Service("credit-bureau-baihang", 7, "/credit-bureau-baihang/query", (("bureau", "baihang"),)),
    Service("inter-dc-link", 8, "/inter-dc-link/echo", (("peer", "dc-beijing"),)),
    Service("dns", 10, "", transport="dns"),
    Service("gateway-tls", 0, "/gateway-tls/health", transport="https"),
)
SERVICE_BY_SLUG = {service.slug: service for service in SERVICES}


class ModeError(ValueError):
    pass


@dataclass(frozen=True)
class Mode:
    name: str
    parameter: int | None = None

    def __str__(self) -> str:
        return self.name if self.parameter is None else f"{self.name}:{self.parameter}"


def parse_mode(text: str) -> Mode:
    """`slow:1500` -> Mode("slow", 1500); raise ModeError for anything unknown."""
    name, _, raw = str(text).strip().partition(":")
    if name not in MODES:
        raise ModeError(f"unknown mode {name!r}; use one of {', '.join(MODES)}")
    if not raw:
        return Mode(name)
    if name not in {"slow", "error", "maintenance"}:
        raise ModeError(f"mode {name!r} takes no parameter")
    try:
        parameter = int(raw)
    except ValueError:
        raise ModeError(f"{name}: {raw!r} is not a whole number") from None
    if name == "error" and not 500 <= parameter <= 599:
        raise ModeError(f"error: {parameter} is not a 5xx status")
    if parameter < 0:
        raise ModeError(f"{name}: {parameter} is negative")
    return Mode(name, parameter)


# --- HTTP components ---------------------------------------------------------------------------


class ComponentHandler(BaseHTTPRequestHandler):
    server: ComponentServer
    protocol_version = "HTTP/1.0"  # one request per connection: a mode change applies at once

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.answer()

    def do_HEAD(self) -> None:
        self.answer()

    def answer(self) -> None:
        service = self.server.service
        path = self.path.split("?", 1)[0]
        if path not in {f"/{service.slug}/health", service.business_path}:
            paths = [f"/{service.slug}/health", service.business_path]
            return self.send_json(404, {"code": "E404", "message": f"try {' or '.join(paths)}"})
        mode = self.server.simulator.mode_of(service.slug)
        if mode.name == "timeout":
            return self.hold_until_client_gives_up()
        if mode.name == "slow":
            time.sleep((mode.parameter if mode.parameter is not None else DEFAULT_SLOW_MS) / 1000)
        if mode.name == "error":
            status = mode.parameter or 500
            message = "bad gateway" if status == 502 else "internal error"
            return self.send_json(status, {"code": f"E{status}", "message": message})
        if mode.name == "maintenance":
            retry_after = mode.parameter if mode.parameter is not None else DEFAULT_RETRY_AFTER
            body = {"code": "M503", "message": "system maintenance in progress"}
            return self.send_json(503, body, {"Retry-After": str(retry_after)})
        if mode.name == "bad_payload":
            body = {"code": "E503", "message": "credit bureau call failed", "data": None}
            return self.send_json(200, body)
        data = {"state": "ok", "component": service.slug, **dict(service.business_data)}
        self.send_json(200, {"code": "0000", "message": "success", "data": data})

    def send_json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def hold_until_client_gives_up(self) -> None:
        # Wait, without answering, until the client closes its end (a read returns EOF) or the
        # simulator stops; each request has its own thread, so others are not held up.
        connection = self.connection
        deadline = time.monotonic() + TIMEOUT_HOLD_SECONDS
        while time.monotonic() < deadline and not self.server.simulator.stopping.is_set():
            readable, _, _ = select.select([connection], [], [], 0.2)
            if readable:
                try:
                    if not connection.recv(1024):
                        break
                except OSError:
                    break
        self.close_connection = True

    def log_message(self, format: str, *args) -> None:
        if self.server.simulator.verbose:
            super().log_message(format, *args)


class ComponentServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Requests in `timeout` mode may still be held when the listener closes: do not wait.
    block_on_close = False

    def __init__(self, address, simulator: Simulator, service: Service, tls=None):
        self.simulator = simulator
        self.service = service
        self.tls = tls
        super().__init__(address, ComponentHandler)

    def finish_request(self, request, client_address) -> None:
        # The TLS handshake happens here, in the request's own thread, so that a client that
        # connects and says nothing (a TCP probe) cannot stall the accept loop.
        if self.tls is not None:
            request.settimeout(10)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            request.settimeout(None)
        super().finish_request(request, client_address)


# --- DNS ---------------------------------------------------------------------------------------


class DnsResponder:
    """A UDP DNS responder answering A 127.0.0.1 for every name under lending.test."""

    def __init__(self, simulator: Simulator, address: tuple[str, int]):
        self.simulator = simulator
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(address)
        self.sock.settimeout(0.1)
        self.server_address = self.sock.getsockname()
        self.closed = threading.Event()

    def serve_forever(self) -> None:
        while not self.closed.is_set():
            try:
                packet, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self.answer, args=(packet, client), daemon=True).start()

    def answer(self, packet: bytes, client) -> None:
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset

        try:
            query = dns.message.from_wire(packet)
        except Exception:
            return
        mode = self.simulator.mode_of("dns")
        if mode.name == "timeout":
            return
        if mode.name == "slow":
            time.sleep((mode.parameter if mode.parameter is not None else DEFAULT_SLOW_MS) / 1000)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0] if query.question else None
        in_zone = question is not None and (
            question.name.to_text().lower().endswith(DNS_DOMAIN) or question.name.to_text() == "."
        )
        if mode.name == "error":
            response.set_rcode(dns.rcode.SERVFAIL)
        elif mode.name == "maintenance":
            response.set_rcode(dns.rcode.REFUSED)
        elif mode.name == "bad_payload" or not in_zone:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(
                dns.rrset.from_text(question.name, 30, dns.rdataclass.IN, "A", "127.0.0.1")
            )
        try:
            self.sock.sendto(response.to_wire(), client)
        except OSError:
            pass

    def shutdown(self) -> None:
        self.closed.set()

    def server_close(self) -> None:
        self.sock.close()


# --- TLS certificate ---------------------------------------------------------------------------


def make_self_signed_certificate(directory: Path, days: int) -> tuple[Path, Path]:
    """Write a fresh self-signed certificate for gateway.lending.test, localhost and 127.0.0.1,
    valid for `days` days; return (certificate, key) paths. EC keys: generated in milliseconds."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_SERVER_NAME)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(TLS_SERVER_NAME),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "gateway.crt", directory / "gateway.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# --- control -----------------------------------------------------------------------------------


class ControlHandler(BaseHTTPRequestHandler):
    server: ControlServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        if self.path.rstrip("/") in {"", "/_control"}:
            return self.send_json(200, self.server.simulator.describe())
        self.send_json(404, {"error": "GET /_control lists the components and their modes"})

    def do_POST(self) -> None:
        prefix = "/_control/"
        if not self.path.startswith(prefix):
            return self.send_json(404, {"error": 'POST /_control/<component> {"mode": ...}'})
        slug = self.path[len(prefix) :].strip("/")
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            mode = body["mode"]
        except (ValueError, KeyError, TypeError):
            return self.send_json(400, {"error": 'send JSON like {"mode": "error"}'})
        simulator = self.server.simulator
        if slug != "all" and slug not in SERVICE_BY_SLUG:
            return self.send_json(404, {"error": f"unknown component {slug!r}"})
        try:
            slugs = list(SERVICE_BY_SLUG) if slug == "all" else [slug]
            for each in slugs:
                simulator.set_mode(each, mode)
        except ModeError as error:
            return self.send_json(400, {"error": str(error)})
        self.send_json(200, simulator.describe())

    def send_json(self, status: int, body: dict) -> None:
        payload = json.dumps(body, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:
        if self.server.simulator.verbose:
            super().log_message(format, *args)


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, simulator: Simulator):
        self.simulator = simulator
        super().__init__(address, ControlHandler)


# --- the simulator -----------------------------------------------------------------------------


class Simulator:
    """All listeners of the simulated platform, their modes, and the control endpoint.

    `port=0` gives every listener an ephemeral port (for tests); otherwise component N listens on
    port + its offset and gateway-tls on `tls_port`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8100,
        tls_port: int = 8443,
        cert_days: int = 90,
        verbose: bool = False,
    ):
        self.host = host
        self.base_port = port
        self.tls_port = tls_port
        self.cert_days = cert_days
        self.verbose = verbose
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.modes: dict[str, Mode] = {slug: Mode("ok") for slug in SERVICE_BY_SLUG}
        self.ports: dict[str, int] = {}
        self.listeners: dict[str, ComponentServer | DnsResponder] = {}
        self.control: ControlServer | None = None
        self.tls_context: ssl.SSLContext | None = None
        self.tempdir: tempfile.TemporaryDirectory | None = None

    # the requested port of each listener (0: any); after the first bind, the port it got
    def wanted_port(self, service: Service) -> int:
        if service.slug in self.ports:
            return self.ports[service.slug]
        if service.transport == "https":
            return self.tls_port
        return 0 if self.base_port == 0 else self.base_port + service.offset

    def start(self) -> Simulator:
        self.tempdir = tempfile.TemporaryDirectory(prefix="simulator-")
        cert, key = make_self_signed_certificate(Path(self.tempdir.name), self.cert_days)
        self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls_context.load_cert_chain(cert, key)
        self.certificate_path = cert
        try:
            for service in SERVICES:
                self.open_listener(service)
            try:
                self.control = ControlServer((self.host, self.base_port), self)
            except OSError as error:
                message = f"control on port {self.base_port}: {error.strerror}"
                raise OSError(error.errno, message) from None
            self.run_in_thread(self.control)
        except OSError:
            self.stop()
            raise
        return self

    def open_listener(self, service: Service) -> None:
        address = (self.host, self.wanted_port(service))
        try:
            if service.transport == "dns":
                listener = DnsResponder(self, address)
            else:
                tls = self.tls_context if service.transport == "https" else None
                listener = ComponentServer(address, self, service, tls)
        except OSError as error:
            message = f"{service.slug} on port {address[1]}: {error.strerror}"
            raise OSError(error.errno, message) from None
        self.ports[service.slug] = listener.server_address[1]
        self.listeners[service.slug] = listener
        self.run_in_thread(listener)

    def close_listener(self, slug: str) -> None:
        listener = self.listeners.pop(slug, None)
        if listener is not None:
            listener.shutdown()
            listener.server_close()

    @staticmethod
    def run_in_thread(server) -> None:
        kwargs = {} if isinstance(server, DnsResponder) else {"poll_interval": 0.05}
        thread = threading.Thread(target=server.serve_forever, kwargs=kwargs, daemon=True)
        thread.start()

    def stop(self) -> None:
        self.stopping.set()
        # Each listener takes up to a poll interval to notice; close them side by side.
        closers = [
            threading.Thread(target=self.close_listener, args=(slug,))
            for slug in list(self.listeners)
        ]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join()
        if self.control is not None:
            self.control.shutdown()
            self.control.server_close()
            self.control = None
        if self.tempdir is not None:
            self.tempdir.cleanup()
            self.tempdir = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def mode_of(self, slug: str) -> Mode:
        return self.modes[slug]

    def set_mode(self, slug: str, text: str) -> Mode:
        """Switch a component's mode; `down` closes its listener, leaving `down` reopens it."""
        if slug not in SERVICE_BY_SLUG:
            raise ModeError(f"unknown component {slug!r}")
        mode = parse_mode(text)
        with self.lock:
            was_down = self.modes[slug].name == "down"
            self.modes[slug] = mode
            if mode.name == "down" and not was_down:
                self.close_listener(slug)
            elif mode.name != "down" and was_down:
                self.open_listener(SERVICE_BY_SLUG[slug])
        return mode

    @property
    def control_port(self) -> int:
        assert self.control is not None, "start() the simulator first"
        return self.control.server_address[1]

    def url(self, slug: str, path: str | None = None) -> str:
        """The URL of a component's endpoint (its health endpoint by default)."""
        service = SERVICE_BY_SLUG[slug]
        scheme = "https" if service.transport == "https" else "http"
        path = path if path is not None else f"/{slug}/health"
        return f"{scheme}://{self.host}:{self.ports[slug]}{path}"

    def describe(self) -> dict:
        components = {}
        for service in SERVICES:
            entry: dict = {"mode": str(self.modes[service.slug]), "port": self.ports[service.slug]}
            if service.transport == "dns":
                entry["dns"] = f"udp://{self.host}:{self.ports[service.slug]} *.{DNS_DOMAIN}"
            else:
                business = self.url(service.slug, service.business_path)
                entry["endpoints"] = list(dict.fromkeys([self.url(service.slug), business]))
            components[service.slug] = entry
        return {"modes": list(MODES), "components": components}


# --- command line ------------------------------------------------------------------------------


def control_request(base_url: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base_url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read()).get("error", error.reason)
        except ValueError:
            reason = error.reason
        raise SystemExit(f"simulator: {reason}") from None
    except OSError as error:
        raise SystemExit(f"simulator: cannot reach {base_url}: {error}") from None


def print_status(listing: dict) -> None:
    for slug, entry in listing["components"].items():
        where = entry.get("dns") or entry["endpoints"][-1]
        print(f"{slug:24} {entry['mode']:16} {where}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    # The environment moves every listener at once (`make run` passes it on; the tests use it).
    port = os.environ.get("SIMULATOR_PORT", "8100")
    parser.add_argument(
        "--port", type=int, default=port, help="control port (SIMULATOR_PORT, 8100)"
    )
    tls_port = os.environ.get("SIMULATOR_TLS_PORT", "8443")
    parser.add_argument("--tls-port", type=int, default=tls_port, help="(SIMULATOR_TLS_PORT, 8443)")
    parser.add_argument("--cert-days", type=int, default=90, help="validity of the TLS cert")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the simulator (the default)")
    setter = commands.add_parser("set", help="switch a component (or 'all') to a mode")
    setter.add_argument("component")
    setter.add_argument("mode", help=f"one of {', '.join(MODES)}; slow:MS, error:STATUS, ...")
    commands.add_parser("status", help="list every component and its mode")
    args = parser.parse_args(argv)

    control_url = f"http://{args.host}:{args.port}"
    if args.command == "set":
        try:
            parse_mode(args.mode)
        except ModeError as error:
            raise SystemExit(f"simulator: {error}") from None
        listing = control_request(
            control_url, "POST", f"/_control/{args.component}", {"mode": args.mode}
        )
        print_status(listing)
        return 0
    if args.command == "status":
        print_status(control_request(control_url, "GET", "/_control"))
        return 0

    simulator = Simulator(args.host, args.port, args.tls_port, args.cert_days, args.verbose)
    started = time.monotonic()
    try:
        simulator.start()
    except OSError as error:
        raise SystemExit(f"simulator: cannot listen: {error.strerror}") from None
    elapsed_ms = (time.monotonic() - started) * 1000
    control_url = f"http://{args.host}:{simulator.control_port}"
    print(f"simulator ready in {elapsed_ms:.0f} ms; control: {control_url}/_control", flush=True)
    print_status(simulator.describe())
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
