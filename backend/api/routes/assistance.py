"""HTTP routes of the assistance desk: roadside and accident assistance cases
(roadside_assistance, accident_assistance; AS-R6), read, decided again with the
specialist's findings, and closed once all procedures are completed (§16e/§16f).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend.api.access import AssistanceCases, require
from backend.api.access_deps import CallerDep
from backend.api.deps import ApiState, Limit, StateDep
from backend.api.error_statuses import errors
from backend.api.schemas.assistance import AssessmentIn
from backend.assistance.desk import Assessment, decide_case
from backend.assistance.errors import UnknownAssistanceCaseError
from backend.assistance.store import close_case, list_cases, read_case, save_case, stored_call
from backend.services.vehicle_registry import VehicleProfile, load_profile

router = APIRouter(prefix="/assistance", tags=["assistance"])


async def _case(state: ApiState, request_id: str) -> dict[str, Any]:
    case = await read_case(state.oem, request_id)
    if case is None:
        raise UnknownAssistanceCaseError(request_id)
    return case


@router.get("/cases")
async def read_assistance_cases(state: StateDep, caller: CallerDep,
                                limit: Limit = 100) -> dict[str, Any]:
    require(caller, AssistanceCases())
    data = await list_cases(state.oem, limit=limit)
    return {"count": len(data), "data": data}


@router.get("/cases/{request_id}", responses=errors(UnknownAssistanceCaseError))
async def read_assistance_case(request_id: str, state: StateDep,
                               caller: CallerDep) -> dict[str, Any]:
    require(caller, AssistanceCases())
    return await _case(state, request_id)


@router.post("/cases/{request_id}/assessment", responses=errors(UnknownAssistanceCaseError))
async def assess_assistance_case(request_id: str, found: AssessmentIn,
                                 state: StateDep, caller: CallerDep) -> dict[str, Any]:
    """Decide the case again with the specialist's findings (repair time, drivability)."""
    require(caller, AssistanceCases("assess"))
    case = await _case(state, request_id)
    call = stored_call(case)
    profile = await load_profile(state.oem, call.vin) or VehicleProfile(
        home_country="BE", home_lat=call.lat, home_lon=call.lon)
    decided = decide_case(call, profile.policy(), now=case["opened_at"],
                          assessment=Assessment(repair_working_days=found.repair_working_days,
                                                drivable=found.drivable,
                                                repairable_on_site=found.repairable_on_site))
    await save_case(state.oem, decided)
    return await _case(state, request_id)


@router.post("/cases/{request_id}/close", responses=errors(UnknownAssistanceCaseError))
async def close_assistance(request_id: str, state: StateDep,
                           caller: CallerDep) -> dict[str, Any]:
    """All procedures of an assistance case are completed (§16e/§16f)."""
    require(caller, AssistanceCases("close"))
    now = state.clock.now()
    if not await close_case(state.oem, request_id, now=now):
        raise UnknownAssistanceCaseError(request_id)
    return {"request_id": request_id, "status": "closed", "closed_at": now}
