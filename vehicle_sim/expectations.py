"""Scenario expectations, checked against the backend from outside, over its HTTP API.

The emulator never looks into the backend's storage: like a QA tool it asks the desks
what they received, polling with a deadline until the record is there (or is complete,
for MSD updates), so a slow desk fails with a reason instead of a race.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from vehicle_sim.car_services import CarServices
from vehicle_sim.runner import ScenarioRun
from vehicle_sim.scenario import (
    ExpectDef,
    FleetExpectDef,
    GrantDef,
    Scenario,
    ServiceExpectDef,
)
from vehicle_sim.trace import IncidentTrace


@dataclass(frozen=True, slots=True)
class Outcome:
    """One expectation's verdict, with what was observed."""

    expect: ExpectDef | ServiceExpectDef | FleetExpectDef
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


async def _poll(client: httpx.AsyncClient, path: str, done: Callable[[dict[str, Any]], bool],
                deadline: float) -> dict[str, Any] | None:
    """GET ``path`` until ``done`` holds for its body or the deadline passes."""
    body: dict[str, Any] | None = None
    while True:
        response = await client.get(path)
        if response.status_code == 200:
            body = response.json()
            if done(body):
                return body
        if time.monotonic() >= deadline:
            return body
        await asyncio.sleep(0.05)  # polling interval while the backend works


async def check_services(client: httpx.AsyncClient, expect: ServiceExpectDef, vin: str,
                         services: CarServices | None, *, timeout_s: float) -> Outcome:
    """Teleservice rhythm, the partner's case and the assistance decision, as the API shows."""
    deadline = time.monotonic() + timeout_s
    problems: list[str] = []
    seen: list[str] = []
    if expect.teleservice_calls is not None:
        want = list(expect.teleservice_calls)
        mine = set(services.call_ids) if services is not None else set()

        def this_run(body: dict[str, Any]) -> list[str]:
            # Only this run's calls: a backend that lives on may hold earlier runs' too.
            return [c["reason"] for c in reversed(body["data"]) if c["call_id"] in mine]

        body = await _poll(client, f"/vehicles/{vin}/teleservice-calls",
                           lambda b: len(this_run(b)) >= len(want), deadline)
        got = this_run(body) if body else []
        if got != want:
            problems.append(f"Teleservice calls {got}, expected {want}")
        elif body and body["late"]:
            problems.append(f"late Teleservice calls: {body['late']}")
        else:
            seen.append(f"Teleservice calls {got}")
    if expect.partner_case is not None:
        case_def = expect.partner_case
        body = await _poll(client, f"/partners/{case_def.partner}/cases",
                           lambda b: any(c["vin"] == vin and c["status"] == case_def.status
                                         for c in b["data"]), deadline)
        if body is None or not any(c["vin"] == vin and c["status"] == case_def.status
                                   for c in body["data"]):
            problems.append(f"no {case_def.status} case at partner {case_def.partner}")
        else:
            seen.append(f"{case_def.status} case at {case_def.partner}")
    if expect.assistance is not None:
        problems.extend(await _check_assistance(client, expect.assistance, services, deadline,
                                                seen))
    if problems:
        return Outcome(expect, False, "; ".join(problems))
    return Outcome(expect, True, ", ".join(seen) or "ok")


async def _check_assistance(client: httpx.AsyncClient, grant: GrantDef,
                            services: CarServices | None, deadline: float,
                            seen: list[str]) -> list[str]:
    if services is None or not services.assistance_requests:
        return ["the car sent no assistance call"]
    request = services.assistance_requests[-1]
    wanted = set(grant.granted)

    def decided(body: dict[str, Any]) -> bool:
        limits = {g["service"]: g["limit"] for g in body["granted"]}
        return (bool(body["valid"]) == grant.valid and wanted <= set(limits)
                and all(limits.get(k) == v for k, v in grant.limits.items()))

    body = await _poll(client, f"/assistance/cases/{request}", decided, deadline)
    if body is None:
        return [f"no assistance case {request}"]
    granted = {g["service"] for g in body["granted"]}
    problems = []
    if bool(body["valid"]) != grant.valid:
        problems.append(f"cover valid={body['valid']} ({'; '.join(body['reasons'])})")
    if not wanted <= granted:
        problems.append(f"granted {sorted(granted)}, missing {sorted(wanted - granted)}")
    if set(grant.not_granted) & granted:
        problems.append(f"granted {sorted(set(grant.not_granted) & granted)} unexpectedly")
    limits = {g["service"]: g["limit"] for g in body["granted"]}
    for service, limit in grant.limits.items():
        if limits.get(service) != limit:
            problems.append(f"{service} granted with limit {limits.get(service)}, not {limit}")
    if not problems:
        seen.append(f"assistance granted {sorted(granted)}")
    return problems


async def check_fleet(client: httpx.AsyncClient, expect: FleetExpectDef,
                      cars: list[CarServices], *, timeout_s: float) -> Outcome:
    """The backend holds every Teleservice call each fleet car made, none of them late."""
    deadline = time.monotonic() + timeout_s
    sent = {car.vin: len(car.calls) for car in cars}
    ids = {car.vin: set(car.call_ids) for car in cars}
    received: dict[str, int] = {}
    late: list[str] = []
    while True:
        for vin, count in sent.items():
            if received.get(vin) == count:
                continue
            body = (await client.get(f"/vehicles/{vin}/teleservice-calls")).json()
            received[vin] = sum(1 for c in body["data"] if c["call_id"] in ids[vin])
            if body["late"]:
                late.append(vin)
        if received == sent or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.2)  # polling interval while the services lane catches up
    total = sum(sent.values())
    problems = []
    if received != sent:
        missing = sum(sent.values()) - sum(received.values())
        problems.append(f"backend holds {missing} fewer Teleservice calls than the cars made")
    if expect.teleservice_on_rhythm and late:
        problems.append(f"{len(set(late))} cars with calls later than 28 days / 1,000 km")
    if total < expect.min_calls:
        problems.append(f"{total} calls < {expect.min_calls}")
    if problems:
        return Outcome(expect, False, "; ".join(problems))
    return Outcome(expect, True, f"{total} Teleservice calls from {len(cars)} cars, all "
                   "received, none late")


async def check_all(api_url: str, scenario: Scenario, run: ScenarioRun, *,
                    timeout_s: float) -> list[Outcome]:
    async with httpx.AsyncClient(base_url=api_url, timeout=5.0) as client:
        incidents = [check(client, e, run.traces.get(e.vehicle), timeout_s=timeout_s)
                     for e in scenario.expect]
        services = [check_services(client, e, scenario.vehicle(e.vehicle).vin,
                                   run.services.get(e.vehicle), timeout_s=timeout_s)
                    for e in scenario.expect_services]
        fleet = ([check_fleet(client, scenario.expect_fleet, run.fleet, timeout_s=timeout_s)]
                 if scenario.expect_fleet is not None else [])
        return list(await asyncio.gather(*incidents, *services, *fleet))
