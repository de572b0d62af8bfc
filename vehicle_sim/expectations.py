"""Scenario expectations, checked against the backend from outside, over its HTTP API.

The emulator never looks into the backend's storage: like a QA tool it asks the desks
what they received, polling with a deadline until the record is there (or is complete,
for MSD updates), so a slow desk fails with a reason instead of a race.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from vehicle_sim.scenario import ExpectDef
from vehicle_sim.trace import IncidentTrace


@dataclass(frozen=True, slots=True)
class Outcome:
    """One expectation's verdict, with what was observed."""

    expect: ExpectDef
    ok: bool
    reason: str
    incident: str = ""
    variant: str = ""
    desk: str = ""
    latency_ms: float | None = None
    route: str = ""


async def _fetch(client: httpx.AsyncClient, desk: str, incident: str,
                 deadline: float, min_updates: int) -> dict[str, Any] | None:
    record: dict[str, Any] | None = None
    while True:
        response = await client.get(f"/desks/{desk}/incidents/{incident}")
        if response.status_code == 200:
            record = response.json()
            if int(record.get("updates", 0)) >= min_updates:
                return record
        if time.monotonic() >= deadline:
            return record
        await asyncio.sleep(0.05)  # polling interval while waiting for a desk, not a sync stand-in


def _route(record: dict[str, Any], desk: str) -> str:
    if desk == "callcentre":
        return f"callcentre -> {record.get('psap', '?')}"
    if record.get("kind") == "voice":
        return f"voice -> {desk}"
    return f"{record.get('via', 'direct')} -> {desk}"


async def check(client: httpx.AsyncClient, expect: ExpectDef, trace: IncidentTrace | None,
                *, timeout_s: float) -> Outcome:
    if trace is None:
        return Outcome(expect, False, f"vehicle {expect.vehicle} raised no incident")
    if trace.final_variant != expect.variant:
        return Outcome(expect, False, f"car ended on {trace.final_variant}, expected "
                       f"{expect.variant}", trace.incident, trace.final_variant)
    deadline = time.monotonic() + timeout_s
    record = await _fetch(client, expect.desk, trace.incident, deadline, expect.updates or 0)
    if record is None:
        return Outcome(expect, False, f"desk {expect.desk} never received incident "
                       f"{trace.incident}", trace.incident, trace.final_variant, expect.desk)
    latency = record.get("latency_ms")
    summary = (f"{trace.final_variant} at {expect.desk}"
               + (f" in {latency:.2f} ms" if latency is not None else "")
               + (f", handed to {record.get('psap')}" if expect.handed_to else "")
               + (f", {record.get('updates', 0)} MSD update(s)" if record.get("updates") else ""))
    found = Outcome(expect, True, summary, trace.incident, trace.final_variant, expect.desk,
                    latency, _route(record, expect.desk))
    seen_variant = record.get("variant", "intelligent" if expect.desk == "callcentre" else "")
    problems = []
    if seen_variant != expect.variant:
        problems.append(f"desk saw variant {seen_variant}")
    if expect.within_ms is not None and (latency is None or latency > expect.within_ms):
        problems.append(f"latency {latency} ms > {expect.within_ms} ms")
    if expect.updates is not None and int(record.get("updates", 0)) < expect.updates:
        problems.append(f"{record.get('updates', 0)} MSD updates < {expect.updates}")
    if expect.handed_to is not None:
        if record.get("psap") != expect.handed_to:
            problems.append(f"handed to {record.get('psap')}, expected {expect.handed_to}")
        handed = await _fetch(client, expect.handed_to, trace.incident, deadline, 0)
        if handed is None or handed.get("via") != "callcentre":
            problems.append(f"{expect.handed_to} has no hand-over of {trace.incident}")
    if problems:
        return Outcome(expect, False, "; ".join(problems), found.incident, found.variant,
                       found.desk, latency, found.route)
    return found


async def check_all(api_url: str, expectations: list[ExpectDef],
                    traces: dict[str, IncidentTrace], *, timeout_s: float) -> list[Outcome]:
    async with httpx.AsyncClient(base_url=api_url, timeout=5.0) as client:
        return list(await asyncio.gather(*(
            check(client, e, traces.get(e.vehicle), timeout_s=timeout_s) for e in expectations
        )))
