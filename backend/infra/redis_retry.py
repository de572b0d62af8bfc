"""Waiting out a Redis outage: what a lane does instead of acknowledging unstored work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from redis.exceptions import RedisError

from backend.infra import keys
from backend.infra.counters import Counters

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKOFF_FIRST_S: Final = 0.05
BACKOFF_MAX_S: Final = 1.0


async def until_redis_takes(action: Callable[[], Awaitable[T]], *, counters: Counters,
                            what: str) -> T:
    """Run ``action`` until Redis answers, backing off; the message is never dropped."""
    delay = BACKOFF_FIRST_S
    while True:
        try:
            return await action()
        except (RedisError, OSError) as exc:
            counters.bump(keys.INGEST_COUNTERS, f"{what}_retry")
            log.warning("%s: Redis did not take it (%s); retrying in %.2fs", what,
                        type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
