"""Optimistic writes under WATCH: create a record once, or read-modify-write it.

Cases and campaigns are created from redeliverable messages and retried API calls;
WATCH on the key makes the check and the write one step, so a second creation of the
same id never overwrites the first, and two writers moving the same record (a car's
report and an operator's pause, a closure and a sweep) cannot overwrite each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

WATCH_TRIES: Final = 8
T = TypeVar("T")


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


async def under_watch(oem: Redis, key: str, body: Callable[[Pipeline], Awaitable[T]], *,
                      give_up: Callable[[], Exception], tries: int = WATCH_TRIES) -> T:
    """Run ``body`` on a pipeline that WATCHes ``key``: it reads, calls ``multi()``,
    queues its writes and executes. If another writer changed ``key`` meanwhile, it runs
    again on the newer value; after ``tries`` such races ``give_up()`` is raised."""
    for _ in range(tries):
        async with oem.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                return await body(pipe)
            except WatchError:
                continue
    raise give_up()
