"""Each role's ``/metrics`` for Prometheus, on a port of its own, loopback by default.

Every role, the API included, serves its registry (``backend.infra.metrics``) on
``metrics_host`` at ``metrics_port`` plus the role's place in ``ROLES``; a ``metrics_port``
of 0 (the default) serves nothing. The API's metrics are not a route of the API: the API
is the port a deployment exposes and guards with bearer tokens, Prometheus scrapes
without them, and a loopback (or cluster-internal) port keeps the two apart without
minting a scraper a token.

The endpoint runs on the role's own event loop, so reading the lanes' counters needs no
lock, and samples Redis (stream lag, budget refusals) when scraped, with clients of its
own: a lane whose pool is exhausted still gets scraped, and its pool is seen full.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Final, cast

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from backend.emergency.psap_directory import desks as psap_desks
from backend.infra import keys, metrics
from backend.privacy import budget_store
from backend.runtime.role_names import ROLES, Role
from backend.settings import BackendSettings

log = logging.getLogger(__name__)
# Where a local stack's roles serve their metrics when those ports are free (9101-9105).
DEFAULT_METRICS_PORT: Final = 9101
SAMPLE_TIMEOUT_S: Final = 2.0
REQUEST_TIMEOUT_S: Final = 5.0
Sampler = Callable[[], Awaitable[None]]


def metrics_port(settings: BackendSettings, role: Role) -> int | None:
    """The port ``role`` serves its metrics on (pure); None when metrics are off."""
    if not settings.metrics_port:
        return None
    return settings.metrics_port + ROLES.index(role)


def metrics_urls(settings: BackendSettings, roles: Sequence[Role] = ROLES) -> dict[Role, str]:
    """Where each role's metrics are scraped, for a line that tells the operator (pure)."""
    ports = {role: metrics_port(settings, role) for role in roles}
    return {role: f"http://{settings.metrics_host}:{port}/metrics"
            for role, port in ports.items() if port is not None}


def free_metrics_port(host: str = "127.0.0.1", *, start: int = DEFAULT_METRICS_PORT,
                      tries: int = 50) -> int:
    """A first port from ``start`` on with one free port per role after it, for a local
    stack; 0 (metrics off) when none of ``tries`` blocks is free."""
    for base in range(start, start + tries * len(ROLES), len(ROLES)):
        if all(port_is_free(host, base + offset) for offset in range(len(ROLES))):
            return base
    return 0


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``port`` of ``host`` right now (a bind that succeeds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def sample_pools(pools: Mapping[str, ConnectionPool]) -> None:
    """The lanes' Redis pools as gauges: lent out, open and free, the most they open."""
    for name, pool in pools.items():
        metrics.POOL_IN_USE.labels(name).set(len(getattr(pool, "_in_use_connections", ())))
        metrics.POOL_IDLE.labels(name).set(len(getattr(pool, "_available_connections", ())))
        metrics.POOL_MAX.labels(name).set(pool.max_connections)


async def sample_streams(redis: Redis, streams: Sequence[str]) -> None:
    """Each desk stream's consumer groups: entries not yet read (lag) and read but not
    acknowledged (pending). A stream not created yet has nothing to report."""
    for stream in streams:
        try:
            groups = cast(list[dict[str, object]], await redis.xinfo_groups(stream))
        except RedisError as exc:
            if "no such key" in str(exc).lower():
                continue
            raise
        for group in groups:
            name = _text(group.get("name"))
            metrics.STREAM_PENDING.labels(stream, name).set(_number(group.get("pending")))
            metrics.STREAM_LAG.labels(stream, name).set(_number(group.get("lag")))


async def sample_budget(redis: Redis) -> None:
    raw = cast(dict[bytes, bytes], await redis.hgetall(budget_store.REJECTED))
    metrics.LANES.budget_rejected = {k.decode(): int(v) for k, v in raw.items()}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: object) -> float:
    """XINFO's count; ``lag`` is nil when Redis cannot tell (after deletions): -1 then."""
    return float(value) if isinstance(value, int | float) else -1.0


class MetricsEndpoint:
    """The scrape answer of one role: samples what it watches, then the registry's text."""

    def __init__(self, samplers: Mapping[str, Sampler],
                 pools: Mapping[str, ConnectionPool]) -> None:
        self._samplers = samplers
        self._pools = pools

    async def sample(self) -> None:
        sample_pools(self._pools)
        names = list(self._samplers)
        results = await asyncio.gather(
            *(asyncio.wait_for(self._samplers[n](), SAMPLE_TIMEOUT_S) for n in names),
            return_exceptions=True)
        for name, result in zip(names, results, strict=True):
            if isinstance(result, Exception):
                metrics.SAMPLE_FAILURES.labels(name).inc()
                log.debug("metrics: sampling %s failed (%s)", name, type(result).__name__)

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT_S)
            method, target, *_ = [*head.split(b"\r\n", 1)[0].split(b" "), b"", b""]
            if method == b"GET" and target.split(b"?")[0] == b"/metrics":
                await self.sample()
                status, kind, body = "200 OK", CONTENT_TYPE_LATEST, generate_latest(
                    metrics.REGISTRY)
            else:
                status, kind, body = "404 Not Found", "text/plain", b"only GET /metrics\n"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: "
                         f"{len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _samplers(role: Role, settings: BackendSettings,
              clients: list[Redis]) -> dict[str, Sampler]:
    """What ``role`` samples from Redis when scraped, on small clients of its own."""

    def client(url: str, db: int) -> Redis:
        made = Redis.from_url(url, db=db, max_connections=2, socket_timeout=SAMPLE_TIMEOUT_S,
                              socket_connect_timeout=SAMPLE_TIMEOUT_S)
        clients.append(made)
        return made

    if role == "desks":
        oem = client(settings.redis_url, settings.oem_db)
        psap = client(settings.psap_url, settings.psap_db)
        desks = [keys.psap_stream(d) for d in psap_desks()]
        return {"callcentre_stream": lambda: sample_streams(oem, [keys.CALLCENTRE_STREAM]),
                "psap_streams": lambda: sample_streams(psap, desks)}
    if role == "services":
        # The refusals are fleet-wide in Redis: one role exports them, or a sum would count
        # them once per role.
        budget = client(settings.redis_url, settings.oem_db)
        return {"budget": lambda: sample_budget(budget)}
    return {}


@contextlib.asynccontextmanager
async def metrics_served(role: Role, settings: BackendSettings,
                         pools: Mapping[str, ConnectionPool]) -> AsyncIterator[str | None]:
    """Serve ``role``'s metrics while the body runs; yields the URL, None when off. A port
    already taken is said in one line and the role runs without metrics: a scrape
    endpoint is not worth an eCall lane that does not start."""
    metrics.ROLE.labels(role, settings.worker_id).set(1)
    port = metrics_port(settings, role)
    if port is None:
        yield None
        return
    clients: list[Redis] = []
    endpoint = MetricsEndpoint(_samplers(role, settings, clients), pools)
    try:
        server = await asyncio.start_server(endpoint.answer, settings.metrics_host, port)
    except OSError as exc:
        log.error("%s: cannot serve metrics on %s:%d (%s); running without them", role,
                  settings.metrics_host, port, exc.strerror or type(exc).__name__)
        server = None
    try:
        yield None if server is None else f"http://{settings.metrics_host}:{port}/metrics"
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
        for made in clients:
            await made.aclose()
