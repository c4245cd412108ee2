"""How each platform wants a message: URL, headers and body, with its documented signature.

- DingTalk custom robot: `timestamp` (ms) and `sign` query parameters, where sign is
  urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))); body
  `{"msgtype": "markdown", "markdown": {"title", "text"}}`; success is `errcode` 0.
- WeCom group robot: the key is in the URL; body `{"msgtype": "markdown", "markdown":
  {"content"}}` (at most 4096 bytes); success is `errcode` 0.
- Feishu / Lark custom bot: `timestamp` (s) and `sign` in the body, where sign is
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")); body `{"msg_type": "text",
  "content": {"text"}}`; success is `code` (or the older `StatusCode`) 0.
- Slack-compatible incoming webhook: `{"text": ...}` in mrkdwn; success is a 2xx.
- Signed webhook: JSON signed like the subscribers' webhooks (`X-Statuspage-Timestamp`,
  `X-Statuspage-Signature: sha256=HMAC-SHA256(secret, f"{timestamp}." + body)`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus

from statuspage.subscriptions.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

WECOM_MAX_BYTES = 4096


@dataclass(frozen=True)
class Message:
    event: str
    title: str
    body: str
    link: str
    language: str
    is_test: bool = False


@dataclass(frozen=True)
class Request:
    url: str
    headers: dict
    body: bytes


def as_json(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def markdown(message: Message) -> str:
    link = "控制台" if message.language.startswith("zh") else "Open the console"
    return f"### {message.title}\n\n{message.body}\n\n[{link}]({message.link})"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp: int) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def clip_bytes(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "…"


def build(kind: str, url: str, secret: str, message: Message, now: datetime) -> Request:
    json_headers = {"Content-Type": "application/json; charset=utf-8"}
    if kind == "dingtalk":
        if secret:
            timestamp_ms = int(now.timestamp() * 1000)
            joiner = "&" if "?" in url else "?"
            url = (
                f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"
            )
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": markdown(message)},
        }
        return Request(url, json_headers, as_json(body))
    if kind == "wecom":
        content = clip_bytes(markdown(message), WECOM_MAX_BYTES)
        return Request(
            url, json_headers, as_json({"msgtype": "markdown", "markdown": {"content": content}})
        )
    if kind == "feishu":
        body: dict = {
            "msg_type": "text",
            "content": {"text": f"{message.title}\n\n{message.body}\n\n{message.link}"},
        }
        if secret:
            timestamp = int(now.timestamp())
            body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
        return Request(url, json_headers, as_json(body))
    if kind == "slack":
        text = f"*{message.title}*\n{message.body}\n<{message.link}|{message.link}>"
        return Request(url, json_headers, as_json({"text": text}))
    if kind == "webhook":
        body = as_json(
            {
                "event": message.event,
                "title": message.title,
                "body": message.body,
                "url": message.link,
                "language": message.language,
                "test": message.is_test,
                "sent_at": now.isoformat(),
            }
        )
        timestamp = int(now.timestamp())
        headers = {**json_headers, TIMESTAMP_HEADER: str(timestamp)}
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        return Request(url, headers, body)
    raise ValueError(f"no HTTP platform {kind!r}")


def platform_error(kind: str, status: int, text: str) -> str:
    """Why a 2xx answer still means failure (the chat platforms answer 200 with an error
    code in the body); empty when it succeeded."""
    if kind not in ("dingtalk", "wecom", "feishu"):
        return ""
    try:
        answer = json.loads(text)
    except ValueError:
        return f"HTTP {status} with a body that is not JSON"
    if not isinstance(answer, dict):
        return f"HTTP {status} with an unexpected body"
    if kind == "feishu":
        code = answer.get("code", answer.get("StatusCode", 0))
        message = answer.get("msg") or answer.get("StatusMessage") or ""
    else:
        code, message = answer.get("errcode", 0), answer.get("errmsg", "")
    return "" if code == 0 else f"{kind} refused it: {code} {message}"[:300]
