from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage.subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def test_unconfirmed_addresses_are_forgotten_after_7_days(subscribe):
    now = timezone.now()
    subscribe("old@example.com", confirmed_at=None, created_at=now - timedelta(days=7, seconds=1))
    subscribe("recent@example.com", confirmed_at=None, created_at=now - timedelta(days=6))
    subscribe("confirmed@example.com", created_at=now - timedelta(days=30))
    assert Subscriber.forget_unconfirmed(now) == 1
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "confirmed@example.com",
        "recent@example.com",
    ]
