"""Request dependencies: the stores and the downlink, taken from the app's lifespan state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from redis.asyncio import Redis

from backend.clock_follower import BackendClock
from backend.incidents import DeskStores
from backend.relay import Publish


@dataclass
class ApiState:
    stores: DeskStores
    publish: Publish
    oem: Redis
    clock: BackendClock


def get_state(request: Request) -> ApiState:
    state: ApiState = request.state.api
    return state


StateDep = Annotated[ApiState, Depends(get_state)]
# The page size of every list route: bounded, so no request asks Redis for everything.
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many, newest first")]
