"""One example message per message kind of the wire contract, for the golden files.

``telematics wire examples`` encodes each with the real encoder into
docs/wire-examples/ (hex and a JSON reading); the tests read them back both ways. The
values are fixed (times included) so the goldens are the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from protocols.assistance import AssistanceCall
from protocols.clock import ClockState
from protocols.contract import SAFETY_QOS_RULE
from protocols.envelope import (
    EcallAck,
    EcallMessage,
    IntelligentExtras,
    MsdRequest,
    Telemetry,
    VoiceCall,
)
from protocols.hv import HvWarnCall
from protocols.msd import LocationDelta, Msd, Propulsion, VehicleLocation, encode_msd
from protocols.ota import GB, OtaCommand, OtaEvent, OtaOffer
from protocols.rejection import Rejection
from protocols.teleservice import (
    ServiceItem,
    SmartMaintenanceTransfer,
    TeleserviceCall,
    WorkshopMapUpdate,
)
from protocols.topics import (
    CLOCK_TOPIC,
    assistance_topic,
    ecall_ack_topic,
    ecall_topic,
    hv_ack_topic,
    hv_warn_topic,
    msd_request_topic,
    ota_command_topic,
    ota_event_topic,
    ota_offer_topic,
    rejected_topic,
    smart_maintenance_topic,
    telemetry_topic,
    teleservice_call_topic,
    voice_topic,
    workshop_map_topic,
)

VIN: Final = "WMW21DH0X0T123456"
SENT_NS: Final = 1_767_261_600_000_000_000  # 2026-01-01T10:00:00Z
AT: Final = 1_767_261_600.0
INCIDENT: Final = "inc-20260101-0001"


@dataclass(frozen=True, slots=True)
class Example:
    """A golden's name, the topic it travels on, and the message."""

    name: str
    topic: str
    message: Any


def _msd(message_identifier: int) -> bytes:
    return encode_msd(Msd(
        message_identifier=message_identifier, automatic_activation=True, test_call=False,
        position_can_be_trusted=True, vehicle_type="passengerVehicleCategoryM1", vin=VIN,
        propulsion=Propulsion(gasoline_tank_present=True), timestamp=int(AT),
        location=VehicleLocation.from_degrees(50.8466, 4.3528), direction=90,
        n1=LocationDelta(0, -10), n2=LocationDelta(0, -20), number_of_occupants=2))


_EXTRAS: Final = IntelligentExtras(
    occupants=2, belted=2, delta_v_kmh=38.5, principal_direction="front", multiple_impacts=False,
    rollover=False, severity="moderate", p_serious_injury=0.12, triage=False, model="aacn-2015")
_ITEM: Final = ServiceItem(item="engine_oil", due_km=1200.0, due_days=40.0, status="due")

EXAMPLES: Final[tuple[Example, ...]] = (
    Example("ecall_intelligent", ecall_topic(VIN, "intelligent"), EcallMessage(
        "intelligent", VIN, INCIDENT, 1, _msd(1), SENT_NS, network_country="BE",
        extras=_EXTRAS)),
    Example("ecall_legal", ecall_topic(VIN, "legal"), EcallMessage(
        "legal", VIN, INCIDENT, 2, _msd(2), SENT_NS, network_country="BE")),
    Example("ecall_ack", ecall_ack_topic(VIN), EcallAck(INCIDENT, 1, "callcentre", SENT_NS)),
    Example("msd_request", msd_request_topic(VIN), MsdRequest(INCIDENT, "callcentre", SENT_NS)),
    Example("voice", voice_topic("BE"), VoiceCall("call-20260101-0001", SENT_NS)),
    Example("hv_warn", hv_warn_topic(VIN), HvWarnCall(
        vin=VIN, lat=50.8466, lon=4.3528, model="BEV", plug_state="plugged",
        incident="hv-20260101-0001", timestamp=AT,
        doors={"front_left": "closed", "front_right": "closed"}, boot="closed",
        engine_state="off", ignition="off", sent_ns=SENT_NS)),
    Example("hv_ack", hv_ack_topic(VIN), EcallAck("hv-20260101-0001", 1, "callcentre",
                                                   SENT_NS)),
    Example("telemetry", telemetry_topic(VIN), Telemetry(
        VIN, 42, SENT_NS, 50.8466, 4.3528, 48.0, 12_345.6)),
    Example("teleservice_call", teleservice_call_topic(VIN), TeleserviceCall(
        vin=VIN, call_id="tsc-0001", reason="service_need", odometer_km=12_345.6,
        sent_ns=SENT_NS, at=AT, propulsion="petrol", fault_codes=["P0420"],
        service_items=[_ITEM])),
    Example("smart_maintenance", smart_maintenance_topic(VIN), SmartMaintenanceTransfer(
        vin=VIN, transfer_id="smt-0001", trigger="trip", odometer_km=12_345.6, at=AT,
        sent_ns=SENT_NS, readings={"oil_level_pct": 72.0}, service_items=[_ITEM])),
    Example("assistance", assistance_topic(VIN), AssistanceCall(
        vin=VIN, request_id="ra-0001", kind="breakdown", channel="car",
        customer_confirmed=False, lat=50.8466, lon=4.3528,
        vehicle_status={"fault_codes": ["P0562"], "warning_lamps": ["battery"],
                        "drivable": False, "fuel_pct": 40.0},
        movement={"speed_kmh": 0.0, "heading_deg": 90.0, "odometer_km": 12_345.6},
        at=AT, sent_ns=SENT_NS)),
    Example("workshop_map", workshop_map_topic(VIN), WorkshopMapUpdate(
        version=1, partner_count=2, data=bytes.fromhex("92940150a1b2c3"))),
    Example("ota_event", ota_event_topic(VIN), OtaEvent(
        vin=VIN, campaign_id="camp-2026-01", version="11.2", state="downloading", at=AT,
        bytes_done=GB, bytes_total=3 * GB, channel="wifi", reason=None,
        running_version="11.1", sent_ns=SENT_NS)),
    Example("ota_offer", ota_offer_topic(VIN), OtaOffer(
        campaign_id="camp-2026-01", version="11.2", size_bytes=3 * GB, critical=False,
        release_notes="Navigation fixes.", sent_ns=SENT_NS)),
    Example("ota_command", ota_command_topic(VIN), OtaCommand(
        campaign_id="camp-2026-01", action="confirm", by="app")),
    Example("rejected", rejected_topic(VIN), Rejection(
        topic=ecall_topic(VIN, "intelligent"), message_id="1", incident=INCIDENT,
        field="qos", rule=SAFETY_QOS_RULE, sent_ns=SENT_NS)),
    Example("clock", CLOCK_TOPIC, ClockState(
        virtual_anchor=AT, real_anchor_ns=SENT_NS, scale=60.0, seq=3, run="demo")),
)
