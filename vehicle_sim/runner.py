"""Runs a scenario: connects its cars, fires its events on time, waits for them to settle.

Events are scheduled against the loop's monotonic clock relative to the start; the
operator's MSD update requests go through the backend's HTTP API, as a desk would
send them. The runner returns what each car did; expectations are checked separately.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from pydantic_core import to_jsonable_python
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from protocols.addresses import FLEET_GATEWAY_IDENTITY, SCENARIO_RUNNER_IDENTITY
from protocols.clock import NS_PER_S, VirtualClock, pack_clock_state, parse_instant
from protocols.topics import CLOCK_TOPIC
from vehicle_sim import case_steps, ota_steps
from vehicle_sim.api_role import ApiHeaders
from vehicle_sim.car import Car
from vehicle_sim.car_services import CarServices
from vehicle_sim.fleet_driver import FleetDriver
from vehicle_sim.mqtt_transport import ClientTls, Identities, TcuLink
from vehicle_sim.scenario import AssessDef, EventDef, Scenario, ScenarioError
from vehicle_sim.scenario_cars import car_config, pulse_of
from vehicle_sim.trace import IncidentTrace


async def _operator_update(client: httpx.AsyncClient, car: Car, desk: str,
                           deadline: float) -> str:
    """Ask ``desk`` for a fresh MSD once the incident has reached it."""
    if car.trace is None:
        return f"{car.label}: no incident to update"
    path = f"/desks/{desk}/incidents/{car.trace.incident}"
    while (await client.get(path)).status_code != 200:
        if time.monotonic() > deadline:
            return f"{car.label}: incident never reached {desk}; no update requested"
        await asyncio.sleep(0.02)  # polling interval of the operator's screen
    response = await client.post(f"{path}/msd-request")
    if response.status_code != 202:
        return (f"{car.label}: {desk} could not ask for an update: "
                f"{response.status_code} {response.text}")
    car.expect_update()
    return f"operator at {desk} asked {car.label} for an MSD update"


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    """What the cars did: eCall/HV incidents, and each car's non-emergency calls."""

    traces: dict[str, IncidentTrace]
    services: dict[str, CarServices]
    fleet: list[CarServices]
    cars: dict[str, Car]


async def _register_profiles(client: httpx.AsyncClient, scenario: Scenario) -> None:
    """Load the scenario's customer records into the backend, as a CRM import would."""
    for vdef in scenario.vehicles:
        if vdef.profile is not None:
            response = await client.put(f"/vehicles/{vdef.vin}/profile",
                                        json=to_jsonable_python(vdef.profile))
            if response.status_code != 204:
                raise ScenarioError(f"profile of {vdef.id} refused by the backend: "
                                    f"{response.status_code} {response.text}")


async def _assess(client: httpx.AsyncClient, car: Car, found: AssessDef,
                  deadline: float) -> str:
    """The assistance specialist's findings on the car's latest request."""
    if not car.services.assistance_requests:
        return f"{car.label}: no assistance request to assess"
    path = f"/assistance/cases/{car.services.assistance_requests[-1]}"
    while (await client.get(path)).status_code != 200:
        if time.monotonic() > deadline:
            return f"{car.label}: assistance case never opened; not assessed"
        await asyncio.sleep(0.02)  # polling interval of the specialist's screen
    response = await client.post(f"{path}/assessment", json=found.model_dump())
    return f"{car.label}: assessed ({response.status_code}), {found.repair_working_days} " \
           "working days of repair"


class ClockLeader:
    """The scenario's virtual clock, announced so the backend follows it.

    Announced retained where the broker keeps retained messages, so a backend role that
    starts late hears it at once. A broker with retain switched off (the secure local
    broker: nothing of the platform is retained there) gets the announcement again every
    ``REANNOUNCE_S`` instead, so a role that restarts mid-run catches up within that.
    """

    REANNOUNCE_S = 1.0

    def __init__(self, clock: VirtualClock, mqtt_url: str, *, retain: bool = True,
                 tls: ClientTls = None) -> None:
        self.clock = clock
        self._retain = retain
        self._link = TcuLink(f"scenario-clock-{clock.state.run}", mqtt_url, persistent=False,
                             tls=tls)
        self._repeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._link.open()
        self.announce()
        if not self._retain:
            self._repeat = asyncio.create_task(self._reannounce(), name="clock-reannounce")

    async def _reannounce(self) -> None:
        while True:
            await asyncio.sleep(self.REANNOUNCE_S)  # a period, not a wait for anything
            self.announce()

    def announce(self) -> None:
        self._link.publish(CLOCK_TOPIC, pack_clock_state(self.clock.state), retain=self._retain)

    async def stop(self) -> None:
        if self._repeat is not None:
            self._repeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._repeat
            self._repeat = None
        await self._link.close()


