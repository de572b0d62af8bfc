"""In-process counters, flushed to Redis off the hot path.

An eCall must not wait for a metrics write, so handlers only bump a dict; a background
task moves the deltas to a Redis hash every second. Bad input is counted by
``field:rule`` so an operator sees which rule senders break.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend import keys
from protocols.errors import ProtocolError

log = logging.getLogger(__name__)


class Counters:
    """Counts events under names; ``flush`` moves them to one Redis hash per family."""

    def __init__(self) -> None:
        self._pending: dict[str, Counter[str]] = {}
        self.totals: dict[str, Counter[str]] = {}

    def reject(self, exc: ProtocolError, *, lane: str) -> None:
        """Count bad input by field and rule, and log it without the error's text, which may
        quote message content (MSD, positions) that must stay out of logs."""
        self.bump(keys.ERROR_COUNTERS, f"{exc.field}:{exc.rule}")
        self.bump(keys.INGEST_COUNTERS, "rejected")
        log.warning("rejected %s message: field=%s rule=%s", lane, exc.field, exc.rule)

    def bump(self, family: str, name: str, amount: int = 1) -> None:
        self._pending.setdefault(family, Counter())[name] += amount
        self.totals.setdefault(family, Counter())[name] += amount

    async def flush(self, redis: Redis) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for family, counts in pending.items():
                    for name, amount in counts.items():
                        pipe.hincrby(family, name, amount)
                await pipe.execute()
        except RedisError:
            # Keep the counts for the next flush rather than lose them.
            for family, counts in pending.items():
                self._pending.setdefault(family, Counter()).update(counts)
            raise

    async def flush_forever(self, redis: Redis, *, every_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            with contextlib.suppress(RedisError):
                await self.flush(redis)
