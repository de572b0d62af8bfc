"""HTTP routes of OTA campaigns (§15 Remote Software Upgrade) and of a car's OTA view.

An operator creates a campaign (version, 1-10 GB size, targeting, rollout groups with
success and error thresholds, per-vehicle action timeout), starts, pauses, resumes or
cancels it, and reads its progress per group and per car with reason codes. The
customer's app may confirm, cancel or retry an installation remotely, since "each
installation must be started manually", in the car or via the app (MINI Connected art. 4.8, OTA-R2).

Errors name the field and the rule: a wrong spec is 422 with ``{message, field, rule}``,
a transition against the campaign's life cycle is 409 with ``{message, rule}``, an
unknown campaign or car 404.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Final, Protocol, cast

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError

from backend.api.access_deps import operator_only
from backend.api.deps import ApiState, StateDep, VinPath
from backend.api.schemas import errors
from backend.infra.counters import Counters
from backend.ota.campaign import (
    MAX_ACTION_TIMEOUT_S,
    Action,
    Campaign,
    CampaignSpec,
    CampaignStatus,
    RolloutGroup,
    TargetSelector,
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
    CampaignSpecError,
    CampaignTransitionError,
    UnknownCampaignError,
)
from backend.ota.lane import (
    HISTORY_MAX,
    OtaDesk,
    load_release_notes,
    save_release_notes,
    vehicle_ota,
)
from backend.ota.store import (
    campaign_ids,
    campaign_key,
    create_campaign,
    decode_campaign,
    load_campaign,
)
from backend.ota.vehicle_facts import (
    VIN_PATTERN,
    FactsIn,
    Powertrain,
    all_facts,
    load_facts,
    running_version,
    save_facts,
)
from protocols.errors import EnvelopeError
from protocols.ota import MAX_RELEASE_NOTES, CommandAction, OtaCommand, OtaOffer, pack_ota_offer

router = APIRouter(prefix="/ota", tags=["ota"],
                   dependencies=[Depends(operator_only("OTA campaigns"))])
# The app's backend speaks as the operator here: there is no customer role yet.
ota_vehicles = APIRouter(prefix="/vehicles", tags=["vehicles"],
                         dependencies=[Depends(operator_only("vehicle OTA state and "
                                                             "commands"))])

CAMPAIGN_ID: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # a Redis key part and a path
Vin = Annotated[str, Field(pattern=VIN_PATTERN)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Model = Annotated[str, Field(min_length=1, max_length=64)]


class TargetIn(BaseModel):
    """Which cars: every criterion given must hold; below OS 9 never (OTA-R1)."""

    model_config = ConfigDict(extra="forbid")
    models: list[Model] = []
    propulsions: list[Powertrain] = []
    min_os: int | None = Field(default=None, ge=1, le=99)
    max_os: int | None = Field(default=None, ge=1, le=99)
    countries: list[Country] = []
    vins: list[Vin] = []


class GroupIn(BaseModel):
    """A rollout group: ``share`` (0..1] of the targeted cars or a fixed ``size``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    share: float | None = None
    size: int | None = None
    success_threshold: float = 1.0
    error_threshold: float = 0.0


class CampaignIn(BaseModel):
    """The body of ``POST /ota/campaigns``.

    ``action_timeout_s`` defaults to 7 days, the longest AWS IoT Jobs allows: a car may
    wait days for its driver to confirm, yet never stays "in progress" for ever.
    """

    model_config = ConfigDict(extra="forbid")
    campaign_id: str = Field(pattern=CAMPAIGN_ID)
    version: str = Field(min_length=1, max_length=32)
    size_bytes: int
    critical: bool = False
    release_notes: str = Field(default="", max_length=MAX_RELEASE_NOTES)
    action_timeout_s: float = MAX_ACTION_TIMEOUT_S
    target: TargetIn = Field(default_factory=TargetIn)
    groups: list[GroupIn]
    start: bool = True

    def spec(self) -> CampaignSpec:
        """The pure spec; raises ``CampaignSpecError`` naming the field and the rule."""
        t = self.target
        return CampaignSpec(
            self.campaign_id, self.version, self.size_bytes,
            TargetSelector(tuple(t.models), tuple(t.propulsions), t.min_os, t.max_os,
                           tuple(t.countries), tuple(t.vins)),
            tuple(RolloutGroup(g.name, g.share, g.size, g.success_threshold,
                               g.error_threshold) for g in self.groups),
            self.action_timeout_s, critical=self.critical)


class CommandIn(BaseModel):
    """The customer's action from the app on one campaign (MINI Connected art. 4.8, OTA-R2)."""

    model_config = ConfigDict(extra="forbid")
    campaign_id: str = Field(pattern=CAMPAIGN_ID)
    action: CommandAction


@contextlib.asynccontextmanager
async def _desk(state: ApiState) -> AsyncIterator[OtaDesk]:
    """An OtaDesk over the API's downlink; its counters go to Redis after the request."""
    counters = Counters()
    try:
        yield OtaDesk(state.oem, publish=state.publish, counters=counters, clock=state.clock)
    finally:
        with contextlib.suppress(RedisError):
            await counters.flush(state.oem)


