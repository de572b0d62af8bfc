"""The car's Teleservice and Smart Maintenance decisions (MINI Connected §16a, §16b), pure.

No clock is read: the runner passes ``now`` (epoch seconds, real or virtual) and the
odometer, and performs the sending. The rules (docs/requirements.md, "Teleservice Call
and Smart Maintenance", cited below by id: TS-R1 to TS-R3 and TS-R7):

* A Teleservice Call goes "regularly every 28 days or every 1,000 km" (TS-R1); the
  emulator reads it as whichever comes first after the last call (TS-R1), and the
  car keeps "the date of the last call" (TS-R2), so both are measured from there.
* A call also goes "for every service or maintenance request" (TS-R1): a fault code
  or a condition-based service item that became due and was not reported yet.
* Smart Maintenance sends "after every trip or once a week" (TS-R3), only when the
  user ticked its consent box (TS-R3) and only on OS 7 or newer (TS-R3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from protocols.teleservice import (
    CallReason,
    Propulsion,
    ServiceItem,
    SmartMaintenanceTransfer,
    SmartTrigger,
    TeleserviceCall,
    item_status,
    validate_call,
    validate_smart_transfer,
)

DAY_S: Final = 86_400.0
CALL_INTERVAL_S: Final = 28 * DAY_S  # TS-R1: "om de 28 dagen"
CALL_INTERVAL_KM: Final = 1_000.0  # TS-R1: "om de 1.000 km"
SMART_WEEKLY_S: Final = 7 * DAY_S  # TS-R3: "eenmaal per week"
SMART_MIN_OS: Final = 7  # TS-R3: "MINI Operating System 7 or newer"

# Service Inclusive scope lists (TS-R7), with the qualifiers it gives
# ("fuel filter (diesel)", "spark plugs (petrol)") applied to the PHEV list too.
# "oil" and "top-up" of the PHEV line are the ICE line's "engine oil, oil top-up".
_BRAKES: Final = ("brakes_front", "brakes_rear")  # issue: "oil, brakes, brake fluid, ..."
SERVICE_ITEMS_BY_PROPULSION: Final[Mapping[Propulsion, tuple[str, ...]]] = {
    "petrol": ("engine_oil", "oil_top_up", "vehicle_check", "air_filter", "microfilter",
               "spark_plugs", "brake_fluid", *_BRAKES),
    "diesel": ("engine_oil", "oil_top_up", "vehicle_check", "air_filter", "fuel_filter",
               "microfilter", "brake_fluid", *_BRAKES),
    "bev": ("vehicle_check", "microfilter", "brake_fluid", *_BRAKES),
    "phev_petrol": ("engine_oil", "oil_top_up", "vehicle_check", "microfilter", "spark_plugs",
                    "air_filter", "brake_fluid", "door_hinges", "front_door_gas_strut",
                    *_BRAKES),
    "phev_diesel": ("engine_oil", "oil_top_up", "vehicle_check", "fuel_filter", "microfilter",
                    "air_filter", "brake_fluid", "door_hinges", "front_door_gas_strut",
                    *_BRAKES),
}

_SPARK_IGNITION: Final = frozenset({"gasoline", "cng", "lpg"})
_ELECTRIC: Final = frozenset({"electric", "hydrogen"})


@dataclass(frozen=True, slots=True)
class TeleserviceState:
    """What the car remembers between calls.

    ``last_call_at`` is the stored "date of the last call" (TS-R2); the odometer at
    that call is needed for the 1,000 km leg. ``open_needs`` are the needs already
    reported, so one need gives one service-need call, not one per check.
    """

    last_call_at: float
    last_call_odometer_km: float
    last_smart_at: float | None = None
    open_needs: tuple[str, ...] = ()


def propulsion_of(kinds: Iterable[str]) -> Propulsion:
    """The scope-list propulsion of a scenario's EN 15722 propulsion set."""
    present = set(kinds)
    electric = bool(present & _ELECTRIC)
    if "diesel" in present:
        return "phev_diesel" if electric else "diesel"
    if present & _SPARK_IGNITION:
        return "phev_petrol" if electric else "petrol"
    if electric:
        return "bev"
    raise ValueError(f"no service scope for propulsion {sorted(present)}")


def due_reason(state: TeleserviceState, *, now: float, odometer_km: float) -> CallReason | None:
    """The regular call due now, if any: 28 days or 1,000 km, whichever first (TS-R1).

    Both limits are inclusive. When a single check finds both passed, the one passed by
    the larger share was reached first, assuming steady driving since the last call.
    """
    if odometer_km < state.last_call_odometer_km:
        raise ValueError(f"odometer {odometer_km} km is below the last call's "
                         f"{state.last_call_odometer_km} km; it never runs backwards")
    time_share = (now - state.last_call_at) / CALL_INTERVAL_S
    km_share = (odometer_km - state.last_call_odometer_km) / CALL_INTERVAL_KM
    if time_share < 1.0 and km_share < 1.0:
        return None
    return "distance_1000km" if km_share > time_share else "interval_28d"


