"""A fleet of cars driven together: trips, parking and charging, as a pure numpy core.

``step(fleet, dt_s, now, rng)`` brings every car from ``fleet.t`` to ``now`` and returns
the new fleet and what happened, in time order. It reads no clock and draws only from
the ``rng`` it is given, so the same specs, seed and steps give the same arrays and
events.

A runner on a virtual clock may step by days at once, so the core is exact at any
step length instead of slicing time: every car has one next event (departure,
arrival, end of charge) whose time follows in closed form from the model below. Cars
do not interact, so each round of the loop settles the next due event of every car
at once, vectorised; a 28-day step is a few hundred rounds, whatever the number of
cars. The readable state is then evaluated at ``now``.

The model, kept simple and written down:

* Departures: a Poisson process with an hourly rate in Central European time
  (``vehicle_sim.rhythm``): commuter peaks on weekdays, few departures at night.
* From home a car runs a local errand (a loop of a few km) or goes to a nearby town,
  nearer towns being likelier; away from home it mostly heads back. A BEV only picks a
  town it can reach and return from above ``BEV_RESERVE``.
* Speeds: urban (30-50 km/h, drawn per trip) for the first and last ``URBAN_KM`` and
  on errands, road (80-130 km/h) in between; the speed read at ``now`` has noise on
  top. Road distance is ``ROAD_FACTOR`` times the straight line.
* Energy: a BEV uses ~0.17 kWh/km, a PHEV its battery first and then fuel, an ICE fuel
  only. A BEV that still runs low (a long scenario drive) stops at fast chargers on the
  way: below ``FAST_CHARGE_BELOW`` it gains ``FAST_CHARGE_TO - FAST_CHARGE_BELOW``.
* Charging: parked at home below the owner's threshold, a BEV or PHEV plugs in and
  charges at its wallbox power (3.7-11 kW), tapering linearly above ``TAPER_FROM``
  down to ``TAPER_MIN`` of full power. It stays plugged until it leaves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Final

import numpy as np
import numpy.typing as npt

from vehicle_sim.fleet_model import (
    NO_PLACE,
    ChargingEnded,
    ChargingStarted,
    Fleet,
    FleetEvent,
    FleetSpec,
    FloatArray,
    Mode,
    TripEnded,
    TripStarted,
    VehicleSnapshot,
    index_of,
    odometer,
    sample_specs,
    snapshot,
)
from vehicle_sim.places import (
    PLACE_LAT,
    PLACE_LON,
    PLACES,
    distance_matrix_km,
    great_circle_km,
    place_index,
)
from vehicle_sim.rhythm import local_clock, next_departures

__all__ = [
    "ChargingEnded",
    "ChargingStarted",
    "Fleet",
    "FleetEvent",
    "FleetSpec",
    "Mode",
    "TripEnded",
    "TripStarted",
    "VehicleSnapshot",
    "drive",
    "drive_route",
    "index_of",
    "local_clock",
    "odometer",
    "sample_specs",
    "snapshot",
    "step",
]

Index = npt.NDArray[np.intp]

STEP_TOLERANCE_S: Final = 1e-3
ROAD_FACTOR: Final = 1.3  # road km per straight-line km between towns
URBAN_KM: Final = 5.0
URBAN_KMH: Final = (30.0, 50.0)
ROAD_KMH: Final = (80.0, 130.0)
SPEED_NOISE: Final = 0.1  # relative spread of the speed read at an instant
MIN_KMH: Final = 5.0
MAX_KMH: Final = 160.0
MIN_TRIP_KM: Final = 0.5
CITY_SCALE_KM: Final = 35.0  # each 35 km further makes a town e (2.7) times less likely
MAX_CITY_TRIP_KM: Final = 450.0
ERRAND_WEIGHT: Final = 6.0  # against the summed weights of the towns around home
GO_HOME_SHARE: Final = 0.8  # away from home, the next trip goes home this often
ERRAND_KM_MIN: Final = 2.0
ERRAND_KM_MEAN_EXTRA: Final = 5.0
ERRAND_KM_MAX: Final = 40.0
BEV_RESERVE: Final = 0.1
FAST_CHARGE_BELOW: Final = 0.1
FAST_CHARGE_TO: Final = 0.8
CHARGE_EFFICIENCY: Final = 0.9  # share of wallbox energy that reaches the battery
TAPER_FROM: Final = 0.8
TAPER_MIN: Final = 0.3
KM_PER_DEG_LAT: Final = 111.2

# Plain ints: comparing an array with an IntEnum member costs more than the comparison.
PARKED: Final = int(Mode.PARKED)
DRIVING: Final = int(Mode.DRIVING)
CHARGING: Final = int(Mode.CHARGING)

ROAD_KM: Final[FloatArray] = distance_matrix_km() * ROAD_FACTOR
CITY_WEIGHT: Final[FloatArray] = np.where(
    (ROAD_KM > 0) & (ROAD_KM <= MAX_CITY_TRIP_KM), np.exp(-ROAD_KM / CITY_SCALE_KM), 0.0)
_TAPER_END: Final = 1.0 - (1.0 - TAPER_FROM) * TAPER_MIN  # SoC where the taper floors


def step(fleet: Fleet, dt_s: float, now: float,
         rng: np.random.Generator) -> tuple[Fleet, list[FleetEvent]]:
    """Every car ``dt_s`` seconds on, from ``fleet.t`` to ``now``; events in time order."""
    if not math.isfinite(dt_s) or dt_s < 0:
        raise ValueError(f"dt_s {dt_s} must be a finite, non-negative number of seconds")
    if abs(fleet.t + dt_s - now) > STEP_TOLERANCE_S:
        raise ValueError(f"the fleet is at t={fleet.t}: a step of {dt_s} s ends at "
                         f"{fleet.t + dt_s}, not at now={now}")
    if dt_s == 0:
        return fleet, []
    w = fleet.thawed()
    events: list[FleetEvent] = []
    while True:
        due = np.flatnonzero(np.minimum(w.until, w.depart_at) <= now)
        if not due.size:
            break
        driving = w.mode[due] == DRIVING
        charged = ~driving & (w.until[due] <= w.depart_at[due])
        if driving.any():
            _arrive(w, due[driving], events)
        if charged.any():
            _charged(w, due[charged], events)
        leaving = due[~driving & ~charged]
        if leaving.size:
            _leave(w, leaving, rng, events)
    _settle(w, now, rng)
    events.sort(key=_at)
    return replace(w, t=now).frozen(), events


def drive(fleet: Fleet, index: int, km: float, now: float, *,
          destination: str | None = None) -> tuple[Fleet, list[FleetEvent]]:
    """Car ``index`` drives exactly ``km`` of road at ``now`` and parks.

    With a ``destination`` town it parks there; without one it drives a loop out
    along its heading and back, so a scenario can add mileage without moving a car
    somewhere it could not be. A trip under way ends where the car is first, and a
    charging car is unplugged. Energy is used as on any trip; parked at home and low,
    the car plugs in afterwards.
    """
    if not math.isfinite(km) or km < 0:
        raise ValueError(f"km {km} must be a finite, non-negative distance")
    if not 0 <= index < fleet.size:
        raise IndexError(f"vehicle index {index} out of 0..{fleet.size - 1}")
    target = NO_PLACE if destination is None else place_index(destination)
    w = fleet.thawed()
    events: list[FleetEvent] = []
    one = np.array([index], dtype=np.intp)
    at = np.array([now])
    if w.mode[index] == CHARGING:
        events.append(_unplug(w, index, float(_charged_soc(w, one, at)[0]), now))
    if w.mode[index] == DRIVING:
        covered = _trip_state(w, one, at)
        _park(w, one, at_end=False)
        events.append(_trip_ended(w, index, now, float(covered[0])))
    origin = PLACES[int(w.place[index])].name
    events.append(TripStarted(index, w.specs[index].vin, now, origin, destination or origin, km))
    w.start_odometer[index], w.start_soc[index] = w.odometer_km[index], w.soc[index]
    w.start_fuel[index] = w.fuel_used_l[index]
    distance = np.array([km])
    w.odometer_km[index] += km
    w.soc[one], w.fuel_used_l[one] = _energy(w, one, distance)
    if target != NO_PLACE:
        tlat, tlon = PLACE_LAT[target], PLACE_LON[target]
        _, heading = _flat_geometry(w.lat[one], w.lon[one], np.array([tlat]), np.array([tlon]))
        w.heading_deg[index] = heading[0]
        w.lat[index], w.lon[index], w.place[index] = tlat, tlon, target
    elif km > 0:
        w.heading_deg[index] = (w.heading_deg[index] + 180.0) % 360.0
    w.plugged[index] = False
    w.depart_at[index] = max(float(w.depart_at[index]), now)
    events.append(_trip_ended(w, index, now, km))
    _plug_if_low(w, one, at, events)
    return replace(w, t=max(fleet.t, now)).frozen(), events


def drive_route(fleet: Fleet, index: int, stops: Sequence[str],
                now: float) -> tuple[Fleet, list[FleetEvent]]:
    """Car ``index`` drives from where it is through the named towns, parking at the last."""
    if not stops:
        raise ValueError("a route needs at least one town")
    towns = [place_index(name) for name in stops]
    first = great_circle_km(fleet.lat[index], fleet.lon[index],
                            PLACE_LAT[towns[0]], PLACE_LON[towns[0]])
    km = float(first) * ROAD_FACTOR + sum(float(ROAD_KM[a, b]) for a, b in pairwise(towns))
    return drive(fleet, index, km, now, destination=stops[-1])


# -- the three events --------------------------------------------------------------------
def _leave(w: Fleet, idx: Index, rng: np.random.Generator, out: list[FleetEvent]) -> None:
    """Departures due: unplug, choose where to, and set the trip's profile and end."""
    t = w.depart_at[idx]
    charging = w.mode[idx] == CHARGING
    soc = w.soc[idx]
    if charging.any():
        soc[charging] = _charged_soc(w, idx[charging], t[charging])
    k = idx.size
    cur, home = w.place[idx], w.home[idx]
    u_kind, u_town, u_e1, u_e2, u_head, u_urban, u_road = rng.random((7, k))
    # Errand length above the minimum: gamma(2) as the sum of two exponentials.
    errand_km = np.minimum(
        ERRAND_KM_MIN - ERRAND_KM_MEAN_EXTRA / 2 * np.log((1.0 - u_e1) * (1.0 - u_e2)),
        ERRAND_KM_MAX)

    bev = w.bev[idx]
    weights = CITY_WEIGHT[cur]
    reach = np.full(k, np.inf)
    if bev.any():
        per_km = np.where(bev, w.kwh_per_km[idx], 1.0)
        reach = np.where(bev, (soc - BEV_RESERVE) * w.battery_kwh[idx] / per_km, np.inf)
        weights = np.where(ROAD_KM[cur] + ROAD_KM[home] <= reach[:, None], weights, 0.0)
    total = weights.sum(axis=1)
    at_home = cur == home
    go_town = at_home & (u_kind * (total + ERRAND_WEIGHT) < total)
    go_home = ~at_home & (u_kind < GO_HOME_SHARE)
    errand = ~go_town & ~go_home
    stays = errand & (errand_km > reach)  # a BEV too low even for an errand stays put
    if stays.any():
        w.depart_at[idx[stays]] = next_departures(t[stays], rng)
        go = ~stays
        idx, t, soc, cur, home, u_town, errand_km, u_head, u_urban, u_road = (
            a[go] for a in (idx, t, soc, cur, home, u_town, errand_km, u_head, u_urban, u_road))
        weights, total, go_town, go_home, errand, charging = (
            weights[go], total[go], go_town[go], go_home[go], errand[go], charging[go])
        if not idx.size:
            return
    for i, level, at in zip(idx[charging].tolist(), soc[charging].tolist(),
                            t[charging].tolist(), strict=True):
        out.append(_unplug(w, i, level, at))
    town = np.minimum((np.cumsum(weights, axis=1) < (u_town * total)[:, None]).sum(axis=1),
                      len(PLACES) - 1)
    dest = np.where(go_town, town, np.where(go_home, home, cur))
    olat, olon = w.lat[idx], w.lon[idx]
    radial = errand_km / 2.0 / ROAD_FACTOR
    rad = np.radians(360.0 * u_head)
    tlat = np.where(errand, olat + radial * np.cos(rad) / KM_PER_DEG_LAT, PLACE_LAT[dest])
    tlon = np.where(errand, olon + radial * np.sin(rad)
                    / (KM_PER_DEG_LAT * np.cos(np.radians(olat))), PLACE_LON[dest])
    straight, heading = _flat_geometry(olat, olon, tlat, tlon)
    trip_km = np.where(errand, errand_km, np.maximum(straight * ROAD_FACTOR, MIN_TRIP_KM))

    w.mode[idx] = DRIVING
    w.dest[idx] = dest
    w.trip_km[idx] = trip_km
    w.remaining_km[idx] = trip_km
    w.round_trip[idx] = errand
    w.origin_lat[idx], w.origin_lon[idx] = olat, olon
    w.target_lat[idx], w.target_lon[idx] = tlat, tlon
    w.urban_kmh[idx] = URBAN_KMH[0] + (URBAN_KMH[1] - URBAN_KMH[0]) * u_urban
    w.road_kmh[idx] = ROAD_KMH[0] + (ROAD_KMH[1] - ROAD_KMH[0]) * u_road
    w.trip_heading[idx] = heading
    w.heading_deg[idx] = heading
    w.trip_start[idx] = t
    w.start_odometer[idx] = w.odometer_km[idx]
    w.soc[idx] = soc
    w.start_soc[idx] = soc
    w.start_fuel[idx] = w.fuel_used_l[idx]
    w.until[idx] = t + _duration_s(w, idx)
    # The next departure after this trip is already fixed: the process has no memory.
    w.depart_at[idx] = next_departures(w.until[idx], rng)
    w.plugged[idx] = False
    w.ignition[idx] = True
    w.locked[idx] = False
    specs = w.specs
    for i, at, c, d, km in zip(idx.tolist(), t.tolist(), cur.tolist(), dest.tolist(),
                               trip_km.tolist(), strict=True):
        out.append(TripStarted(i, specs[i].vin, at, PLACES[c].name, PLACES[d].name, km))


