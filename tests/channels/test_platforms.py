"""Each chat platform gets the message shape and signature it documents. The receivers below
check the signatures with the platforms' published algorithms, written here independently of
statuspage.channels.platforms."""

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

import pytest
from django.core import mail
from django.utils import timezone

from statuspage.channels.dispatch import on_staff_alert, send_test
from statuspage.channels.models import StaffChannel
from statuspage.subscriptions.models import Delivery
from statuspage.subscriptions.sending import deliver_due

pytestmark = pytest.mark.django_db
SECRET = "SEC0123456789abcdef-robot-secret"


def channel(kind, url, secret=SECRET, language="en", **fields):
    return StaffChannel.objects.create(
        name=f"{kind} on call", kind=kind, url=url, secret=secret, language=language, **fields
    )


def send_all() -> Delivery:
    deliver_due(Delivery.Channel.CHAT)
    return Delivery.objects.get(channel=Delivery.Channel.CHAT)


def alert_network_problem():
    on_staff_alert(
        "network_problem",
        "Network problem at vantage point shanghai: bureau/query",
        "bureau/query fails from shanghai only.",
        "探测点 shanghai 网络问题：bureau/query",
        "bureau/query 仅在 shanghai 失败。",
        "/console/probes/7/",
    )


# --- DingTalk: sign = urlencode(base64(HmacSHA256(secret, timestamp + "\n" + secret))) ------


def dingtalk_judge(secret):
    def judge(request):
        timestamp, given = request["query"].get("timestamp"), request["query"].get("sign")
        if not timestamp or abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
            return 200, {"errcode": 310000, "errmsg": "timestamp expired"}
        string_to_sign = f"{timestamp}\n{secret}".encode()
        expected = base64.b64encode(
            hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
        ).decode()
        if given != expected:  # parse_qs already undid the URL encoding
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return judge


def test_dingtalk_gets_a_signed_markdown_message(receiver):
    receiver.judge = dingtalk_judge(SECRET)
    channel("dingtalk", receiver.url("/robot/send?access_token=abc"), language="zh-hans")
    alert_network_problem()
    delivery = send_all()
    assert delivery.status == "sent", delivery.last_error
    (request,) = receiver.requests
    assert request["query"]["access_token"] == "abc"
    document = request["json"]
    assert document["msgtype"] == "markdown"
    assert document["markdown"]["title"] == "探测点 shanghai 网络问题：bureau/query"
    assert "仅在 shanghai 失败" in document["markdown"]["text"]
    assert "http://127.0.0.1:8000/console/probes/7/" in document["markdown"]["text"]


def test_dingtalk_refusing_the_signature_fails_the_delivery(receiver):
    receiver.judge = dingtalk_judge("another secret")
    channel("dingtalk", receiver.url("/robot/send?access_token=abc"))
    alert_network_problem()
    delivery = send_all()
    assert delivery.status == "failed"
    assert "310000" in delivery.last_error


def test_the_dingtalk_sign_is_url_encoded():
    from statuspage.channels.platforms import dingtalk_sign

    # A known value, computed with the documented algorithm.
    digest = hmac.new(b"s", b"1700000000000\ns", hashlib.sha256).digest()
    assert dingtalk_sign("s", 1700000000000) == quote_plus(base64.b64encode(digest))


# --- Feishu / Lark: sign = base64(HmacSHA256(key=timestamp + "\n" + secret, msg="")) --------


def test_feishu_gets_a_signed_text_message(receiver):
    def judge(request):
        document = request["json"]
        timestamp = document.get("timestamp", "")
        key = f"{timestamp}\n{SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, digestmod=hashlib.sha256).digest()).decode()
        if document.get("sign") != expected or abs(time.time() - int(timestamp)) > 3600:
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour",
            }
        return 200, {"code": 0, "msg": "success", "data": {}}

    receiver.judge = judge
    channel("feishu", receiver.url("/open-apis/bot/v2/hook/xyz"))
    alert_network_problem()
    delivery = send_all()
    assert delivery.status == "sent", delivery.last_error
    document = receiver.requests[0]["json"]
    assert document["msg_type"] == "text"
    assert document["content"]["text"].startswith("Network problem at vantage point shanghai")


