"""Waiting out a Redis outage: what a lane does instead of acknowledging unstored work.

``WAITED_OUT`` is what a lane waits out rather than drops or parks: Redis errors (the
library's, and the socket errors beneath them) and ``StoreBusyError``, a record that kept
changing under every WATCH try. This is the lanes' edge for Redis errors: they are not
mapped onto the backend's own errors, only retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
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


async def until_redis_takes(action: Callable[[], Awaitable[T]], *, counters: Counters,
                            what: str) -> T:
    """Run ``action`` until Redis answers, backing off; the message is never dropped."""
    delay = BACKOFF_FIRST_S
    while True:
        try:
            return await action()
        except WAITED_OUT as exc:
            counters.bump(keys.INGEST_COUNTERS, f"{what}_retry")
            log.warning("%s: Redis did not take it (%s); retrying in %.2fs", what,
                        type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
