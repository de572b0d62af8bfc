"""HTTP routes of one vehicle: its customer record, its Teleservice rhythm, its OTA facts
and state, and erasure of its data on request.

Every route needs a caller (``backend.api.access``): profiles are written by the operator
(a CRM import) and read by the operator and the call centre (the HV handover's customer
record, HV-R3); a vehicle's Teleservice calls go to the operator and to a partner the
vehicle is assigned to (TS-R4). A car's OTA facts, state and commands are the operator's
(the app's backend speaks as the operator here: there is no customer role yet), and so is
erasure on request, where the service's rule allows it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from backend.api.access import PartnerHistory, Profile, TeleserviceCalls, require
from backend.api.access_deps import CallerDep, operator_only
from backend.api.deps import OtaDeskDep, StateDep, VinPath
from backend.api.error_statuses import errors
from backend.api.errors import RequestRuleError
from backend.api.schemas.ota import CommandIn
from backend.api.schemas.vehicles import (
    ErasurePublic,
    OtaCommandPublic,
    PartnerChangePublic,
    PartnerHistoryPublic,
    TeleserviceCallPublic,
    TeleserviceCallsPublic,
    VehicleFactsPublic,
    VehicleOtaPublic,
)
from backend.ota.errors import (
    UnknownCampaignError,
    UnknownVehicleFactsError,
    VehicleNotInCampaignError,
)
from backend.ota.lane import HISTORY_MAX, vehicle_ota
from backend.ota.store import load_campaign
from backend.ota.vehicle_facts import FactsIn, load_facts, running_version, save_facts
from backend.privacy import retention_store
from backend.privacy.errors import ErasureRefusedError, UnknownServiceError
from backend.services.assignment import assigned_partners
from backend.services.errors import UnknownProfileError
from backend.services.maintenance import CallRecord, late_calls
from backend.services.maintenance_store import calls_of
from backend.services.partners import DIRECTORY
from backend.services.vehicle_registry import (
    VehicleProfile,
    load_profile,
    partner_history,
    save_profile,
)
from protocols.catalogue import entry
from protocols.catalogue_model import CatalogueError
from protocols.ota import OtaCommand

router = APIRouter(prefix="/vehicles", tags=["vehicles"])
OTA_GUARD = Depends(operator_only("vehicle OTA state and commands"))
ERASURE_GUARD = Depends(operator_only("erasure"))


@router.put("/{vin}/profile", status_code=204)
async def put_vehicle_profile(vin: str, profile: VehicleProfile, state: StateDep,
                              caller: CallerDep) -> None:
    require(caller, Profile("write"))
    if profile.preferred_partner is not None and profile.preferred_partner not in DIRECTORY:
        raise RequestRuleError(f"unknown service partner {profile.preferred_partner!r}",
                               field="preferred_partner",
                               rule="a service partner of the directory")
    await save_profile(state.oem, vin, profile, now=state.clock.now())


@router.get("/{vin}/preferred-partner/history", response_model=PartnerHistoryPublic)
async def read_partner_history(vin: str, state: StateDep,
                               caller: CallerDep) -> PartnerHistoryPublic:
    """Every change of the customer's preferred service partner, newest first."""
    require(caller, PartnerHistory())
    data = [PartnerChangePublic.model_validate(change)
            for change in await partner_history(state.oem, vin)]
    return PartnerHistoryPublic(vin=vin, count=len(data), data=data)


@router.get("/{vin}/profile", response_model=VehicleProfile,
            responses=errors(UnknownProfileError))
async def read_vehicle_profile(vin: str, state: StateDep, caller: CallerDep) -> VehicleProfile:
    require(caller, Profile("read"))
    profile = await load_profile(state.oem, vin)
    if profile is None:
        raise UnknownProfileError(vin)
    return profile


