import re

import pytest
from django.test import Client

from statuspage.subscriptions import links
from statuspage.subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def test_a_get_only_shows_a_confirmation_form(client, subscribe):
    subscriber = subscribe("a@example.com")
    response = client.get(links.unsubscribe_url(subscriber).split("example.com", 1)[-1])
    assert response.status_code == 200
    assert b'<form method="post">' in response.content
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_one_click_post_works_without_session_or_csrf_token(subscribe, settings):
    settings.SITE_URL = "https://status.example.com"
    subscriber = subscribe("a@example.com")
    path = links.unsubscribe_url(subscriber).removeprefix(settings.SITE_URL)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    # Twice is fine.
    assert strict.post(path).status_code == 200


def test_a_forged_token_does_nothing(client, subscribe):
    subscriber = subscribe("a@example.com")
    assert client.get(f"/subscriptions/unsubscribe/{subscriber.pk}:forged/").status_code == 404
    client.post(f"/subscriptions/unsubscribe/{subscriber.pk}:forged/")
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_manage_changes_components_and_language(client, subscribe, make_component, settings):
    settings.SITE_URL = "https://status.example.com"
    component = make_component("disbursement")
    subscriber = subscribe("a@example.com")
    path = links.manage_url(subscriber).removeprefix(settings.SITE_URL)
    assert client.get(path).status_code == 200
    response = client.post(path, {"language": "zh-hans", "components": [component.pk]})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.language == "zh-hans"
    assert list(subscriber.components.all()) == [component]


def test_an_old_link_dies_when_the_address_subscribes_again(client, subscribe, settings):
    settings.SITE_URL = "https://status.example.com"
    old = subscribe("a@example.com")
    path = links.unsubscribe_url(old).removeprefix(settings.SITE_URL)
    old.delete()
    subscribe("a@example.com")
    client.post(path)
    assert Subscriber.objects.count() == 1


def test_manage_shows_the_chosen_components_ticked_in_the_pages_language(
    client, subscribe, make_component, settings
):
    settings.SITE_URL = "https://status.example.com"
    repayment = make_component("repayment", name="Repayment", name_alt="还款")
    make_component("disbursement", name="Disbursement", name_alt="放款")
    subscriber = subscribe("a@example.com", components=[repayment])
    path = links.manage_url(subscriber).removeprefix(settings.SITE_URL)
    html = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "还款" in html and "放款" in html and "Repayment" not in html
    ticked = re.findall(r'<input type="checkbox"[^>]*checked[^>]*>', html)
    assert len(ticked) == 1 and f'value="{repayment.pk}"' in ticked[0]
