"""A real SMTP server (aiosmtpd) and a real HTTP receiver on port 0, and helpers to drive the
notification pipeline without a broker (the worker test uses a real one)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
import ipaddress
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.smtp import SMTP
from django.db import connection
from django.utils import timezone

from statuspage.subscriptions import outbox, sending, signup
from statuspage.subscriptions.models import Subscriber


class Recorder:
    """aiosmtpd handler: records each accepted message; `rcpt_answer(address)` may return an
    SMTP reply (e.g. "451 try later") to refuse a recipient."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.rcpt_answer = lambda address: None
        self.on_data = lambda: None
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.rcpt_answer(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        self.on_data()
        return "250 Message accepted"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    """aiosmtpd in a thread, on a port chosen by the OS; can be stopped and started again on
    the same port (a mail server that goes away for a while)."""

    def __init__(self):
        self.handler = Recorder()
        self.port = 0
        self.loop = None
        self.thread = None
        self.server = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                self.loop.create_server(lambda: SMTP(self.handler), sock=sock)
            )
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)

    def stop(self) -> None:
        async def shutdown():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://status.example.com"
    yield server
    try:
        server.stop()
    except Exception:
        pass


class Receiver:
    """A local HTTP endpoint for webhooks: records requests; `answers` is a list of status
    codes to give in turn (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, index: int) -> dict:
        return json.loads(self.requests[index]["body"])


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback over plain http, which webhooks may not reach unless
    # the operator allows it: allow exactly that, as an operator would.
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def enqueued_fan_outs() -> list[int]:
    """The event ids whose fan-out the changes made so far enqueued on commit: the test's
    transaction never commits, so they are still waiting among its on-commit callbacks."""
    from statuspage.enqueue import enqueue
    from statuspage.subscriptions.tasks import fan_out_event

    return [
        callback.args[1]
        for _, callback, _ in connection.run_on_commit
        if isinstance(callback, functools.partial)
        and callback.func is enqueue
        and callback.args[0] is fan_out_event
    ]


def run_pipeline(now=None) -> dict:
    """What the worker does after a commit: start the queued subscriptions, run the fan-outs
    the changes enqueued (only those: an event nobody enqueued waits for the sweep), then send
    what is due."""
    now = now or timezone.now()
    signup.process_requests(now)
    for event_id in enqueued_fan_outs():
        outbox.fan_out_events(event_id, now)
    totals = {}
    for channel in ("email", "webhook"):
        for key, value in sending.deliver_due(channel, now=now).items():
            totals[key] = totals.get(key, 0) + value
    return totals


@pytest.fixture
def subscribe(db):
    def make(address: str, *, language="en", components=(), kind="email", **fields):
        subscriber = Subscriber.objects.create(
            kind=kind,
            email=address if kind == "email" else "",
            address_key=address.lower() if kind == "email" else "",
            url=address if kind == "webhook" else "",
            language=language,
            confirmed_at=fields.pop("confirmed_at", timezone.now()),
            **fields,
        )
        subscriber.components.set(components)
        return subscriber

    return make
