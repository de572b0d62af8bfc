"""One car as the TCU sees it: what it is (spec), where it is and has been (state).

The MSD needs more than the current fix: EN 15722 v3 makes the two recent positions
N1 and N2 mandatory, so the state keeps a short, timestamped track. Everything here
is pure; time is whatever clock the caller passes in (real or virtual seconds), so a
scenario can run months of driving in a test without touching the wall clock.

N1/N2 follow EN 15722:2020 Table 1: N1 is the delta from vehicleLocation to the
previous fix, N2 the delta from N1's position to the fix before that, each in units of
100 milliarcseconds and clamped to -512..511. N2 is taken from N1's position as the
receiver reconstructs it (vehicleLocation + N1), so rounding and clamping of N1 do not
add up along the track. The fixes are picked at least ``FIX_SPACING_S`` apart and the
three positions lie within ``FIX_WINDOW_S`` (15 s); their times are not transmitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Final

from protocols.geo import EARTH_RADIUS_KM
from protocols.msd.model import (
    DIRECTION_UNKNOWN,
    MAS_PER_DEGREE,
    OCCUPANTS_UNKNOWN,
    VEHICLE_TYPES_V3,
    LocationDelta,
    Msd,
    Propulsion,
    VehicleLocation,
)

FIX_WINDOW_S: Final = 15.0  # EN 15722: the three positions fall within 15 s
FIX_SPACING_S: Final = 5.0  # wanted gap between vehicleLocation, N1 and N2
FIX_RESOLUTION_S: Final = 1.0  # the track keeps at most one fix per second
HISTORY_S: Final = 2 * FIX_WINDOW_S  # older fixes can never be N1 or N2
DELTA_UNIT_MAS: Final = 100
DELTA_MIN: Final = -512
DELTA_MAX: Final = 511
EARTH_RADIUS_M: Final = EARTH_RADIUS_KM * 1000.0  # plenty for a flat-earth step

_VIN_CHARS: Final = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleSpec:
    """What does not change during a drive: identity, type and the bought services.

    ``intelligent_expires`` is the last day the Intelligent eCall contract is valid
    (inclusive); None means it does not expire.
    """

    vin: str
    vehicle_type: str = "passengerVehicleCategoryM1"
    propulsion: Propulsion = field(default_factory=Propulsion)
    activation_country: str
    intelligent_bought: bool = False
    intelligent_expires: date | None = None
    seats: int = 5

    def __post_init__(self) -> None:
        if len(self.vin) != 17 or not set(self.vin) <= _VIN_CHARS:
            raise ValueError(f"vin {self.vin!r} is not 17 characters of ISO 3779")
        if self.vehicle_type not in VEHICLE_TYPES_V3:
            raise ValueError(f"vehicle_type {self.vehicle_type!r} is not an EN 15722 v3 category")
        if len(self.activation_country) != 2 or not self.activation_country.isupper():
            raise ValueError(
                f"activation_country {self.activation_country!r} is not ISO 3166 alpha-2")
        if not 1 <= self.seats <= 255:
            raise ValueError(f"seats {self.seats} out of 1..255")

    def intelligent_valid_on(self, day: date) -> bool:
        """Bought and not expired on ``day`` (the country rule is the machine's business)."""
        return self.intelligent_bought and (
            self.intelligent_expires is None or day <= self.intelligent_expires
        )


@dataclass(frozen=True, slots=True)
class Fix:
    """A GNSS position in degrees at time ``t`` (seconds on the caller's clock)."""

    t: float
    lat: float
    lon: float

    @property
    def mas(self) -> tuple[int, int]:
        """Latitude and longitude in milliarcseconds, rounded as the MSD carries them."""
        return round(self.lat * MAS_PER_DEGREE), round(self.lon * MAS_PER_DEGREE)


@dataclass(slots=True)
class VehicleState:
    """Where the car is, where it has been and what it is doing.

    The position is the newest fix of ``track`` so the MSD location and its N1/N2
    can never disagree. ``heading_deg`` None means unknown (MSD direction 255);
    ``occupants`` 255 (OCCUPANTS_UNKNOWN) means no seat sensing, as in the MSD.
    """

    track: tuple[Fix, ...]
    heading_deg: float | None
    speed_kmh: float
    occupants: int

    def __post_init__(self) -> None:
        if not self.track:
            raise ValueError("a vehicle state needs at least one fix")
        if self.speed_kmh < 0 or not math.isfinite(self.speed_kmh):
            raise ValueError(f"speed {self.speed_kmh} km/h is not a speed")
        if not 0 <= self.occupants <= OCCUPANTS_UNKNOWN:
            raise ValueError(f"occupants {self.occupants} out of 0..255")

    @classmethod
    def start(cls, *, lat: float, lon: float, heading_deg: float | None, speed_kmh: float,
              occupants: int, now: float) -> VehicleState:
        """A car that enters the simulation at ``now``, already moving.

        A car that has been driving has a track behind it, so two earlier fixes are
        laid back along the heading; a parked car gets them on the same spot.
        """
        head = Fix(now, lat, lon)
        fixes = [head]
        for k in (1, 2):
            back = _moved(head, heading_deg, speed_kmh, -k * FIX_SPACING_S)
            fixes.insert(0, back)
        return cls(tuple(fixes), heading_deg, speed_kmh, occupants)

    @property
    def lat(self) -> float:
        return self.track[-1].lat

    @property
    def lon(self) -> float:
        return self.track[-1].lon

    @property
    def t(self) -> float:
        """Time of the newest fix."""
        return self.track[-1].t

    def location(self, now: float | None = None) -> VehicleLocation:
        """vehicleLocation as the TCU knew it at ``now`` (default: the newest fix)."""
        lat_mas, lon_mas = self._reference(now).mas
        return VehicleLocation(lat_mas, lon_mas)

    def recent_deltas(self, now: float | None = None) -> tuple[LocationDelta, LocationDelta]:
        """N1 and N2 for an MSD built at ``now``; a missing fix gives a zero delta.

        Fixes later than ``now`` are ignored: the TCU could not have had them.
        """
        ref = self._reference(now)
        n1_fix = _older_fix(self.track, before=ref.t - FIX_SPACING_S,
                            not_before=ref.t - FIX_WINDOW_S)
        n2_fix = None if n1_fix is None else _older_fix(
            self.track, before=n1_fix.t - FIX_SPACING_S, not_before=ref.t - FIX_WINDOW_S)
        cur = ref.mas
        n1 = _delta(cur, n1_fix.mas if n1_fix is not None else cur)
        n1_pos = (cur[0] + n1.latitude_delta * DELTA_UNIT_MAS,
                  cur[1] + n1.longitude_delta * DELTA_UNIT_MAS)
        n2 = _delta(n1_pos, n2_fix.mas if n2_fix is not None else n1_pos)
        return n1, n2

    def _reference(self, now: float | None) -> Fix:
        if now is None:
            return self.track[-1]
        for fix in reversed(self.track):
            if fix.t <= now:
                return fix
        return self.track[0]


def advance(state: VehicleState, dt_s: float) -> VehicleState:
    """The car ``dt_s`` seconds later, moved along its heading at its speed.

    A flat-earth step: exact enough over the few metres of one tick, and the MSD only
    needs positions to ~3 m (one delta unit).
    """
    if dt_s < 0 or not math.isfinite(dt_s):
        raise ValueError(f"dt_s {dt_s} must be a finite, non-negative number of seconds")
    head = _moved(state.track[-1], state.heading_deg, state.speed_kmh, dt_s)
    return replace(state, track=_recorded(state.track, head))


def build_msd(spec: VehicleSpec, state: VehicleState, *, message_identifier: int,
              automatic: bool, timestamp: int, position_trusted: bool = True,
              test_call: bool = False, now: float | None = None) -> Msd:
    """A v3 MSD for this car; ``timestamp`` is the one taken at the trigger.

    ``now`` picks the fix the MSD reports (default: the newest), so an update sent
    later than the trigger carries the car's position at the time of the update.
    """
    if not 0 <= message_identifier <= 255:
        raise ValueError(f"message_identifier {message_identifier} out of 0..255")
    n1, n2 = state.recent_deltas(now)
    return Msd(
        message_identifier=message_identifier,
        automatic_activation=automatic,
        test_call=test_call,
        position_can_be_trusted=position_trusted,
        vehicle_type=spec.vehicle_type,
        vin=spec.vin,
        propulsion=spec.propulsion,
        timestamp=timestamp,
        location=state.location(now),
        direction=msd_direction(state.heading_deg),
        n1=n1,
        n2=n2,
        number_of_occupants=state.occupants,
        version=3,
    )


def msd_direction(heading_deg: float | None) -> int:
    """vehicleDirection: 2-degree steps clockwise from north, 255 when unknown."""
    if heading_deg is None or not math.isfinite(heading_deg):
        return DIRECTION_UNKNOWN
    return math.floor((heading_deg % 360.0) / 2.0 + 0.5) % 180


def _moved(fix: Fix, heading_deg: float | None, speed_kmh: float, dt_s: float) -> Fix:
    if heading_deg is None or speed_kmh == 0.0:
        return Fix(fix.t + dt_s, fix.lat, fix.lon)
    distance_m = speed_kmh / 3.6 * dt_s
    heading = math.radians(heading_deg)
    dlat = math.degrees(distance_m * math.cos(heading) / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(fix.lat)), 1e-6)
    dlon = math.degrees(distance_m * math.sin(heading) / (EARTH_RADIUS_M * cos_lat))
    lat = min(max(fix.lat + dlat, -90.0), 90.0)
    lon = (fix.lon + dlon + 180.0) % 360.0 - 180.0
    return Fix(fix.t + dt_s, lat, lon)


def _recorded(track: tuple[Fix, ...], fix: Fix) -> tuple[Fix, ...]:
    """Append ``fix``. A newest fix closer than FIX_RESOLUTION_S to the one before it
    is overwritten instead of kept, so a fast tick does not grow the track: all fixes
    but the newest stay at least FIX_RESOLUTION_S apart."""
    too_close = len(track) >= 2 and track[-1].t - track[-2].t < FIX_RESOLUTION_S
    kept = track[:-1] if too_close else track
    oldest = fix.t - HISTORY_S
    return (*(f for f in kept if f.t >= oldest), fix)


def _older_fix(track: tuple[Fix, ...], *, before: float, not_before: float) -> Fix | None:
    for fix in reversed(track):
        if fix.t <= before:
            return fix if fix.t >= not_before else None
    return None


def _clamp_delta(value: float) -> int:
    return min(max(round(value), DELTA_MIN), DELTA_MAX)


def _delta(origin: tuple[int, int], target: tuple[int, int]) -> LocationDelta:
    return LocationDelta(
        latitude_delta=_clamp_delta((target[0] - origin[0]) / DELTA_UNIT_MAS),
        longitude_delta=_clamp_delta((target[1] - origin[1]) / DELTA_UNIT_MAS),
    )
