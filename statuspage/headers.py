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


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and is_html(response) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        if request.path_info.startswith(NO_STORE_PREFIXES):
            if "no-store" not in response.get("Cache-Control", ""):
                response.headers.pop("Cache-Control", None)
                patch_cache_control(response, no_store=True, private=True)
        return response
