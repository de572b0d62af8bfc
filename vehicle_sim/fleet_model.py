"""What a fleet is: per-vehicle specs, the state as numpy arrays, events and views.

A fleet of hundreds of cars is stepped together, so its state is one array per
quantity rather than one object per car; a scenario or a runner that cares about one
car reads it through ``snapshot``. The dynamics live in ``vehicle_sim.fleet``.

The arrays of a ``Fleet`` are read-only: stepping returns a new fleet, so a runner
can keep the previous one (to diff, or to replay) without defensive copies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from enum import IntEnum
from typing import Any, Final, Literal, get_args

import numpy as np
import numpy.typing as npt

from vehicle_sim.places import PLACE_INDEX, PLACE_LAT, PLACE_LON, PLACES, place_index
from vehicle_sim.rhythm import next_departures

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int16]
BoolArray = npt.NDArray[np.bool_]

PropulsionType = Literal["ICE", "BEV", "PHEV"]
PROPULSION_TYPES: Final[tuple[PropulsionType, ...]] = get_args(PropulsionType)
ModeName = Literal["parked", "driving", "charging"]

NO_PLACE: Final = -1
_VIN_CHARS: Final = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")


class Mode(IntEnum):
    """What a car is doing; stored as int8 codes in ``Fleet.mode``."""

    PARKED = 0
    DRIVING = 1
    CHARGING = 2


MODE_NAMES: Final[dict[int, ModeName]] = {
    Mode.PARKED: "parked", Mode.DRIVING: "driving", Mode.CHARGING: "charging",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetSpec:
    """What a car is and what its owner bought; constant while the fleet runs.

    ``home`` names a town of ``vehicle_sim.places``: where the car sleeps and charges.
    Smart Maintenance is off until the customer opts in (MINI Connected §16b, TS-R3).
    """

    vin: str
    propulsion: PropulsionType
    os_version: int
    home: str
    battery_kwh: float = 0.0
    smart_maintenance_opt_in: bool = False
    preferred_partner: str | None = None
    services: frozenset[str] = field(default_factory=frozenset)
    odometer_km: float = 0.0

    def __post_init__(self) -> None:
        if len(self.vin) != 17 or not set(self.vin) <= _VIN_CHARS:
            raise ValueError(f"vin {self.vin!r} is not 17 characters of ISO 3779")
        if self.propulsion not in PROPULSION_TYPES:
            raise ValueError(f"{self.vin}: propulsion {self.propulsion!r} is not "
                             f"{'|'.join(PROPULSION_TYPES)}")
        if not 1 <= self.os_version <= 99:
            raise ValueError(f"{self.vin}: os_version {self.os_version} out of 1..99")
        place_index(self.home)
        if self.propulsion == "ICE" and self.battery_kwh != 0:
            raise ValueError(f"{self.vin}: an ICE car has no traction battery "
                             f"(battery_kwh {self.battery_kwh})")
        if self.propulsion != "ICE" and not 1.0 <= self.battery_kwh <= 250.0:
            raise ValueError(f"{self.vin}: battery_kwh {self.battery_kwh} out of 1..250 "
                             f"for a {self.propulsion}")
        if not math.isfinite(self.odometer_km) or self.odometer_km < 0:
            raise ValueError(f"{self.vin}: odometer_km {self.odometer_km} is not a distance")

    @property
    def electric(self) -> bool:
        """Has a battery that is charged from the grid."""
        return self.propulsion != "ICE"


# -- events ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TripStarted:
    """Ignition on, unlocked, leaving ``origin`` for ``destination`` (town names)."""

    index: int
    vin: str
    at: float
    origin: str
    destination: str
    planned_km: float


@dataclass(frozen=True, slots=True)
class TripEnded:
    """Parked and locked after ``km`` of road; where, and what is left in the tank."""

    index: int
    vin: str
    at: float
    km: float
    place: str
    odometer_km: float
    soc: float | None


@dataclass(frozen=True, slots=True)
class ChargingStarted:
    index: int
    vin: str
    at: float
    soc: float
    power_kw: float


@dataclass(frozen=True, slots=True)
class ChargingEnded:
    """``reason`` is "full" at the charge target or "unplugged" when the car left."""

    index: int
    vin: str
    at: float
    soc: float
    kwh: float
    reason: Literal["full", "unplugged"]


FleetEvent = TripStarted | TripEnded | ChargingStarted | ChargingEnded


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleSnapshot:
    """One car of the fleet at one instant, as plain values."""

    vin: str
    lat: float
    lon: float
    heading_deg: float
    speed_kmh: float
    odometer_km: float
    soc: float | None
    mode: ModeName
    plugged: bool
    ignition: bool
    locked: bool
    propulsion: PropulsionType
    os_version: int
    place: str | None


# -- the fleet ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False, kw_only=True)
class Fleet:
    """Every car's state at time ``t``, one array element per car (order of ``specs``).

    The readable state (position, speed, odometer, SoC, flags) is as of ``t``. What
    moves is anchored instead: a trip by its start (time, odometer, SoC, fuel) and
    speed profile, a charging session by its start time and SoC, so the state at any
    later instant follows exactly. ``until`` is when the trip or the charge ends (inf
    when parked), ``depart_at`` when a parked car next leaves.

    Trip geometry: a trip runs from ``origin`` towards ``target``; a one-way trip ends
    there, a round trip (a local errand) turns at ``target`` and comes back. ``place``
    is the town the car is at or last left; ``dest`` the town a trip ends in (-1 when
    parked).
    """

    specs: tuple[FleetSpec, ...]
    t: float
    # per-car constants
    home: IntArray
    bev: BoolArray
    phev: BoolArray
    battery_kwh: FloatArray
    charge_kw: FloatArray
    plug_below: FloatArray
    charge_to: FloatArray
    kwh_per_km: FloatArray
    l_per_km: FloatArray
    # state
    lat: FloatArray
    lon: FloatArray
    heading_deg: FloatArray
    speed_kmh: FloatArray
    odometer_km: FloatArray
    soc: FloatArray
    fuel_used_l: FloatArray
    mode: npt.NDArray[np.int8]
    place: IntArray
    dest: IntArray
    trip_km: FloatArray
    remaining_km: FloatArray
    round_trip: BoolArray
    origin_lat: FloatArray
    origin_lon: FloatArray
    target_lat: FloatArray
    target_lon: FloatArray
    urban_kmh: FloatArray
    road_kmh: FloatArray
    trip_heading: FloatArray
    trip_start: FloatArray
    start_odometer: FloatArray
    start_soc: FloatArray
    start_fuel: FloatArray
    charge_start: FloatArray
    charge_from: FloatArray
    depart_at: FloatArray
    until: FloatArray
    plugged: BoolArray
    ignition: BoolArray
    locked: BoolArray

    @classmethod
    def create(cls, specs: Sequence[FleetSpec], *, seed: int, start: float) -> Fleet:
        """Every car parked, locked and unplugged at home at ``start``, charged to 50-90 %.

        ``seed`` draws what specs leave open (charger power, when an owner plugs in,
        consumption), so the same specs and seed give the same fleet.
        """
        if not specs:
            raise ValueError("a fleet needs at least one vehicle")
        vins = [s.vin for s in specs]
        if len(set(vins)) != len(vins):
            raise ValueError("duplicate vin in fleet specs")
        rng = np.random.default_rng(seed)
        n = len(specs)
        home = np.array([PLACE_INDEX[s.home] for s in specs], dtype=np.int16)
        bev = np.array([s.propulsion == "BEV" for s in specs])
        phev = np.array([s.propulsion == "PHEV" for s in specs])
        electric = bev | phev
        battery = np.array([s.battery_kwh for s in specs], dtype=np.float64)
        # BEV wallboxes 7.4 or 11 kW; PHEV on-board chargers 3.7 or 7.4 kW.
        big = rng.random(n) < 0.5
        charge_kw = np.where(bev, np.where(big, 11.0, 7.4), np.where(big, 7.4, 3.7))
        # BEV owners plug in somewhere between 25 and 60 %; PHEV owners nearly always.
        plug_below = np.where(bev, rng.uniform(0.25, 0.6, n), rng.uniform(0.7, 0.95, n))
        charge_to = np.where(bev, 0.9, 1.0)
        kwh_per_km = np.where(bev, 0.17, 0.20) * rng.uniform(0.9, 1.15, n)
        l_per_km = np.where(phev, 0.060, rng.uniform(0.055, 0.080, n))
        soc = np.where(electric, rng.uniform(0.5, 0.9, n), np.nan)
        lat, lon = PLACE_LAT[home].copy(), PLACE_LON[home].copy()
        zeros = np.zeros(n)
        fleet = cls(
            specs=tuple(specs), t=float(start), home=home, bev=bev, phev=phev,
            battery_kwh=battery, charge_kw=np.where(electric, charge_kw, 0.0),
            plug_below=np.where(electric, plug_below, 0.0), charge_to=charge_to,
            kwh_per_km=np.where(electric, kwh_per_km, 0.0), l_per_km=l_per_km,
            lat=lat, lon=lon, heading_deg=rng.uniform(0.0, 360.0, n), speed_kmh=zeros.copy(),
            odometer_km=np.array([s.odometer_km for s in specs], dtype=np.float64),
            soc=soc, fuel_used_l=zeros.copy(), mode=np.zeros(n, dtype=np.int8),
            place=home.copy(), dest=np.full(n, NO_PLACE, dtype=np.int16),
            trip_km=zeros.copy(), remaining_km=zeros.copy(),
            round_trip=np.zeros(n, dtype=np.bool_), origin_lat=lat.copy(),
            origin_lon=lon.copy(), target_lat=lat.copy(), target_lon=lon.copy(),
            urban_kmh=zeros.copy(), road_kmh=zeros.copy(), trip_heading=zeros.copy(),
            trip_start=zeros.copy(), start_odometer=zeros.copy(), start_soc=zeros.copy(),
            start_fuel=zeros.copy(), charge_start=zeros.copy(), charge_from=zeros.copy(),
            depart_at=next_departures(np.full(n, float(start)), rng),
            until=np.full(n, np.inf), plugged=np.zeros(n, dtype=np.bool_),
            ignition=np.zeros(n, dtype=np.bool_), locked=np.ones(n, dtype=np.bool_),
        )
        return fleet.frozen()

    @property
    def size(self) -> int:
        return len(self.specs)

    def thawed(self) -> Fleet:
        """A copy whose arrays may be written: the working copy of one step."""
        changes: dict[str, Any] = {
            f.name: getattr(self, f.name).copy() for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray) and f.name not in _CONSTANTS
        }
        return replace(self, **changes)

    def frozen(self) -> Fleet:
        """This fleet with its arrays made read-only, so no caller can alter a state."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        return self


