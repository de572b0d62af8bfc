"""Request dependencies: the stores and the downlink, taken from the app's lifespan state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from redis.asyncio import Redis

from backend.emergency.incidents import DeskStores
from backend.infra.clock_follower import FollowingClock
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
        raise HTTPException(status_code=422, detail={
            "message": f"unknown query parameter {unknown[0]!r}", "field": unknown[0],
            "rule": f"one of: {', '.join(sorted(known))}" if known else "no query parameters"})


def get_state(request: Request) -> ApiState:
    state: ApiState = request.state.api
    return state


StateDep = Annotated[ApiState, Depends(get_state)]
# The page size of every list route: bounded, so no request asks Redis for everything.
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many, newest first")]
VinPath = Annotated[str, Path(pattern=VIN_PATTERN, description="17 chars of ISO 3779")]
