"""What OTA targeting needs to know about each car: model, propulsion, OS, country.

A campaign is planned over the registered fleet (``backend.ota.campaign.plan``), and
§15 makes the OS part of the rule: a car needs "at least OS 9"
(docs/requirements.md#ota-r1). The car never sends these facts on its own, so they are
registered through the API (``PUT /vehicles/{vin}/facts``), as a CRM or factory import would.

Keys (OEM database)::

    veh:{vin}:facts   hash   model, propulsion, os_version, country, updated_at,
                             running_version, running_version_at
    veh:facts         set    every VIN with registered facts

``running_version`` is the software the car reports running in its OTA events (a
``done`` event carries the new one); it is kept next to the facts but never changes
``os_version``, which only the registration sets. A VIN that sent events but was never
registered has a hash without the facts and is not in the index, so no campaign
targets it.
"""

from __future__ import annotations

from typing import Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from backend.ota.campaign import VehicleFacts
from backend.privacy.retention_tags import tag_if_new

# The powertrain class an update may depend on (an EV's charging is interrupted while
# installing, §15 OTA-R3), as the fleet model has it: combustion only, battery
# only, or both. Finer fuel types do not matter to a software upgrade.
Powertrain = Literal["ice", "bev", "phev"]
FACTS_INDEX: Final = "veh:facts"
VIN_PATTERN: Final = r"^[0-9A-HJ-NPR-Z]{17}$"  # ISO 3779: no I, O or Q
_FACT_FIELDS: Final = (b"model", b"propulsion", b"os_version", b"country")


class FactsIn(BaseModel):
    """The body of ``PUT /vehicles/{vin}/facts``; unknown fields are refused.

    A campaign's ``target.propulsions`` is checked against the same ``Powertrain``
    words, so a target can never name a propulsion no car can have.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, max_length=64)
    propulsion: Powertrain
    os_version: int = Field(ge=1, le=99)
    country: str = Field(pattern=r"^[A-Z]{2}$")


def facts_key(vin: str) -> str:
    return f"veh:{vin}:facts"


async def save_facts(oem: Redis, vin: str, facts: FactsIn, *, now: float) -> None:
    """Register or replace a car's facts; the running version, if known, is kept."""
    async with oem.pipeline(transaction=True) as pipe:
        pipe.hset(facts_key(vin), mapping={
            "model": facts.model, "propulsion": facts.propulsion,
            "os_version": facts.os_version, "country": facts.country,
            "updated_at": repr(now)})
        pipe.sadd(FACTS_INDEX, vin)
        await pipe.execute()
    # What the car runs is OTA maintenance information: kept for its lifetime (§15).
    await tag_if_new(oem, [(facts_key(vin), vin)], service="rsu", written_at=now)


def _facts(vin: str, raw: dict[bytes, bytes]) -> VehicleFacts | None:
    if not all(name in raw for name in _FACT_FIELDS):
        return None
    return VehicleFacts(vin, raw[b"model"].decode(), raw[b"propulsion"].decode(),
                        int(raw[b"os_version"]), raw[b"country"].decode())


async def load_facts(oem: Redis, vin: str) -> VehicleFacts | None:
    """The registered facts of one car, None when it was never registered."""
    raw = cast(dict[bytes, bytes], await oem.hgetall(facts_key(vin)))
    return _facts(vin, raw)


async def all_facts(oem: Redis) -> list[VehicleFacts]:
    """Every registered car, in VIN order: the fleet a campaign is planned over."""
    vins = sorted(m.decode() for m in cast(set[bytes], await oem.smembers(FACTS_INDEX)))
    if not vins:
        return []
    async with oem.pipeline(transaction=False) as pipe:
        for vin in vins:
            pipe.hgetall(facts_key(vin))
        rows = cast(list[dict[bytes, bytes]], await pipe.execute())
    found = (_facts(vin, raw) for vin, raw in zip(vins, rows, strict=True))
    return [facts for facts in found if facts is not None]


def queue_running_version(pipe: Pipeline, vin: str, version: str, *, at: float) -> None:
    """Queue the write of the version the car reports running, as of its time ``at``.

    The caller queues it only for an event newer than the last one stored, so a late
    redelivery cannot put an older version back.
    """
    pipe.hset(facts_key(vin), mapping={"running_version": version,
                                       "running_version_at": repr(at)})


async def running_version(oem: Redis, vin: str) -> tuple[str, float] | None:
    """The version the car last reported running and the car's time of that report."""
    version, at = cast(list[bytes | None],
                       await oem.hmget(facts_key(vin), ["running_version", "running_version_at"]))
    if version is None or at is None:
        return None
    return version.decode(), float(at)
