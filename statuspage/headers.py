"""Response headers every page gets: a Content-Security-Policy on HTML, and `no-store` on the
staff side so that a shared or back-buttoned browser never shows a cached console page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

# Staff pages and the staff API: never kept by a browser or a proxy.
NO_STORE_PREFIXES = ("/console/", "/admin/", "/accounts/", "/api/v1/")


def is_html(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def is_emergency_page(response: HttpResponseBase) -> bool:
    """The pages served when something is down: Django's 500 page, the short 503 and the
    snapshot with its notice. They carry their styling inline so that they work with nothing
    else available."""
    return response.status_code >= 500 or response.get("X-Served-From") == "snapshot"


def with_inline_styles(policy: str) -> str:
    """The policy with inline styles allowed; scripts stay as strict as they were."""
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    directives = [d for d in directives if not d.startswith("style-src")]
    return "; ".join([*directives, "style-src 'self' 'unsafe-inline'"])


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and is_html(response) and "Content-Security-Policy" not in response:
            if is_emergency_page(response):
                policy = with_inline_styles(policy)
            response["Content-Security-Policy"] = policy
        if request.path_info.startswith(NO_STORE_PREFIXES):
            if "no-store" not in response.get("Cache-Control", ""):
                response.headers.pop("Cache-Control", None)
                patch_cache_control(response, no_store=True, private=True)
        return response
