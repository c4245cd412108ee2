import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statuspage.models import SubscriptionRequest
from statuspage.subscriptions.models import Subscriber
from statuspage.subscriptions.tasks import sweep_outbox
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def post(client, email, **extra):
    data = {"email": email, "language": "en", **extra}
    return client.post("/subscriptions/", data, REMOTE_ADDR=extra.pop("ip", "10.0.0.1"))


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https://status\.example\.com(/subscriptions/{path}/[^\s]+/)", text)[1]


def test_it_shows_the_form(client, make_component):
    make_component("loan-application", name="Loan application")
    response = client.get("/subscriptions/")
    assert response.status_code == 200
    assert b"Loan application" in response.content
    assert b'name="website"' in response.content


def test_the_whole_double_opt_in_flow(client, smtp, make_component):
    component = make_component("repayment")
    response = client.post(
        "/subscriptions/",
        {"email": "Borrower@Example.com", "language": "zh-hans", "components": [component.pk]},
    )
    assert response.status_code == 200
    run_pipeline()
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "Borrower@example.com"
    assert subscriber.confirmed_at is None
    assert list(subscriber.components.all()) == [component]

    [confirmation] = smtp.handler.messages
    assert confirmation["To"] == "Borrower@example.com"
    confirm_path = link_in(confirmation, "confirm")

    # A GET (a mail scanner) confirms nothing.
    assert client.get(confirm_path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None

    assert client.post(confirm_path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None


def test_the_confirmation_link_expires_after_24_hours(client, smtp, time_machine):
    time_machine.move_to("2026-11-29 02:00Z", tick=False)
    post(client, "late@example.com")
    run_pipeline()
    path = link_in(smtp.handler.messages[0], "confirm")
    time_machine.move_to("2026-11-30 02:00:01Z", tick=False)
    assert client.post(path).status_code == 404
    assert Subscriber.objects.get().confirmed_at is None


def test_it_gives_the_same_answer_for_new_pending_and_subscribed(client, smtp, subscribe):
    subscribe("subscribed@example.com")
    post(client, "pending@example.com")
    answers = [
        post(client, address, ip=f"10.0.1.{i}")
        for i, address in enumerate(
            ["new@example.com", "pending@example.com", "subscribed@example.com"]
        )
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    run_pipeline()
    # The subscribed address is told it already is, and gets no confirmation link.
    [existing] = smtp.handler.to("subscribed@example.com")
    assert "/subscriptions/confirm/" not in existing.get_body(("plain",)).get_content()
    # The pending one already has a working link: no second email.
    assert len(smtp.handler.to("pending@example.com")) == 1


def test_plus_tags_reach_the_same_subscription(client, smtp):
    post(client, "Ming+status@gmail.com")
    post(client, "ming@gmail.com")
    run_pipeline()
    assert Subscriber.objects.count() == 1


def test_it_rejects_an_invalid_address_clearly(client):
    response = post(client, "not-an-address")
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    run_pipeline()
    assert not Subscriber.objects.exists()


def test_the_honeypot_answers_like_a_success_and_does_nothing(client):
    response = post(client, "bot@example.com", website="http://spam.example")
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    run_pipeline()
    assert not Subscriber.objects.exists()


def test_it_limits_attempts_per_address(client, settings):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = 2
    codes = [post(client, "Same+x@gmail.com", ip=f"10.0.2.{i}").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_it_limits_attempts_per_client_ip(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP = 3
    codes = [post(client, f"p{i}@example.com", ip="10.9.9.9").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert post(client, "other@example.com", ip="10.9.9.10").status_code == 200


def test_new_pending_and_subscribed_addresses_take_the_same_path(client, subscribe):
    subscribe("subscribed@example.com")
    subscribe("pending@example.com", confirmed_at=None)
    counts = []
    for i, address in enumerate(
        ["new@example.com", "pending@example.com", "subscribed@example.com"]
    ):
        with CaptureQueriesContext(connection) as queries:
            post(client, address, ip=f"10.0.3.{i}")
        counts.append([q["sql"].split()[0] for q in queries])
    assert counts[0] == counts[1] == counts[2], "the same statements, whatever the address"
    assert SubscriptionRequest.objects.count() == 3


def test_invalid_forms_do_not_use_up_the_clients_quota(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP = 2
    for _ in range(5):
        assert post(client, "typo@", ip="10.7.7.7").status_code == 400
    codes = [post(client, f"ok{i}@example.com", ip="10.7.7.7").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_no_second_confirmation_while_the_first_link_works(client, smtp, time_machine, settings):
    # Within the per-address limit, which is not what this is about.
    settings.SUBSCRIBE_RATE_PER_ADDRESS = 10
    time_machine.move_to("2026-11-29 02:00Z", tick=False)
    post(client, "victim@example.com", ip="10.0.4.1")
    run_pipeline()
    first_link = link_in(smtp.handler.messages[0], "confirm")
    for i in range(2, 5):
        time_machine.move_to(f"2026-11-29 0{i}:00Z", tick=False)
        assert post(client, "victim@example.com", ip=f"10.0.4.{i}").status_code == 200
        run_pipeline()
    assert len(smtp.handler.to("victim@example.com")) == 1
    # The link already sent still works: its nonce did not change.
    assert client.post(first_link).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None


def test_a_new_confirmation_once_the_first_link_has_expired(client, smtp, time_machine):
    time_machine.move_to("2026-11-29 02:00Z", tick=False)
    post(client, "slow@example.com")
    run_pipeline()
    time_machine.move_to("2026-11-30 02:00:01Z", tick=False)
    post(client, "slow@example.com")
    run_pipeline()
    assert len(smtp.handler.to("slow@example.com")) == 2


def test_the_per_address_limit_still_holds_for_subscribed_addresses(client, settings, subscribe):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = 3
    subscribe("known@example.com")
    codes = [post(client, "known@example.com", ip=f"10.0.5.{i}").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_requests_left_by_a_lost_task_are_handled_by_the_sweeper(client, smtp):
    post(client, "later@example.com")
    assert SubscriptionRequest.objects.count() == 1
    sweep_outbox()  # no broker involved: it runs here
    assert Subscriber.objects.filter(email="later@example.com").exists()
    assert not SubscriptionRequest.objects.exists()


def test_it_names_components_and_groups_in_the_pages_language(client, make_component):
    from statuspage.models import ComponentGroup

    lending = ComponentGroup.objects.create(name="Lending", name_alt="借贷系统", slug="lending")
    make_component("loan-application", name="Loan application", name_alt="借款申请", group=lending)
    make_component("dns", name="DNS")  # no Chinese name: the English one stands
    html = client.get("/subscriptions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "借款申请" in html and "借贷系统" in html and "DNS" in html
    assert "Loan application" not in html and ">Lending<" not in html
    # The emails' language starts as the page's.
    assert '<option value="zh-hans" selected>简体中文</option>' in html
    html = client.get("/subscriptions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Loan application" in html and "借款申请" not in html
    assert '<option value="en" selected>English</option>' in html


def test_each_checkbox_sits_inside_its_own_label(client, make_component):
    component = make_component("repayment", name="Repayment")
    html = client.get("/subscriptions/").content.decode()
    label = re.search(r'<label class="choice" for="([^"]+)">(.*?)</label>', html, re.S)
    assert f'value="{component.pk}"' in label[2] and f'id="{label[1]}"' in label[2]
    assert "Repayment" in label[2]


def test_the_footer_names_the_time_zone_with_its_offset(client, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    html = client.get("/subscriptions/").content.decode()
    assert "Times are shown in Asia/Shanghai (UTC+08:00)." in html
    html = client.get("/subscriptions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Asia/Shanghai (UTC+08:00)" in html
