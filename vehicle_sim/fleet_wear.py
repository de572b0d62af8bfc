"""How the fleet's cars wear and age: service items by time and distance, and faults.

A car reports a maintenance need when a Condition Based Service item falls due or a
fault is stored (TS-R1 of docs/requirements.md); its workshop then services it and the
partner closes the case, which is what ends the retention of its Teleservice data
(TS-R5). So the fleet needs needs at realistic rates, and this module is where they
come from.

Which items a car has comes from the documents: the Service Inclusive scope list of its
propulsion (TS-R7, ``vehicle_sim.teleservice.SERVICE_ITEMS_BY_PROPULSION``); the
vehicle check is the inspection of those lists (the statutory inspection is not one of
their items, so the car does not report it). How often each falls due the documents do
not say; the figures below are typical Condition Based Service intervals of a small
car, written down as the model's assumptions:

* engine oil 20,000 km or 1 year; oil top-up 15,000 km or 2 years; vehicle check and
  microfilter 30,000 km or 2 years; brake fluid every 2 years (time only); air filter,
  fuel filter and spark plugs 60,000 km or 4 years; brake pads front 40,000 km, rear
  60,000 km, or 5 years (a BEV brakes mostly by recuperation: 1.5 times the distance);
  door hinges and the front-door gas strut every 2 years or 60,000 km.
* Each car's distances are scaled by its driving style (0.8 to 1.2). At the start a car
  was last serviced a uniform share of a year ago, each item at that service or at one
  a whole number of years before (``_left_at_start``), as in a fleet of mixed ages.
* An item falls due when CBS shows it within ``DUE_SOON_KM`` / ``DUE_SOON_DAYS``
  (``protocols.teleservice.item_status``); the car then places a service-need call.
* Faults: a Poisson process of ``FAULTS_PER_YEAR`` per car, one stored fault at a time,
  its code drawn from a short list for the propulsion.
* A workshop visit services every item due within ``VISIT_HORIZON_KM`` /
  ``VISIT_HORIZON_DAYS`` (a workshop does what falls due soon while the car is in) and
  clears the fault; after the first visit a car's items fall due together, as real
  service schedules do.

The state is one array per quantity (cars by items), so asking which of thousands of
cars has anything to report after a step is a few vectorised comparisons
(``attention``); only those cars are then looked at one by one. Random draws come
from the generator this model is given, at creation and at visits, which the driver
takes in time order, so the same seed gives the same needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from protocols.teleservice import DUE_SOON_DAYS, DUE_SOON_KM, Propulsion, ServiceItem, item_status
from vehicle_sim.teleservice import SERVICE_ITEMS_BY_PROPULSION

FloatArray = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]

DAY_S: Final = 86_400.0
YEAR_S: Final = 365.25 * DAY_S
TIME_ONLY_KM: Final = 1_000_000.0  # brake fluid has a date only; CBS needs a finite figure

# item: (km, days) between services, before the car's driving-style factor
INTERVALS: Final[dict[str, tuple[float, float]]] = {
    "engine_oil": (20_000.0, 365.25),
    "oil_top_up": (15_000.0, 730.5),
    "vehicle_check": (30_000.0, 730.5),
    "microfilter": (30_000.0, 730.5),
    "brake_fluid": (TIME_ONLY_KM, 730.5),
    "air_filter": (60_000.0, 1_461.0),
    "fuel_filter": (60_000.0, 1_461.0),
    "spark_plugs": (60_000.0, 1_461.0),
    "brakes_front": (40_000.0, 1_826.25),
    "brakes_rear": (60_000.0, 1_826.25),
    "door_hinges": (60_000.0, 730.5),
    "front_door_gas_strut": (60_000.0, 730.5),
}
ITEMS: Final = tuple(INTERVALS)
_TIME_ONLY: Final = np.array([INTERVALS[i][0] == TIME_ONLY_KM for i in ITEMS])
_KM: Final = np.array([INTERVALS[i][0] for i in ITEMS])
_DAYS: Final = np.array([INTERVALS[i][1] for i in ITEMS])
_BRAKES: Final = np.array([i.startswith("brakes_") for i in ITEMS])
YEAR_DAYS: Final = 365.25
_YEARS: Final = np.maximum(np.round(_DAYS / YEAR_DAYS), 1).astype(np.int64)
BEV_BRAKE_FACTOR: Final = 1.5
STYLE: Final = (0.8, 1.2)

FAULTS_PER_YEAR: Final = 0.3
FAULT_CODES: Final[dict[str, tuple[str, ...]]] = {
    "combustion": ("P0300", "P0171", "P0420", "P0128", "C0035", "B1318", "U0100"),
    "bev": ("P0A80", "P1E00", "C0035", "B1318", "U0100"),
}

VISIT_HORIZON_KM: Final = 10_000.0
VISIT_HORIZON_DAYS: Final = 180.0
VISIT_DELAY_DAYS: Final = (2.0, 14.0)  # from the need to the workshop appointment


def _left_at_start(rng: np.random.Generator, n: int) -> FloatArray:
    """Share of each item's interval still to go at the start (cars by items).

    A car was last serviced a uniform share of a year ago; an item of a longer
    interval was done at that service or one, two ... years before it, so a car's
    items fall due on the anniversaries of its services, as on a real schedule."""
    since = rng.random(n)[:, None] + rng.integers(0, _YEARS, (n, len(ITEMS)))
    return np.asarray(1.0 - (since * YEAR_DAYS % _DAYS) / _DAYS, dtype=np.float64)


def _codes(propulsion: Propulsion) -> tuple[str, ...]:
    return FAULT_CODES["bev" if propulsion == "bev" else "combustion"]


class Wear:
    """Every car's service items and faults; the fleet driver's working state.

    Mutable on purpose, unlike ``Fleet``: a visit changes one car's row, and copying
    the whole fleet's arrays for each would cost more than the step itself.
    """

    def __init__(self, propulsions: Sequence[Propulsion], odometer_km: Sequence[float], *,
                 start: float, rng: np.random.Generator) -> None:
        n = len(propulsions)
        self._rng = rng
        self._propulsions = tuple(propulsions)
        scope = np.array([[item in SERVICE_ITEMS_BY_PROPULSION[p] for item in ITEMS]
                          for p in propulsions]).reshape(n, len(ITEMS))
        style = rng.uniform(*STYLE, n)
        bev = np.array([p == "bev" for p in propulsions])
        self._km = np.where(_BRAKES & bev[:, None], BEV_BRAKE_FACTOR, 1.0) * style[:, None] * _KM
        self._km[:, _TIME_ONLY] = TIME_ONLY_KM  # not by style
        left = _left_at_start(rng, n)
        odometer = np.asarray(odometer_km, dtype=np.float64)
        by_km = np.where(_TIME_ONLY, 1.0, left)  # no share of a distance it has not got
        self.due_km: FloatArray = np.where(scope, odometer[:, None] + by_km * self._km, np.inf)
        self.due_at: FloatArray = np.where(scope, start + left * _DAYS * DAY_S, np.inf)
        self.fault_at: FloatArray = start + self._fault_waits(n)
        self._fault_code = rng.integers(0, 1 << 30, n)

    def _fault_waits(self, n: int) -> FloatArray:
        return np.asarray(self._rng.exponential(YEAR_S / FAULTS_PER_YEAR, n), dtype=np.float64)

    def attention(self) -> tuple[FloatArray, FloatArray]:
        """Per car, the odometer reading and the instant from which it has something to
        report (an item within its due margin, or a stored fault): the driver looks at a
        car one by one only once it passed either, so a step costs a few vectorised
        minima over the fleet, whatever its size."""
        from_km = np.min(self.due_km - DUE_SOON_KM, axis=1)
        from_at = np.minimum(np.min(self.due_at - DUE_SOON_DAYS * DAY_S, axis=1), self.fault_at)
        return from_km, from_at

    def items(self, index: int, odometer_km: float, at: float) -> tuple[ServiceItem, ...]:
        """The items car ``index`` shows as due or overdue: what its call reports.

        One car's dozen items: plain floats beat numpy's per-call overhead here."""
        out = []
        for item, due_km, due_at in zip(ITEMS, self.due_km[index].tolist(),
                                        self.due_at[index].tolist(), strict=True):
            left_km, left_days = due_km - odometer_km, (due_at - at) / DAY_S
            if left_km <= DUE_SOON_KM or left_days <= DUE_SOON_DAYS:
                out.append(ServiceItem(item, round(left_km, 1), round(left_days, 2),
                                       item_status(left_km, left_days)))
        return tuple(out)

    def faults(self, index: int, at: float) -> tuple[str, ...]:
        """The fault code car ``index`` has stored at ``at``, if any."""
        if self.fault_at[index] > at:
            return ()
        codes = _codes(self._propulsions[index])
        return (codes[int(self._fault_code[index]) % len(codes)],)

    def serviced(self, index: int, odometer_km: float, at: float) -> None:
        """A workshop visit: items due soon are done, a stored fault is repaired."""
        soon = ((self.due_km[index] - VISIT_HORIZON_KM <= odometer_km)
                | (self.due_at[index] - VISIT_HORIZON_DAYS * DAY_S <= at))
        soon &= np.isfinite(self.due_km[index])
        self.due_km[index, soon] = odometer_km + self._km[index, soon]
        self.due_at[index, soon] = at + _DAYS[soon] * DAY_S
        if self.fault_at[index] <= at:
            self.fault_at[index] = at + self._fault_waits(1)[0]
            self._fault_code[index] = self._rng.integers(0, 1 << 30)

    def visit_delay_s(self) -> float:
        """How long after a need the car is at the workshop."""
        return float(self._rng.uniform(*VISIT_DELAY_DAYS)) * DAY_S