@router.get("/{vin}/teleservice-calls", response_model=TeleserviceCallsPublic)
async def read_teleservice_calls(vin: str, state: StateDep,
                                 caller: CallerDep) -> TeleserviceCallsPublic:
    """The calls received, newest first, and any that came later than 28 days / 1,000 km.

    A partner may read them only for a vehicle assigned to it, which needs a look-up;
    other roles are decided on their role alone.
    """
    assigned = (await assigned_partners(state.oem, vin, asking=caller.party)
                if caller.role == "partner" else frozenset[str]())
    require(caller, TeleserviceCalls(vin, assigned))
    calls = await calls_of(state.oem, vin)

    def public(call: CallRecord) -> TeleserviceCallPublic:
        return TeleserviceCallPublic.model_validate(call, from_attributes=True)

    return TeleserviceCallsPublic(vin=vin, count=len(calls), data=list(map(public, calls)),
                                  late=list(map(public, late_calls(list(reversed(calls))))))


@router.put("/{vin}/facts", status_code=204, dependencies=[OTA_GUARD])
async def put_vehicle_facts(vin: VinPath, facts: FactsIn, state: StateDep) -> None:
    """Register what targeting looks at: model, propulsion, OS version, country."""
    await save_facts(state.oem, vin, facts, now=state.clock.now())


@router.get("/{vin}/facts", response_model=VehicleFactsPublic,
            responses=errors(UnknownVehicleFactsError), dependencies=[OTA_GUARD])
async def read_vehicle_facts(vin: VinPath, state: StateDep) -> VehicleFactsPublic:
    facts = await load_facts(state.oem, vin)
    if facts is None:
        raise UnknownVehicleFactsError(vin)
    return VehicleFactsPublic.model_validate(facts, from_attributes=True)


@router.get("/{vin}/ota", response_model=VehicleOtaPublic, response_model_exclude_unset=True,
            dependencies=[OTA_GUARD])
async def read_vehicle_ota(vin: VinPath, state: StateDep,
                           limit: Annotated[int, Query(ge=0, le=HISTORY_MAX)] = HISTORY_MAX
                           ) -> VehicleOtaPublic:
    """The car's current OTA state, the version it runs, and its OTA history, the latest
    ``limit`` entries oldest first: ``events`` it reported in the car's order (its update
    path), offers and commands ``sent`` to it."""
    view = await vehicle_ota(state.oem, vin, limit=limit)
    running = await running_version(state.oem, vin)
    return VehicleOtaPublic.model_validate({**view, "running_version": (
        None if running is None else {"version": running[0], "at": running[1]})})


@router.post("/{vin}/ota/command", status_code=202, response_model=OtaCommandPublic,
             responses=errors(UnknownCampaignError, VehicleNotInCampaignError),
             dependencies=[OTA_GUARD])
async def send_vehicle_ota_command(vin: VinPath, body: CommandIn, state: StateDep,
                                   desk: OtaDeskDep) -> OtaCommandPublic:
    """The customer confirms, cancels or retries from the app; the car decides (OTA-R2)."""
    c = await load_campaign(state.oem, body.campaign_id)
    if vin not in c.vehicles:
        raise VehicleNotInCampaignError(body.campaign_id, vin)
    command = OtaCommand(campaign_id=body.campaign_id, action=body.action, by="app")
    await desk.send_command([vin], command)
    return OtaCommandPublic(vin=vin, campaign_id=command.campaign_id, action=command.action,
                            by=command.by)


@router.delete("/{vin}/data", response_model=ErasurePublic,
               responses=errors(UnknownServiceError, ErasureRefusedError),
               dependencies=[ERASURE_GUARD])
async def erase_vehicle_data(vin: str, state: StateDep,
                             service: str | None = Query(default=None, max_length=64)
                             ) -> ErasurePublic:
    """Erasure on request, where the service's rule allows it; the rest stays until due."""
    if service is not None:
        try:
            entry(service)
        except CatalogueError:
            raise UnknownServiceError(service) from None
    done = await retention_store.erase(
        state.oem, vin=vin, now=state.clock.now(), service=service,
        rule_allows=lambda s: entry(s).retention.erasable_on_request)
    return ErasurePublic(vin=vin, erased=done.erased, refused=done.refused)
