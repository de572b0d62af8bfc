"""HTTP routes of the vehicle registry, the Teleservice rhythm and the assistance desk.

Every route needs a caller (``backend.api.access``): profiles are written by the operator
(a CRM import) and read by the operator and the call centre (the HV handover's customer
record, HV-R3); a vehicle's Teleservice calls go to the
operator and to a partner the vehicle is assigned to (TS-R4); assistance cases to the
assistance desk (roadside_assistance, accident_assistance).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from backend.api.access import (
    AssistanceCases,
    PartnerHistory,
    Profile,
    TeleserviceCalls,
)
from backend.api.access_deps import CallerDep, assigned_partners, require
from backend.api.deps import Limit, StateDep
from backend.api.schemas import errors
from backend.assistance.desk import Assessment, decide_case
from backend.assistance.store import list_cases, read_case, save_case, stored_call
from backend.services.maintenance import late_calls
from backend.services.maintenance_store import calls_of
from backend.services.partners import DIRECTORY
from backend.services.vehicle_registry import (
    VehicleProfile,
    load_profile,
    partner_history,
    save_profile,
)

vehicles = APIRouter(prefix="/vehicles", tags=["vehicles"])
assistance = APIRouter(prefix="/assistance", tags=["assistance"])


class AssessmentIn(BaseModel):
    """What the assistance specialist found, to decide the case again."""

    model_config = ConfigDict(extra="forbid")
    repair_working_days: int = Field(default=0, ge=0)
    drivable: bool | None = None
    repairable_on_site: bool = False


@vehicles.put("/{vin}/profile", status_code=204)
async def put_vehicle_profile(vin: str, profile: VehicleProfile, state: StateDep,
                              caller: CallerDep) -> None:
    require(caller, Profile("write"))
    if profile.preferred_partner is not None and profile.preferred_partner not in DIRECTORY:
        raise HTTPException(status_code=422,
                            detail=f"unknown service partner {profile.preferred_partner!r}")
    await save_profile(state.oem, vin, profile, now=state.clock.now())


@vehicles.get("/{vin}/preferred-partner/history")
async def read_partner_history(vin: str, state: StateDep, caller: CallerDep) -> dict[str, Any]:
    """Every change of the customer's preferred service partner, newest first."""
    require(caller, PartnerHistory())
    data = await partner_history(state.oem, vin)
    return {"vin": vin, "count": len(data), "data": data}


@vehicles.get("/{vin}/profile", response_model=VehicleProfile, responses=errors(404))
async def read_vehicle_profile(vin: str, state: StateDep, caller: CallerDep) -> VehicleProfile:
    require(caller, Profile("read"))
    profile = await load_profile(state.oem, vin)
    if profile is None:
        raise HTTPException(status_code=404, detail=f"no profile for vehicle {vin!r}")
    return profile


@vehicles.get("/{vin}/teleservice-calls")
async def read_teleservice_calls(vin: str, state: StateDep, caller: CallerDep) -> dict[str, Any]:
    """The calls received, newest first, and any that came later than 28 days / 1,000 km.

    A partner may read them only for a vehicle assigned to it, which needs a look-up;
    other roles are decided on their role alone.
    """
    assigned = (await assigned_partners(state.oem, vin, asking=caller.party)
                if caller.role == "partner" else frozenset[str]())
    require(caller, TeleserviceCalls(vin, assigned))
    calls = await calls_of(state.oem, vin)
    return {"vin": vin, "count": len(calls), "data": [asdict(c) for c in calls],
            "late": [asdict(c) for c in late_calls(list(reversed(calls)))]}


@assistance.get("/cases")
async def read_assistance_cases(state: StateDep, caller: CallerDep,
                                limit: Limit = 100) -> dict[str, Any]:
    require(caller, AssistanceCases())
    data = await list_cases(state.oem, limit=limit)
    return {"count": len(data), "data": data}


@assistance.get("/cases/{request_id}", responses=errors(404))
async def read_assistance_case(request_id: str, state: StateDep,
                               caller: CallerDep) -> dict[str, Any]:
    require(caller, AssistanceCases())
    case = await read_case(state.oem, request_id)
    if case is None:
        raise HTTPException(status_code=404, detail=f"no assistance case {request_id!r}")
    return case


@assistance.post("/cases/{request_id}/assessment", responses=errors(404))
async def assess_assistance_case(request_id: str, found: AssessmentIn,
                                 state: StateDep, caller: CallerDep) -> dict[str, Any]:
    """Decide the case again with the specialist's findings (repair time, drivability)."""
    require(caller, AssistanceCases("assess"))
    case = await read_case(state.oem, request_id)
    if case is None:
        raise HTTPException(status_code=404, detail=f"no assistance case {request_id!r}")
    call = stored_call(case)
    profile = await load_profile(state.oem, call.vin) or VehicleProfile(
        home_country="BE", home_lat=call.lat, home_lon=call.lon)
    decided = decide_case(call, profile.policy(), now=case["opened_at"],
                          assessment=Assessment(repair_working_days=found.repair_working_days,
                                                drivable=found.drivable,
                                                repairable_on_site=found.repairable_on_site))
    await save_case(state.oem, decided)
    updated = await read_case(state.oem, request_id)
    assert updated is not None
    return updated
