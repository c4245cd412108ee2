"""Benchmark-only settings and URLconf (benchmarks/public_page.py): a bare Django, the second
yardstick. The product's settings with only the security and common middleware, and one view
returning the same short HTML string as /baseline; served by the same gunicorn command.
Never used by the product."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from statuspage.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bare_django"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>ok</title><p>Hello.</p>")


urlpatterns = [path("bare", bare)]
