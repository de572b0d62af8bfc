"""The loop every desk runs: read its streams through a consumer group, record, acknowledge.

A desk acknowledges (XACK) an entry only after it has recorded it, so a desk that
restarts finds its pending incidents: on start it first reads its own pending entries
(id ``0``), then new ones (``>``), and it takes over what a dead desk left pending.
An entry that cannot be recorded is parked in a dead-letter stream and counted, never
retried forever; a store that is unreachable leaves it pending, to be read again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from backend.emergency.edges import Intake
from backend.emergency.errors import MalformedEntryError
from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.redis_retry import WAITED_OUT
from backend.infra.streams import Delivery
from protocols.errors import ProtocolError

log = logging.getLogger(__name__)

Clock = Callable[[], int]
CLAIM_IDLE_MS: Final = 30_000
BATCH: Final = 100


class Proof(Protocol):
    """What a desk loop tells about itself (``backend.infra.readiness.PartProver``)."""

    async def prove(self) -> None: ...

    def alive(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamSpec:
    stream: str
    group: str


class DeskConsumer:
    """Reads one or more streams of a group, pending first, and hands entries to ``record``.

    ``transit_only`` streams are queues, not stores: an entry is deleted once recorded,
    so nothing of it outlives the record and its retention rule.
    """

    transit_only = False
    prover: Proof | None = None

    def __init__(self, intake: Intake, specs: Sequence[StreamSpec], *, consumer: str,
                 counters: Counters, clock_ns: Clock = time.time_ns) -> None:
        self._intake = intake
        self._specs = list(specs)
        self._consumer = consumer
        self._counters = counters
        self._clock_ns = clock_ns

    async def setup(self) -> None:
        for spec in self._specs:
            await self._intake.ensure_group(spec.stream, spec.group)

    async def record(self, stream: str, entry_id: str, fields: Mapping[bytes, bytes],
                     received_ns: int) -> None:
        raise NotImplementedError

    async def drain(self, *, pending: bool, block_ms: int | None) -> int:
        """Read and record one batch per group; return how many entries were handled."""
        handled = 0
        groups: dict[str, dict[str, str]] = {}
        for spec in self._specs:
            groups.setdefault(spec.group, {})[spec.stream] = "0" if pending else ">"
        for group, streams in groups.items():
            deliveries = await self._intake.read_group(group, self._consumer, streams,
                                                       count=BATCH, block_ms=block_ms)
            received_ns = self._clock_ns()
            for delivery in deliveries:
                if not delivery.fields:  # already deleted while pending
                    await self._intake.ack(delivery.stream, group, delivery.entry_id)
                    continue
                await self._record_safely(group, delivery, received_ns)
                handled += 1
        return handled

    async def _record_safely(self, group: str, delivery: Delivery, received_ns: int) -> None:
        """Record, then XACK; an entry that cannot be recorded is parked, never retried forever.

        Store errors propagate (the entry stays pending and is read again after
        reconnecting). Anything else would fail again on every restart, so the entry is
        copied to ``{stream}:dead`` for inspection, counted, and acknowledged.
        """
        stream, entry_id = delivery.stream, delivery.entry_id
        try:
            await self.record(stream, entry_id, delivery.fields, received_ns)
        except WAITED_OUT:
            raise
        except (ProtocolError, MalformedEntryError) as exc:
            self._counters.bump(keys.ERROR_COUNTERS, f"desk:{exc.field}:{exc.rule}")
            log.warning("desk parked malformed entry %s: field=%s rule=%s", entry_id,
                        exc.field, exc.rule)
            await self._intake.park(stream, entry_id, delivery.fields,
                                    f"{exc.field}: {exc.rule}")
        except Exception as exc:
            self._counters.bump(keys.ERROR_COUNTERS, f"desk:unreadable:{type(exc).__name__}")
            log.warning("desk parked unreadable entry %s (%s)", entry_id, type(exc).__name__)
            await self._intake.park(stream, entry_id, delivery.fields, type(exc).__name__)
        await self._intake.ack(stream, group, entry_id)
        if self.transit_only:
            await self._intake.delete(stream, entry_id)

    async def claim_abandoned(self) -> int:
        """Take over entries another consumer of the group read but never acknowledged.

        A desk worker that died for good leaves its pending entries behind; after
        ``CLAIM_IDLE_MS`` any live desk records them.
        """
        handled = 0
        for spec in self._specs:
            deliveries = await self._intake.claim_idle(spec.stream, spec.group, self._consumer,
                                                       min_idle_ms=CLAIM_IDLE_MS, count=BATCH)
            received_ns = self._clock_ns()
            for delivery in deliveries:
                if delivery.fields:
                    await self._record_safely(spec.group, delivery, received_ns)
                    handled += 1
        return handled

    async def run(self, stop: asyncio.Event) -> None:
        """Recover pending entries, then consume until ``stop`` is set; survive Redis restarts."""
        delay = 0.05
        recovered = False
        last_claim = time.monotonic()
        while not stop.is_set():
            try:
                if not recovered:
                    await self.setup()
                    while await self.drain(pending=True, block_ms=None):
                        pass
                    await self.claim_abandoned()
                    recovered = True
                    last_claim = time.monotonic()
                await self.drain(pending=False, block_ms=500)
                if time.monotonic() - last_claim > CLAIM_IDLE_MS / 1000:
                    await self.claim_abandoned()
                    last_claim = time.monotonic()
                delay = 0.05
                if self.prover is not None:
                    await self.prover.prove()
            except WAITED_OUT as exc:
                if self.prover is not None:
                    self.prover.alive()  # not hung: waiting for Redis, which a restart won't mend
                recovered = False
                log.warning("desk lost Redis (%s); retrying in %.2fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
