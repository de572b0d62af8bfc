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
from backend.api.schemas.assistance import (
    AssessmentIn,
    AssistanceCasePublic,
    AssistanceCasesPublic,
    AssistanceClosedPublic,
)
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


def _public(case: object) -> AssistanceCasePublic:
    return AssistanceCasePublic.model_validate(case, from_attributes=True)


@router.get("/cases", response_model=AssistanceCasesPublic, response_model_exclude_unset=True)
async def read_assistance_cases(state: StateDep, caller: CallerDep,
                                limit: Limit = 100) -> AssistanceCasesPublic:
    """The cases, newest first, each with its entitlement decision and reasons."""
    require(caller, AssistanceCases())
    data = [_public(c) for c in await list_cases(state.oem, limit=limit)]
    return AssistanceCasesPublic(count=len(data), data=data)


@router.get("/cases/{request_id}", response_model=AssistanceCasePublic,
            response_model_exclude_unset=True, responses=errors(UnknownAssistanceCaseError))
async def read_assistance_case(request_id: str, state: StateDep,
                               caller: CallerDep) -> AssistanceCasePublic:
    require(caller, AssistanceCases())
    return _public(await _case(state, request_id))


@router.post("/cases/{request_id}/assessment", response_model=AssistanceCasePublic,
             response_model_exclude_unset=True, responses=errors(UnknownAssistanceCaseError))
async def assess_assistance_case(request_id: str, found: AssessmentIn,
                                 state: StateDep, caller: CallerDep) -> AssistanceCasePublic:
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
    return _public(await _case(state, request_id))


@router.post("/cases/{request_id}/close", response_model=AssistanceClosedPublic,
             responses=errors(UnknownAssistanceCaseError))
async def close_assistance(request_id: str, state: StateDep,
                           caller: CallerDep) -> AssistanceClosedPublic:
    """All procedures of an assistance case are completed (§16e/§16f)."""
    require(caller, AssistanceCases("close"))
    now = state.clock.now()
    if not await close_case(state.oem, request_id, now=now):
        raise UnknownAssistanceCaseError(request_id)
    return AssistanceClosedPublic(request_id=request_id, status="closed", closed_at=now)
