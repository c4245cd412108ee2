"""Benchmark-only URLconf: the product's URLs, plus /baseline, a minimal view returning a short
HTML string (the yardstick of benchmarks/public_page.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>ok</title><p>Hello.</p>")


urlpatterns = [
    path("baseline", baseline),
    path("", include("statuspage.urls")),
]
