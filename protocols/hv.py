"""The High Voltage Warn Call the car sends on a battery thermal event (MINI Connected §2b,
docs/requirements.md#hv-r3).

MINI Connected §2b (HV-R3) lists exactly what the backend processes and stores: VIN,
GPS coordinates, vehicle model (BEV or PHEV), plug status (connected/disconnected),
incident ID, timestamp, door and boot status (open/closed), engine status and engine
ignition status ("VIN, gps-coördinaten, voertuigmodel (BEV of PHEV),
voertuigstekkerstatus (aangesloten/ontkoppeld), voorval-ID, tijdstempel, portier- en
kofferbakstatus (open/gesloten), motorstatus en ontstekingsstatus van de motor").
``HvWarnCall`` carries those fields and nothing else, plus ``sent_ns`` so a receiver
can measure latency as for the other envelopes. The customer's contact details are not
sent by the car: the call centre adds them (``backend.emergency.hv_handling``).

The service is "for electric and plug-in hybrid vehicles only" (*alleen voor
elektrische of plug-in hybridevoertuigen*), so ``model`` is BEV or PHEV. Each use
transfers "< 25 KB" (*minder dan 25 KB*): ``HV_CALL_BOUND``, read as
``protocols.size_bounds`` reads every bound (exclusive: 25,000 bytes is over).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, get_args

from protocols.errors import EnvelopeError
from protocols.record_codec import (
    MAX_RECORD,
    FieldTypes,
    pack_record,
    packed_size,
    unpack_record,
)
from protocols.size_bounds import SizeBound, check_within

HV_CALL_MAX: Final = 25_000  # bytes; HV-R5: "minder dan 25 KB"
HV_SIZE_RULE: Final = "under 25 KB (MINI Connected §2b, HV-R5)"
HV_CALL_BOUND: Final = SizeBound(HV_CALL_MAX, exclusive=True, rule=HV_SIZE_RULE)
HV_KIND: Final = "hv_warn_call"

HvModel = Literal["BEV", "PHEV"]
PlugState = Literal["plugged", "unplugged"]
OpenClosed = Literal["open", "closed"]
EngineState = Literal["running", "off"]
Ignition = Literal["on", "off"]

HV_MODELS: Final = frozenset(get_args(HvModel))
PLUG_STATES: Final = frozenset(get_args(PlugState))
OPEN_CLOSED: Final = frozenset(get_args(OpenClosed))
ENGINE_STATES: Final = frozenset(get_args(EngineState))
IGNITION_STATES: Final = frozenset(get_args(Ignition))
MAX_DOORS: Final = 8  # a door map is a handful of entries, not a free-form payload


@dataclass(frozen=True, slots=True, kw_only=True)
class HvWarnCall:
    """One thermal-event warning, with exactly the §2b fields.

    ``timestamp`` is the car's (virtual) epoch seconds at detection; ``doors`` maps each
    door name (e.g. ``"front_left"``) to open/closed; ``boot`` is the boot lid.
    """

    vin: str
    lat: float
    lon: float
    model: HvModel
    plug_state: PlugState
    incident: str
    timestamp: float
    doors: dict[str, OpenClosed]
    boot: OpenClosed
    engine_state: EngineState
    ignition: Ignition
    sent_ns: int

    def __post_init__(self) -> None:
        _check_fields(self)


def validate_hv_call(call: HvWarnCall) -> int:
    """Check every §2b rule, the 25 KB budget included; returns the packed size."""
    _check_fields(call)
    size = packed_size(call, HV_KIND)
    check_within(HV_CALL_BOUND, size, field="envelope")
    return size


def pack_hv_call(call: HvWarnCall) -> bytes:
    """Serialise the warn call; refuses one over the 25 KB budget."""
    return pack_record(call, HV_KIND, limit=HV_CALL_BOUND.largest, rule=HV_SIZE_RULE)


def unpack_hv_call(data: bytes) -> HvWarnCall:
    """Parse and check a warn call; every failure is an EnvelopeError naming the field.

    The 25 KB budget is not checked on reading: a warn call is a safety call, so one
    over budget is still handled and only flagged by the receiver.
    """
    return unpack_record(data, HvWarnCall, HV_KIND, limit=MAX_RECORD, rule=HV_SIZE_RULE,
                         types=_WIRE_TYPES)


_WIRE_TYPES: Final[FieldTypes] = {
    "vin": str, "lat": (float, int), "lon": (float, int), "model": str,
    "plug_state": str, "incident": str, "timestamp": (float, int), "doors": dict,
    "boot": str, "engine_state": str, "ignition": str, "sent_ns": int,
}


def _check_fields(call: HvWarnCall) -> None:
    if not call.vin or len(call.vin) > 17:
        raise EnvelopeError("vin must be 1..17 chars", field="vin", rule="1..17 chars")
    if not (math.isfinite(call.lat) and -90.0 <= call.lat <= 90.0):
        raise EnvelopeError(f"latitude {call.lat}", field="lat", rule="-90..90")
    if not (math.isfinite(call.lon) and -180.0 <= call.lon <= 180.0):
        raise EnvelopeError(f"longitude {call.lon}", field="lon", rule="-180..180")
    if call.model not in HV_MODELS:
        raise EnvelopeError(f"model {call.model!r} has no HV battery", field="model",
                            rule="BEV|PHEV only (MINI Connected §2b, HV-R1)")
    _one_of(call.plug_state, PLUG_STATES, "plug_state")
    if not call.incident or len(call.incident) > 64:
        raise EnvelopeError("incident id must be 1..64 chars", field="incident",
                            rule="1..64 chars")
    if not math.isfinite(call.timestamp) or call.timestamp < 0:
        raise EnvelopeError(f"timestamp {call.timestamp}", field="timestamp",
                            rule="epoch seconds >= 0")
    if not isinstance(call.doors, dict) or not 1 <= len(call.doors) <= MAX_DOORS:
        raise EnvelopeError("door map must hold 1..8 doors", field="doors",
                            rule=f"1..{MAX_DOORS} doors")
    for door, status in call.doors.items():
        if not isinstance(door, str) or not door:
            raise EnvelopeError("door names are non-empty text", field="doors", rule="door name")
        _one_of(status, OPEN_CLOSED, f"doors.{door}")
    _one_of(call.boot, OPEN_CLOSED, "boot")
    _one_of(call.engine_state, ENGINE_STATES, "engine_state")
    _one_of(call.ignition, IGNITION_STATES, "ignition")


def _one_of(value: object, allowed: frozenset[str], name: str) -> None:
    if value not in allowed:
        raise EnvelopeError(f"{name} is {value!r}", field=name, rule="|".join(sorted(allowed)))
