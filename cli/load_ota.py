"""The operator's side of ``telematics load`` with an OTA wave: facts first, then the offer.

Before the cars start, each car's facts go to the backend (``loadtest.ota_wave``); when
the Locust run has started, the campaign is posted at the profile's ``ota.at`` from the
run's start (the start Locust's progress file states), the same moment the cars time
the offer from. Through the API only, as a campaign console would.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

import httpx

from loadtest import ota_wave
from loadtest.profile import Profile
from vehicle_sim.api_role import bearer

CONCURRENT: Final = 16  # facts requests in flight at once
TIMEOUT_S: Final = 30.0


class WaveError(RuntimeError):
    """The backend refused the wave's facts or campaign; the message says which."""


def _client(api_url: str, token: str | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=api_url, timeout=TIMEOUT_S,
                             headers=bearer(token) if token else {})


async def register_fleet(api_url: str, token: str | None, profile: Profile) -> None:
    """Every car's facts, ``CONCURRENT`` requests at a time."""
    facts = ota_wave.fleet_facts(profile)
    gate = asyncio.Semaphore(CONCURRENT)
    async with _client(api_url, token) as client:
        async def put(vin: str, body: dict[str, Any]) -> None:
            async with gate:
                response = await client.put(f"/vehicles/{vin}/facts", json=body)
            if response.status_code != 204:
                raise WaveError(f"facts of {vin} refused: {response.status_code} "
                                f"{response.text}")
        await asyncio.gather(*(put(vin, body) for vin, body in facts))


async def offer_at(api_url: str, token: str | None, profile: Profile,
                   started: asyncio.Future[int]) -> dict[str, Any]:
    """Post the campaign at ``ota.at`` after the run's start (``started``, wall ns);
    what the backend answered, for the report."""
    assert profile.ota is not None
    started_ns = await started
    await asyncio.sleep(max(0.0, (started_ns + profile.ota.at * 1e9 - time.time_ns()) / 1e9))
    body = ota_wave.campaign_body(profile, started_ns)
    posted_ns = time.time_ns()
    async with _client(api_url, token) as client:
        response = await client.post("/ota/campaigns", json=body)
    late_ms = (posted_ns - started_ns) / 1e6 - profile.ota.at * 1000.0
    if response.status_code != 201:
        raise WaveError(f"campaign refused: {response.status_code} {response.text}")
    data = response.json()
    return {"campaign_id": body["campaign_id"], "posted_late_ms": round(late_ms, 1),
            "targeted": int(data.get("vehicles", 0))}