def _arrive(w: Fleet, idx: Index, out: list[FleetEvent]) -> None:
    """Trips due to end: the full distance on the odometer, parked, maybe plugged in."""
    t = w.until[idx]
    km = w.trip_km[idx]
    w.odometer_km[idx] = w.start_odometer[idx] + km
    w.soc[idx], w.fuel_used_l[idx] = _energy(w, idx, km)
    _park(w, idx, at_end=True)
    specs, soc = w.specs, w.soc[idx]
    for i, at, dist, town, odo, charge in zip(
            idx.tolist(), t.tolist(), km.tolist(), w.place[idx].tolist(),
            w.odometer_km[idx].tolist(),
            [None if math.isnan(level) else level for level in soc.tolist()], strict=True):
        out.append(TripEnded(i, specs[i].vin, at, dist, PLACES[town].name, odo, charge))
    _plug_if_low(w, idx, t, out)


def _charged(w: Fleet, idx: Index, out: list[FleetEvent]) -> None:
    """Charging sessions due to reach their target."""
    t = w.until[idx]
    w.soc[idx] = w.charge_to[idx]
    w.mode[idx] = PARKED
    w.until[idx] = np.inf
    kwh = (w.charge_to[idx] - w.charge_from[idx]) * w.battery_kwh[idx]
    for i, at, soc, energy in zip(idx.tolist(), t.tolist(), w.soc[idx].tolist(),
                                  kwh.tolist(), strict=True):
        out.append(ChargingEnded(i, w.specs[i].vin, at, soc, energy, "full"))


