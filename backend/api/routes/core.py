"""HTTP routes: health, desks, incidents per desk, incident detail, MSD update request.

``/health`` (liveness only) and ``/ready`` are open; the health detail (counters, lanes)
is the operator's. Every desk route needs a caller (a bearer token) and is guarded by
``backend.api.access``: a PSAP reads only its own desk, the call centre only its own, and
``/desks`` lists only the desks the caller works at.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from backend.api.access import Desk, DeskDirectory, visible_desks
from backend.api.access_deps import CallerDep, operator_only, require
from backend.api.deps import Limit, StateDep
from backend.api.schemas import (
    GUARDED,
    DesksPublic,
    HealthLive,
    HealthPublic,
    IncidentsPublic,
    MsdRequestPublic,
    ReadyPublic,
    errors,
)
from backend.emergency.errors import DeskError
from backend.emergency.incidents import all_desks, list_incidents, read_incident, vin_of
from backend.infra import keys
from backend.infra.readiness import REQUIRED_LANES, lane_states, lanes_ready
from protocols.envelope import MsdRequest, pack
from protocols.errors import TopicError
from protocols.topics import msd_request_topic

router = APIRouter()


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


@router.get("/desks", response_model=DesksPublic, responses=errors(*GUARDED))
async def read_desks(caller: CallerDep) -> DesksPublic:
    require(caller, DeskDirectory())
    return DesksPublic(data=visible_desks(caller, all_desks()))


@router.get("/desks/{desk}/incidents", response_model=IncidentsPublic,
            responses=errors(*GUARDED, 404))
async def read_desk_incidents(desk: str, state: StateDep, caller: CallerDep,
                              limit: Limit = 100) -> IncidentsPublic:
    require(caller, Desk(desk))
    try:
        data = await list_incidents(state.stores, desk, limit=limit)
    except DeskError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    return IncidentsPublic(desk=desk, count=len(data), data=data)


@router.get("/desks/{desk}/incidents/{incident}", responses=errors(*GUARDED, 404))
async def read_desk_incident(desk: str, incident: str, state: StateDep,
                             caller: CallerDep) -> dict[str, object]:
    require(caller, Desk(desk))
    try:
        return await read_incident(state.stores, desk, incident)
    except DeskError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


@router.post("/desks/{desk}/incidents/{incident}/msd-request", response_model=MsdRequestPublic,
             status_code=202, responses=errors(*GUARDED, 404, 409))
async def request_msd_update(desk: str, incident: str, state: StateDep,
                             caller: CallerDep) -> MsdRequestPublic:
    """Ask the car for a fresh MSD; it arrives on the incident as a new transmission."""
    require(caller, Desk(desk, "msd_request"))
    try:
        record = await read_incident(state.stores, desk, incident)
        topic = msd_request_topic(vin_of(record))
    except DeskError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except TopicError as exc:
        raise HTTPException(status_code=409, detail=f"no VIN to reach: {exc}") from None
    state.publish(topic, pack(MsdRequest(incident, desk, time.time_ns())))
    return MsdRequestPublic(incident=incident, desk=desk, topic=topic, requested=True)