def _move_clock(event: EventDef, leader: ClockLeader, cars: dict[str, Car],
                fleet: FleetDriver | None) -> None:
    """Jump or move the scenario clock; every car then makes its due calls."""
    clock = leader.clock
    if event.advance is not None:
        clock.advance(event.advance)
    elif event.instant is not None and event.instant > clock.now():
        clock.move_to(event.instant)
    else:
        return
    _time_moved(leader, cars, fleet)


async def _step_clock(event: EventDef, leader: ClockLeader, cars: dict[str, Car],
                      fleet: FleetDriver | None, client: httpx.AsyncClient,
                      timeout_s: float) -> str | None:
    """``advance`` in ``step``s; after each, the backend's retention catches up, so what
    falls due inside a long jump is deleted on its day, not at the jump's end."""
    assert event.advance is not None and event.step is not None
    remaining, steps = event.advance, 0
    while remaining > 1e-9:
        jump = min(event.step, remaining)
        remaining -= jump
        leader.clock.advance(jump)
        _time_moved(leader, cars, fleet)
        steps += 1
        if not await case_steps.retention_caught_up(client, leader.clock.now(),
                                                    time.monotonic() + timeout_s):
            return f"retention did not catch up after step {steps}"
    return None


def _time_moved(leader: ClockLeader, cars: dict[str, Car], fleet: FleetDriver | None) -> None:
    clock = leader.clock
    leader.announce()
    if fleet is not None:
        fleet.advance_to(clock.now())
    for each in cars.values():  # the check every TCU makes as time passes
        each.services.check()
        each.ota.tick()


def _perform(event: EventDef, car: Car | None) -> None:
    if car is None:
        return
    if event.crash is not None:
        car.crash(pulse_of(event.crash), event.crash.belted)
    elif event.sos is not None:
        car.sos()
    elif event.thermal_runaway is not None:
        car.thermal_runaway(event.thermal_runaway.ambient_c)
    elif event.drive is not None:
        car.services.drive(event.drive.distance_km())
    elif event.fault is not None:
        car.services.check(fault_codes=event.fault.codes)
    elif event.assistance is not None:
        a = event.assistance
        car.services.assistance(a.kind, channel=a.channel, confirmed=a.confirmed,
                                drivable=a.drivable, fault_codes=a.fault_codes)
    elif event.battery is not None:
        car.ota.set_battery(event.battery.soc, charging=event.battery.charging)
    elif event.ecall_end is not None:
        car.end_ecall()


async def _act(event: EventDef, car: Car | None, client: httpx.AsyncClient,
               timeout_s: float) -> str | None:
    """The steps that talk to the backend or wait for the car, in file order."""
    if car is not None and event.wait_for_ota is not None and \
            not await car.ota.wait_phase(event.wait_for_ota, timeout_s):
        return f"{car.label}: update never reached {event.wait_for_ota} (it is " \
               f"{car.ota.phase}); step skipped"
    if event.ota_campaign is not None:
        return await ota_steps.create_campaign(client, event.ota_campaign)
    if event.campaign is not None:
        return await ota_steps.campaign_action(client, event.campaign)
    if event.ota is not None and car is not None:
        return await ota_steps.customer_action(client, car, event.ota, timeout_s)
    if event.close is not None and car is not None:
        return await case_steps.close_case(client, car, event.close)
    _perform(event, car)
    return None


