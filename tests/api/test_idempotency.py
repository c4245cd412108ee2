"""Idempotency-Key on the token API's writes."""

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from statuspage.api.idempotency import forget_expired
from statuspage.api.tokens import issue_token
from statuspage.models import IdempotencyKey, Incident, IncidentUpdate
from statuspage.roles import RESPONDER, set_role
from tests.api.conftest import ApiClient, field_errors

INCIDENT = {"name": "Loans are slow", "body": "We are looking into it."}


def post(api: ApiClient, path: str, body: dict, key: str | None):
    headers = api.headers() | ({"Idempotency-Key": key} if key is not None else {})
    return api.client.post(
        "/api/v1" + path, json.dumps(body), content_type="application/json", headers=headers
    )


def test_a_retry_with_the_same_key_answers_as_the_first_time_and_creates_nothing(api):
    first = post(api, "/incidents", INCIDENT, "deploy-4711")
    again = post(api, "/incidents", INCIDENT, "deploy-4711")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Incident.objects.count() == 1


def test_without_a_key_each_request_is_a_new_write(api):
    post(api, "/incidents", INCIDENT, None)
    post(api, "/incidents", INCIDENT, None)
    assert Incident.objects.count() == 2


def test_a_new_key_is_a_new_write(api):
    post(api, "/incidents", INCIDENT, "a")
    post(api, "/incidents", INCIDENT, "b")
    assert Incident.objects.count() == 2


def test_the_same_key_with_a_different_body_is_refused_with_the_reason(api):
    post(api, "/incidents", INCIDENT, "k-1")
    response = post(api, "/incidents", {**INCIDENT, "name": "Something else"}, "k-1")
    assert response.status_code == 422
    assert "different request" in field_errors(response)["Idempotency-Key"]
    assert Incident.objects.count() == 1


def test_the_same_key_on_another_path_is_refused(api, components):
    incident = post(api, "/incidents", INCIDENT, "k-2").json()
    response = post(
        api, f"/incidents/{incident['id']}/updates", {"status": "identified", "body": "x"}, "k-2"
    )
    assert response.status_code == 422
    assert IncidentUpdate.objects.count() == 1


def test_keys_belong_to_one_user(api, db):
    other = get_user_model().objects.create_user("bob", is_staff=True)
    set_role(other, RESPONDER)
    bob = ApiClient(issue_token(other)[1])
    post(api, "/incidents", INCIDENT, "shared-name")
    response = post(bob, "/incidents", INCIDENT, "shared-name")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Incident.objects.count() == 2


def test_a_key_is_forgotten_after_24_hours(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        post(api, "/incidents", INCIDENT, "k-3")
        traveller.shift(timedelta(hours=23, minutes=59))
        assert post(api, "/incidents", INCIDENT, "k-3")["Idempotent-Replayed"] == "true"
        traveller.shift(timedelta(minutes=2))
        response = post(api, "/incidents", INCIDENT, "k-3")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Incident.objects.count() == 2


def test_a_refused_write_does_not_use_up_its_key(api):
    refused = post(api, "/incidents", {"name": "x"}, "k-4")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert post(api, "/incidents", INCIDENT, "k-4").status_code == 201


@pytest.mark.parametrize("key", ["", "a b", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_refused_with_400(api, key):
    response = post(api, "/incidents", INCIDENT, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in field_errors(response)
    assert not Incident.objects.exists()


def test_a_key_without_a_valid_token_is_still_a_401_and_stores_nothing(anonymous):
    response = post(ApiClient("sp_not-a-real-token"), "/incidents", INCIDENT, "k-5")
    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_every_write_accepts_a_key(api, components):
    first = api.client.patch(
        "/api/v1/components/credit-bureau",
        json.dumps({"status": "major_outage"}),
        content_type="application/json",
        headers=api.headers() | {"Idempotency-Key": "patch-1"},
    )
    again = api.client.patch(
        "/api/v1/components/credit-bureau",
        json.dumps({"status": "major_outage"}),
        content_type="application/json",
        headers=api.headers() | {"Idempotency-Key": "patch-1"},
    )
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    maintenance = {
        "name": "Database upgrade",
        "scheduled_for": (timezone.now() + timedelta(days=1)).isoformat(),
        "scheduled_until": (timezone.now() + timedelta(days=1, hours=1)).isoformat(),
    }
    assert post(api, "/maintenances", maintenance, "m-1").status_code == 201
    assert post(api, "/maintenances", maintenance, "m-1")["Idempotent-Replayed"] == "true"


def test_reads_ignore_the_key(api):
    response = api.client.get(
        "/api/v1/incidents", headers=api.headers() | {"Idempotency-Key": "a b"}
    )
    assert response.status_code == 200


def test_expired_keys_are_deleted(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        post(api, "/incidents", INCIDENT, "old")
        traveller.shift(timedelta(hours=12))
        post(api, "/incidents", INCIDENT, "new")
        traveller.shift(timedelta(hours=13))
        assert forget_expired() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_copies_sent_at_the_same_moment_write_once(staff):
    raw = issue_token(staff)[1]
    copies = 6
    barrier = threading.Barrier(copies)
    answers = []

    def send():
        client = ApiClient(raw, Client())
        barrier.wait()
        try:
            answers.append(post(client, "/incidents", INCIDENT, "burst"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * copies
    assert len({a.content for a in answers}) == 1
    assert Incident.objects.count() == 1
