"""One outage, a handful of lines: the retry report of a lane (``backend.infra.redis_retry``)."""

from __future__ import annotations

import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.redis_retry import RetryReport, until_redis_takes

BOOM = RedisConnectionError("refused")


def test_first_retry_is_said_then_summarised_at_most_every_period() -> None:
    report = RetryReport("services", every_s=10.0)
    first = report.failed(BOOM, now=100.0)
    assert first is not None and "ConnectionError" in first and first.startswith("services:")
    assert [report.failed(BOOM, now=100.0 + i) for i in range(1, 10)] == [None] * 9
    summary = report.failed(BOOM, now=110.5)
    assert summary is not None and "10 retries in the last 10 s" in summary
    assert report.failed(BOOM, now=111.0) is None


def test_recovery_closes_the_episode_and_the_next_outage_is_said_again() -> None:
    report = RetryReport("bulk")
    assert report.succeeded(now=1.0) is None  # nothing to close
    report.failed(BOOM, now=1.0)
    report.failed(BOOM, now=2.0)
    closing = report.succeeded(now=3.5)
    assert closing is not None and "after 2 retries in 2.5 s" in closing
    assert report.succeeded(now=4.0) is None
    assert report.failed(BOOM, now=5.0) is not None


async def test_a_lane_logs_two_lines_for_many_retries_and_counts_each(
        caplog: pytest.LogCaptureFixture) -> None:
    failures = iter(range(3))
    counters = Counters()

    async def action() -> str:
        if next(failures, None) is not None:
            raise BOOM
        return "stored"

    with caplog.at_level(logging.WARNING, logger="backend.infra.redis_retry"):
        assert await until_redis_takes(action, counters=counters, what="test-lane") == "stored"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "did not take it" in lines[0] and "takes it again after 3 retries" in lines[1]
    assert counters.totals[keys.INGEST_COUNTERS]["test-lane_retry"] == 3
