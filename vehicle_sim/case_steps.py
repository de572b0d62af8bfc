"""Scenario steps that close cases and wait for the backend's retention to catch up.

Closing is what the party holding a case does when all its procedures are completed
(the call centre, the service partner, the assistance desk), through the API like their
desks would. Waiting asks the retention report, as an auditor would, never the storage.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from vehicle_sim.car import Car
from vehicle_sim.scenario import CloseDef


async def close_case(client: httpx.AsyncClient, car: Car, close: CloseDef) -> str:
    """Close the car's latest case of that kind; a note says what happened."""
    label = car.label
    if close.case == "callcentre":
        if car.trace is None:
            return f"{label}: no call-centre case to close"
        path = f"/desks/callcentre/incidents/{car.trace.incident}/close"
    elif close.case == "assistance":
        if not car.services.assistance_requests:
            return f"{label}: no assistance case to close"
        path = f"/assistance/cases/{car.services.assistance_requests[-1]}/close"
    else:
        found = await _partner_case(client, car.spec.vin)
        if found is None:
            return f"{label}: no notified case at a service partner to close"
        partner, case_id = found
        path = f"/partners/{partner}/cases/{case_id}/close"
    response = await client.post(path)
    if response.status_code >= 300:
        return f"{label}: closing the {close.case} case failed: {response.status_code} " \
               f"{response.text}"
    return f"{label}: {close.case} case closed, all procedures completed"


async def _partner_case(client: httpx.AsyncClient, vin: str) -> tuple[str, str] | None:
    partners = (await client.get("/partners")).json()
    for partner in partners.get("data", []):
        pid = partner["id"] if isinstance(partner, dict) else str(partner)
        body = (await client.get(f"/partners/{pid}/cases")).json()
        for case in body.get("data", []):
            if case["vin"] == vin and case["status"] == "notified":
                return pid, str(case["case_id"])
    return None


async def retention_caught_up(client: httpx.AsyncClient, now: float, deadline: float) -> bool:
    """Until the backend judges retention at ``now`` (or later) with nothing overdue."""
    while True:
        response = await client.get("/retention/report")
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            if body["at"] >= now - 1e-3 and body["overdue"] == 0:
                return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)  # polling interval of the auditor's screen
