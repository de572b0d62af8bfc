"""Waiting out a Redis outage: what a lane does instead of acknowledging unstored work.

``WAITED_OUT`` is what a lane waits out rather than drops or parks: Redis errors (the
library's, and the socket errors beneath them) and ``StoreBusyError``, a record that kept
changing under every WATCH try. This is the lanes' edge for Redis errors: they are not
mapped onto the backend's own errors, only retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from redis.exceptions import RedisError

from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.errors import StoreBusyError

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKOFF_FIRST_S: Final = 0.05
BACKOFF_MAX_S: Final = 1.0
WAITED_OUT: Final = (RedisError, OSError, StoreBusyError)
REPORT_EVERY_S: Final = 10.0


@dataclass(slots=True)
class RetryReport:
    """What one lane says about its retries: one line when they start, one summary line
    at most every ``every_s`` while they go on, and one when Redis takes work again.

    A lane retries every message it holds, so a line per retry would be thousands of
    lines for one outage and bury the one that says what is wrong (the counter
    ``{what}_retry`` still counts each retry)."""

    what: str
    every_s: float = REPORT_EVERY_S
    total: int = 0  # every retry since the process started, for the metrics
    retries: int = 0
    unreported: int = 0
    since: float | None = None
    said_at: float = float("-inf")

    def failed(self, exc: BaseException, now: float) -> str | None:
        """Count one retry; the line to log now, if one is due."""
        self.total += 1
        self.retries += 1
        self.unreported += 1
        if self.since is None:
            self.since = now
            self.said_at, self.unreported = now, 0
            return (f"{self.what}: Redis did not take it ({type(exc).__name__}); retrying "
                    f"with a backoff up to {BACKOFF_MAX_S:.0f} s, messages held")
        if now - self.said_at < self.every_s:
            return None
        line = (f"{self.what}: still retrying ({type(exc).__name__}): {self.unreported} "
                f"retries in the last {now - self.said_at:.0f} s, {now - self.since:.0f} s "
                "since the first")
        self.said_at, self.unreported = now, 0
        return line

    def succeeded(self, now: float) -> str | None:
        """Redis took work again: the closing line of an episode, if one was open."""
        if self.since is None:
            return None
        line = (f"{self.what}: Redis takes it again after {self.retries} retries in "
                f"{now - self.since:.1f} s")
        self.retries, self.unreported, self.since = 0, 0, None
        return line


_reports: dict[str, RetryReport] = {}


def _report(what: str) -> RetryReport:
    return _reports.setdefault(what, RetryReport(what))


def retry_reports() -> list[RetryReport]:
    """This process's retry reports, one per kind of work retried (for the metrics)."""
    return list(_reports.values())


async def until_redis_takes(action: Callable[[], Awaitable[T]], *, counters: Counters,
                            what: str) -> T:
    """Run ``action`` until Redis answers, backing off; the message is never dropped."""
    delay = BACKOFF_FIRST_S
    report = _report(what)
    while True:
        try:
            result = await action()
        except WAITED_OUT as exc:
            counters.bump(keys.INGEST_COUNTERS, f"{what}_retry")
            line = report.failed(exc, time.monotonic())
            if line is not None:
                log.warning("%s", line)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
            continue
        if delay != BACKOFF_FIRST_S and (line := report.succeeded(time.monotonic())):
            log.warning("%s", line)
        return result
