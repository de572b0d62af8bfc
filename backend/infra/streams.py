"""Durable hand-off through Redis Streams, with de-duplication in the same round trip.

QoS 1 redelivers a message when the broker did not see our PUBACK (worker crash, broker
restart), so the same (incident, messageIdentifier) can arrive twice. One Lua script sets
the de-duplication key and appends to the stream atomically: the hand-off either happened
once or not at all, in one round trip on the eCall path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import ResponseError

_DEDUP_XADD: Final = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
end
return false
"""
STREAM_MAXLEN: Final = 100_000


class StreamWriter:
    """Appends entries to streams of one Redis database, de-duplicating by key."""

    def __init__(self, redis: Redis, *, dedup_ttl_s: int) -> None:
        self._redis = redis
        self._ttl = dedup_ttl_s
        self._script = redis.register_script(_DEDUP_XADD)

    async def append_once(
        self, stream: str, dedup_key: str, fields: Mapping[str, bytes | str | int]
    ) -> str | None:
        """Append unless ``dedup_key`` was seen; return the entry id, or None if a duplicate."""
        args: list[bytes | str | int] = [self._ttl, STREAM_MAXLEN]
        for name, value in fields.items():
            args.extend((name, value))
        entry = await self._script(keys=[dedup_key, stream], args=args)
        if entry is None:
            return None
        return entry.decode() if isinstance(entry, bytes) else str(entry)


async def ensure_group(redis: Redis, stream: str, group: str) -> None:
    """Create the consumer group (and stream) if missing; idempotent."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
