"""Scenario steps of the people at the desks, and the wait for retention to catch up.

An operator asks a car for a fresh MSD once its incident is on the desk's screen; the
assistance specialist records findings on a request; the party holding a case closes it
when all its procedures are completed (the call centre, the service partner, the
assistance desk). All of it goes through the API as their desks would. Waiting asks the
retention report, as an auditor would, never the storage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from vehicle_sim.car import Car
from vehicle_sim.scenario import AssessDef, CloseDef


async def _on_screen(client: httpx.AsyncClient, path: str, deadline: float) -> bool:
    """Whether ``path`` shows up before ``deadline``, polled as a desk's screen refreshes."""
    while (await client.get(path)).status_code != 200:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)  # polling interval of a desk's screen
    return True


async def operator_update(client: httpx.AsyncClient, car: Car, desk: str,
                           deadline: float) -> str:
    """Ask ``desk`` for a fresh MSD once the incident has reached it."""
    if car.trace is None:
        return f"{car.label}: no incident to update"
    path = f"/desks/{desk}/incidents/{car.trace.incident}"
    if not await _on_screen(client, path, deadline):
        return f"{car.label}: incident never reached {desk}; no update requested"
    response = await client.post(f"{path}/msd-request")
    if response.status_code != 202:
        return (f"{car.label}: {desk} could not ask for an update: "
                f"{response.status_code} {response.text}")
    car.expect_update()
    return f"operator at {desk} asked {car.label} for an MSD update"


async def assess(client: httpx.AsyncClient, car: Car, found: AssessDef,
                  deadline: float) -> str:
    """The assistance specialist's findings on the car's latest request."""
    if not car.services.assistance_requests:
        return f"{car.label}: no assistance request to assess"
    path = f"/assistance/cases/{car.services.assistance_requests[-1]}"
    if not await _on_screen(client, path, deadline):
        return f"{car.label}: assistance case never opened; not assessed"
    response = await client.post(f"{path}/assessment", json=found.model_dump())
    return f"{car.label}: assessed ({response.status_code}), {found.repair_working_days} " \
           "working days of repair"


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


async def _report_until(client: httpx.AsyncClient, holds: Callable[[dict[str, Any]], bool],
                        deadline: float) -> bool:
    while True:
        response = await client.get("/retention/report")
        if response.status_code == 200 and holds(response.json()):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)  # polling interval of the auditor's screen


async def retention_caught_up(client: httpx.AsyncClient, now: float, deadline: float) -> bool:
    """Until the backend judges retention at ``now`` (or later) with nothing overdue."""
    return await _report_until(
        client, lambda body: body["at"] >= now - 1e-3 and body["overdue"] == 0, deadline)


async def clock_reached(client: httpx.AsyncClient, now: float, deadline: float) -> bool:
    """Until the API's clock reads ``now`` (or later). A person acting through the API
    right after a jump of the scenario clock must act at the new time: a case closed on
    the API's stale clock got a deadline already days past, and its data were deleted
    that many days "late" in the 13-month run."""
    return await _report_until(client, lambda body: body["at"] >= now - 1e-3, deadline)