def _settle(w: Fleet, now: float, rng: np.random.Generator) -> None:
    """The readable state at ``now`` of the cars under way and on the charger."""
    driving = np.flatnonzero(w.mode == DRIVING)
    if driving.size:
        _trip_state(w, driving, np.full(driving.size, now))
        noise = 1.0 + SPEED_NOISE * rng.standard_normal(driving.size)
        w.speed_kmh[driving] = np.clip(w.speed_kmh[driving] * noise, MIN_KMH, MAX_KMH)
    charging = np.flatnonzero(w.mode == CHARGING)
    if charging.size:
        w.soc[charging] = _charged_soc(w, charging, np.full(charging.size, now))


# -- trips -------------------------------------------------------------------------------
def _profile(w: Fleet, idx: Index) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Urban stretch at each end (km), its duration, the road stretch's duration (s)."""
    km = w.trip_km[idx]
    urban_km = np.where(w.round_trip[idx], km / 2.0, np.minimum(URBAN_KM, km / 2.0))
    urban_s = urban_km / w.urban_kmh[idx] * 3600.0
    road_s = (km - 2.0 * urban_km) / w.road_kmh[idx] * 3600.0
    return km, urban_km, urban_s, road_s


def _duration_s(w: Fleet, idx: Index) -> FloatArray:
    _, _, urban_s, road_s = _profile(w, idx)
    return 2.0 * urban_s + road_s


