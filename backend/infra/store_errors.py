"""Where a caller must not see the Redis library's errors, they become the backend's own.

A lane waits Redis errors out (``backend.infra.redis_retry``); a request cannot wait, so
the HTTP API wraps each request in ``unavailable_on_redis_error``: whatever Redis call
under it fails, the request fails with ``StoreUnavailableError`` (the store is down, the
request was fine: retry later). The domain's stores raise and catch the library's
errors as they need (``WatchError`` drives every optimistic write), so the mapping
happens here, at the edge, and nowhere deeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError

from backend.infra.errors import StoreUnavailableError


@contextmanager
def unavailable_on_redis_error() -> Iterator[None]:
    """Inside, a Redis error is ``StoreUnavailableError`` naming the library's error."""
    try:
        yield
    except RedisError as exc:
        raise StoreUnavailableError(
            f"Redis unavailable ({type(exc).__name__}); retry later") from exc
