"""Which service partners a car is assigned to: who may read its Teleservice data.

Teleservice data goes to the "preferred service centre (selected or assigned)" (TS-R4 of
docs/requirements.md): the customer's preferred partner (§16d), and a partner the car has
a maintenance case at, since the need was sent to it (§16a). The API's access rules
(``backend.api.access``) decide with the answer; this module only looks it up.
"""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis

from backend.services.maintenance_store import case_key, partner_cases_key
from backend.services.vehicle_registry import load_profile


async def assigned_partners(oem: Redis, vin: str, *, asking: str) -> frozenset[str]:
    """The partners ``vin`` is assigned to, as far as ``asking`` is concerned.

    Its preferred partner, and ``asking`` itself if the car has a maintenance case there.
    Only the asking partner's case index is read, one pipelined round trip for all its
    cases' VINs.
    """
    assigned: set[str] = set()
    profile = await load_profile(oem, vin)
    if profile is not None and profile.preferred_partner is not None:
        assigned.add(profile.preferred_partner)
    if asking not in assigned:
        ids = cast(list[bytes], await oem.zrange(partner_cases_key(asking), 0, -1))
        async with oem.pipeline(transaction=False) as pipe:
            for raw_id in ids:
                pipe.hget(case_key(raw_id.decode()), "vin")
            vins = cast(list[bytes | None], await pipe.execute())
        if vin.encode() in vins:
            assigned.add(asking)
    return frozenset(assigned)
