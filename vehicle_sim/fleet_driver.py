"""Many emulated cars at once: the numpy fleet drives, each car keeps its Teleservice rhythm.

The fleet model moves every car between scenario steps; each trip end, and a daily
check at midnight, runs the car's Teleservice and Smart Maintenance logic at that
moment of virtual time, in time order across the fleet. The calls go out over one MQTT
connection, as a gateway for many TCUs would, so a fleet of thousands stays cheap.

The cars wear (``vehicle_sim.fleet_wear``): a car whose service item falls due or that
stores a fault reports it at its next check, which is a service-need call (TS-R1), and
goes to the workshop some days later; there its items are done and its partner closes
the cases (``vehicle_sim.fleet_desk``), which ends the retention of that cycle (TS-R5).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import httpx
import numpy as np

from vehicle_sim.car_services import CarServices
from vehicle_sim.fleet import step
from vehicle_sim.fleet_desk import CallNote, PartnerDesk, kept_calls
from vehicle_sim.fleet_model import Fleet, TripEnded, sample_specs
from vehicle_sim.fleet_wear import Wear
from vehicle_sim.mqtt_transport import ClientTls, TcuLink
from vehicle_sim.scenario import FleetDef

DAY_S = 86_400.0
TRIP, CHECK, VISIT = 0, 1, 2  # kinds of moment, in this order at the same instant
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
        self.wear = Wear([car.propulsion for car in self.cars],
                         [spec.odometer_km for spec in specs], start=start,
                         rng=np.random.default_rng([plan.seed, 1]))
        self.desk = PartnerDesk()
        self.notes: list[list[CallNote]] = [[] for _ in self.cars]
        self._visit_at = np.full(len(self.cars), np.inf)
        self._needs: list[list[str]] = [[] for _ in self.cars]  # need call ids since a visit
        self.visits = 0

    def kept(self) -> dict[str, frozenset[str]]:
        """Per car, the calls the backend must still hold (``fleet_desk.kept_calls``)."""
        return {car.vin: kept_calls(notes, self.desk.closures.get(car.vin, ()))
                for car, notes in zip(self.cars, self.notes, strict=True)}

    async def partner_desks(self, client: httpx.AsyncClient, *,
                            until: float | None = None) -> None:
        """The partners close the cases of the cars serviced so far (``PartnerDesk``);
        with ``until`` (monotonic), they wait for the cases still to show up."""
        note = await (self.desk.work(client) if until is None
                      else self.desk.finish(client, until))
        if note is not None:
            self._notify(f"fleet: {note}")

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
        moments: list[tuple[float, int, int]] = []  # (time, kind, car)
        for event in events:
            if isinstance(event, TripEnded):
                moments.append((event.at, TRIP, event.index))
        first_midnight = math.floor(self._now / DAY_S + 1) * DAY_S
        for day in np.arange(first_midnight, now, DAY_S):
            moments.extend((float(day), CHECK, i) for i in range(len(self.cars)))
        moments.extend((now, CHECK, i) for i in range(len(self.cars)))  # the step's own moment
        moments.extend((float(self._visit_at[i]), VISIT, int(i))
                       for i in np.flatnonzero(self._visit_at <= now))
        heapq.heapify(moments)
        trip_odometer = {(e.at, e.index): e.odometer_km for e in events
                         if isinstance(e, TripEnded)}
        from_km, from_at = (a.tolist() for a in self.wear.attention())
        before = sum(len(c.calls) for c in self.cars)
        while moments:
            at, kind, index = heapq.heappop(moments)
            self._now = at
            car = self.cars[index]
            if kind == VISIT:
                self._visit(index, at)
                continue
            odometer_km = trip_odometer.get((at, index), car.odometer_km)
            if (at >= from_at[index] or odometer_km >= from_km[index] or car.cbs_items
                    or car.standing_faults):
                self._diagnose(index, at, odometer_km)
            made = len(car.call_ids)
            if kind == TRIP:
                car.drive_to(trip_odometer[(at, index)])
                self.trips += 1
            car.check(trip_ended=kind == TRIP)
            if len(car.call_ids) > made:
                self._called(index, at, made, moments)
        self._now = now
        calls = sum(len(c.calls) for c in self.cars) - before
        self._notify(f"fleet: {len(self.cars)} cars drove to the new time, "
                     f"{calls} Teleservice calls")

    def _diagnose(self, index: int, at: float, odometer_km: float) -> None:
        """What the car's diagnosis shows at ``at``, with the odometer it will read."""
        car = self.cars[index]
        car.cbs_items = self.wear.items(index, odometer_km, at)
        car.standing_faults = self.wear.faults(index, at)

    def _called(self, index: int, at: float, made: int,
                moments: list[tuple[float, int, int]]) -> None:
        """Note the calls just made; a need books the workshop if it is not booked yet."""
        car = self.cars[index]
        findings = bool(car.cbs_items or car.standing_faults)
        for call_id, reason in zip(car.call_ids[made:], car.calls[made:], strict=True):
            need = findings or reason == "service_need"
            self.notes[index].append(CallNote(call_id, at, need))
            if need:
                self._needs[index].append(f"{car.vin}-{call_id}")
        if self._needs[index] and math.isinf(self._visit_at[index]):
            self._visit_at[index] = at + self.wear.visit_delay_s()
            if self._visit_at[index] <= self.fleet.t:
                heapq.heappush(moments, (float(self._visit_at[index]), VISIT, index))

    def _visit(self, index: int, at: float) -> None:
        """The car is serviced; its partner will close the cases of its needs."""
        car = self.cars[index]
        self.wear.serviced(index, car.odometer_km, at)
        self._visit_at[index] = np.inf
        car.cbs_items, car.standing_faults = (), ()
        self.desk.visited(car.vin, at, self._needs[index])
        self._needs[index] = []
        self.visits += 1