def _trip_state(w: Fleet, idx: Index, t: FloatArray) -> FloatArray:
    """Put cars under way where they are at ``t``; returns the km covered."""
    km, urban_km, urban_s, road_s = _profile(w, idx)
    tau = np.maximum(t - w.trip_start[idx], 0.0)
    urban, road = w.urban_kmh[idx], w.road_kmh[idx]
    leaving_town = tau < urban_s
    on_road = ~leaving_town & (tau < urban_s + road_s)
    covered = np.where(leaving_town, urban * tau / 3600.0,
                       np.where(on_road, urban_km + road * (tau - urban_s) / 3600.0,
                                km - urban_km + urban * (tau - urban_s - road_s) / 3600.0))
    covered = np.clip(covered, 0.0, km)
    w.speed_kmh[idx] = np.where(on_road, road, urban)
    w.remaining_km[idx] = km - covered
    w.odometer_km[idx] = w.start_odometer[idx] + covered
    w.soc[idx], w.fuel_used_l[idx] = _energy(w, idx, covered)
    share = np.where(km > 0, covered / np.maximum(km, MIN_TRIP_KM), 0.0)
    loop = w.round_trip[idx]
    along = np.where(loop, 1.0 - np.abs(1.0 - 2.0 * share), share)
    olat, olon = w.origin_lat[idx], w.origin_lon[idx]
    w.lat[idx] = olat + (w.target_lat[idx] - olat) * along
    w.lon[idx] = olon + (w.target_lon[idx] - olon) * along
    w.heading_deg[idx] = np.where(loop & (share > 0.5), (w.trip_heading[idx] + 180.0) % 360.0,
                                  w.trip_heading[idx])
    return covered


