"""The retention sweeper: deletes due records, round after round, on the backend's clock.

Deadlines are judged on ``clock.now()``, which in scenario mode is the scenario's virtual
clock (``backend.infra.clock_follower.FollowingClock``): a jump of six months makes the HV Warn
Call records due on the next round, seconds later in real time. The wait between rounds
is real time and fixed: a wait computed from the next deadline would oversleep a
virtual-time jump, and a round with nothing due costs one ZRANGEBYSCORE that returns
nothing.

The loop keeps no state of its own; a restarted sweeper (or Redis, on AOF) picks up
every record still due from ``ret:due``. A Redis error costs one round, never the loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.infra import metrics
from backend.privacy.retention_store import SWEEP_BATCH, sweep
from protocols.clock import Clock

log = logging.getLogger(__name__)
INTERVAL_S: Final = 1.0


async def sweep_round(oem: Redis, clock: Clock, *, batch: int = SWEEP_BATCH) -> int:
    """One round: delete what is due at ``clock.now()``; a failure is logged, counts 0."""
    try:
        deleted = await sweep(oem, now=clock.now(), batch=batch)
    except (RedisError, OSError) as exc:
        log.warning("retention sweep failed (%s); retrying next round", type(exc).__name__)
        return 0
    except Exception:  # a bug must not stop deletion for good; it is logged loudly
        log.exception("retention sweep failed unexpectedly; retrying next round")
        return 0
    if deleted:
        metrics.RETENTION_DELETED.inc(deleted)
        log.info("retention sweep deleted %d record(s)", deleted)
    return deleted


async def sweep_forever(oem: Redis, clock: Clock, stop: asyncio.Event, *,
                        interval_s: float = INTERVAL_S, batch: int = SWEEP_BATCH,
                        wake: asyncio.Event | None = None) -> int:
    """Sweep every ``interval_s`` until ``stop`` is set; return how many records went.

    ``wake`` starts a round at once: the clock follower sets it when virtual time jumps,
    so a record falls due and goes on the scenario's day, not a round later. Bad
    settings fail here, at once, rather than in every round.
    """
    if batch < 1 or not interval_s > 0:
        raise ValueError(f"batch {batch} must be >= 1 and interval_s {interval_s} > 0")
    total = 0
    while not stop.is_set():
        if wake is not None:
            wake.clear()
        total += await sweep_round(oem, clock, batch=batch)
        waits = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        _, pending = await asyncio.wait(waits, timeout=interval_s,
                                        return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()
    return total
