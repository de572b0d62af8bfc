"""In-process counters, flushed to Redis off the hot path.

An eCall must not wait for a metrics write, so handlers only bump a dict; a background
task moves the deltas to a Redis hash every second. Bad input is counted by
``field:rule`` so an operator sees which rule senders break, and logged once per kind
and then at most once a minute with the count in between: a flood of one malformed
message must not become a flood of log lines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Final, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.infra import keys
from protocols.errors import ProtocolError

log = logging.getLogger(__name__)
REJECT_LOG_INTERVAL_S: Final = 60.0


class Counters:
    """Counts events under names; ``flush`` moves them to one Redis hash per family."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._pending: dict[str, Counter[str]] = {}
        self.totals: dict[str, Counter[str]] = {}
        self._clock = clock
        self._last_logged: dict[tuple[str, str, str], float] = {}
        self._unlogged: Counter[tuple[str, str, str]] = Counter()

    def reject(self, exc: ProtocolError, *, lane: str) -> None:
        """Count bad input by field and rule, and log it without the error's text, which may
        quote message content (MSD, positions) that must stay out of logs: the first of a
        kind at once, then one line a minute saying how many came meanwhile."""
        self.bump(keys.ERROR_COUNTERS, f"{exc.field}:{exc.rule}")
        self.bump(keys.INGEST_COUNTERS, "rejected")
        kind = (lane, exc.field, exc.rule)
        now = self._clock()
        last = self._last_logged.get(kind)
        if last is not None and now - last < REJECT_LOG_INTERVAL_S:
            self._unlogged[kind] += 1
            return
        self._last_logged[kind] = now
        more = self._unlogged.pop(kind, 0)
        log.warning("rejected %s message: field=%s rule=%s%s", lane, exc.field, exc.rule,
                    f" (and {more} more since the last line)" if more else "")

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

    async def flush_quietly(self, redis: Redis) -> bool:
        """``flush``, where a Redis failure only keeps the counts for the next flush: for a
        caller whose own work is done and must not fail for its counters."""
        try:
            await self.flush(redis)
        except RedisError:
            return False
        return True

    async def flush_forever(self, redis: Redis, *, every_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.flush_quietly(redis)


async def read_counters(redis: Redis, families: Sequence[str]) -> dict[str, dict[str, int]]:
    """Each family's counters as flushed so far, in one pipelined round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for family in families:
            pipe.hgetall(family)
        raw = cast(list[dict[bytes, bytes]], await pipe.execute())
    return {family: {k.decode(): int(v) for k, v in counts.items()}
            for family, counts in zip(families, raw, strict=True)}
