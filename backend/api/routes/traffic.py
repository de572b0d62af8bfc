"""HTTP route of the traffic providers: anonymised warnings for other road users.

Intelligent eCall lets "current location and warnings ... go anonymously to external traffic
providers to warn other road users" (MINI Connected §7a, docs/requirements.md#ecall-r8). The
feed is built from the OEM side only (the call centre's open cases; the PSAP database is the
authority's) and says what happened, roughly where (0.01 degree, about 1 km) and roughly
when (the five minutes it fell in): no VIN, no incident or case id, no
MSD, no occupants. Which services feed it, and how a case becomes a warning, is decided
in ``backend.api.access``; the response model below has no field that could carry more.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.access import (
    POSITION_DECIMALS,
    TIME_BUCKET_S,
    TrafficWarnings,
    require,
    traffic_warnings,
)
from backend.api.access_deps import CallerDep
from backend.api.deps import StateDep
from backend.api.schemas.traffic import TrafficWarningPublic, TrafficWarningsPublic
from backend.emergency.incidents import list_incidents
from backend.emergency.relay import CALLCENTRE_DESK

router = APIRouter(prefix="/traffic", tags=["traffic"])


@router.get("/warnings", response_model=TrafficWarningsPublic)
async def read_traffic_warnings(
        state: StateDep, caller: CallerDep,
        limit: Annotated[int, Query(ge=1, le=1000,
                                    description="how many of the newest cases to look at")] = 100,
) -> TrafficWarningsPublic:
    """Warnings of the open Intelligent eCall cases, newest first, anonymised."""
    require(caller, TrafficWarnings())
    cases = await list_incidents(state.stores, CALLCENTRE_DESK, limit=limit)
    data = [TrafficWarningPublic(event=w.event, lat=w.lat, lon=w.lon, at=w.at)
            for w in traffic_warnings(cases)]
    return TrafficWarningsPublic(count=len(data), position_decimals=POSITION_DECIMALS,
                                 time_bucket_s=TIME_BUCKET_S, data=data)