def needs_of(fault_codes: Sequence[str], items: Sequence[ServiceItem]) -> tuple[str, ...]:
    """Each finding that is a service need: every fault code, every item not "ok"."""
    due = [f"cbs:{i.item}" for i in items if i.status != "ok"]
    return tuple(sorted({*(f"dtc:{code}" for code in fault_codes), *due}))


def service_need(fault_codes: Sequence[str], items: Sequence[ServiceItem]) -> bool:
    """True when the findings amount to "a service or maintenance request" (TS-R1)."""
    return bool(needs_of(fault_codes, items))


def call_reason(state: TeleserviceState, *, now: float, odometer_km: float,
                fault_codes: Sequence[str] = (),
                items: Sequence[ServiceItem] = ()) -> CallReason | None:
    """The call to place now: a new service need first, else a regular call if due."""
    if set(needs_of(fault_codes, items)) - set(state.open_needs):
        return "service_need"
    return due_reason(state, now=now, odometer_km=odometer_km)


def cbs_items(propulsion: Propulsion,
              remaining: Mapping[str, tuple[float, float]]) -> list[ServiceItem]:
    """CBS items of the car's scope list from ``item -> (km left, days left)``.

    Items the scope list of the propulsion does not hold are refused: a BEV has no
    engine oil to report (TS-R7).
    """
    scope = SERVICE_ITEMS_BY_PROPULSION[propulsion]
    foreign = sorted(set(remaining) - set(scope))
    if foreign:
        raise ValueError(f"{foreign} not in the {propulsion} service scope (TS-R7)")
    return [ServiceItem(name, km, days, item_status(km, days))
            for name, (km, days) in sorted(remaining.items())]


def build_call(*, vin: str, call_id: str, reason: CallReason, now: float, sent_ns: int,
               odometer_km: float, propulsion: Propulsion, fault_codes: Sequence[str] = (),
               items: Sequence[ServiceItem] = ()) -> TeleserviceCall:
    """A call checked against the 50 KB per request (TS-R2) before it leaves."""
    scope = set(SERVICE_ITEMS_BY_PROPULSION[propulsion])
    foreign = sorted({i.item for i in items} - scope)
    if foreign:
        raise ValueError(f"{foreign} not in the {propulsion} service scope (TS-R7)")
    call = TeleserviceCall(vin, call_id, reason, float(odometer_km), sent_ns, now, propulsion,
                           list(fault_codes), list(items))
    validate_call(call)
    return call


def after_call(state: TeleserviceState, now: float, odometer_km: float, *,
               needs: Iterable[str] = ()) -> TeleserviceState:
    """State after any call: both legs restart from it; reported needs are remembered."""
    return replace(state, last_call_at=now, last_call_odometer_km=odometer_km,
                   open_needs=tuple(sorted(set(needs))))


def smart_due(state: TeleserviceState, *, opted_in: bool, os_version: int, now: float,
              trip_ended: bool) -> SmartTrigger | None:
    """The Smart Maintenance transfer due now, if any (TS-R3).

    Without the consent or below OS 7 nothing is ever sent. A first transfer after
    opting in counts as the weekly one.
    """
    if not opted_in or os_version < SMART_MIN_OS:
        return None
    if trip_ended:
        return "trip"
    if state.last_smart_at is None or now - state.last_smart_at >= SMART_WEEKLY_S:
        return "weekly"
    return None


def build_smart_transfer(*, vin: str, transfer_id: str, trigger: SmartTrigger, now: float,
                         sent_ns: int, odometer_km: float,
                         readings: Mapping[str, float] | None = None,
                         fault_codes: Sequence[str] = (),
                         items: Sequence[ServiceItem] = ()) -> SmartMaintenanceTransfer:
    """A transfer checked against the 50 KB it shares with the call (TS-R2)."""
    transfer = SmartMaintenanceTransfer(vin, transfer_id, trigger, float(odometer_km), now,
                                        sent_ns, dict(readings or {}), list(fault_codes),
                                        list(items))
    validate_smart_transfer(transfer)
    return transfer


def after_smart(state: TeleserviceState, now: float) -> TeleserviceState:
    """State after a Smart Maintenance transfer: the weekly leg restarts from it."""
    return replace(state, last_smart_at=now)
