"""Deliberately invalid messages a scenario makes a car publish, built without I/O.

To test the backend's refusals from a scenario, a car sends what no real TCU would:
an over-size call, bytes that are not the contract's encoding, a message naming
another VIN. Each starts as a valid message of its kind, built by the ``protocols``
encoders, so it breaks exactly the one rule asked for and nothing else:

* ``vin_override`` puts another VIN in the message while the topic keeps the car's;
* ``pad_to_bytes`` grows the message to that size with filler fault codes (text) in the
  kind's free list, or, for a kind without one, under a ``pad`` key, which a decoder
  that reads fields before size also refuses as an unknown field;
* ``corrupt`` breaks the encoding last: ``truncate`` cuts it in half, ``garbage`` is a
  byte msgpack never uses, ``not_a_map`` a msgpack list where a map belongs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import msgpack

from protocols.assistance import AssistanceCall, pack_assistance_call
from protocols.envelope import EcallMessage, Telemetry, pack
from protocols.hv import HvWarnCall, pack_hv_call
from protocols.ota import OtaEvent, pack_ota_event
from protocols.teleservice import SmartMaintenanceTransfer, TeleserviceCall, packed
from protocols.topics import (
    EcallVariant,
    assistance_topic,
    ecall_topic,
    hv_warn_topic,
    ota_event_topic,
    smart_maintenance_topic,
    telemetry_topic,
    teleservice_call_topic,
)

InjectKind = Literal["ecall", "hv_warn", "teleservice_call", "smart_maintenance",
                     "assistance", "ota_event", "telemetry"]
Corruption = Literal["truncate", "garbage", "not_a_map"]
SENT_NS: Final = 1  # a stamp for the sample; an injected message measures no latency
_GARBAGE: Final = b"\xc1"  # the one byte msgpack reserves and never uses
_FILLER: Final = "P0000"


@dataclass(frozen=True, slots=True, kw_only=True)
class Injection:
    """One message for the car's own connection: where it goes and what it carries."""

    topic: str
    payload: bytes
    qos: int = 1


def topic_for(kind: InjectKind, vin: str, variant: EcallVariant = "intelligent") -> str:
    """The topic the car would send a message of ``kind`` on."""
    match kind:
        case "ecall":
            return ecall_topic(vin, variant)
        case "hv_warn":
            return hv_warn_topic(vin)
        case "teleservice_call":
            return teleservice_call_topic(vin)
        case "smart_maintenance":
            return smart_maintenance_topic(vin)
        case "assistance":
            return assistance_topic(vin)
        case "ota_event":
            return ota_event_topic(vin)
        case "telemetry":
            return telemetry_topic(vin)


def sample(kind: InjectKind, *, vin: str, now: float, msd: bytes,
           variant: EcallVariant = "intelligent") -> bytes:
    """A valid message of ``kind`` from ``vin`` at ``now``, as the contract encodes it.

    ``msd`` is the car's own encoded MSD, for an eCall; the other kinds ignore it."""
    match kind:
        case "ecall":
            return pack(EcallMessage(variant, vin, f"{vin[-6:]}-inject", 1, msd, SENT_NS))
        case "hv_warn":
            return pack_hv_call(HvWarnCall(
                vin=vin, lat=50.85, lon=4.35, model="BEV", plug_state="unplugged",
                incident=f"{vin[-6:]}-hv-inject", timestamp=now, doors={"front_left": "closed"},
                boot="closed", engine_state="off", ignition="off", sent_ns=SENT_NS))
        case "teleservice_call":
            return packed(TeleserviceCall(vin=vin, call_id="inject", reason="service_need",
                                          odometer_km=10_000.0, sent_ns=SENT_NS, at=now,
                                          propulsion="petrol", fault_codes=[_FILLER]))
        case "smart_maintenance":
            return packed(SmartMaintenanceTransfer(vin=vin, transfer_id="inject",
                                                   trigger="trip", odometer_km=10_000.0,
                                                   at=now, sent_ns=SENT_NS))
        case "assistance":
            return pack_assistance_call(AssistanceCall(
                vin=vin, request_id=f"{vin[-6:]}-as-inject", kind="breakdown", channel="car",
                customer_confirmed=True, lat=50.85, lon=4.35,
                vehicle_status={"fault_codes": [_FILLER], "warning_lamps": [],
                                "drivable": False, "fuel_pct": 40.0},
                movement={"speed_kmh": 0.0, "heading_deg": 0.0, "odometer_km": 10_000.0},
                at=now, sent_ns=SENT_NS))
        case "ota_event":
            return pack_ota_event(OtaEvent(
                vin=vin, campaign_id="inject", version="21.07", state="notified", at=now,
                bytes_done=0, bytes_total=1_000_000_000, channel=None, reason=None,
                running_version="21.07", sent_ns=SENT_NS))
        case "telemetry":
            return pack(Telemetry(vin, 1, SENT_NS, 50.85, 4.35, 0.0, 10_000.0))


def _free_list(kind: InjectKind, body: dict[str, Any]) -> list[Any] | None:
    """The list of text a message of ``kind`` may grow by, if it has one."""
    if kind in ("teleservice_call", "smart_maintenance"):
        codes: list[Any] = body["fault_codes"]
        return codes
    if kind == "assistance":
        lamps: list[Any] = body["vehicle_status"]["fault_codes"]
        return lamps
    return None


def _encode(body: dict[str, Any]) -> bytes:
    data: bytes = msgpack.packb(body, use_bin_type=True)
    return data


def pad(kind: InjectKind, payload: bytes, size: int) -> bytes:
    """``payload`` grown to ``size`` bytes (exactly, or the nearest the encoding allows
    above it); a payload already that large is left as it is."""
    if len(payload) >= size:
        return payload
    body: dict[str, Any] = msgpack.unpackb(payload, raw=False)
    room = _free_list(kind, body)
    if room is None:
        body["pad"] = ""
    else:
        room.append("")

    def grown(length: int) -> bytes:
        if room is None:
            body["pad"] = "X" * length
        else:
            room[-1] = "X" * length
        return _encode(body)

    length = max(0, size - len(_encode(body)))
    data = grown(length)
    while len(data) > size and length > 0:  # a longer string header took its bytes
        length -= len(data) - size
        data = grown(max(0, length))
    return data


def corrupt(payload: bytes, how: Corruption) -> bytes:
    """``payload`` with its encoding broken as ``how`` says."""
    match how:
        case "truncate":
            return payload[: len(payload) // 2]
        case "garbage":
            return _GARBAGE + payload
        case "not_a_map":
            return _encode_list(payload)


def _encode_list(payload: bytes) -> bytes:
    data: bytes = msgpack.packb([payload], use_bin_type=True)
    return data


def with_vin(payload: bytes, vin: str) -> bytes:
    """``payload`` saying ``vin`` where it names its car."""
    body: dict[str, Any] = msgpack.unpackb(payload, raw=False)
    body["vin"] = vin
    return _encode(body)


def build(kind: InjectKind, *, vin: str, now: float, msd: bytes,
          variant: EcallVariant = "intelligent", vin_override: str | None = None,
          pad_to_bytes: int | None = None, corruption: Corruption | None = None) -> bytes:
    """A message of ``kind`` from ``vin``, broken in the ways asked, in this order:
    the VIN, the size, then the encoding."""
    payload = sample(kind, vin=vin, now=now, msd=msd, variant=variant)
    if vin_override is not None:
        payload = with_vin(payload, vin_override)
    if pad_to_bytes is not None:
        payload = pad(kind, payload, pad_to_bytes)
    if corruption is not None:
        payload = corrupt(payload, corruption)
    return payload
