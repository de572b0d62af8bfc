"""HTTP routes of the service-partner desks (MINI Connected §16a, §16d; TS-R4, SP-R1).

A partner sees the maintenance cases it was told about and closes them once all
procedures are completed; closing before the need was communicated is refused with
409, because retention runs "until a specific maintenance need has been determined and
communicated and all procedures are completed" (TS-R5).

Every route needs a caller (``backend.api.access``): a partner reads and closes only the
cases under its own ``/partners/{id}``, and is shown only its own directory entry;
maintenance needs go to "the preferred service centre" (TS-R4).
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Annotated, Any

from fastapi import APIRouter, Query

from backend.api.access import PartnerCases, PartnerDirectory, require, visible_partners
from backend.api.access_deps import CallerDep
from backend.api.deps import Limit, StateDep
from backend.api.error_statuses import errors
from backend.api.schemas.partners import (
    CasePublic,
    CasesPublic,
    CloseRequest,
    PartnerPublic,
    PartnersPublic,
)
from backend.services.errors import CaseTransitionError, UnknownCaseError, UnknownPartnerError
from backend.services.maintenance import Case
from backend.services.maintenance_store import cases_of, close_case, read_case
from backend.services.partners import DIRECTORY, Partner, partners

router = APIRouter(prefix="/partners", tags=["service-partners"])


def _partner_public(partner: Partner) -> PartnerPublic:
    return PartnerPublic(*astuple(partner))


def _case_public(case: Case) -> CasePublic:
    fields: dict[str, Any] = {name: getattr(case, name) for name in CasePublic.model_fields}
    fields["fault_codes"] = list(case.fault_codes)
    fields["due_items"] = list(case.due_items)
    return CasePublic(**fields)


def _known(partner_id: str) -> str:
    if partner_id not in DIRECTORY:
        raise UnknownPartnerError(partner_id)
    return partner_id


@router.get("", response_model=PartnersPublic)
async def read_partners(caller: CallerDep, country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO country code")] = None,
                        ) -> PartnersPublic:
    require(caller, PartnerDirectory())
    listed = partners(country=country)
    shown = set(visible_partners(caller, [p.id for p in listed]))
    data = [_partner_public(p) for p in listed if p.id in shown]
    return PartnersPublic(count=len(data), data=data)


@router.get("/{partner_id}/cases", response_model=CasesPublic,
            responses=errors(UnknownPartnerError))
async def read_partner_cases(partner_id: str, state: StateDep, caller: CallerDep,
                             limit: Limit = 100) -> CasesPublic:
    require(caller, PartnerCases(partner_id))
    data = [_case_public(c)
            for c in await cases_of(state.oem, _known(partner_id), limit=limit)]
    return CasesPublic(partner_id=partner_id, count=len(data), data=data)


@router.get("/{partner_id}/cases/{case_id}", response_model=CasePublic,
            responses=errors(UnknownPartnerError, UnknownCaseError))
async def read_partner_case(partner_id: str, case_id: str, state: StateDep,
                            caller: CallerDep) -> CasePublic:
    require(caller, PartnerCases(partner_id))
    return _case_public(await read_case(state.oem, case_id, partner_id=_known(partner_id)))


@router.post("/{partner_id}/cases/{case_id}/close", response_model=CasePublic,
             responses=errors(UnknownPartnerError, UnknownCaseError, CaseTransitionError))
async def close_partner_case(partner_id: str, case_id: str, state: StateDep,
                             caller: CallerDep, body: CloseRequest | None = None) -> CasePublic:
    """All procedures of the case are completed; allowed only once it was communicated.
    Judged at the backend's time (the scenario's when one runs), as retention is."""
    require(caller, PartnerCases(partner_id, "close"))
    reason = body.reason if body is not None else "procedures_completed"
    return _case_public(await close_case(state.oem, case_id, now=state.clock.now(),
                                         reason=reason, partner_id=_known(partner_id)))
