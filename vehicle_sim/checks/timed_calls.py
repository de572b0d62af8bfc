"""Time-stamped call expectations: each Teleservice call's reason with its virtual day or
odometer reading, as the backend recorded them (``/vehicles/{vin}/teleservice-calls``
keeps the car's time and odometer of every call)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from vehicle_sim.checks.polling import poll
from vehicle_sim.checks.view import RunView, Verdict
from vehicle_sim.scenario_checks import CallsDef


def _ours(body: dict[str, Any], ids: frozenset[str], view: RunView
          ) -> list[tuple[str, float, float]]:
    """This run's calls, oldest first, as (reason, scenario day, odometer km)."""
    calls = sorted((c for c in body["data"] if c["call_id"] in ids),
                   key=lambda c: (float(c["at"]), float(c["odometer_km"])))
    return [(str(c["reason"]), view.day(float(c["at"])), float(c["odometer_km"]))
            for c in calls]


async def check_calls(client: httpx.AsyncClient, expect: CallsDef, view: RunView, *,
                      timeout_s: float) -> Verdict:
    car = view.cars[expect.vehicle]
    want = len(expect.teleservice_calls)
    body = await poll(client, f"/vehicles/{car.vin}/teleservice-calls",
                      lambda b: len(_ours(b, car.call_ids, view)) >= want,
                      time.monotonic() + timeout_s)
    seen = _ours(body, car.call_ids, view) if body is not None else []
    problem = expect.mismatch(seen)
    if problem is not None:
        return Verdict(False, problem)
    return Verdict(True, ", ".join(f"{reason} on day {day:.1f} at {km:.0f} km"
                                   for reason, day, km in seen) or "no calls")
