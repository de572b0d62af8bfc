"""What the OEM's customer systems know about a car: home, assistance policy, partner.

Entitlement and partner decisions need facts the car never sends (pickup date, whether
maintenance was done by an authorised partner, the preferred service partner). They
live in one Redis hash per VIN, written through the API as a CRM import would.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from backend.assistance.entitlement_model import Policy
from backend.privacy.retention_tags import tag_if_new


class CustomerContact(BaseModel):
    """How the call centre reaches the car's customer: added to an HV warn call (HV-R2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(pattern=r"^\+[0-9][0-9 ]{5,24}$")
    language: str = Field(pattern=r"^[a-z]{2}$")


class VehicleProfile(BaseModel):
    """A car's customer-side record; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home_country: str = Field(pattern=r"^[A-Z]{2}$")
    home_lat: float = Field(ge=-90, le=90)
    home_lon: float = Field(ge=-180, le=180)
    programme: Literal["road_assist_24_7", "si_car_assistance"] = "road_assist_24_7"
    pickup_date: date | None = None
    new_or_used: Literal["new", "used"] = "new"
    vehicle_age_years_at_pickup: float = Field(default=0.0, ge=0)
    maintenance_by_authorised_partner: bool = True
    preferred_partner: str | None = None
    contact: CustomerContact | None = None

    def policy(self) -> Policy:
        return Policy(programme=self.programme, home_country=self.home_country,
                      home_lat=self.home_lat, home_lon=self.home_lon,
                      pickup_date=self.pickup_date, new_or_used=self.new_or_used,
                      vehicle_age_years_at_pickup=self.vehicle_age_years_at_pickup,
                      maintenance_by_authorised_partner=self.maintenance_by_authorised_partner)


def profile_key(vin: str) -> str:
    return f"veh:{vin}:profile"


def partner_history_key(vin: str) -> str:
    return f"veh:{vin}:partner-history"


async def save_profile(oem: Redis, vin: str, profile: VehicleProfile, *, now: float) -> None:
    """Store the record; a change of preferred service partner is kept as history."""
    previous = await load_profile(oem, vin)
    before = previous.preferred_partner if previous is not None else None
    async with oem.pipeline(transaction=True) as pipe:
        pipe.set(profile_key(vin), profile.model_dump_json())
        if profile.preferred_partner != before:
            pipe.lpush(partner_history_key(vin), json.dumps(
                {"from": before, "to": profile.preferred_partner, "at": now}))
        await pipe.execute()
    # The customer record is contract data of the Connected package: no period stated,
    # erasable on request. The partner history is Service Partner Management data (§16d).
    tagged = [(profile_key(vin), vin, "connected_package")]
    if profile.preferred_partner != before:
        tagged.append((partner_history_key(vin), vin, "service_partner_management"))
    for key, owner, service in tagged:
        await tag_if_new(oem, [(key, owner)], service=service, written_at=now)


async def partner_history(oem: Redis, vin: str) -> list[dict[str, object]]:
    """Changes of preferred service partner, newest first."""
    raw = cast(list[bytes], await oem.lrange(partner_history_key(vin), 0, -1))
    return [json.loads(item) for item in raw]


async def load_profile(oem: Redis, vin: str) -> VehicleProfile | None:
    raw = await oem.get(profile_key(vin))
    if raw is None:
        return None
    return VehicleProfile.model_validate(json.loads(raw))
