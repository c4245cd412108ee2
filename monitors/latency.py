"""Latency histograms, as plain functions: each rollup row keeps counts per fixed bucket, so
that adding a result is O(1) and percentiles are estimated without the raw results."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

# Upper bounds (ms) of the latency histogram kept in each rollup row; the last bucket is open.
LATENCY_BUCKETS_MS = (10, 25, 50, 100, 200, 300, 500, 800, 1200, 2000, 3000, 5000, 10000)


def empty_histogram() -> list[int]:
    return [0] * (len(LATENCY_BUCKETS_MS) + 1)


def bucket_index(latency_ms: float) -> int:
    """The histogram bucket a latency falls in (bucket i holds values <= LATENCY_BUCKETS_MS[i])."""
    return bisect_left(LATENCY_BUCKETS_MS, latency_ms)


def histogram_percentile(
    histogram: list[int], fraction: float, maximum: float | None = None
) -> float | None:
    """Estimate a percentile from bucket counts by linear interpolation inside the bucket that
    holds it; never above the largest value seen. None when the histogram is empty."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = fraction * total
    cumulative = 0
    for index, count in enumerate(histogram):
        if count and cumulative + count >= rank:
            lower = LATENCY_BUCKETS_MS[index - 1] if index > 0 else 0.0
            if index < len(LATENCY_BUCKETS_MS):
                upper = float(LATENCY_BUCKETS_MS[index])
            else:
                upper = maximum if maximum is not None else lower * 2
            estimate = lower + (upper - lower) * (rank - cumulative) / count
            return min(estimate, maximum) if maximum is not None else estimate
        cumulative += count
    return maximum


def merge_histograms(histograms: Iterable[list[int]]) -> list[int]:
    merged = empty_histogram()
    for histogram in histograms:
        for index, count in enumerate(histogram):
            merged[index] += count
    return merged
