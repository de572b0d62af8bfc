"""Redis streams in memory: de-duplicated appends, consumer groups, pending entries,
claims of idle entries and dead letters (``StreamAppender`` and ``Intake``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from backend.infra.streams import Delivery, FieldValue
from tests.fakes import as_stored


@dataclass
class _Pending:
    consumer: str
    delivered_ms: int


@dataclass
class _Group:
    next_index: int = 0  # position in the stream of the first entry not yet delivered
    pending: dict[str, _Pending] = field(default_factory=dict)


class FakeStreams:
    """The streams of one database. ``now_ms`` is the clock claims measure idleness by;
    ``fail_next`` makes the next calls fail as an unreachable Redis does."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, dict[bytes, bytes]]] = {}
        self.order: dict[str, list[str]] = {}
        self.seen: set[str] = set()
        self.groups: dict[tuple[str, str], _Group] = {}
        self.dead: dict[str, list[tuple[str, dict[bytes, bytes], str]]] = {}
        self.now_ms = 0
        self.appends = 0  # calls of append_once that reached the store
        self._failures = 0
        self._sequence = 0
        self._appended = asyncio.Event()

    def fail_next(self, calls: int) -> None:
        self._failures = calls

    def _reach(self) -> None:
        if self._failures:
            self._failures -= 1
            raise RedisConnectionError("store unreachable (fake)")

    def stream(self, name: str) -> list[dict[bytes, bytes]]:
        """The entries of ``name`` still in it, oldest first."""
        return [self.entries[name][entry_id] for entry_id in self.order.get(name, [])
                if entry_id in self.entries[name]]

    async def append_once(self, stream: str, dedup_key: str,
                          fields: Mapping[str, FieldValue]) -> str | None:
        self._reach()
        self.appends += 1
        if dedup_key in self.seen:
            return None
        self.seen.add(dedup_key)
        self._sequence += 1
        entry_id = f"{self._sequence}-0"
        self.entries.setdefault(stream, {})[entry_id] = as_stored(fields)
        self.order.setdefault(stream, []).append(entry_id)
        self._appended.set()
        return entry_id

    async def ensure_group(self, stream: str, group: str) -> None:
        self._reach()
        self.entries.setdefault(stream, {})
        self.order.setdefault(stream, [])
        self.groups.setdefault((stream, group), _Group())

    def _group(self, stream: str, group: str) -> _Group:
        try:
            return self.groups[(stream, group)]
        except KeyError:
            raise ResponseError(f"NOGROUP no group {group} on {stream} (fake)") from None

    def _read(self, stream: str, group: str, consumer: str, start: str,
              count: int) -> list[Delivery]:
        state = self._group(stream, group)
        if start != ">":  # this consumer's pending entries, deleted ones with no fields
            mine = [i for i, p in state.pending.items() if p.consumer == consumer][:count]
            return [Delivery(stream, i, self.entries[stream].get(i, {})) for i in mine]
        fresh = self.order[stream][state.next_index:state.next_index + count]
        state.next_index += len(fresh)
        out = []
        for entry_id in fresh:
            if entry_id in self.entries[stream]:
                state.pending[entry_id] = _Pending(consumer, self.now_ms)
                out.append(Delivery(stream, entry_id, self.entries[stream][entry_id]))
        return out

    async def read_group(self, group: str, consumer: str, streams: Mapping[str, str], *,
                         count: int, block_ms: int | None) -> list[Delivery]:
        self._reach()
        found = [d for stream, start in streams.items()
                 for d in self._read(stream, group, consumer, start, count)]
        if found or block_ms is None or any(start != ">" for start in streams.values()):
            return found
        self._appended.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._appended.wait(), block_ms / 1000)
        return [d for stream, start in streams.items()
                for d in self._read(stream, group, consumer, start, count)]

    async def claim_idle(self, stream: str, group: str, consumer: str, *, min_idle_ms: int,
                         count: int) -> list[Delivery]:
        self._reach()
        state = self._group(stream, group)
        idle = [i for i, p in state.pending.items()
                if self.now_ms - p.delivered_ms >= min_idle_ms][:count]
        out = []
        for entry_id in idle:
            fields = self.entries[stream].get(entry_id)
            if fields is None:  # deleted meanwhile: Redis drops it from the pending list
                del state.pending[entry_id]
                continue
            state.pending[entry_id] = _Pending(consumer, self.now_ms)
            out.append(Delivery(stream, entry_id, fields))
        return out

    async def ack(self, stream: str, group: str, entry_id: str) -> None:
        self._reach()
        self._group(stream, group).pending.pop(entry_id, None)

    async def delete(self, stream: str, entry_id: str) -> None:
        self._reach()
        self.entries.get(stream, {}).pop(entry_id, None)

    async def park(self, stream: str, entry_id: str, fields: Mapping[bytes, bytes],
                   reason: str) -> None:
        self._reach()
        self.dead.setdefault(stream, []).append((entry_id, dict(fields), reason))

    def pending(self, stream: str, group: str) -> dict[str, str]:
        """entry id → the consumer holding it, of entries read and not acknowledged."""
        return {i: p.consumer for i, p in self._group(stream, group).pending.items()}
