"""The OTA steps of a scenario: the operator's campaign calls and the customer's actions.

The operator works through the backend's API like a campaign console would; the
customer acts in the car (directly on the car's machine) or from the app (through the
API, which sends the command down to the car). Nothing here looks into the backend.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any, Final

import httpx

from vehicle_sim.car import Car
from vehicle_sim.scenario import (
    CampaignActionDef,
    CampaignDef,
    OtaActionDef,
    Scenario,
    ScenarioError,
)

# Vehicle statuses of a campaign in which the backend still waits for a car by itself.
MOVING: Final = frozenset({"offered", "downloading", "installing"})


def _refused(what: str, response: httpx.Response) -> ScenarioError:
    return ScenarioError(f"{what} refused by the backend: {response.status_code} "
                         f"{response.text}")


async def register_facts(client: httpx.AsyncClient, scenario: Scenario) -> None:
    """What campaign targeting looks at: model, propulsion, OS version, country."""
    for vdef in scenario.vehicles:
        body = {"model": vdef.model, "propulsion": vdef.powertrain.lower(),
                "os_version": vdef.os_version, "country": vdef.current_country}
        response = await client.put(f"/vehicles/{vdef.vin}/facts", json=body)
        if response.status_code != 204:
            raise _refused(f"facts of {vdef.id}", response)


async def create_campaign(client: httpx.AsyncClient, campaign: CampaignDef) -> str:
    response = await client.post("/ota/campaigns", json=campaign.body())
    if response.status_code != 201:
        raise _refused(f"campaign {campaign.id}", response)
    return f"operator created campaign {campaign.id} ({campaign.version}, " \
           f"{campaign.size / 1e9:g} GB)"


async def campaign_action(client: httpx.AsyncClient, action: CampaignActionDef) -> str:
    response = await client.post(f"/ota/campaigns/{action.id}/{action.action}")
    if response.status_code >= 300:
        return f"operator could not {action.action} {action.id}: {response.status_code} " \
               f"{response.text}"
    return f"operator: {action.action} campaign {action.id}"


async def customer_action(client: httpx.AsyncClient, car: Car, action: OtaActionDef,
                          timeout_s: float) -> str:
    """The customer's confirm, cancel, retry or switch; confirm waits for the car to ask."""
    ota = car.ota
    if action.action in ("switch_off", "switch_on"):
        ota.switch(enabled=action.action == "switch_on")
        return f"{car.label}: customer switched the update service " \
               f"{'on' if action.action == 'switch_on' else 'off'}"
    if action.action == "confirm" and not await ota.wait_phase("awaiting_confirmation",
                                                                timeout_s):
        return f"{car.label}: the car never asked for a confirmation (it is {ota.phase})"
    if action.by == "car":
        ota.customer(action.action, "car")
        return f"{car.label}: customer chose {action.action} in the car"
    response = await client.post(f"/vehicles/{car.spec.vin}/ota/command",
                                 json={"campaign_id": ota.state.campaign_id,
                                       "action": action.action})
    if response.status_code != 202:
        return f"{car.label}: app command refused: {response.status_code} {response.text}"
    return f"{car.label}: customer chose {action.action} in the app"


async def settle(client: httpx.AsyncClient, cars: Iterable[Car], campaign_ids: list[str],
                 deadline: float) -> bool:
    """Until no car and no campaign moves by itself any more, or the deadline passes.

    A campaign releases its next group only after the cars of the last one report, so
    quiet cars are not enough: the campaigns must have no car in flight either.
    """
    cars = list(cars)
    while True:
        remaining = max(0.0, deadline - time.monotonic())
        quiet = await asyncio.gather(*(c.ota.wait_quiet(remaining) for c in cars))
        if not all(quiet):
            return False
        moving = [cid for cid in campaign_ids if await _in_flight(client, cid)]
        if not moving:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)  # polling interval of the campaign console


async def _in_flight(client: httpx.AsyncClient, campaign_id: str) -> bool:
    response = await client.get(f"/ota/campaigns/{campaign_id}")
    if response.status_code != 200:
        return False
    body: dict[str, Any] = response.json()
    counts: dict[str, int] = body.get("counts", {})
    return body.get("status") == "running" and any(counts.get(s, 0) for s in MOVING)
