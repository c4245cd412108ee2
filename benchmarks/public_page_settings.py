"""Benchmark-only settings (benchmarks/public_page.py): the product's settings unchanged except
for the URLconf, which adds a minimal view to measure against. Never used by the product."""

from statuspage.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.public_page_urls"
