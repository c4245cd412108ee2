"""Staff-channel URLs are checked exactly like webhook subscribers' (no SSRF):
`statuspage.subscriptions.outbound` refuses a URL whose host resolves to a private, loopback,
link-local or reserved address when it is saved, and its guarded session connects only to an
address it validated, so DNS rebinding fails too. `WEBHOOK_ALLOWED_NETWORKS` and
`WEBHOOK_ALLOW_HTTP` open internal ranges and plain http for both, on purpose.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from statuspage.subscriptions import outbound


def shape_problem(url: str) -> str:
    """What is wrong with the URL itself, without resolving it; empty when nothing."""
    return outbound.url_problem(url) or ""


def unsafe_reason(url: str) -> str:
    """Why `url` must not be saved as a channel; empty when it may."""
    try:
        outbound.check_webhook_url(url)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""
