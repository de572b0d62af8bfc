"""Latency statistics for the benchmarks: percentiles, summaries, ratios.

Pure functions over nanosecond samples, so the figures a benchmark prints can be
checked without a broker. Percentiles interpolate linearly between the two nearest
ranks (numpy's default), so p99 of a few hundred samples sits between the 4th- and
5th-worst sample instead of jumping from one to the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Final

import numpy as np

NS_PER_MS: Final = 1_000_000


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of already sorted values, linearly interpolated."""
    if not ordered:
        raise ValueError("percentile of no samples")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} is outside 0..100")
    return float(np.percentile(ordered, q))


@dataclass(frozen=True, slots=True)
class Summary:
    """What a benchmark reports of one set of latencies, in milliseconds.

    ``count`` is the number of samples that arrived; ``lost`` the ones expected that
    never did, kept beside the figures so a clean p99 cannot hide missing messages.
    Without samples every figure is None (JSON ``null``) rather than a made-up zero.
    """

    count: int
    lost: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _ms(ns: float, digits: int) -> float:
    return round(ns / NS_PER_MS, digits)


def summarize_ns(samples_ns: Iterable[int], *, lost: int = 0, digits: int = 3) -> Summary:
    """Summarise latencies given in nanoseconds; ``digits`` rounds the milliseconds."""
    ordered = sorted(samples_ns)
    if not ordered:
        return Summary(0, lost, None, None, None, None, None)
    return Summary(
        count=len(ordered),
        lost=lost,
        p50_ms=_ms(percentile(ordered, 50), digits),
        p90_ms=_ms(percentile(ordered, 90), digits),
        p99_ms=_ms(percentile(ordered, 99), digits),
        max_ms=_ms(ordered[-1], digits),
        mean_ms=_ms(sum(ordered) / len(ordered), digits),
    )


def ratio(value: float | None, floor: float | None, *, digits: int = 2) -> float | None:
    """``value / floor`` rounded, or None when either is missing or the floor is not positive."""
    if value is None or floor is None or floor <= 0:
        return None
    return round(value / floor, digits)


def rate(count: int, seconds: float, *, digits: int = 1) -> float:
    """Events per second over ``seconds``; 0 for an empty or zero-length window."""
    if count <= 0 or seconds <= 0:
        return 0.0
    return round(count / seconds, digits)