def test_feishu_refusing_the_signature_fails_the_delivery(receiver):
    receiver.judge = lambda request: (200, {"code": 19021, "msg": "sign match fail"})
    channel("feishu", receiver.url("/open-apis/bot/v2/hook/xyz"))
    alert_network_problem()
    assert "19021" in send_all().last_error


# --- WeCom: the key is in the URL; markdown content ----------------------------------------


def test_wecom_gets_a_markdown_message(receiver):
    receiver.judge = lambda request: (
        (200, {"errcode": 0, "errmsg": "ok"})
        if request["query"].get("key") == "k-123"
        else (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    )
    channel("wecom", receiver.url("/cgi-bin/webhook/send?key=k-123"), secret="", language="zh-hans")
    alert_network_problem()
    delivery = send_all()
    assert delivery.status == "sent", delivery.last_error
    document = receiver.requests[0]["json"]
    assert document["msgtype"] == "markdown"
    content = document["markdown"]["content"]
    assert content.startswith("### 探测点 shanghai 网络问题") and "[控制台](" in content
    assert len(content.encode()) <= 4096


# --- Slack-compatible and the generic signed webhook --------------------------------------------


def test_slack_gets_text_with_a_link(receiver):
    receiver.judge = lambda request: (200, b"ok")
    channel("slack", receiver.url("/services/T000/B000/XXX"), secret="")
    alert_network_problem()
    assert send_all().status == "sent"
    text = receiver.requests[0]["json"]["text"]
    assert text.startswith("*Network problem at vantage point shanghai")
    assert "<http://127.0.0.1:8000/console/probes/7/|" in text


def test_the_signed_webhook_verifies_with_hmac_sha256_of_timestamp_dot_body(receiver):
    def judge(request):
        timestamp = request["headers"]["X-Statuspage-Timestamp"]
        expected = (
            "sha256="
            + hmac.new(
                SECRET.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256
            ).hexdigest()
        )
        given = request["headers"].get("X-Statuspage-Signature", "")
        return (204, b"") if hmac.compare_digest(given, expected) else (401, {"error": "bad sign"})

    receiver.judge = judge
    channel("webhook", receiver.url("/ops/hook"))
    alert_network_problem()
    delivery = send_all()
    assert delivery.status == "sent", delivery.last_error
    document = receiver.requests[0]["json"]
    assert document["event"] == "network_problem" and document["test"] is False
    assert document["url"] == "http://127.0.0.1:8000/console/probes/7/"


def test_a_server_error_is_retried_later(receiver):
    receiver.judge = lambda request: (503, {"error": "busy"})
    channel("slack", receiver.url())
    alert_network_problem()
    delivery = send_all()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()


# --- email, events, tests -------------------------------------------------------------------


def test_email_is_sent_in_the_channels_language(db):
    channel("email", "oncall@example.com", secret="", language="zh-hans")
    alert_network_problem()
    assert send_all().status == "sent"
    (message,) = mail.outbox
    assert message.subject == "探测点 shanghai 网络问题：bureau/query"
    assert message.to == ["oncall@example.com"]


def test_a_channel_only_gets_the_events_it_picked(receiver):
    channel("slack", receiver.url(), events=["monitoring_stalled"])
    alert_network_problem()
    assert not Delivery.objects.filter(channel="chat").exists()


def test_send_a_test_goes_through_the_outbox(receiver):
    receiver.judge = lambda request: (200, b"ok")
    slack = channel("slack", receiver.url(), events=[])
    send_test(slack, timezone.now())
    assert send_all().status == "sent"
    assert "Test message" in receiver.requests[0]["json"]["text"]
