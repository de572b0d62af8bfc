"""HTTP routes of the API's own health: liveness and readiness are open (an orchestrator
asks them), the health detail (counters, lanes) is the operator's.

Both readiness and the detail answer while Redis is down, saying so, rather than failing:
here a Redis outage is the answer, not an error.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from backend.api.access_deps import operator_only
from backend.api.deps import StateDep
from backend.api.error_statuses import GUARDED, errors
from backend.api.schemas.health import HealthLive, HealthPublic, ReadyPublic
from backend.infra import keys
from backend.infra.counters import read_counters
from backend.infra.errors import StoreUnavailableError
from backend.infra.readiness import REQUIRED_LANES, lane_proofs, lane_states, lanes_ready
from backend.infra.store_errors import unavailable_on_redis_error

router = APIRouter(tags=["health"])

# /ready answers within this even when Redis hangs (a paused or overloaded Redis is red).
READY_REDIS_TIMEOUT_S: Final = 1.0
COUNTER_FAMILIES: Final = (keys.INGEST_COUNTERS, keys.ERROR_COUNTERS, keys.BULK_COUNTERS,
                           keys.DESK_COUNTERS)


@router.get("/ready", response_model=ReadyPublic, responses={
    503: {"model": ReadyPublic,
          "description": "a required lane has not proved its path within the last seconds, "
                         "or Redis did not answer within a second"}})
async def read_ready(state: StateDep) -> JSONResponse:
    """200 while every required lane has proved its broker and Redis path within
    ``backend.infra.readiness.LANE_STALE_S``, else 503: what an orchestrator waits for.
    Shows one boolean per lane, nothing else."""
    try:
        with unavailable_on_redis_error():
            lanes = await asyncio.wait_for(lane_proofs(state.oem), READY_REDIS_TIMEOUT_S)
    except (StoreUnavailableError, OSError, TimeoutError):
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
        with unavailable_on_redis_error():
            counters = await read_counters(state.oem, COUNTER_FAMILIES)
            lanes = await lane_proofs(state.oem)
    except StoreUnavailableError:
        return HealthPublic(status="degraded", redis=False, ready=False, lanes={}, counters={})
    return HealthPublic(status="ok", redis=True, ready=lanes_ready(lanes, now=time.time()),
                        lanes=lanes, counters=counters)
