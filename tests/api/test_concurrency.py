"""Clients writing at the same time, each with its own database connection, through the real
API. Run on PostgreSQL (DATABASE_URL=postgres://…): SQLite serialises writers, so there is no
lock order to get wrong there."""

import threading

import pytest
from django.db import connection, connections

from statuspage.models import AuditEntry, IncidentUpdate

from .conftest import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6


@pytest.fixture(autouse=True)
def postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: row-lock order only matters on PostgreSQL")


def together(*clients):
    """Run each client's requests in its own thread (and connection), all starting at once;
    return every answer's status code, or the exception a request raised."""
    barrier = threading.Barrier(len(clients))
    answers: list[list] = [[] for _ in clients]

    def run(index, requests):
        try:
            barrier.wait()
            for request in requests:
                try:
                    answers[index].append(request().status_code)
                except Exception as exc:  # the test client re-raises a view's exception
                    answers[index].append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, requests)) for i, requests in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def test_status_changes_and_incident_updates_at_once_never_deadlock(token, components):
    api = ApiClient(token)
    opened = api.post(
        "/incidents",
        {
            "name": "Bureau slow",
            "body": "Investigating.",
            "components": {"credit-bureau": "degraded_performance"},
        },
    ).json()
    updates = f"/incidents/{opened['id']}/updates"

    def patch(slug, statuses):
        client = ApiClient(token)
        return [
            lambda status=status: client.patch(f"/components/{slug}", {"status": status})
            for status in statuses
        ]

    def post(statuses):
        client = ApiClient(token)
        return [
            lambda status=status: client.post(
                updates,
                {
                    "status": "identified",
                    "body": f"Bureau {status}.",
                    "components": {"credit-bureau": status, "api-gateway": status},
                },
            )
            for status in statuses
        ]

    flip = ["major_outage", "operational"] * (ROUNDS // 2)
    swing = ["partial_outage", "degraded_performance"] * (ROUNDS // 2)
    answers = together(
        patch("loan-application", flip),
        patch("api-gateway", flip),
        post(swing),
        post(list(reversed(swing))),
    )

    assert answers == [[200] * ROUNDS, [200] * ROUNDS, [201] * ROUNDS, [201] * ROUNDS]
    assert IncidentUpdate.objects.filter(incident_id=opened["id"]).count() == 1 + 2 * ROUNDS
    assert AuditEntry.objects.filter(action="component.set_status").count() == 2 * ROUNDS
