"""What the operator's side of an OTA wave sends the backend's API (pure).

A campaign targets cars by the facts the backend holds (``PUT /vehicles/{vin}/facts``),
so every car of the fleet is registered first with the facts its profile gives it; the
campaign then names the fleet's VINs, so cars another run registered on the same backend
are never offered it. One rollout group holds the whole fleet: the wave is everybody at
once.
"""

from __future__ import annotations

from typing import Any

from loadtest.fleet_ota import OS_VERSION
from loadtest.profile import Profile
from loadtest.schedule import car_profile, vin_of

MODEL = "MINI Cooper SE"


def fleet_facts(profile: Profile) -> list[tuple[str, dict[str, Any]]]:
    """Each car's VIN and the facts body that makes it a target of the wave."""
    out = []
    for index in range(profile.vehicles):
        car = car_profile(profile, index)
        out.append((car.vin, {"model": MODEL, "propulsion": "bev" if car.electric else "ice",
                              "os_version": OS_VERSION, "country": profile.mix.country}))
    return out


def campaign_id(profile: Profile, started_ns: int) -> str:
    """A new id per run (two runs on one backend never meet) that names the profile."""
    return f"load-{profile.name[:32]}-{profile.seed}-{started_ns // 1_000_000}"


def campaign_body(profile: Profile, started_ns: int) -> dict[str, Any]:
    """``POST /ota/campaigns``: the whole fleet in one group, started at once."""
    wave = profile.ota
    if wave is None:
        raise ValueError(f"profile {profile.name} has no ota wave")
    vins = [vin_of(index, seed=profile.seed) for index in range(profile.vehicles)]
    return {"campaign_id": campaign_id(profile, started_ns), "version": wave.version,
            "size_bytes": wave.size_bytes, "target": {"vins": vins},
            "groups": [{"name": "fleet", "share": 1.0, "error_threshold": 1.0}],
            "start": True}
