"""The language comes from Accept-Language, and a visible button switches it for good."""

import pytest
from django.test import Client

from tests.public.pages import platform


@pytest.fixture
def lending(db):
    return platform()


def test_it_follows_accept_language(lending):
    assert (
        '<html lang="zh-hans">'
        in Client().get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    )
    assert (
        '<html lang="en">' in Client().get("/", HTTP_ACCEPT_LANGUAGE="fr,en;q=0.5").content.decode()
    )


def test_it_offers_a_button_to_the_other_language(lending):
    html = Client().get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<form class="language" method="post" action="/language">' in html
    assert 'name="language" value="zh-hans" lang="zh-hans"' in html
    assert "简体中文" in html
    zh = Client().get("/history", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'name="language" value="en" lang="en"' in zh
    assert 'name="next" value="/history"' in zh


def test_the_choice_is_remembered_over_accept_language(lending):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/language", {"language": "zh-hans", "next": "/history"})
    assert response.status_code == 302
    assert response["Location"] == "/history"
    assert response.cookies["django_language"].value == "zh-hans"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in html and "所有系统运行正常" in html
    client.post("/language", {"language": "en", "next": "/"})
    assert "All Systems Operational" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh").content.decode()


def test_it_never_redirects_off_site(lending):
    response = Client().post("/language", {"language": "en", "next": "https://evil.example.com/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_rejects_get(lending):
    assert Client().get("/language").status_code == 405
