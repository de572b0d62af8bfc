"""Runs a scenario: connects its cars, fires its events on time, waits for them to settle.

Events are scheduled against the loop's monotonic clock relative to the start and
dispatched on their type; the operator's MSD update requests go through the backend's
HTTP API, as a desk would send them. The runner returns what each car did;
expectations are checked separately.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from pydantic_core import to_jsonable_python

from protocols.addresses import FLEET_GATEWAY_IDENTITY, SCENARIO_RUNNER_IDENTITY
from vehicle_sim import case_steps, ota_steps
from vehicle_sim.api_role import ApiHeaders
from vehicle_sim.car import Car
from vehicle_sim.car_services import CarServices
from vehicle_sim.car_steps import injection_of, perform
from vehicle_sim.clock_leader import ClockLeader, scenario_clock
from vehicle_sim.expectations import Outcome, judge, run_view
from vehicle_sim.fleet_driver import FleetDriver
from vehicle_sim.mqtt_transport import ClientTls, Identities, TcuLink
from vehicle_sim.progress import (
    Note,
    RunFinished,
    RunStarted,
    Settling,
    StepDone,
    Watch,
    unwatched,
)
from vehicle_sim.scenario import (
    AdvanceEvent,
    AssessEvent,
    CampaignActionEvent,
    CampaignCreateEvent,
    CheckEvent,
    ClockEvent,
    CloseEvent,
    Event,
    InjectEvent,
    MsdUpdateEvent,
    OtaCustomerEvent,
    Scenario,
    ScenarioError,
)
from vehicle_sim.scenario_cars import car_config
from vehicle_sim.trace import IncidentTrace


@dataclass(frozen=True, slots=True)
class CheckedStep:
    """One item of a check step, judged at the virtual instant ``at``."""

    at: float
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    """What the cars did: eCall/HV incidents, and each car's non-emergency calls.

    ``incidents`` are every incident id each car raised (a car's trace is its latest
    only); ``checked`` the outcomes of the check steps; ``started_at`` and ``ended_at``
    the scenario clock at the start and the end."""

    traces: dict[str, IncidentTrace]
    services: dict[str, CarServices]
    fleet: list[CarServices]
    cars: dict[str, Car]
    incidents: dict[str, set[str]] = field(default_factory=dict)
    checked: list[CheckedStep] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0
    fleet_kept: dict[str, frozenset[str]] = field(default_factory=dict)  # fleet_desk


@dataclass(frozen=True, slots=True)
class _Stage:
    """What every step of a run acts on: the cars, the fleet, the clock and the API."""

    cars: dict[str, Car]
    fleet: FleetDriver | None
    leader: ClockLeader
    client: httpx.AsyncClient
    timeout_s: float
    scenario: Scenario
    started_at: float
    incidents: dict[str, set[str]] = field(default_factory=dict)
    checked: list[CheckedStep] = field(default_factory=list)

    def note_incidents(self) -> None:
        """Keep each car's current incident: a later one replaces its trace."""
        for vid, car in self.cars.items():
            if car.trace is not None:
                self.incidents.setdefault(vid, set()).add(car.trace.incident)

    def so_far(self) -> ScenarioRun:
        """The run as it stands, every incident raised so far noted."""
        self.note_incidents()
        return ScenarioRun(
            traces={vid: car.trace for vid, car in self.cars.items() if car.trace is not None},
            services={vid: car.services for vid, car in self.cars.items()},
            fleet=self.fleet.cars if self.fleet else [], cars=self.cars,
            incidents=self.incidents, checked=self.checked, started_at=self.started_at,
            ended_at=self.leader.clock.now(),
            fleet_kept=self.fleet.kept() if self.fleet else {})

    async def time_moved(self) -> None:
        """Announce the clock; the fleet and every car make the calls now due; the
        partners close the cases of the fleet cars they serviced."""
        self.leader.announce()
        if self.fleet is not None:
            self.fleet.advance_to(self.leader.clock.now())
        for car in self.cars.values():  # the check every TCU makes as time passes
            car.services.check()
            car.ota.tick()
        if self.fleet is not None:
            await case_steps.clock_reached(self.client, self.leader.clock.now(),
                                           time.monotonic() + self.timeout_s)
            await self.fleet.partner_desks(self.client)


