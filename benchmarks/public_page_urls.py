"""Benchmark-only URLconf: the product's URLs, plus /baseline, a minimal view returning a short
HTML string (the yardstick of benchmarks/public_page.py). It comes after the product's URLs,
where the public pages are, so that it pays the same URL resolution as they do."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>ok</title><p>Hello.</p>")


urlpatterns = [
    path("", include("statuspage.urls")),
    path("baseline", baseline),
]
