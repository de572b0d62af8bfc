"""Latencies in HDR histograms: recorded in microseconds, shipped encoded, merged exactly.

Each worker process keeps one histogram per measured kind and sends what it recorded
each second as HdrHistogram's compressed encoding; the process that reports decodes
and adds them. Adding HDR histograms is exact (counts per bucket add up), unlike
averaging percentiles, so the merged p99 is the fleet's p99.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from hdrh.histogram import HdrHistogram

LOWEST_US: Final = 1
HIGHEST_US: Final = 3_600_000_000  # an hour: anything slower is a stall worth seeing anyway
DIGITS: Final = 3
PERCENTILES: Final = (50.0, 90.0, 99.0, 99.9)


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def record_ms(histogram: HdrHistogram, ms: float) -> None:
    """Record ``ms`` milliseconds, clamped into the histogram's range."""
    histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(ms * 1000.0))))


def encode(histogram: HdrHistogram) -> str:
    return str(histogram.encode().decode("ascii"))


def decode(encoded: str) -> HdrHistogram:
    return HdrHistogram.decode(encoded.encode("ascii"))


def merged(parts: Iterable[HdrHistogram]) -> HdrHistogram:
    total = new()
    for part in parts:
        total.add(part)
    return total


def merge_encoded(into: dict[str, HdrHistogram], encoded: Mapping[str, str]) -> None:
    """Add each kind's encoded histogram to ``into[kind]`` (created on first sight)."""
    for kind, text in encoded.items():
        into.setdefault(kind, new()).add(decode(text))


def summary(histogram: HdrHistogram) -> dict[str, float]:
    """Count, min, mean, the percentiles and max, in milliseconds."""
    count = int(histogram.get_total_count())
    if count == 0:
        return {"count": 0}
    figures: dict[str, float] = {
        "count": count,
        "min_ms": histogram.get_min_value() / 1000.0,
        "mean_ms": round(float(histogram.get_mean_value()) / 1000.0, 3),
    }
    for p in PERCENTILES:
        figures[f"p{p:g}_ms"] = histogram.get_value_at_percentile(p) / 1000.0
    figures["max_ms"] = histogram.get_max_value() / 1000.0
    return figures


def distribution(histogram: HdrHistogram, *, points: int = 40) -> list[tuple[float, float]]:
    """(percentile, ms) pairs spread on a log scale of "nines", for the report's plots."""
    if histogram.get_total_count() == 0:
        return []
    out: list[tuple[float, float]] = []
    for i in range(points + 1):
        nines = 4.0 * i / points  # 0 .. 99.99 %
        percentile = 100.0 * (1.0 - 10.0 ** (-nines))
        out.append((round(percentile, 4), histogram.get_value_at_percentile(percentile) / 1000.0))
    return out
