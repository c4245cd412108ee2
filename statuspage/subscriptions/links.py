"""Signed links in emails: confirm (valid 24 hours), manage preferences and unsubscribe.

The signature covers the subscriber id and its nonce; unsubscribing deletes the row and
re-subscribing makes a new one, so an old link never acts on a new subscription."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core import signing
from django.urls import reverse

from statuspage.subscriptions.models import Subscriber

CONFIRM_MAX_AGE = 24 * 3600
CONFIRM_SALT = "subscriptions.confirm"
MANAGE_SALT = "subscriptions.manage"


def confirm_token(subscriber: Subscriber) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign_object(
        {"id": subscriber.pk, "n": subscriber.nonce}
    )


def manage_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=MANAGE_SALT).sign_object(
        {"id": subscriber.pk, "n": subscriber.nonce}
    )


def subscriber_from_confirm_token(token: str) -> Subscriber | None:
    try:
        value = signing.TimestampSigner(salt=CONFIRM_SALT).unsign_object(
            token, max_age=CONFIRM_MAX_AGE
        )
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return _lookup(value)


def subscriber_from_manage_token(token: str) -> Subscriber | None:
    try:
        value = signing.Signer(salt=MANAGE_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    return _lookup(value)


def _lookup(value) -> Subscriber | None:
    if not isinstance(value, dict):
        return None
    return Subscriber.objects.filter(pk=value.get("id"), nonce=value.get("n")).first()


def absolute(path: str) -> str:
    return settings.SITE_URL + path


@functools.cache
def path_template(name: str) -> str:
    # reverse() once per name with a stand-in token: emails are built by the thousand.
    return reverse(name, args=["TOKEN"])


def url_for(name: str, token: str) -> str:
    return absolute(path_template(name).replace("TOKEN", token))


def confirm_url(subscriber: Subscriber) -> str:
    return url_for("subscriptions:confirm", confirm_token(subscriber))


def manage_url(subscriber: Subscriber) -> str:
    return url_for("subscriptions:manage", manage_token(subscriber))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return url_for("subscriptions:unsubscribe", manage_token(subscriber))