class _Move(Protocol):
    def __call__(self, c: Campaign, *, now: float) -> tuple[Campaign, list[Action]]: ...


def _at_now(state: ApiState, move: _Move) -> Callable[[Campaign], tuple[Campaign, list[Action]]]:
    """The step at the backend clock's now (the scenario's virtual time, if announced)."""
    now = state.clock.now()
    return lambda c: move(c, now=now)


def _spec_error(exc: CampaignSpecError) -> HTTPException:
    return HTTPException(status_code=422,
                         detail={"message": str(exc), "field": exc.field, "rule": exc.rule})


def _missing(campaign_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no campaign {campaign_id!r}")


def _vehicle_view(c: Campaign, v: VehicleProgress) -> dict[str, Any]:
    return {"vin": v.vin, "group": c.spec.groups[v.group].name, "group_index": v.group,
            "status": v.status, "reason": v.reason, "updated_at": v.updated_at}


async def _campaign_view(state: ApiState, c: Campaign) -> dict[str, Any]:
    """Progress (``ota_campaign.progress``) plus what was asked for."""
    t = c.spec.target
    return {**progress(c), "updated_at": c.updated_at,
            "action_timeout_s": c.spec.action_timeout_s,
            "release_notes": await load_release_notes(state.oem, c.spec.campaign_id),
            "target": {"models": list(t.models), "propulsions": list(t.propulsions),
                       "min_os": t.min_os, "max_os": t.max_os,
                       "countries": list(t.countries), "vins": list(t.vins)}}


async def _load(state: ApiState, campaign_id: str) -> Campaign:
    try:
        return await load_campaign(state.oem, campaign_id)
    except UnknownCampaignError:
        raise _missing(campaign_id) from None


def _check_offer_budget(body: CampaignIn) -> None:
    """The offer must fit its wire budget with these notes (16,000 bytes, protocols.ota)."""
    try:
        pack_ota_offer(OtaOffer(campaign_id=body.campaign_id, version=body.version,
                                size_bytes=body.size_bytes, critical=body.critical,
                                release_notes=body.release_notes, sent_ns=0))
    except EnvelopeError as exc:
        field = "release_notes" if exc.field == "envelope" else exc.field
        raise HTTPException(status_code=422, detail={
            "message": str(exc), "field": field, "rule": exc.rule}) from None


@router.post("/campaigns", status_code=201, responses=errors(409))
async def create_ota_campaign(body: CampaignIn, state: StateDep,
                              response: Response) -> dict[str, Any]:
    """Plan over the registered fleet, store, and (unless ``start`` is false) offer the
    first group. The same id again is 200 when identical, else 409."""
    try:
        spec = body.spec()
    except CampaignSpecError as exc:
        raise _spec_error(exc) from None
    _check_offer_budget(body)
    planned = plan(spec, await all_facts(state.oem))
    stored = await create_campaign(state.oem, planned)
    if stored is not planned:  # the id was taken
        if stored.spec != spec or await load_release_notes(
                state.oem, spec.campaign_id) != body.release_notes:
            raise HTTPException(status_code=409, detail={
                "message": f"campaign {spec.campaign_id!r} exists with another spec",
                "field": "campaign_id", "rule": "a campaign id is created once"})
        response.status_code = 200
        return await _campaign_view(state, stored)
    await save_release_notes(state.oem, spec.campaign_id, body.release_notes)
    if body.start:
        async with _desk(state) as desk:
            try:
                stored = await desk.step(spec.campaign_id, _at_now(state, start))
            except CampaignTransitionError:  # an identical request started it meanwhile
                stored = await load_campaign(state.oem, spec.campaign_id)
            except CampaignConflictError as exc:  # stored, planned: POST .../start later
                raise HTTPException(status_code=503, detail=str(exc)) from None
    return await _campaign_view(state, stored)


@router.get("/campaigns")
async def list_ota_campaigns(state: StateDep,
                             status: CampaignStatus | None = None) -> dict[str, Any]:
    """Every campaign with its status and counts (without the per-group detail)."""
    ids = await campaign_ids(state.oem)
    rows: list[bytes | None] = []
    if ids:
        async with state.oem.pipeline(transaction=False) as pipe:
            for campaign_id in ids:
                pipe.hget(campaign_key(campaign_id), "data")
            rows = cast(list[bytes | None], await pipe.execute())
    data = []
    for raw in rows:
        if raw is None:
            continue
        c = decode_campaign(raw)
        if status is None or c.status == status:
            summary = progress(c)
            summary.pop("groups")
            data.append({**summary, "updated_at": c.updated_at})
    return {"count": len(data), "data": data}


@router.get("/campaigns/{campaign_id}", responses=errors(404))
async def read_ota_campaign(campaign_id: str, state: StateDep) -> dict[str, Any]:
    """Progress per status and per group, thresholds, and the reason codes of failures."""
    return await _campaign_view(state, await _load(state, campaign_id))


@router.get("/campaigns/{campaign_id}/vehicles", responses=errors(404))
async def read_ota_campaign_vehicles(campaign_id: str, state: StateDep,
                                     status: VehicleStatus | None = None,
                                     group: Annotated[str | None, Query(max_length=64)] = None,
                                     ) -> dict[str, Any]:
    """Each targeted car: group, status, last reason code, time of its last change."""
    c = await _load(state, campaign_id)
    data = [_vehicle_view(c, v) for _, v in sorted(c.vehicles.items())
            if (status is None or v.status == status)
            and (group is None or c.spec.groups[v.group].name == group)]
    return {"campaign_id": campaign_id, "count": len(data), "data": data}


@router.get("/campaigns/{campaign_id}/vehicles/{vin}", responses=errors(404))
async def read_ota_campaign_vehicle(campaign_id: str, vin: str,
                                    state: StateDep) -> dict[str, Any]:
    """One car of the campaign, with its last reported OTA state when it is about it."""
    c = await _load(state, campaign_id)
    v = c.vehicles.get(vin)
    if v is None:
        raise HTTPException(status_code=404,
                            detail=f"vehicle {vin!r} is not in campaign {campaign_id!r}")
    car = (await vehicle_ota(state.oem, vin, limit=0))["current"]
    return {**_vehicle_view(c, v), "campaign_id": campaign_id,
            "car": car if car is not None and car.get("campaign_id") == campaign_id else None}


async def _transition(state: ApiState, campaign_id: str, move: _Move) -> dict[str, Any]:
    async with _desk(state) as desk:
        try:
            c = await desk.step(campaign_id, _at_now(state, move))
        except UnknownCampaignError:
            raise _missing(campaign_id) from None
        except CampaignTransitionError as exc:
            raise HTTPException(status_code=409,
                                detail={"message": str(exc), "rule": exc.rule}) from None
        except CampaignConflictError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
    return await _campaign_view(state, c)


@router.post("/campaigns/{campaign_id}/start", responses=errors(404, 409))
async def start_ota_campaign(campaign_id: str, state: StateDep) -> dict[str, Any]:
    """planned → running: the first group is offered."""
    return await _transition(state, campaign_id, start)


@router.post("/campaigns/{campaign_id}/pause", responses=errors(404, 409))
async def pause_ota_campaign(campaign_id: str, state: StateDep) -> dict[str, Any]:
    """running → paused (reason "operator"); cars already offered carry on."""
    return await _transition(state, campaign_id, pause)


@router.post("/campaigns/{campaign_id}/resume", responses=errors(404, 409))
async def resume_ota_campaign(campaign_id: str, state: StateDep) -> dict[str, Any]:
    """paused → running; the failures seen so far no longer pause the current group."""
    return await _transition(state, campaign_id, resume)


@router.post("/campaigns/{campaign_id}/cancel", responses=errors(404, 409))
async def cancel_ota_campaign(campaign_id: str, state: StateDep) -> dict[str, Any]:
    """→ cancelled: offers not yet installing are withdrawn (a cancel command each)."""
    return await _transition(state, campaign_id, cancel)


@ota_vehicles.put("/{vin}/facts", status_code=204)
async def put_vehicle_facts(vin: VinPath, facts: FactsIn, state: StateDep) -> None:
    """Register what targeting looks at: model, propulsion, OS version, country."""
    await save_facts(state.oem, vin, facts, now=state.clock.now())


@ota_vehicles.get("/{vin}/facts", responses=errors(404))
async def read_vehicle_facts(vin: VinPath, state: StateDep) -> dict[str, Any]:
    facts = await load_facts(state.oem, vin)
    if facts is None:
        raise HTTPException(status_code=404, detail=f"no facts for vehicle {vin!r}")
    return {"vin": vin, "model": facts.model, "propulsion": facts.propulsion,
            "os_version": facts.os_version, "country": facts.country}


@ota_vehicles.get("/{vin}/ota")
async def read_vehicle_ota(vin: VinPath, state: StateDep,
                           limit: Annotated[int, Query(ge=0, le=HISTORY_MAX)] = HISTORY_MAX
                           ) -> dict[str, Any]:
    """The car's current OTA state, the version it runs, and its OTA history, the latest
    ``limit`` entries oldest first: ``events`` it reported in the car's order (its update
    path), offers and commands ``sent`` to it."""
    view = await vehicle_ota(state.oem, vin, limit=limit)
    running = await running_version(state.oem, vin)
    view["running_version"] = (None if running is None
                               else {"version": running[0], "at": running[1]})
    return view


@ota_vehicles.post("/{vin}/ota/command", status_code=202, responses=errors(404))
async def send_vehicle_ota_command(vin: VinPath, body: CommandIn,
                                   state: StateDep) -> dict[str, Any]:
    """The customer confirms, cancels or retries from the app; the car decides (OTA-R2)."""
    c = await _load(state, body.campaign_id)
    if vin not in c.vehicles:
        raise HTTPException(status_code=404, detail=(
            f"vehicle {vin!r} is not in campaign {body.campaign_id!r}"))
    command = OtaCommand(campaign_id=body.campaign_id, action=body.action, by="app")
    async with _desk(state) as desk:
        await desk.send_command([vin], command)
    return {"vin": vin, "campaign_id": command.campaign_id, "action": command.action,
            "by": command.by}
