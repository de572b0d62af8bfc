"""Roadside and Accident Assistance Calls from the car (MINI Connected §16e, §16f;
docs/requirements.md#assistance).

What MINI Connected fixes about these calls (docs/requirements.md#assistance):

* a breakdown ("als het voertuig een storing of een fout detecteert") or a light
  accident ("een licht ongeval of schade") raises them, a manual start is "always
  possible", and an aborted Remote Software Upgrade may start a Roadside Assistance Call
  that shares "voertuig-, locatie- en verplaatsingsgegevens" (MINI Connected §15, AS-R5) — hence
  ``kind`` and the ``movement`` block;
* "all relevant vehicle-status data and the current position" are sent (§16e), so the
  call carries ``vehicle_status`` and ``lat``/``lon``;
* each use transfers "< 50 KB" (*minder dan 50 KB*): ``ASSISTANCE_CALL_BOUND``, read as
  ``protocols.size_bounds`` reads every bound (exclusive: 50,000 bytes is over);
* when the customer reaches Roadside Assistance "via een ander kanaal (bijv. de mobiele
  telefoon)", the specialist may request the data remotely and it is sent only "na uw
  bevestiging in uw voertuig" (§16e). ``may_send_data`` states that rule;
  ``validate_assistance_call`` (run on pack and unpack) refuses a call that breaks it.

The confirmation rule is checked when the call is sent or read, not when it is built:
the car holds an unconfirmed request as a value until the customer answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from protocols.errors import EnvelopeError
from protocols.record_codec import (
    FieldTypes,
    check_epoch_seconds,
    pack_record,
    packed_size,
    unpack_record,
)
from protocols.size_bounds import SizeBound, check_within

ASSISTANCE_CALL_MAX: Final = 50_000  # bytes; AS-R3: "minder dan 50 KB"
ASSISTANCE_SIZE_RULE: Final = "under 50 KB (MINI Connected §16e/§16f, AS-R3)"
ASSISTANCE_CALL_BOUND: Final = SizeBound(ASSISTANCE_CALL_MAX, exclusive=True,
                                         rule=ASSISTANCE_SIZE_RULE)
CONFIRMATION_RULE: Final = (
    "data from another channel only after confirmation in the car (MINI Connected §16e, AS-R1)")
ASSISTANCE_KIND: Final = "assistance_call"

AssistanceKind = Literal["breakdown", "light_accident", "manual", "failed_update"]
Channel = Literal["car", "app", "phone"]

ASSISTANCE_KINDS: Final = frozenset(get_args(AssistanceKind))
CHANNELS: Final = frozenset(get_args(Channel))
# Vehicle status: fault codes, warning lamps, drivable, and the energy level as fuel
# and/or state of charge (at least one of the two).
STATUS_REQUIRED: Final = ("fault_codes", "warning_lamps", "drivable")
STATUS_ENERGY: Final = ("fuel_pct", "soc_pct")
MOVEMENT_REQUIRED: Final = ("speed_kmh", "heading_deg", "odometer_km")


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistanceCall:
    """A request for roadside or accident assistance with the car's data.

    ``vehicle_status`` holds ``fault_codes`` (list of text), ``warning_lamps`` (list of
    text), ``drivable`` (bool) and ``fuel_pct`` and/or ``soc_pct``; ``movement`` holds
    ``speed_kmh``, ``heading_deg`` and ``odometer_km``. ``at`` is the car's (virtual)
    epoch seconds when the call was raised.
    """

    vin: str
    request_id: str
    kind: AssistanceKind
    channel: Channel
    customer_confirmed: bool
    lat: float
    lon: float
    vehicle_status: dict[str, Any]
    movement: dict[str, float]
    at: float
    sent_ns: int

    def __post_init__(self) -> None:
        _check_fields(self)


def may_send_data(call: AssistanceCall) -> bool:
    """True when the car may transmit this call's data (MINI Connected §16e, AS-R1).

    From the car itself the customer started the call, so the data goes at once; a
    request that came by app or phone needs the customer's confirmation in the car.
    """
    return call.channel == "car" or call.customer_confirmed


def validate_assistance_call(call: AssistanceCall) -> int:
    """Check the fields, the confirmation rule and the 50 KB budget; returns the size."""
    _check_fields(call)
    if not may_send_data(call):
        raise EnvelopeError(f"{call.channel} request without confirmation in the car",
                            field="customer_confirmed", rule=CONFIRMATION_RULE)
    size = packed_size(call, ASSISTANCE_KIND)
    check_within(ASSISTANCE_CALL_BOUND, size, field="envelope")
    return size


def pack_assistance_call(call: AssistanceCall) -> bytes:
    """Serialise a call that may be sent; refuses an unconfirmed or oversized one."""
    validate_assistance_call(call)
    return pack_record(call, ASSISTANCE_KIND, limit=ASSISTANCE_CALL_BOUND.largest,
                       rule=ASSISTANCE_SIZE_RULE)


def unpack_assistance_call(data: bytes) -> AssistanceCall:
    """Parse a call and apply every rule a sender must have applied."""
    call = unpack_record(data, AssistanceCall, ASSISTANCE_KIND,
                         limit=ASSISTANCE_CALL_BOUND.largest, rule=ASSISTANCE_SIZE_RULE,
                         types=_WIRE_TYPES)
    validate_assistance_call(call)
    return call


_WIRE_TYPES: Final[FieldTypes] = {
    "vin": str, "request_id": str, "kind": str, "channel": str, "customer_confirmed": bool,
    "lat": (float, int), "lon": (float, int), "vehicle_status": dict, "movement": dict,
    "at": (float, int), "sent_ns": int,
}


def _check_fields(call: AssistanceCall) -> None:
    if not call.vin or len(call.vin) > 17:
        raise EnvelopeError("vin must be 1..17 chars", field="vin", rule="1..17 chars")
    if not call.request_id or len(call.request_id) > 64:
        raise EnvelopeError("request id must be 1..64 chars", field="request_id",
                            rule="1..64 chars")
    if call.kind not in ASSISTANCE_KINDS:
        raise EnvelopeError(f"kind {call.kind!r}", field="kind",
                            rule="|".join(sorted(ASSISTANCE_KINDS)))
    if call.channel not in CHANNELS:
        raise EnvelopeError(f"channel {call.channel!r}", field="channel",
                            rule="|".join(sorted(CHANNELS)))
    if not (math.isfinite(call.lat) and -90.0 <= call.lat <= 90.0):
        raise EnvelopeError(f"latitude {call.lat}", field="lat", rule="-90..90")
    if not (math.isfinite(call.lon) and -180.0 <= call.lon <= 180.0):
        raise EnvelopeError(f"longitude {call.lon}", field="lon", rule="-180..180")
    check_epoch_seconds(call.at, field="at")
    _check_status(call.vehicle_status)
    _check_movement(call.movement)


def _check_status(status: dict[str, Any]) -> None:
    if not isinstance(status, dict):
        raise EnvelopeError("vehicle_status is not a map", field="vehicle_status", rule="map")
    for key in STATUS_REQUIRED:
        if key not in status:
            raise EnvelopeError(f"missing {key}", field=f"vehicle_status.{key}", rule="required")
    for key in ("fault_codes", "warning_lamps"):
        value = status[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise EnvelopeError(f"{key} is not a list of text", field=f"vehicle_status.{key}",
                                rule="list of text")
    if not isinstance(status["drivable"], bool):
        raise EnvelopeError("drivable is not a bool", field="vehicle_status.drivable",
                            rule="bool")
    energy = [key for key in STATUS_ENERGY if key in status]
    if not energy:
        raise EnvelopeError("no fuel or charge level", field="vehicle_status.fuel_pct",
                            rule="fuel_pct and/or soc_pct")
    for key in energy:
        value = status[key]
        if not _number(value) or not 0.0 <= value <= 100.0:
            raise EnvelopeError(f"{key} is {value!r}", field=f"vehicle_status.{key}",
                                rule="0..100")


def _check_movement(movement: dict[str, float]) -> None:
    if not isinstance(movement, dict):
        raise EnvelopeError("movement is not a map", field="movement", rule="map")
    for key in MOVEMENT_REQUIRED:
        value = movement.get(key)
        if not _number(value) or value < 0:  # type: ignore[operator]
            raise EnvelopeError(f"{key} is {value!r}", field=f"movement.{key}",
                                rule="number >= 0")
    if movement["heading_deg"] >= 360.0:
        raise EnvelopeError("heading out of range", field="movement.heading_deg",
                            rule="0..<360")


def _number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))