_CONSTANTS: Final = frozenset({"home", "bev", "phev", "battery_kwh", "charge_kw", "plug_below",
                               "charge_to", "kwh_per_km", "l_per_km"})


def index_of(fleet: Fleet, vin: str) -> int:
    """Position of ``vin`` in the fleet's arrays."""
    for i, spec in enumerate(fleet.specs):
        if spec.vin == vin:
            return i
    raise KeyError(f"vin {vin!r} is not in the fleet")


def odometer(fleet: Fleet, vin: str) -> float:
    return float(fleet.odometer_km[index_of(fleet, vin)])


def place_name(index: int) -> str | None:
    return PLACES[index].name if index >= 0 else None


def snapshot(fleet: Fleet, index: int) -> VehicleSnapshot:
    """Car ``index`` as plain Python values, for code that handles one car."""
    spec = fleet.specs[index]
    soc = float(fleet.soc[index])
    return VehicleSnapshot(
        vin=spec.vin, lat=float(fleet.lat[index]), lon=float(fleet.lon[index]),
        heading_deg=float(fleet.heading_deg[index]), speed_kmh=float(fleet.speed_kmh[index]),
        odometer_km=float(fleet.odometer_km[index]), soc=None if math.isnan(soc) else soc,
        mode=MODE_NAMES[int(fleet.mode[index])], plugged=bool(fleet.plugged[index]),
        ignition=bool(fleet.ignition[index]), locked=bool(fleet.locked[index]),
        propulsion=spec.propulsion, os_version=spec.os_version,
        place=None if fleet.mode[index] == Mode.DRIVING else place_name(int(fleet.place[index])),
    )


