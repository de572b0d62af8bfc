"""OTA campaigns in the OEM database (Redis).

Keys (OEM database)::

    ota:campaign:{campaign_id}   hash   ``CampaignRecord``: campaign_id, status, updated_at,
                                        data (the campaign as JSON)
    ota:campaigns                set    every campaign id

A campaign is written and read only as its ``CampaignRecord``; the status beside the JSON
lets the action timeout pick the live campaigns without decoding every one. A campaign
is fleet data, not one car's: it carries no retention tag of its own. What each car
reported is kept with the car, tagged under ``rsu`` for the vehicle's lifetime (MINI
Connected §15, OTA-R6; ``backend.ota.lane``). Changes go through the pure campaign in
``backend.ota.campaign`` inside WATCH/MULTI, so a car's report and an operator's pause
arriving together cannot overwrite each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Self, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from backend.infra.hash_record import HashRecord
from backend.infra.redis_once import create_once, under_watch
from backend.ota.campaign import (
    Acknowledged,
    Action,
    Campaign,
    CampaignSpec,
    CampaignStatus,
    RolloutGroup,
    TargetSelector,
    VehicleProgress,
)
from backend.ota.errors import CampaignConflictError, UnknownCampaignError

CAMPAIGN_INDEX: Final = "ota:campaigns"
WATCH_TRIES: Final = 8

Step = Callable[[Campaign], tuple[Campaign, list[Action]]]


def campaign_key(campaign_id: str) -> str:
    return f"ota:campaign:{campaign_id}"


def _spec_dict(spec: CampaignSpec) -> dict[str, Any]:
    t = spec.target
    return {"campaign_id": spec.campaign_id, "version": spec.version,
            "size_bytes": spec.size_bytes, "critical": spec.critical,
            "action_timeout_s": spec.action_timeout_s,
            "target": {"models": list(t.models), "propulsions": list(t.propulsions),
                       "min_os": t.min_os, "max_os": t.max_os,
                       "countries": list(t.countries), "vins": list(t.vins)},
            "groups": [{"name": g.name, "share": g.share, "size": g.size,
                        "success_threshold": g.success_threshold,
                        "error_threshold": g.error_threshold} for g in spec.groups]}


def encode_campaign(campaign: Campaign) -> str:
    """The campaign as JSON, vehicles in VIN order so equal campaigns encode equally."""
    ack = campaign.acknowledged
    return json.dumps({
        "spec": _spec_dict(campaign.spec), "members": [list(m) for m in campaign.members],
        "status": campaign.status, "group": campaign.group,
        "paused_reason": campaign.paused_reason, "updated_at": campaign.updated_at,
        "acknowledged": None if ack is None else
        {"group": ack.group, "failures": ack.failures, "complete": ack.complete},
        "vehicles": [[v.vin, v.group, v.status, v.reason, v.updated_at]
                     for _, v in sorted(campaign.vehicles.items())],
    }, sort_keys=True)


def decode_campaign(data: str | bytes) -> Campaign:
    """The campaign back from ``encode_campaign``; the spec is validated again."""
    raw = json.loads(data)
    spec_raw = raw["spec"]
    target = spec_raw["target"]
    spec = CampaignSpec(
        spec_raw["campaign_id"], spec_raw["version"], spec_raw["size_bytes"],
        TargetSelector(tuple(target["models"]), tuple(target["propulsions"]),
                       target["min_os"], target["max_os"], tuple(target["countries"]),
                       tuple(target["vins"])),
        tuple(RolloutGroup(**g) for g in spec_raw["groups"]),
        spec_raw["action_timeout_s"], critical=spec_raw["critical"])
    ack = raw["acknowledged"]
    return Campaign(
        spec, tuple(tuple(m) for m in raw["members"]),
        {v[0]: VehicleProgress(*v) for v in raw["vehicles"]},
        status=raw["status"], group=raw["group"], paused_reason=raw["paused_reason"],
        acknowledged=None if ack is None else Acknowledged(**ack),
        updated_at=raw["updated_at"])


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRecord(HashRecord):
    """A stored campaign (``to_fields`` / ``from_fields``): the JSON of the campaign and,
    beside it, its id, status and last change."""

    campaign_id: str
    status: CampaignStatus
    updated_at: float | None
    data: str

    @classmethod
    def of(cls, campaign: Campaign) -> Self:
        return cls(campaign_id=campaign.spec.campaign_id, status=campaign.status,
                   updated_at=campaign.updated_at, data=encode_campaign(campaign))

    @property
    def campaign(self) -> Campaign:
        return decode_campaign(self.data)


async def _stored(read: Redis | Pipeline, key: str, campaign_id: str) -> Campaign:
    raw = cast(dict[bytes, bytes], await read.hgetall(key))
    if not raw:
        raise UnknownCampaignError(f"no campaign {campaign_id!r}", campaign_id=campaign_id)
    return CampaignRecord.from_fields(raw).campaign


async def create_campaign(oem: Redis, campaign: Campaign) -> Campaign:
    """Store a new campaign, tagged; an id seen before returns the stored one unchanged."""
    campaign_id = campaign.spec.campaign_id
    key = campaign_key(campaign_id)

    def write(pipe: Pipeline) -> None:
        pipe.hset(key, mapping=CampaignRecord.of(campaign).to_fields())
        pipe.sadd(CAMPAIGN_INDEX, campaign_id)

    if await create_once(oem, key, write, tries=WATCH_TRIES):
        return campaign
    return await load_campaign(oem, campaign_id)


async def load_campaign(oem: Redis, campaign_id: str) -> Campaign:
    """One campaign, as last stored."""
    return await _stored(oem, campaign_key(campaign_id), campaign_id)


async def update_campaign(oem: Redis, campaign_id: str, step: Step, *,
                          tries: int = WATCH_TRIES) -> tuple[Campaign, list[Action]]:
    """Apply a pure step (``start``, ``on_vehicle_event``, ``tick`` ...) and store it.

    If another writer changed the campaign meanwhile, the step runs again on the newer
    campaign, so its actions always match what was stored. A step that raises stores
    nothing. The caller performs the returned actions after this returns.
    """
    key = campaign_key(campaign_id)

    async def body(pipe: Pipeline) -> tuple[Campaign, list[Action]]:
        moved, actions = step(await _stored(pipe, key, campaign_id))
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.hset(key, mapping=CampaignRecord.of(moved).to_fields())
        await pipe.execute()
        return moved, actions

    return await under_watch(oem, key, body, tries=tries, give_up=lambda: CampaignConflictError(
        f"campaign {campaign_id!r} kept changing; gave up after {tries} tries",
        campaign_id=campaign_id))


async def campaign_ids(oem: Redis) -> list[str]:
    """Every stored campaign id, sorted."""
    members = cast(set[bytes], await oem.smembers(CAMPAIGN_INDEX))
    return sorted(m.decode() for m in members)


async def all_campaigns(oem: Redis) -> list[Campaign]:
    """Every stored campaign, by id: the index, then one pipelined round trip."""
    ids = await campaign_ids(oem)
    if not ids:
        return []
    async with oem.pipeline(transaction=False) as pipe:
        for campaign_id in ids:
            pipe.hget(campaign_key(campaign_id), "data")
        rows = cast(list[bytes | None], await pipe.execute())
    return [decode_campaign(raw) for raw in rows if raw is not None]