def _energy(w: Fleet, idx: Index, km: FloatArray) -> tuple[FloatArray, FloatArray]:
    """SoC and fuel used after ``km`` since the trip's start.

    An ICE's SoC is NaN; NaN passes silently through the arithmetic and every NaN lane
    is discarded by the final ``where``.
    """
    bev, phev = w.bev[idx], w.phev[idx]
    battery = np.where(bev | phev, w.battery_kwh[idx], 1.0)
    drop_per_km = w.kwh_per_km[idx] / battery
    soc0 = w.start_soc[idx]
    phev_km = np.where(phev, np.minimum(km, soc0 / np.where(phev, drop_per_km, 1.0)), 0.0)
    electric_km = np.where(bev, km, phev_km)
    after = soc0 - electric_km * drop_per_km
    usable = FAST_CHARGE_TO - FAST_CHARGE_BELOW
    stops = np.ceil(np.maximum(FAST_CHARGE_BELOW - after, 0.0) / usable)
    soc = np.where(bev, after + stops * usable, np.where(phev, np.maximum(after, 0.0), after))
    fuel = w.start_fuel[idx] + (km - electric_km) * w.l_per_km[idx]
    return soc, fuel


def _flat_geometry(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray,
                   lon2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Straight-line km and bearing (0 = north); flat earth is plenty within Europe."""
    north = (lat2 - lat1) * KM_PER_DEG_LAT
    east = (lon2 - lon1) * KM_PER_DEG_LAT * np.cos(np.radians((lat1 + lat2) / 2.0))
    return np.hypot(north, east), np.degrees(np.arctan2(east, north)) % 360.0


def _park(w: Fleet, idx: Index, *, at_end: bool) -> None:
    """Trip over: parked and locked; at the trip's end when it was completed."""
    if at_end:
        loop = w.round_trip[idx]
        w.lat[idx] = np.where(loop, w.origin_lat[idx], w.target_lat[idx])
        w.lon[idx] = np.where(loop, w.origin_lon[idx], w.target_lon[idx])
        w.heading_deg[idx] = np.where(loop, (w.trip_heading[idx] + 180.0) % 360.0,
                                      w.trip_heading[idx])
        w.place[idx] = w.dest[idx]
    w.mode[idx] = PARKED
    w.until[idx] = np.inf
    w.speed_kmh[idx] = 0.0
    w.remaining_km[idx] = 0.0
    w.dest[idx] = NO_PLACE
    w.ignition[idx] = False
    w.locked[idx] = True


def _trip_ended(w: Fleet, i: int, at: float, km: float) -> TripEnded:
    soc = float(w.soc[i])
    return TripEnded(i, w.specs[i].vin, at, km, PLACES[int(w.place[i])].name,
                     float(w.odometer_km[i]), None if math.isnan(soc) else soc)


# -- charging ----------------------------------------------------------------------------
def _plug_if_low(w: Fleet, idx: Index, t: FloatArray, out: list[FleetEvent]) -> None:
    """Parked at home below the owner's threshold: plug in and charge from ``t``."""
    low = (w.place[idx] == w.home[idx]) & (w.soc[idx] < w.plug_below[idx])
    if not low.any():
        return
    plug, start = idx[low], t[low]
    rate = _charge_rate(w, plug)
    soc = w.soc[plug]
    w.mode[plug] = CHARGING
    w.plugged[plug] = True
    w.charge_start[plug] = start
    w.charge_from[plug] = soc
    w.until[plug] = start + _charge_clock(w.charge_to[plug], rate) - _charge_clock(soc, rate)
    for i, at, level, kw in zip(plug.tolist(), start.tolist(), soc.tolist(),
                                w.charge_kw[plug].tolist(), strict=True):
        out.append(ChargingStarted(i, w.specs[i].vin, at, level, kw))


def _unplug(w: Fleet, i: int, soc: float, at: float) -> ChargingEnded:
    w.soc[i] = soc
    w.mode[i] = PARKED
    w.until[i] = np.inf
    w.plugged[i] = False
    return ChargingEnded(i, w.specs[i].vin, at, soc,
                         (soc - float(w.charge_from[i])) * float(w.battery_kwh[i]), "unplugged")


def _charge_rate(w: Fleet, idx: Index) -> FloatArray:
    """SoC per second at full power."""
    return w.charge_kw[idx] * CHARGE_EFFICIENCY / w.battery_kwh[idx] / 3600.0


def _charge_clock(soc: FloatArray, rate: FloatArray) -> FloatArray:
    """Seconds to charge from empty to ``soc``: linear, then exponential, then linear."""
    linear = np.minimum(soc, TAPER_FROM) / rate
    taper = (1.0 - TAPER_FROM) / rate * np.log(
        (1.0 - TAPER_FROM) / (1.0 - np.clip(soc, TAPER_FROM, _TAPER_END)))
    floor = np.maximum(soc - _TAPER_END, 0.0) / (rate * TAPER_MIN)
    return np.asarray(linear + taper + floor, dtype=np.float64)


def _soc_at_clock(clock: FloatArray, rate: FloatArray) -> FloatArray:
    """Inverse of ``_charge_clock``."""
    linear_end = TAPER_FROM / rate
    taper_end = _charge_clock(np.full(rate.shape, _TAPER_END), rate)
    tapered = 1.0 - (1.0 - TAPER_FROM) * np.exp(
        -np.maximum(clock - linear_end, 0.0) * rate / (1.0 - TAPER_FROM))
    return np.where(clock <= linear_end, clock * rate,
                    np.where(clock <= taper_end, tapered,
                             _TAPER_END + (clock - taper_end) * rate * TAPER_MIN))


def _charged_soc(w: Fleet, idx: Index, t: FloatArray) -> FloatArray:
    """SoC at ``t`` of cars charging since ``charge_start``."""
    rate = _charge_rate(w, idx)
    clock = _charge_clock(w.charge_from[idx], rate) + np.maximum(t - w.charge_start[idx], 0.0)
    return np.minimum(_soc_at_clock(clock, rate), w.charge_to[idx])


def _at(event: FleetEvent) -> float:
    return event.at
