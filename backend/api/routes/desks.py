"""HTTP routes of the desks: the incidents per desk, one incident's detail, an MSD update
request to the car, and closing a call-centre case.

Every desk route needs a caller (a bearer token) and is guarded by ``backend.api.access``:
a PSAP reads only its own desk, the call centre only its own, and ``/desks`` lists only
the desks the caller works at.
"""

from __future__ import annotations

import time

from fastapi import APIRouter

from backend.api.access import Desk, DeskDirectory, require, visible_desks
from backend.api.access_deps import CallerDep
from backend.api.deps import Limit, StateDep
from backend.api.error_statuses import errors
from backend.api.schemas.desks import (
    DesksPublic,
    IncidentClosedPublic,
    IncidentPublic,
    IncidentsPublic,
    MsdRequestPublic,
)
from backend.emergency.errors import DeskError, NoVinError
from backend.emergency.incidents import (
    all_desks,
    close_callcentre_case,
    list_incidents,
    read_incident,
    vin_of,
)
from backend.emergency.relay import CALLCENTRE_DESK
from protocols.envelope import MsdRequest, pack
from protocols.errors import TopicError
from protocols.topics import msd_request_topic

router = APIRouter(prefix="/desks", tags=["desks"])


@router.get("", response_model=DesksPublic)
async def read_desks(caller: CallerDep) -> DesksPublic:
    require(caller, DeskDirectory())
    return DesksPublic(data=visible_desks(caller, all_desks()))


@router.get("/{desk}/incidents", response_model=IncidentsPublic,
            response_model_exclude_unset=True, responses=errors(DeskError))
async def read_desk_incidents(desk: str, state: StateDep, caller: CallerDep,
                              limit: Limit = 100) -> IncidentsPublic:
    """The incidents a desk received, newest first, each as the desk holds it."""
    require(caller, Desk(desk))
    data = await list_incidents(state.stores, desk, limit=limit)
    return IncidentsPublic(desk=desk, count=len(data),
                           data=[IncidentPublic.model_validate(r) for r in data])


@router.get("/{desk}/incidents/{incident}", response_model=IncidentPublic,
            response_model_exclude_unset=True, responses=errors(DeskError))
async def read_desk_incident(desk: str, incident: str, state: StateDep,
                             caller: CallerDep) -> IncidentPublic:
    """One incident: every MSD transmission with its latency, the MSD, the extras."""
    require(caller, Desk(desk))
    return IncidentPublic.model_validate(await read_incident(state.stores, desk, incident))


@router.post("/{desk}/incidents/{incident}/msd-request", response_model=MsdRequestPublic,
             status_code=202, responses=errors(DeskError, NoVinError))
async def request_msd_update(desk: str, incident: str, state: StateDep,
                             caller: CallerDep) -> MsdRequestPublic:
    """Ask the car for a fresh MSD; it arrives on the incident as a new transmission."""
    require(caller, Desk(desk, "msd_request"))
    record = await read_incident(state.stores, desk, incident)
    try:
        topic = msd_request_topic(vin_of(record))
    except TopicError as exc:
        raise NoVinError(f"no VIN to reach: {exc}", incident=incident, rule=exc.rule) from None
    state.publish(topic, pack(MsdRequest(incident, desk, time.time_ns())))
    return MsdRequestPublic(incident=incident, desk=desk, topic=topic, requested=True)


@router.post("/callcentre/incidents/{incident}/close", response_model=IncidentClosedPublic,
             responses=errors(DeskError))
async def close_callcentre_incident(incident: str, state: StateDep,
                                    caller: CallerDep) -> IncidentClosedPublic:
    """All procedures of an Intelligent eCall or HV case are completed (§7a)."""
    require(caller, Desk(CALLCENTRE_DESK, "close"))
    now = state.clock.now()
    await close_callcentre_case(state.oem, incident, now=now)
    return IncidentClosedPublic(incident=incident, status="closed", closed_at=now)