# -- plausible specs ---------------------------------------------------------------------
BASE_SERVICES: Final = ("intelligent_ecall", "teleservice", "remote_services")
EXTRA_SERVICES: Final = ("navigation", "digital_key", "personal_esim", "remote_3d_view")


def sample_specs(count: int, *, seed: int, countries: Sequence[str] | None = None,
                 opt_in_share: float = 0.0) -> tuple[FleetSpec, ...]:
    """A plausible mixed fleet: propulsion mix, OS versions, homes, services, partners.

    VINs are ``WMW5F`` + the seed and the car's number, so two fleets with different
    seeds never share a car. ``opt_in_share`` is the share that ticked Smart
    Maintenance; 0 by default because it is off until the customer opts in.
    """
    rng = np.random.default_rng(seed)
    homes = [p for p in PLACES if countries is None or p.country in countries]
    if not homes:
        raise ValueError(f"no places in countries {countries}")
    specs: list[FleetSpec] = []
    for i in range(count):
        home = homes[int(rng.integers(len(homes)))]
        propulsion = PROPULSION_TYPES[int(rng.choice(3, p=(0.55, 0.3, 0.15)))]
        battery = {"ICE": 0.0, "BEV": float(rng.uniform(50.0, 80.0)),
                   "PHEV": float(rng.uniform(10.0, 20.0))}[propulsion]
        extras = {s for s in EXTRA_SERVICES if rng.random() < 0.4}
        if propulsion != "ICE":
            extras.add("charge_management")
        partner = f"MINI Service {home.name}" if rng.random() < 0.7 else None
        specs.append(FleetSpec(
            vin=f"WMW5F{seed % 1000:03d}{i:09d}", propulsion=propulsion,
            os_version=int(rng.integers(6, 11)), home=home.name,
            battery_kwh=round(battery, 1),
            smart_maintenance_opt_in=bool(rng.random() < opt_in_share),
            preferred_partner=partner, services=frozenset(BASE_SERVICES) | extras,
            odometer_km=round(float(rng.uniform(0.0, 80_000.0)), 1)))
    return tuple(specs)