def scenario_clock(scenario: Scenario, *,
                   real_ns: Callable[[], int] = time.time_ns) -> VirtualClock:
    """The scenario's virtual clock: at its ``start`` (or now) and its ``time_scale``.

    Every car reads it, so what a car stamps (an MSD, a Teleservice call) happens in the
    scenario's time, and a run set in March stamps March whatever day it runs on."""
    start = parse_instant(scenario.start) if scenario.start else real_ns() / NS_PER_S
    return VirtualClock.starting_at(start, scale=scenario.time_scale, run=uuid.uuid4().hex[:12],
                                    real_ns=real_ns)


def no_identity(_name: str) -> ClientTls:
    """For a plaintext broker: nobody presents a certificate."""
    return None


async def run_scenario(scenario: Scenario, *, mqtt_url: str, api_url: str,
                       api_headers: ApiHeaders, console: Console | None = None,
                       identities: Identities = no_identity,
                       retain_clock: bool = True) -> ScenarioRun:
    """Run ``scenario`` against the broker at ``mqtt_url`` and the backend's API.

    ``api_headers`` sign its API calls in. ``identities`` gives each connection its
    certificate for an ``mqtts://`` broker: a car's VIN, ``SCENARIO_RUNNER_IDENTITY`` for
    the clock, ``FLEET_GATEWAY_IDENTITY`` for the fleet; the caller issues them (this
    package holds no CA). ``retain_clock=False`` for a broker without retained messages.
    """
    console = console or Console(quiet=True)
    clock = scenario_clock(scenario)
    leader = ClockLeader(clock, mqtt_url, retain=retain_clock,
                         tls=identities(SCENARIO_RUNNER_IDENTITY))
    cars = {v.id: Car(car_config(v, scenario),
                      link=TcuLink(v.vin, mqtt_url, tls=identities(v.vin)),
                      notify=lambda m: console.log(m), clock=clock.now)
            for v in scenario.vehicles}
    fleet = (FleetDriver(scenario.fleet, start=clock.now(), mqtt_url=mqtt_url,
                         notify=lambda m: console.log(m),
                         tls=identities(FLEET_GATEWAY_IDENTITY)) if scenario.fleet else None)
    await asyncio.gather(*(car.start() for car in cars.values()), leader.start(),
                         *([fleet.start()] if fleet else []))
    campaigns = [e.ota_campaign.id for e in scenario.events if e.ota_campaign is not None]
    events = scenario.events  # in file order
    loop = asyncio.get_running_loop()
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=5.0,
                                     headers=dict(api_headers)) as client:
            await _register_profiles(client, scenario)
            await ota_steps.register_facts(client, scenario)
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=console, transient=False) as progress:
                task = progress.add_task(f"scenario {scenario.name}", total=len(events) + 1)
                start = loop.time()
                pending: list[asyncio.Task[str]] = []
                for event in events:
                    if event.at is not None:
                        await asyncio.sleep(max(0.0, start + event.at - loop.time()))
                    if event.step is not None:
                        note = await _step_clock(event, leader, cars, fleet, client,
                                                 scenario.settle_timeout_s)
                        if note is not None:
                            console.log(f"[yellow]{note}[/yellow]")
                    else:
                        _move_clock(event, leader, cars, fleet)
                    car = cars[event.vehicle] if event.vehicle is not None else None
                    deadline = time.monotonic() + scenario.settle_timeout_s
                    if event.msd_update is not None and car is not None:
                        pending.append(asyncio.create_task(
                            _operator_update(client, car, event.msd_update.desk, deadline)))
                    elif event.assess is not None and car is not None:
                        pending.append(asyncio.create_task(
                            _assess(client, car, event.assess, deadline)))
                    else:
                        note = await _act(event, car, client, scenario.settle_timeout_s)
                        if note is not None:
                            console.log(note)
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
                if not await ota_steps.settle(client, cars.values(), campaigns,
                                              time.monotonic() + scenario.settle_timeout_s):
                    console.log("[yellow]some updates were still moving at the end[/yellow]")
                progress.advance(task)
    finally:
        await asyncio.gather(*(car.stop() for car in cars.values()), leader.stop(),
                             *([fleet.stop()] if fleet else []))
    return ScenarioRun(
        traces={vid: car.trace for vid, car in cars.items() if car.trace is not None},
        services={vid: car.services for vid, car in cars.items()},
        fleet=fleet.cars if fleet else [], cars=cars)
