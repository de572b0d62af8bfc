"""HTTP routes of OTA campaigns (§15 Remote Software Upgrade).

An operator creates a campaign (version, 1-10 GB size, targeting, rollout groups with
success and error thresholds, per-vehicle action timeout), starts, pauses, resumes or
cancels it, and reads its progress per group and per car with reason codes. A car's own
OTA view, and the customer's confirm, cancel or retry from the app, are routes of the
vehicle (``routes/vehicles.py``).

Errors name the field and the rule: a wrong spec is 422 (``CampaignSpecError``), a
transition against the campaign's life cycle 409 (``CampaignTransitionError``, naming the
rule), an unknown campaign or car 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, Protocol

from fastapi import APIRouter, Depends, Query, Response

from backend.api.access_deps import operator_only
from backend.api.deps import ApiState, OtaDeskDep, StateDep
from backend.api.error_statuses import errors
from backend.api.schemas.ota import (
    CampaignCarPublic,
    CampaignIn,
    CampaignPublic,
    CampaignsPublic,
    CampaignSummaryPublic,
    CampaignVehiclePublic,
    CampaignVehiclesPublic,
)
from backend.ota.campaign import (
    Action,
    Campaign,
    CampaignStatus,
    VehicleProgress,
    VehicleStatus,
    cancel,
    pause,
    plan,
    progress,
    resume,
    start,
)
from backend.ota.errors import (
    CampaignConflictError,
    CampaignExistsError,
    CampaignSpecError,
    CampaignTransitionError,
    UnknownCampaignError,
    VehicleNotInCampaignError,
)
from backend.ota.lane import load_release_notes, save_release_notes, vehicle_ota
from backend.ota.store import all_campaigns, create_campaign, load_campaign
from backend.ota.vehicle_facts import all_facts
from protocols.errors import EnvelopeError
from protocols.ota import OtaOffer, pack_ota_offer

router = APIRouter(prefix="/ota", tags=["ota"],
                   dependencies=[Depends(operator_only("OTA campaigns"))])


class _Move(Protocol):
    def __call__(self, c: Campaign, *, now: float) -> tuple[Campaign, list[Action]]: ...


def _at_now(state: ApiState, move: _Move) -> Callable[[Campaign], tuple[Campaign, list[Action]]]:
    """The step at the backend clock's now (the scenario's virtual time, if announced)."""
    now = state.clock.now()
    return lambda c: move(c, now=now)


def _vehicle_view(c: Campaign, v: VehicleProgress) -> dict[str, Any]:
    return {"vin": v.vin, "group": c.spec.groups[v.group].name, "group_index": v.group,
            "status": v.status, "reason": v.reason, "updated_at": v.updated_at}


async def _campaign_view(state: ApiState, c: Campaign) -> CampaignPublic:
    """Progress (``backend.ota.campaign.progress``) plus what was asked for."""
    t = c.spec.target
    return CampaignPublic.model_validate({
        **progress(c), "updated_at": c.updated_at,
        "action_timeout_s": c.spec.action_timeout_s,
        "release_notes": await load_release_notes(state.oem, c.spec.campaign_id),
        "target": {"models": list(t.models), "propulsions": list(t.propulsions),
                   "min_os": t.min_os, "max_os": t.max_os,
                   "countries": list(t.countries), "vins": list(t.vins)}})


def _check_offer_budget(body: CampaignIn) -> None:
    """The offer must fit its wire budget with these notes (16,000 bytes, protocols.ota)."""
    try:
        pack_ota_offer(OtaOffer(campaign_id=body.campaign_id, version=body.version,
                                size_bytes=body.size_bytes, critical=body.critical,
                                release_notes=body.release_notes, sent_ns=0))
    except EnvelopeError as exc:
        field = "release_notes" if exc.field == "envelope" else exc.field
        raise CampaignSpecError(str(exc), field=field, rule=exc.rule) from None


@router.post("/campaigns", status_code=201, response_model=CampaignPublic, responses={
    200: {"model": CampaignPublic, "description": "the same campaign again: as it stands"},
    **errors(CampaignSpecError, CampaignExistsError, CampaignConflictError)})
async def create_ota_campaign(body: CampaignIn, state: StateDep, desk: OtaDeskDep,
                              response: Response) -> CampaignPublic:
    """Plan over the registered fleet, store, and (unless ``start`` is false) offer the
    first group. The same id again is 200 when identical, else 409."""
    spec = body.spec()
    _check_offer_budget(body)
    planned = plan(spec, await all_facts(state.oem))
    stored = await create_campaign(state.oem, planned)
    if stored is not planned:  # the id was taken
        if stored.spec != spec or await load_release_notes(
                state.oem, spec.campaign_id) != body.release_notes:
            raise CampaignExistsError(spec.campaign_id)
        response.status_code = 200
        return await _campaign_view(state, stored)
    await save_release_notes(state.oem, spec.campaign_id, body.release_notes)
    if body.start:
        # A CampaignConflictError leaves it stored and planned: POST .../start later.
        try:
            stored = await desk.step(spec.campaign_id, _at_now(state, start))
        except CampaignTransitionError:  # an identical request started it meanwhile
            stored = await load_campaign(state.oem, spec.campaign_id)
    return await _campaign_view(state, stored)


@router.get("/campaigns", response_model=CampaignsPublic)
async def list_ota_campaigns(state: StateDep,
                             status: CampaignStatus | None = None) -> CampaignsPublic:
    """Every campaign with its status and counts (without the per-group detail)."""
    data = [CampaignSummaryPublic.model_validate({**progress(c), "updated_at": c.updated_at})
            for c in await all_campaigns(state.oem) if status is None or c.status == status]
    return CampaignsPublic(count=len(data), data=data)


@router.get("/campaigns/{campaign_id}", response_model=CampaignPublic,
            responses=errors(UnknownCampaignError))
async def read_ota_campaign(campaign_id: str, state: StateDep) -> CampaignPublic:
    """Progress per status and per group, thresholds, and the reason codes of failures."""
    return await _campaign_view(state, await load_campaign(state.oem, campaign_id))


@router.get("/campaigns/{campaign_id}/vehicles", response_model=CampaignVehiclesPublic,
            responses=errors(UnknownCampaignError))
async def read_ota_campaign_vehicles(campaign_id: str, state: StateDep,
                                     status: VehicleStatus | None = None,
                                     group: Annotated[str | None, Query(max_length=64)] = None,
                                     ) -> CampaignVehiclesPublic:
    """Each targeted car: group, status, last reason code, time of its last change."""
    c = await load_campaign(state.oem, campaign_id)
    data = [CampaignVehiclePublic.model_validate(_vehicle_view(c, v))
            for _, v in sorted(c.vehicles.items())
            if (status is None or v.status == status)
            and (group is None or c.spec.groups[v.group].name == group)]
    return CampaignVehiclesPublic(campaign_id=campaign_id, count=len(data), data=data)


@router.get("/campaigns/{campaign_id}/vehicles/{vin}", response_model=CampaignCarPublic,
            responses=errors(UnknownCampaignError, VehicleNotInCampaignError))
async def read_ota_campaign_vehicle(campaign_id: str, vin: str,
                                    state: StateDep) -> CampaignCarPublic:
    """One car of the campaign, with its last reported OTA state when it is about it."""
    c = await load_campaign(state.oem, campaign_id)
    v = c.vehicles.get(vin)
    if v is None:
        raise VehicleNotInCampaignError(campaign_id, vin)
    car = (await vehicle_ota(state.oem, vin, limit=0))["current"]
    return CampaignCarPublic.model_validate({
        **_vehicle_view(c, v), "campaign_id": campaign_id,
        "car": car if car is not None and car.get("campaign_id") == campaign_id else None})


TRANSITION_ERRORS: Final = errors(UnknownCampaignError, CampaignTransitionError,
                                  CampaignConflictError)


def _transition_route(verb: str, move: _Move, doc: str) -> None:
    """``POST /campaigns/{campaign_id}/{verb}``: the four life-cycle moves differ only in
    the move; each keeps its own operation name, summary and description."""

    async def transition(campaign_id: str, state: StateDep, desk: OtaDeskDep) -> CampaignPublic:
        return await _campaign_view(state, await desk.step(campaign_id, _at_now(state, move)))

    router.add_api_route(f"/campaigns/{{campaign_id}}/{verb}", transition, methods=["POST"],
                         response_model=CampaignPublic, responses=TRANSITION_ERRORS,
                         name=f"{verb}_ota_campaign", description=doc)


_transition_route("start", start, "planned → running: the first group is offered.")
_transition_route("pause", pause,
                  'running → paused (reason "operator"); cars already offered carry on.')
_transition_route("resume", resume,
                  "paused → running; the failures seen so far no longer pause the current group.")
_transition_route("cancel", cancel,
                  "→ cancelled: offers not yet installing are withdrawn (a cancel command each).")
