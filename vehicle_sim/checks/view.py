"""What a check sees of the run at its moment, and what it answers.

A check step runs in the middle of a scenario, an ``expect_checks`` item at its end; both
see the run through a ``RunView``: the scenario's cars by id with what they sent (so only
this run's records count on a backend that lives on), and the scenario clock's instants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vehicle_sim.car import Car
from vehicle_sim.car_services import CarServices
from vehicle_sim.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Verdict:
    """A check's answer: whether it holds, and what was observed."""

    ok: bool
    reason: str


@dataclass(frozen=True, slots=True)
class CarView:
    """One named car: its VIN, where the scenario put it, and the ids of what it sent."""

    vin: str
    position: tuple[float, float]
    incidents: frozenset[str] = frozenset()
    call_ids: frozenset[str] = frozenset()
    assistance: frozenset[str] = frozenset()
    msds: frozenset[str] = frozenset()  # every MSD it sent, as hex


@dataclass(frozen=True, slots=True)
class RunView:
    """The run at the check's virtual instant ``now``; ``start`` is the scenario's."""

    cars: Mapping[str, CarView]
    fleet_calls: Mapping[str, frozenset[str]] = field(default_factory=dict)
    start: float = 0.0
    now: float = 0.0

    def chosen(self, vehicle: str | None) -> list[CarView]:
        """One named car, or all of them."""
        return [self.cars[vehicle]] if vehicle is not None else list(self.cars.values())

    def calls(self, vehicle: str | None) -> dict[str, frozenset[str]]:
        """VIN -> this run's Teleservice call ids: of one car, or of every car (the
        fleet's included)."""
        named = {car.vin: car.call_ids for car in self.chosen(vehicle)}
        return named if vehicle is not None else {**self.fleet_calls, **named}

    def day(self, at: float) -> float:
        """``at`` as a scenario day (0 = the start)."""
        return (at - self.start) / 86_400.0


def view_of(scenario: Scenario, cars: Mapping[str, Car], fleet: Iterable[CarServices],
            incidents: Mapping[str, Iterable[str]], *, start: float, now: float) -> RunView:
    """The view of running cars: ``incidents`` are the ids each car raised so far (a car
    keeps only its latest trace, the runner notes every one)."""
    def position(cid: str) -> tuple[float, float]:
        where = scenario.vehicle(cid).position
        return where.lat, where.lon

    return RunView(
        cars={cid: CarView(
            vin=car.spec.vin, position=position(cid),
            incidents=frozenset(incidents.get(cid, ())) | (
                {car.trace.incident} if car.trace is not None else set()),
            call_ids=frozenset(car.services.call_ids),
            assistance=frozenset(car.services.assistance_requests),
            msds=frozenset(msd.hex() for msd in car.sent_msds))
            for cid, car in cars.items()},
        fleet_calls={f.vin: frozenset(f.call_ids) for f in fleet},
        start=start, now=now)
