"""Request dependencies: the stores and the downlink, taken from the app's lifespan state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
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
