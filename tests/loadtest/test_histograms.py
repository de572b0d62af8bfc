"""HDR histograms merged across processes give the figures of all values recorded at once."""

from __future__ import annotations

import random

from hdrh.histogram import HdrHistogram

from loadtest import histograms
from loadtest.aggregate import Aggregate
from loadtest.recorder import Recorder


def test_histograms_merging_encoded_parts_equals_one_histogram_of_everything() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(1.0, 1.2) for _ in range(5000)]
    whole = histograms.new()
    parts = [histograms.new() for _ in range(3)]
    for i, ms in enumerate(values):
        histograms.record_ms(whole, ms)
        histograms.record_ms(parts[i % 3], ms)
    into: dict[str, HdrHistogram] = {}
    for part in parts:
        histograms.merge_encoded(into, {"ecall_ack": histograms.encode(part)})
    assert histograms.summary(into["ecall_ack"]) == histograms.summary(whole)
    assert histograms.summary(whole)["count"] == 5000


def test_histograms_a_slow_part_shows_in_the_merged_p99() -> None:
    """Percentiles are not averaged: one process's stall is the fleet's tail."""
    fast, slow = histograms.new(), histograms.new()
    for _ in range(980):
        histograms.record_ms(fast, 2.0)
    for _ in range(20):
        histograms.record_ms(slow, 800.0)
    total = histograms.merged([fast, slow])
    assert 799.0 <= histograms.summary(total)["p99_ms"] <= 801.0
    assert histograms.summary(total)["p50_ms"] < 2.01


def test_aggregate_adds_snapshots_of_two_processes() -> None:
    clock = iter(range(0, 10**12, 10**9))
    now = lambda: next(clock)  # noqa: E731
    a, b = Recorder(source="a", now_ns=now), Recorder(source="b", now_ns=now)
    for recorder in (a, b):
        recorder.count("ecall_started")
        recorder.expect("ecall_ack", "x", 0)
        recorder.gauge("connected", 2)
    assert a.done("ecall_ack", "x") is not None
    a.count("ecall_acked")
    aggregate = Aggregate(started_ns=0)
    aggregate.add(a.take())
    aggregate.add(b.take())
    figures = aggregate.figures(final=True)
    assert figures["ecalls"] == {"started": 2, "acknowledged": 1, "lost": 1,
                                 "voice_fallbacks": 0}
    assert figures["connected"] == 4
    assert figures["latency"]["ecall_ack"]["count"] == 1
    assert b.open_waits("ecall_ack") == 1
