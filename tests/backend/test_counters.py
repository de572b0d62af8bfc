"""Rejections are counted every time and logged once per kind, then once a minute."""

from __future__ import annotations

import logging

import pytest

from backend.infra import keys
from backend.infra.counters import REJECT_LOG_INTERVAL_S, Counters
from protocols.errors import EnvelopeError


def test_counters_reject_logs_a_kind_once_then_once_a_minute_with_the_count(
        caplog: pytest.LogCaptureFixture) -> None:
    """A flood of one malformed message is counted in full but logged as two lines."""
    now = [100.0]
    counters = Counters(clock=lambda: now[0])
    bad = EnvelopeError("bad time", field="at", rule="finite")
    with caplog.at_level(logging.WARNING, logger="backend.infra.counters"):
        for _ in range(500):
            counters.reject(bad, lane="services")
        now[0] += REJECT_LOG_INTERVAL_S
        counters.reject(bad, lane="services")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["rejected services message: field=at rule=finite",
                     "rejected services message: field=at rule=finite "
                     "(and 499 more since the last line)"]
    assert counters.totals[keys.ERROR_COUNTERS]["at:finite"] == 501


def test_counters_reject_logs_each_kind_apart(caplog: pytest.LogCaptureFixture) -> None:
    """Another field or rule is another kind: its first rejection is logged at once."""
    counters = Counters(clock=lambda: 0.0)
    with caplog.at_level(logging.WARNING, logger="backend.infra.counters"):
        counters.reject(EnvelopeError("x", field="at", rule="finite"), lane="services")
        counters.reject(EnvelopeError("x", field="vin", rule="17 chars"), lane="services")
        counters.reject(EnvelopeError("x", field="at", rule="finite"), lane="emergency")
    assert len(caplog.records) == 3
