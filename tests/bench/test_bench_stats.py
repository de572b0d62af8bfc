"""Benchmark statistics: percentiles, summaries, ratios and rates, without a broker."""

from __future__ import annotations

import pytest

from bench.stats import Summary, percentile, rate, ratio, summarize_ns


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([5.0], 0, 5.0),
    ([5.0], 99, 5.0),
    ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
    ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
    ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
    ([10.0, 20.0], 25, 12.5),
    ([float(v) for v in range(101)], 99, 99.0),
    ([float(v) for v in range(1, 401)], 99, 396.01),
])
def test_percentile_interpolates_between_ranks(values: list[float], q: float,
                                               expected: float) -> None:
    """Linear interpolation between the two nearest ranks, as numpy does by default."""
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_no_samples_is_refused() -> None:
    """An empty sample has no percentile; the caller must say so, not print zero."""
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


@pytest.mark.parametrize("q", [-0.1, 100.1])
def test_percentile_outside_range_is_refused(q: float) -> None:
    """Percentiles live in 0..100."""
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0, 2.0], q)


def test_summarize_ns_reports_milliseconds_and_sorts() -> None:
    """Nanosecond samples in any order become rounded millisecond figures."""
    samples = [3_000_000, 1_000_000, 2_000_000, 4_000_000]
    summary = summarize_ns(samples, lost=2)
    assert summary == Summary(count=4, lost=2, p50_ms=2.5, p90_ms=3.7, p99_ms=3.97,
                              max_ms=4.0, mean_ms=2.5)


def test_summarize_ns_rounds_to_microseconds() -> None:
    """Three decimals of a millisecond: enough for a 50 µs broker floor."""
    summary = summarize_ns([123_456, 123_456])
    assert summary.p50_ms == 0.123
    assert summary.max_ms == 0.123


def test_summarize_ns_without_samples_has_no_figures() -> None:
    """No arrivals means null figures and the loss count, never a fake 0 ms."""
    summary = summarize_ns([], lost=400)
    assert summary.as_dict() == {"count": 0, "lost": 400, "p50_ms": None, "p90_ms": None,
                                 "p99_ms": None, "max_ms": None, "mean_ms": None}


def test_summarize_ns_p99_of_400_samples_sits_near_the_fifth_worst() -> None:
    """With 400 samples, four outliers barely move p99 and a fifth one does."""
    base = [1_000_000] * 396
    four = summarize_ns(base + [9_000_000] * 4)
    five = summarize_ns(base[:-1] + [9_000_000] * 5)
    assert four.p99_ms == pytest.approx(1.08)
    assert five.p99_ms == pytest.approx(9.0)


@pytest.mark.parametrize(("value", "floor", "expected"), [
    (3.0, 0.25, 12.0),
    (1.0, 3.0, 0.33),
    (None, 1.0, None),
    (1.0, None, None),
    (1.0, 0.0, None),
])
def test_ratio_is_none_without_a_usable_floor(value: float | None, floor: float | None,
                                              expected: float | None) -> None:
    """A ratio needs both figures and a positive floor."""
    assert ratio(value, floor) == expected


@pytest.mark.parametrize(("count", "seconds", "expected"), [
    (106_000, 10.6, 10_000.0),
    (1, 3.0, 0.3),
    (0, 1.0, 0.0),
    (10, 0.0, 0.0),
])
def test_rate_per_second(count: int, seconds: float, expected: float) -> None:
    """Messages per second over a window, zero for an empty one."""
    assert rate(count, seconds) == expected
