"""Many emulated cars at once: the numpy fleet drives, each car keeps its Teleservice rhythm.

The fleet model moves every car between scenario steps; each trip end, and a daily
check at midnight, runs the car's Teleservice and Smart Maintenance logic at that
moment of virtual time, in time order across the fleet. The calls go out over one MQTT
connection, as a gateway for many TCUs would, so a fleet of thousands stays cheap.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np

from vehicle_sim.car_services import CarServices
from vehicle_sim.fleet import step
from vehicle_sim.fleet_model import Fleet, TripEnded, sample_specs
from vehicle_sim.mqtt_transport import ClientTls, TcuLink
from vehicle_sim.scenario import FleetDef

DAY_S = 86_400.0
_PROPULSION = {"ICE": ["gasoline"], "BEV": ["electric"], "PHEV": ["gasoline", "electric"]}


class FleetDriver:
    """Steps the fleet to each new scenario time and lets every car make its calls."""

    def __init__(self, plan: FleetDef, *, start: float, mqtt_url: str,
                 notify: Callable[[str], None], tls: ClientTls = None) -> None:
        specs = sample_specs(plan.count, seed=plan.seed, countries=plan.countries,
                             opt_in_share=plan.smart_maintenance_share)
        self.fleet = Fleet.create(specs, seed=plan.seed, start=start)
        self._rng = np.random.default_rng(plan.seed)
        self._now = start
        self._link = TcuLink(f"fleet-gateway-{plan.seed}", mqtt_url, persistent=False, tls=tls)
        self.cars = [
            CarServices(vin=spec.vin, propulsion=_PROPULSION[spec.propulsion],
                        odometer_km=spec.odometer_km, os_version=spec.os_version,
                        smart_opt_in=spec.smart_maintenance_opt_in, clock=self._clock,
                        position=lambda: (0.0, 0.0), publish=self._link.publish,
                        notify=lambda _m: None, warn=notify, label=spec.vin)
            for spec in specs
        ]
        self._notify = notify
        self.trips = 0

    def _clock(self) -> float:
        return self._now

    async def start(self) -> None:
        await self._link.open()

    async def stop(self) -> None:
        await self._link.close()

    def advance_to(self, now: float) -> None:
        """Drive the fleet to ``now``; trip ends, midnights and ``now`` itself in time order."""
        dt = now - self.fleet.t
        if dt <= 0:
            return
        self.fleet, events = step(self.fleet, dt, now, self._rng)
        moments: list[tuple[float, int, int]] = []  # (time, kind 0 trip / 1 day, car)
        for event in events:
            if isinstance(event, TripEnded):
                moments.append((event.at, 0, event.index))
        first_midnight = math.floor(self._now / DAY_S + 1) * DAY_S
        for day in np.arange(first_midnight, now, DAY_S):
            moments.extend((float(day), 1, i) for i in range(len(self.cars)))
        moments.extend((now, 1, i) for i in range(len(self.cars)))  # the step's own moment
        heapq.heapify(moments)
        trip_odometer = {(e.at, e.index): e.odometer_km for e in events
                         if isinstance(e, TripEnded)}
        before = sum(len(c.calls) for c in self.cars)
        while moments:
            at, kind, index = heapq.heappop(moments)
            self._now = at
            car = self.cars[index]
            if kind == 0:
                car.drive_to(trip_odometer[(at, index)])
                self.trips += 1
            car.check(trip_ended=kind == 0)
        self._now = now
        calls = sum(len(c.calls) for c in self.cars) - before
        self._notify(f"fleet: {len(self.cars)} cars drove to the new time, "
                     f"{calls} Teleservice calls")
