"""Durable hand-off through Redis Streams, with de-duplication in the same round trip.

QoS 1 redelivers a message when the broker did not see our PUBACK (worker crash, broker
restart), so the same (incident, messageIdentifier) can arrive twice. One Lua script sets
the de-duplication key and appends to the stream atomically: the hand-off either happened
once or not at all, in one round trip on the eCall path.

The reading side is ``StreamGroups``: consumer groups, acknowledgement, the claim of
entries a dead consumer left pending, and the dead-letter stream of entries nobody can
read. Both classes are the Redis adapters of the edges ``backend.emergency.edges`` names;
Redis errors pass through them unchanged, for the callers' retry loops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT

_DEDUP_XADD: Final = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
end
return false
"""
STREAM_MAXLEN: Final = 100_000
DEAD_MAXLEN: Final = 10_000

FieldValue: TypeAlias = bytes | str | int | float
_Reply: TypeAlias = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One entry as a consumer group hands it out; ``fields`` is empty when the entry was
    deleted while it was still pending."""

    stream: str
    entry_id: str
    fields: Mapping[bytes, bytes]


class StreamWriter:
    """Appends entries to streams of one Redis database, de-duplicating by key."""

    def __init__(self, redis: Redis, *, dedup_ttl_s: int) -> None:
        self._redis = redis
        self._ttl = dedup_ttl_s
        self._script = redis.register_script(_DEDUP_XADD)

    async def append_once(
        self, stream: str, dedup_key: str, fields: Mapping[str, FieldValue]
    ) -> str | None:
        """Append unless ``dedup_key`` was seen; return the entry id, or None if a duplicate."""
        args: list[FieldValue] = [self._ttl, STREAM_MAXLEN]
        for name, value in fields.items():
            args.extend((name, value))
        entry = await self._script(keys=[dedup_key, stream], args=args)
        if entry is None:
            return None
        return entry.decode() if isinstance(entry, bytes) else str(entry)


class StreamGroups:
    """Consumer groups on the streams of one Redis database (a bytes connection)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def ensure_group(self, stream: str, group: str) -> None:
        """Create the consumer group (and stream) if missing; idempotent."""
        try:
            await self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_group(self, group: str, consumer: str, streams: Mapping[str, str], *,
                         count: int, block_ms: int | None) -> list[Delivery]:
        """One XREADGROUP over ``streams`` (stream → ``>`` for new entries, ``0`` for this
        consumer's pending ones)."""
        batches = cast(list[tuple[bytes, _Reply]] | None, await self._redis.xreadgroup(
            group, consumer, dict(streams), count=count, block=block_ms))  # type: ignore[arg-type]
        return [Delivery(raw_stream.decode(), entry_id.decode(), fields or {})
                for raw_stream, entries in batches or [] for entry_id, fields in entries]

    async def claim_idle(self, stream: str, group: str, consumer: str, *, min_idle_ms: int,
                         count: int) -> list[Delivery]:
        """Take over entries another consumer read and left unacknowledged for
        ``min_idle_ms`` (XAUTOCLAIM)."""
        reply = await self._redis.xautoclaim(stream, group, consumer, min_idle_time=min_idle_ms,
                                             count=count)
        return [Delivery(stream, entry_id.decode(), fields or {})
                for entry_id, fields in cast(_Reply, reply[1])]

    async def ack(self, stream: str, group: str, entry_id: str) -> None:
        await self._redis.xack(stream, group, entry_id)

    async def delete(self, stream: str, entry_id: str) -> None:
        await self._redis.xdel(stream, entry_id)

    async def park(self, stream: str, entry_id: str, fields: Mapping[bytes, bytes],
                   reason: str) -> None:
        """Copy an entry nobody can read to ``{stream}:dead``, with why, for inspection."""
        parked: dict[EncodableT, EncodableT] = {b"entry": entry_id, b"reason": reason}
        for name, value in fields.items():
            parked[name] = value
        await self._redis.xadd(f"{stream}:dead", parked, maxlen=DEAD_MAXLEN, approximate=True)
