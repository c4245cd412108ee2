"""Refuse requests that carry a NUL character in their path, query string or cookies.

No URL, query parameter or cookie of this site can contain one, and PostgreSQL cannot compare
text with one (`/probes/heartbeat/%00abc` and `/console/subscribers/?q=%00` used to answer 500).
One check in front of every view, rather than a guard in each lookup that could be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

NUL = "\x00"
MESSAGE = "NUL characters are not allowed."


def nul_location(request: HttpRequest) -> tuple[str, str | None] | None:
    """Where the request carries a NUL: ("path", None), ("query", name) or ("cookie", name)."""
    if NUL in request.path_info or NUL in request.path:
        return "path", None
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            return "query", name.replace(NUL, "")
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            return "cookie", name.replace(NUL, "")
    return None


class RefuseNulMiddleware:
    """400 for a request with a NUL anywhere a view or a lookup would read it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        location = nul_location(request)
        if location is None:
            return self.get_response(request)
        source, name = location
        if request.path_info.startswith("/api/"):
            # The token API's error shape: the query parameter at fault, if it was one.
            field = name if source == "query" else None
            return JsonResponse({"errors": [{"field": field, "message": MESSAGE}]}, status=400)
        where = f"{source} {name!r}" if name else source
        return HttpResponse(
            f"Bad request: {MESSAGE} ({where})\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
