"""What each car of a profile does and when, decided before the run (pure).

A car is numbered ``index`` across the whole fleet (every load process numbers its cars
so that the numbers of all processes are distinct and dense); its VIN, its home, what it
bought and its timetable follow from the profile's seed and that number alone, so a run
can be repeated and a worker on another machine plans the same car the same way.

Steady traffic is a Poisson process per car whose rate is the fleet's rate per virtual
hour shared over the fleet; the storm and the burst happen at the profile's offsets
from the run's start.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final, Literal

from loadtest.profile import Area, Profile

VIN_PREFIX: Final = "WMW5L"  # + 3 digits of the seed + 9 of the car: 17 characters (ISO 3779)
DRIVE_TICK_S: Final = 10.0  # a car's odometer moves on at this real interval
CLEAR_AFTER_S: Final = 1.0  # the call is cleared down this long after its acknowledgement

TRIPS_PER_HOUR: Final = 1.0  # each car ends a trip this often, per virtual hour of driving

Action = Literal["ecall", "hv_warn", "assistance", "drive", "trip_end", "disconnect",
                 "reconnect", "burst_ecall", "ota_offer"]


@dataclass(frozen=True, slots=True)
class Planned:
    at_s: float  # seconds from the run's start
    action: Action


@dataclass(frozen=True, slots=True)
class CarProfile:
    """One car's identity and what it bought."""

    index: int
    vin: str
    lat: float
    lon: float
    intelligent: bool
    smart_maintenance: bool
    electric: bool
    odometer_km: float


def vin_of(index: int, *, seed: int = 0) -> str:
    """Fleets of different seeds never share a VIN, so two runs on one broker do not
    take each other's sessions over."""
    if not 0 <= index < 10**9:
        raise ValueError(f"car number {index} out of 0..10^9")
    return f"{VIN_PREFIX}{seed % 1000:03d}{index:09d}"


def fleet_index(local: int, *, worker: int, workers: int) -> int:
    """The fleet-wide number of a process's ``local``-th car: processes interleave."""
    return local * workers + worker


def _rng(profile: Profile, index: int, salt: int) -> random.Random:
    return random.Random(profile.seed * 1_000_003 + index * 7919 + salt)


def point_in(area: Area, rng: random.Random) -> tuple[float, float]:
    """A point spread evenly over ``area`` (flat-earth, plenty within 100 km)."""
    r = area.radius_km * math.sqrt(rng.random())
    angle = rng.random() * 2.0 * math.pi
    lat = area.lat + (r / 111.32) * math.cos(angle)
    lon = area.lon + (r / (111.32 * max(0.01, math.cos(math.radians(area.lat))))) * math.sin(angle)
    return lat, lon


def car_profile(profile: Profile, index: int) -> CarProfile:
    rng = _rng(profile, index, 1)
    lat, lon = point_in(profile.mix.home, rng)
    return CarProfile(index=index, vin=vin_of(index, seed=profile.seed), lat=lat, lon=lon,
                      intelligent=rng.random() < profile.mix.intelligent_share,
                      smart_maintenance=rng.random() < profile.mix.smart_maintenance_share,
                      electric=rng.random() < profile.mix.electric_share,
                      odometer_km=round(rng.uniform(0.0, 80_000.0), 1))


def per_car_rate(profile: Profile, per_hour: float) -> float:
    """A fleet rate per virtual hour as one car's rate per real second."""
    return per_hour * profile.traffic.clock_speed / 3600.0 / profile.vehicles


def _poisson(rng: random.Random, rate: float, start: float, end: float) -> list[float]:
    times: list[float] = []
    if rate <= 0:
        return times
    t = start + rng.expovariate(rate)
    while t < end:
        times.append(t)
        t += rng.expovariate(rate)
    return times


def plan(profile: Profile, car: CarProfile, *, start_s: float) -> list[Planned]:
    """The car's timetable from ``start_s`` (when it was spawned) to the end of the run."""
    rng = _rng(profile, car.index, 2)
    end = profile.duration
    traffic = profile.traffic
    out: list[Planned] = []
    for t in _poisson(rng, per_car_rate(profile, traffic.ecalls_per_hour), start_s, end):
        out.append(Planned(t, "ecall"))
    if car.electric:
        for t in _poisson(rng, per_car_rate(profile, traffic.hv_warns_per_hour), start_s, end):
            out.append(Planned(t, "hv_warn"))
    for t in _poisson(rng, per_car_rate(profile, traffic.assistance_per_hour), start_s, end):
        out.append(Planned(t, "assistance"))
    if traffic.km_per_hour > 0:
        first = start_s + rng.uniform(0.0, DRIVE_TICK_S)
        ticks = max(0, math.ceil((end - first) / DRIVE_TICK_S))
        out.extend(Planned(first + i * DRIVE_TICK_S, "drive") for i in range(ticks))
        trips = TRIPS_PER_HOUR * traffic.clock_speed / 3600.0
        out.extend(Planned(t, "trip_end") for t in _poisson(rng, trips, start_s, end))
    storm = profile.storm
    if storm is not None and start_s <= storm.at:
        out.append(Planned(storm.at, "disconnect"))
        out.append(Planned(storm.at + storm.down + rng.uniform(0.0, storm.back_within),
                           "reconnect"))
        if car.index < storm.ecalls:
            out.append(Planned(storm.at + rng.uniform(0.0, storm.down + storm.back_within),
                               "ecall"))
    burst = profile.burst
    if burst is not None and car.index < burst.ecalls and start_s <= burst.at:
        out.append(Planned(burst.at + rng.uniform(0.0, burst.within), "burst_ecall"))
    if profile.ota is not None and start_s <= profile.ota.at:
        out.append(Planned(profile.ota.at, "ota_offer"))  # the campaign is due: await it
    return sorted(out, key=lambda p: p.at_s)


def drive_km(profile: Profile) -> float:
    """Kilometres a car drives in one tick, at the profile's speed and clock."""
    return profile.traffic.km_per_hour * profile.traffic.clock_speed / 3600.0 * DRIVE_TICK_S