async def _register_profiles(client: httpx.AsyncClient, scenario: Scenario) -> None:
    """Load the scenario's customer records into the backend, as a CRM import would."""
    for vdef in scenario.vehicles:
        if vdef.profile is not None:
            response = await client.put(f"/vehicles/{vdef.vin}/profile",
                                        json=to_jsonable_python(vdef.profile))
            if response.status_code != 204:
                raise ScenarioError(f"profile of {vdef.id} refused by the backend: "
                                    f"{response.status_code} {response.text}")


async def _move_clock(event: Event, stage: _Stage) -> str | None:
    """An instant moves the scenario clock there first; an advance then jumps it on."""
    clock = stage.leader.clock
    if event.instant is not None and event.instant > clock.now():
        clock.move_to(event.instant)
        await stage.time_moved()
    if not isinstance(event, AdvanceEvent):
        return None
    if event.step is None:
        clock.advance(event.advance)
        await stage.time_moved()
        return None
    return await _step_clock(event.advance, event.step, stage)


async def _step_clock(advance: float, step: float, stage: _Stage) -> str | None:
    """``advance`` in ``step``s; after each, the backend's retention catches up, so what
    falls due inside a long jump is deleted on its day, not at the jump's end."""
    remaining, steps = advance, 0
    while remaining > 1e-9:
        jump = min(step, remaining)
        remaining -= jump
        stage.leader.clock.advance(jump)
        await stage.time_moved()
        steps += 1
        if not await case_steps.retention_caught_up(stage.client, stage.leader.clock.now(),
                                                    time.monotonic() + stage.timeout_s):
            return f"retention did not catch up after step {steps}"
    return None


async def _act(event: Event, stage: _Stage, deadline: float) -> str | None:
    """What ``event`` makes happen once the clock is where it says; a note, if any."""
    cars, client = stage.cars, stage.client
    match event:
        case AdvanceEvent() | ClockEvent():
            return None  # moving the clock was all of it
        case CheckEvent():
            return await _check(event, stage)
        case CampaignCreateEvent(ota_campaign=campaign):
            return await ota_steps.create_campaign(client, campaign)
        case CampaignActionEvent(campaign=action):
            return await ota_steps.campaign_action(client, action)
        case OtaCustomerEvent(vehicle=vehicle, ota=action):
            return await ota_steps.customer_action(client, cars[vehicle], action,
                                                   stage.timeout_s)
        case CloseEvent(vehicle=vehicle, close=close):
            return await case_steps.close_case(client, cars[vehicle], close)
        case MsdUpdateEvent(vehicle=vehicle, msd_update=update):
            return await case_steps.operator_update(client, cars[vehicle], update.desk,
                                                    deadline)
        case AssessEvent(vehicle=vehicle, assess=found):
            return await case_steps.assess(client, cars[vehicle], found, deadline)
        case InjectEvent(vehicle=vehicle, inject=inject):
            car = cars[vehicle]
            car.inject(injection_of(inject, car, now=stage.leader.clock.now()))
            return None
        case _:
            perform(event, cars[event.vehicle])
            return None


async def _check(event: CheckEvent, stage: _Stage) -> str:
    """The step's expectations at this instant of the scenario clock, once the backend's
    retention has caught up with it (so "held on day 179" means the sweep of day 179 ran)."""
    now = stage.leader.clock.now()
    caught_up = await case_steps.retention_caught_up(stage.client, now,
                                                     time.monotonic() + stage.timeout_s)
    run = stage.so_far()
    view = run_view(stage.scenario, run, now=now)
    outcomes = await asyncio.gather(*(judge(stage.client, item, stage.scenario, run, view,
                                            timeout_s=stage.timeout_s)
                                      for item in event.check))
    stage.checked.extend(CheckedStep(now, o) for o in outcomes)
    held = sum(o.ok for o in outcomes)
    when = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M")
    return (f"check at {when}: {held} of {len(outcomes)} hold"
            + ("" if caught_up else " (retention had not caught up)"))


def _waits_for_the_backend(event: Event) -> bool:
    """An operator's or specialist's step waits until the case reaches their screen;
    the scenario goes on meanwhile, as it would around a person at a desk."""
    return isinstance(event, MsdUpdateEvent | AssessEvent)


async def _before(event: Event, stage: _Stage) -> str | None:
    """The wait some events ask for: until a car's update reaches a phase."""
    if event.wait_for_ota is None or event.vehicle is None:
        return None
    car = stage.cars[event.vehicle]
    if await car.ota.wait_phase(event.wait_for_ota, stage.timeout_s):
        return None
    return f"{car.label}: update never reached {event.wait_for_ota} (it is {car.ota.phase}); " \
           "step skipped"


