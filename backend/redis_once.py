"""Write a record only if its key does not exist yet, safely against a concurrent writer.

Cases and campaigns are created from redeliverable messages and retried API calls;
WATCH on the key makes the check and the write one step, so a second creation of the
same id never overwrites the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

WATCH_TRIES: Final = 8


async def create_once(oem: Redis, key: str, write: Callable[[Pipeline], None], *,
                      tries: int = WATCH_TRIES) -> bool:
    """Queue ``write`` in a transaction unless ``key`` exists; True when this call wrote."""
    for _ in range(tries):
        async with oem.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                if await pipe.exists(key):
                    return False
                pipe.multi()  # type: ignore[no-untyped-call]
                write(pipe)
                await pipe.execute()
                return True
            except WatchError:
                continue
    return False
