"""HTTP routes of the API's own health: liveness and readiness are open (an orchestrator
asks them), the health detail (counters, lanes) is the operator's.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from backend.api.access_deps import operator_only
from backend.api.deps import StateDep
from backend.api.error_statuses import GUARDED, errors
from backend.api.schemas.health import HealthLive, HealthPublic, ReadyPublic
from backend.infra import keys
from backend.infra.readiness import REQUIRED_LANES, lane_states, lanes_ready

router = APIRouter(tags=["health"])


# /ready answers within this even when Redis hangs (a paused or overloaded Redis is red).
READY_REDIS_TIMEOUT_S = 1.0


@router.get("/ready", response_model=ReadyPublic, responses={
    503: {"model": ReadyPublic,
          "description": "a required lane has not proved its path within the last seconds, "
                         "or Redis did not answer within a second"}})
async def read_ready(state: StateDep) -> JSONResponse:
    """200 while every required lane has proved its broker and Redis path within
    ``backend.infra.readiness.LANE_STALE_S``, else 503: what an orchestrator waits for.
    Shows one boolean per lane, nothing else."""
    try:
        raw = cast(dict[bytes, bytes], await asyncio.wait_for(
            state.oem.hgetall(keys.READY), READY_REDIS_TIMEOUT_S))
        lanes = {k.decode(): float(v) for k, v in raw.items()}
    except (RedisError, OSError, TimeoutError):
        down = ReadyPublic(ready=False, redis=False, lanes=dict.fromkeys(REQUIRED_LANES, False))
        return JSONResponse(down.model_dump(), status_code=503)
    states = lane_states(lanes, now=time.time())
    ready = all(states.values())
    return JSONResponse(ReadyPublic(ready=ready, redis=True, lanes=states).model_dump(),
                        status_code=200 if ready else 503)


@router.get("/health", response_model=HealthLive)
async def read_liveness() -> HealthLive:
    """The API process answers; nothing about the platform's traffic."""
    return HealthLive(status="ok")


@router.get("/health/detail", response_model=HealthPublic, responses=errors(*GUARDED),
            dependencies=[Depends(operator_only("health detail"))])
async def read_health(state: StateDep) -> HealthPublic:
    """Redis reachable, each lane's last heartbeat, readiness, ingest and error counters."""
    try:
        await state.oem.ping()
        counters = {}
        for family in (keys.INGEST_COUNTERS, keys.ERROR_COUNTERS, keys.BULK_COUNTERS,
                       "metrics:desks"):
            raw = cast(dict[bytes, bytes], await state.oem.hgetall(family))
            counters[family] = {k.decode(): int(v) for k, v in raw.items()}
        ready = cast(dict[bytes, bytes], await state.oem.hgetall(keys.READY))
        lanes = {k.decode(): float(v) for k, v in ready.items()}
    except RedisError:
        return HealthPublic(status="degraded", redis=False, ready=False, lanes={}, counters={})
    return HealthPublic(status="ok", redis=True, ready=lanes_ready(lanes, now=time.time()),
                        lanes=lanes, counters=counters)
