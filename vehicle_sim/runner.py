"""Runs a scenario: connects its cars, fires its events on time, waits for them to settle.

Events are scheduled against the loop's monotonic clock relative to the start; the
operator's MSD update requests go through the backend's HTTP API, as a desk would
send them. The runner returns what each car did; expectations are checked separately.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from protocols.msd.model import Propulsion
from vehicle_sim.car import Car
from vehicle_sim.ecall_machine import EcallContext
from vehicle_sim.scenario import EventDef, Scenario, VehicleDef
from vehicle_sim.trace import IncidentTrace
from vehicle_sim.vehicle import VehicleSpec, VehicleState

EU_ECALL_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "NO", "LI",
    "CH",
})
_PROPULSION_FLAGS = {
    "gasoline": "gasoline_tank_present", "diesel": "diesel_tank_present",
    "cng": "compressed_natural_gas", "lpg": "liquid_propane_gas",
    "electric": "electric_energy_storage", "hydrogen": "hydrogen_storage",
    "other": "other_storage",
}


def spec_of(vdef: VehicleDef) -> VehicleSpec:
    propulsion = Propulsion(**{_PROPULSION_FLAGS[p]: True for p in vdef.propulsion})
    return VehicleSpec(vin=vdef.vin, vehicle_type=vdef.vehicle_type, propulsion=propulsion,
                       activation_country=vdef.activation_country,
                       intelligent_bought=vdef.intelligent_ecall.bought,
                       intelligent_expires=vdef.intelligent_ecall.expires, seats=vdef.seats)


def context_of(vdef: VehicleDef, scenario: Scenario, today: date) -> EcallContext:
    return EcallContext(
        intelligent_bought=vdef.intelligent_ecall.bought,
        intelligent_expires=vdef.intelligent_ecall.expires,
        activation_country=vdef.activation_country,
        current_country=vdef.current_country,
        in_ecall_country=vdef.current_country in EU_ECALL_COUNTRIES,
        today=today,
        ack_timeout_s=scenario.ack_timeout_s,
        intelligent_unreachable="intelligent_unreachable" in vdef.faults,
        legal_unreachable="legal_unreachable" in vdef.faults,
    )


def state_of(vdef: VehicleDef, now: float) -> VehicleState:
    return VehicleState.start(lat=vdef.position.lat, lon=vdef.position.lon,
                              heading_deg=vdef.heading_deg, speed_kmh=vdef.speed_kmh,
                              occupants=vdef.occupants, now=now)


async def _operator_update(client: httpx.AsyncClient, car: Car, desk: str,
                           deadline: float) -> str:
    """Ask ``desk`` for a fresh MSD once the incident has reached it."""
    if car.trace is None:
        return f"{car.vdef.id}: no incident to update"
    path = f"/desks/{desk}/incidents/{car.trace.incident}"
    while (await client.get(path)).status_code != 200:
        if time.monotonic() > deadline:
            return f"{car.vdef.id}: incident never reached {desk}; no update requested"
        await asyncio.sleep(0.02)  # polling interval of the operator's screen
    response = await client.post(f"{path}/msd-request")
    if response.status_code != 202:
        return (f"{car.vdef.id}: {desk} could not ask for an update: "
                f"{response.status_code} {response.text}")
    car.expect_update()
    return f"operator at {desk} asked {car.vdef.id} for an MSD update"


async def run_scenario(scenario: Scenario, *, mqtt_url: str, api_url: str,
                       console: Console | None = None) -> dict[str, IncidentTrace]:
    console = console or Console(quiet=True)
    now = time.time()
    today = date.today()
    cars = {v.id: Car(v, spec_of(v), state_of(v, now), context_of(v, scenario, today),
                      mqtt_url=mqtt_url, notify=lambda m: console.log(m))
            for v in scenario.vehicles}
    await asyncio.gather(*(car.start() for car in cars.values()))
    events: list[EventDef] = sorted(scenario.events, key=lambda e: e.at)
    loop = asyncio.get_running_loop()
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=5.0) as client:
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=console, transient=False) as progress:
                task = progress.add_task(f"scenario {scenario.name}", total=len(events) + 1)
                start = loop.time()
                pending: list[asyncio.Task[str]] = []
                for event in events:
                    await asyncio.sleep(max(0.0, start + event.at - loop.time()))
                    car = cars[event.vehicle]
                    if event.crash is not None:
                        car.crash(event.crash)
                    elif event.sos is not None:
                        car.sos()
                    elif event.thermal_runaway is not None:
                        car.thermal_runaway(event.thermal_runaway.ambient_c)
                    elif event.msd_update is not None:
                        deadline = time.monotonic() + scenario.settle_timeout_s
                        pending.append(asyncio.create_task(
                            _operator_update(client, car, event.msd_update.desk, deadline)))
                    progress.advance(task)
                for note in await asyncio.gather(*pending):
                    console.log(note)
                progress.update(task, description="waiting for the cars to settle")
                triggered = [c for c in cars.values() if c.trace is not None]
                try:
                    await asyncio.wait_for(
                        asyncio.gather(*(c.settled.wait() for c in triggered)),
                        scenario.settle_timeout_s)
                except TimeoutError:
                    console.log("[yellow]some cars did not settle in time[/yellow]")
                progress.advance(task)
    finally:
        await asyncio.gather(*(car.stop() for car in cars.values()))
    return {vid: car.trace for vid, car in cars.items() if car.trace is not None}
