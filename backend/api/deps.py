"""Request dependencies: the stores and the downlink, taken from the app's lifespan state,
and the OTA desk a request moves campaigns and sends commands with.

``StateDep`` is also the edge where Redis errors end: a Redis call failing anywhere under
a request that uses the stores fails the request with ``StoreUnavailableError`` (503),
so no handler and no store catches the library's errors for the API's sake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from redis.asyncio import Redis

from backend.api.errors import RequestRuleError
from backend.emergency.incidents import DeskStores
from backend.infra.clock_follower import FollowingClock
from backend.infra.counters import Counters
from backend.infra.store_errors import unavailable_on_redis_error
from backend.ota.lane import OtaDesk
from backend.ota.vehicle_facts import VIN_PATTERN
from protocols.topics import Publish


@dataclass
class ApiState:
    stores: DeskStores
    publish: Publish
    oem: Redis
    clock: FollowingClock


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """422 for a query parameter the route does not take: a typo such as ``?limt=5`` must
    not be answered as if it had not been asked."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestRuleError(
            f"unknown query parameter {unknown[0]!r}", field=unknown[0],
            rule=f"one of: {', '.join(sorted(known))}" if known else "no query parameters")


async def get_state(request: Request) -> AsyncIterator[ApiState]:
    """The app's stores for one request; a Redis error under it is the store unavailable."""
    state: ApiState = request.state.api
    with unavailable_on_redis_error():
        yield state


async def get_ota_desk(state: Annotated[ApiState, Depends(get_state)]
                       ) -> AsyncIterator[OtaDesk]:
    """An OtaDesk over the API's downlink; its counters go to Redis after the request."""
    counters = Counters()
    try:
        yield OtaDesk(state.oem, publish=state.publish, counters=counters, clock=state.clock)
    finally:
        await counters.flush_quietly(state.oem)


StateDep = Annotated[ApiState, Depends(get_state)]
OtaDeskDep = Annotated[OtaDesk, Depends(get_ota_desk)]
# The page size of every list route: bounded, so no request asks Redis for everything.
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many, newest first")]
VinPath = Annotated[str, Path(pattern=VIN_PATTERN, description="17 chars of ISO 3779")]