def no_identity(_name: str) -> ClientTls:
    """For a plaintext broker: nobody presents a certificate."""
    return None


async def run_scenario(scenario: Scenario, *, mqtt_url: str, api_url: str,
                       api_headers: ApiHeaders, watch: Watch = unwatched,
                       identities: Identities = no_identity,
                       retain_clock: bool = True) -> ScenarioRun:
    """Run ``scenario`` against the broker at ``mqtt_url`` and the backend's API.

    ``api_headers`` sign its API calls in. ``watch`` hears the run's progress and notes.
    ``identities`` gives each connection its certificate for an ``mqtts://`` broker: a
    car's VIN, ``SCENARIO_RUNNER_IDENTITY`` for the clock, ``FLEET_GATEWAY_IDENTITY`` for
    the fleet; the caller issues them (this package holds no CA). ``retain_clock=False``
    for a broker without retained messages.
    """
    clock = scenario_clock(scenario)
    leader = ClockLeader(clock, mqtt_url, retain=retain_clock,
                         tls=identities(SCENARIO_RUNNER_IDENTITY))
    cars = {v.id: Car(car_config(v, scenario),
                      link=TcuLink(v.vin, mqtt_url, tls=identities(v.vin)),
                      notify=lambda m: watch(Note(m)),
                      warn=lambda m: watch(Note(m, warning=True)), clock=clock.now)
            for v in scenario.vehicles}
    fleet = (FleetDriver(scenario.fleet, start=clock.now(), mqtt_url=mqtt_url,
                         notify=lambda m: watch(Note(m)),
                         tls=identities(FLEET_GATEWAY_IDENTITY)) if scenario.fleet else None)
    await asyncio.gather(*(car.start() for car in cars.values()), leader.start(),
                         *([fleet.start()] if fleet else []))
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=5.0,
                                     headers=dict(api_headers)) as client:
            stage = _Stage(cars, fleet, leader, client, scenario.settle_timeout_s, scenario,
                           started_at=clock.now())
            await _register_profiles(client, scenario)
            await ota_steps.register_facts(client, scenario)
            watch(RunStarted(scenario.name, steps=len(scenario.events) + 1))
            await _fire(scenario, stage, watch)
            watch(Settling())
            await _settle(scenario, stage, watch)
            watch(StepDone())
            return stage.so_far()
    finally:
        watch(RunFinished())
        await asyncio.gather(*(car.stop() for car in cars.values()), leader.stop(),
                             *([fleet.stop()] if fleet else []))


def _tell(watch: Watch, note: str | None, *, warning: bool = False) -> None:
    if note is not None:
        watch(Note(note, warning=warning))


async def _fire(scenario: Scenario, stage: _Stage, watch: Watch) -> None:
    """Every event in file order, each at its offset from the start."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    pending: list[asyncio.Task[str | None]] = []
    for event in scenario.events:
        if event.at is not None:
            await asyncio.sleep(max(0.0, start + event.at - loop.time()))
        _tell(watch, await _move_clock(event, stage), warning=True)
        skipped = await _before(event, stage)
        deadline = time.monotonic() + scenario.settle_timeout_s
        if skipped is not None:
            _tell(watch, skipped)
        elif _waits_for_the_backend(event):
            pending.append(asyncio.create_task(_act(event, stage, deadline)))
        else:
            _tell(watch, await _act(event, stage, deadline))
        stage.note_incidents()
        watch(StepDone())
    for note in await asyncio.gather(*pending):
        _tell(watch, note)


async def _settle(scenario: Scenario, stage: _Stage, watch: Watch) -> None:
    """Until every triggered car is done and no update or campaign still moves."""
    triggered = [c for c in stage.cars.values() if c.trace is not None]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.settled.wait() for c in triggered)),
                               scenario.settle_timeout_s)
    except TimeoutError:
        _tell(watch, "some cars did not settle in time", warning=True)
    if stage.fleet is not None:
        await stage.fleet.partner_desks(stage.client,
                                        until=time.monotonic() + scenario.settle_timeout_s)
    campaigns = [e.ota_campaign.id for e in scenario.events
                 if isinstance(e, CampaignCreateEvent)]
    if not await ota_steps.settle(stage.client, stage.cars.values(), campaigns,
                                  time.monotonic() + scenario.settle_timeout_s):
        _tell(watch, "some updates were still moving at the end", warning=True)
