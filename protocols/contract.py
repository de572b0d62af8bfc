"""The wire contract as one registry: each topic with its direction, QoS, message and rules.

The facts themselves stay where the code that applies them declares them (topic
builders, message models, size bounds, codecs, the VIN consistency checks); each
``TopicContract`` only points at them, so the document generated from this registry
(``telematics wire doc``, docs/wire-contract.md) cannot drift from what the car and
the backend do, and ``telematics wire check`` applies the very decoders the lanes call.

``rules`` lists, per message, the refusals an integrator meets most, each with a value
that breaks it; a test applies every breach to the golden example and requires the
decoder to refuse it with exactly that field and rule, so a rule written here is a rule
the code enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

from protocols.assistance import (
    ASSISTANCE_CALL_BOUND,
    ASSISTANCE_KIND,
    CONFIRMATION_RULE,
    AssistanceCall,
    pack_assistance_call,
    unpack_assistance_call,
)
from protocols.clock import (
    CLOCK_KIND,
    CLOCK_MAX,
    CLOCK_RULE,
    ClockState,
    pack_clock_state,
    unpack_clock_state,
)
from protocols.consistency import (
    ECALL_KIND_RULE,
    ECALL_TOPIC_RULE,
    MSD_ID_RULE,
    MSD_VIN_RULE,
    TELEMETRY_KIND_RULE,
    TOPIC_VIN_RULE,
    VOICE_KIND_RULE,
    check_ecall_topic,
    check_msd_matches,
    check_topic_vin,
)
from protocols.envelope import (
    ECALL_ENVELOPE_BOUND,
    MAX_ENVELOPE,
    EcallAck,
    EcallMessage,
    MsdRequest,
    Telemetry,
    VoiceCall,
    pack,
    unpack,
)
from protocols.errors import EnvelopeError
from protocols.hv import HV_CALL_BOUND, HV_KIND, HvWarnCall, pack_hv_call, unpack_hv_call
from protocols.msd.codec import decode_msd
from protocols.ota import (
    MAX_RELEASE_NOTES,
    OTA_COMMAND_KIND,
    OTA_COMMAND_MAX,
    OTA_COMMAND_RULE,
    OTA_EVENT_KIND,
    OTA_EVENT_MAX,
    OTA_EVENT_RULE,
    OTA_OFFER_KIND,
    OTA_OFFER_MAX,
    OTA_OFFER_RULE,
    OTA_REASONS,
    OTA_STATES,
    SIZE_RULE,
    OtaCommand,
    OtaEvent,
    OtaOffer,
    pack_ota_command,
    pack_ota_event,
    pack_ota_offer,
    unpack_ota_command,
    unpack_ota_event,
    unpack_ota_offer,
)
from protocols.record_codec import EPOCH_RULE, MAX_RECORD
from protocols.rejection import (
    FIELD_CHARS,
    ID_CHARS,
    REJECTION_KIND,
    REJECTION_MAX,
    REJECTION_RULE,
    RULE_CHARS,
    TOPIC_CHARS,
    Rejection,
    pack_rejection,
    unpack_rejection,
)
from protocols.size_bounds import SizeBound
from protocols.teleservice import (
    TELESERVICE_BOUND,
    WORKSHOP_MAP_BOUND,
    SmartMaintenanceTransfer,
    TeleserviceCall,
    WorkshopMapUpdate,
    packed,
    unpack_call,
    unpack_smart_transfer,
    unpack_workshop_map,
)
from protocols.topics import (
    CLOCK_TOPIC,
    EcallVariant,
    ParsedTopic,
    TopicKind,
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

Direction = Literal["car -> backend", "backend -> car", "scenario runner -> backend"]
Framing = Literal["envelope", "record", "plain"]
OverBound = Literal["refused", "flagged"]

# How each framing puts a message on the wire (docs/wire-contract.md, "Framing").
FRAMINGS: Final[dict[Framing, str]] = {
    "envelope": "msgpack map of the fields plus `v` (contract version 1) and `k` (kind); "
                "a field with a default may be left out",
    "record": "msgpack map of the fields plus `v` (1) and `k` (kind); every field is "
              "required, nil where the type allows it",
    "plain": "msgpack map of the fields, no `v`/`k` header; a field with a default may "
             "be left out",
}
# The placeholder VIN a topic pattern is built with, then written as ``{vin}``.
_PATTERN_VIN: Final = "Z" * 17
_PATTERN_COUNTRY: Final = "{cc}"
_PATTERN_VARIANT: Final = "{variant}"
DROP: Final = object()
"""A breach that leaves the field out of the message altogether."""


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A refusal as the receiver names it (``field``, ``rule``), and a breach that earns it:
    ``path`` (dotted, in the wire map) set to ``value`` (``DROP``: left out)."""

    field: str
    rule: str
    path: str
    value: object


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One message kind: its model, framing, codec and size bound.

    ``over_bound`` says what the receiver does with a message over ``bound``: a safety
    call is ``flagged`` and handled all the same, any other is ``refused`` unread.
    ``read_limit`` is the size above which any message is refused before it is parsed.
    """

    name: str
    model: type[Any]
    framing: Framing
    header_kind: str | None
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]
    bound: SizeBound
    over_bound: OverBound
    read_limit: int
    rules: tuple[FieldRule, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicContract:
    """One topic of the contract and what travels on it.

    ``qos`` is the QoS the sender publishes at and the receiver subscribes at;
    ``reply`` names the topic kind the backend answers on, if any; ``catalogue`` the
    catalogue entries (``protocols.catalogue``) whose budgets meter the message;
    ``vin_check`` is the consistency check the receiving lane applies, if any.
    """

    kind: TopicKind
    pattern: str
    direction: Direction
    qos: Literal[0, 1]
    retain: bool
    receiver: str
    purpose: str
    message: MessageSpec
    safety: bool = False
    reply: TopicKind | None = None
    catalogue: tuple[str, ...] = ()
    vin_rules: tuple[tuple[str, str], ...] = ()
    vin_check: Callable[[ParsedTopic, Any], None] | None = None


def _pattern(topic: str) -> str:
    return topic.replace(_PATTERN_VIN, "{vin}")


def _check_ecall(parsed: ParsedTopic, message: EcallMessage) -> None:
    """The emergency lane's checks of an eCall against its topic and its own MSD."""
    check_ecall_topic(parsed.vin, parsed.variant or "", message)
    check_msd_matches(message, decode_msd(message.msd))


def _check_record_vin(parsed: ParsedTopic, record: Any) -> None:
    check_topic_vin(parsed.vin, record.vin)


def _is(cls: type[Any], rule: str) -> Callable[[bytes], Any]:
    """``unpack`` narrowed to one envelope class, refusing any other with ``rule`` (the
    receiving lane's rule, where a lane reads the topic)."""

    def decode(data: bytes) -> Any:
        envelope = unpack(data)
        if not isinstance(envelope, cls):
            raise EnvelopeError(f"not a {cls.__name__} envelope", field="k", rule=rule)
        return envelope

    return decode


def _bound(limit: int, rule: str) -> SizeBound:
    """An inclusive "at most" bound of a record codec (``record_codec.check_budget``)."""
    return SizeBound(limit, exclusive=False, rule=rule)


_ENVELOPE_LIMIT: Final = _bound(MAX_ENVELOPE, f"at most {MAX_ENVELOPE} bytes")
_SENT_NS_RULE: Final = FieldRule("sent_ns", "int >= 0", "sent_ns", -1)
_TOPIC_VIN: Final = (("vin", TOPIC_VIN_RULE),)

ECALL: Final = MessageSpec(
    "EcallMessage", EcallMessage, "envelope", "ecall", pack, _is(EcallMessage, ECALL_KIND_RULE),
    ECALL_ENVELOPE_BOUND, "flagged", MAX_ENVELOPE, rules=(
        FieldRule("incident", "1..64 chars", "incident", ""),
        FieldRule("extras", "absent for legal", "variant", "legal"),
        FieldRule("envelope.msg_id", "type int", "msg_id", "1"),
        FieldRule("envelope", "only contract fields", "colour", "red"),
        FieldRule("extras.p_serious_injury", "0..1", "extras.p_serious_injury", 1.5),
        FieldRule("extras.occupants", "0..255", "extras.occupants", 256),
        FieldRule("variant", "intelligent|legal", "variant", "premium"),
        FieldRule("v", "== 1", "v", 2),
    ))
ECALL_ACK: Final = MessageSpec(
    "EcallAck", EcallAck, "envelope", "ecall_ack", pack, _is(EcallAck, "== ecall_ack"),
    _ENVELOPE_LIMIT, "refused", MAX_ENVELOPE, rules=(
        FieldRule("envelope", "required fields", "route", DROP),
    ))
MSD_REQUEST: Final = MessageSpec(
    "MsdRequest", MsdRequest, "envelope", "msd_request", pack,
    _is(MsdRequest, "== msd_request"), _ENVELOPE_LIMIT, "refused", MAX_ENVELOPE)
VOICE: Final = MessageSpec(
    "VoiceCall", VoiceCall, "envelope", "voice_call", pack, _is(VoiceCall, VOICE_KIND_RULE),
    _ENVELOPE_LIMIT, "refused", MAX_ENVELOPE, rules=(
        FieldRule("call", "1..64 chars", "call", ""),
        FieldRule("sent_ns", "> 0 ns", "sent_ns", 0),
    ))
TELEMETRY: Final = MessageSpec(
    "Telemetry", Telemetry, "envelope", "telemetry", pack, _is(Telemetry, TELEMETRY_KIND_RULE),
    _ENVELOPE_LIMIT, "refused", MAX_ENVELOPE, rules=(
        FieldRule("envelope.lat", "type float", "lat", "50.8"),
    ))
HV_WARN: Final = MessageSpec(
    "HvWarnCall", HvWarnCall, "record", HV_KIND, pack_hv_call, unpack_hv_call,
    HV_CALL_BOUND, "flagged", MAX_RECORD, rules=(
        FieldRule("model", "BEV|PHEV only (MINI Connected §2b, HV-R1)", "model", "ICE"),
        FieldRule("lat", "-90..90", "lat", 91.0),
        FieldRule("lon", "-180..180", "lon", -181.0),
        FieldRule("plug_state", "plugged|unplugged", "plug_state", "charging"),
        FieldRule("incident", "1..64 chars", "incident", ""),
        FieldRule("timestamp", "epoch seconds >= 0", "timestamp", -1.0),
        FieldRule("boot", "closed|open", "boot", "ajar"),
        FieldRule("engine_state", "off|running", "engine_state", "idle"),
        FieldRule("ignition", "off|on", "ignition", "acc"),
        FieldRule("vin", "1..17 chars", "vin", ""),
        FieldRule("doors", "1..8 doors", "doors", {}),
        FieldRule("doors.front_left", "closed|open", "doors.front_left", "ajar"),
        FieldRule("envelope", "required fields", "boot", DROP),
        FieldRule("k", f"== {HV_KIND}", "k", "hv"),
    ))
ASSISTANCE: Final = MessageSpec(
    "AssistanceCall", AssistanceCall, "record", ASSISTANCE_KIND, pack_assistance_call,
    unpack_assistance_call, ASSISTANCE_CALL_BOUND, "refused", ASSISTANCE_CALL_BOUND.largest,
    rules=(
        FieldRule("customer_confirmed", CONFIRMATION_RULE, "channel", "app"),
        FieldRule("kind", "breakdown|failed_update|light_accident|manual", "kind", "flat"),
        FieldRule("channel", "app|car|phone", "channel", "email"),
        FieldRule("request_id", "1..64 chars", "request_id", ""),
        FieldRule("lat", "-90..90", "lat", -91.0),
        FieldRule("lon", "-180..180", "lon", 181.0),
        FieldRule("vehicle_status.fault_codes", "list of text", "vehicle_status.fault_codes",
                  [1]),
        FieldRule("movement.speed_kmh", "number >= 0", "movement.speed_kmh", -1.0),
        FieldRule("vehicle_status.drivable", "required", "vehicle_status.drivable", DROP),
        FieldRule("vehicle_status.fuel_pct", "0..100", "vehicle_status.fuel_pct", 120.0),
        FieldRule("movement.heading_deg", "0..<360", "movement.heading_deg", 360.0),
        FieldRule("at", EPOCH_RULE, "at", -1.0),
    ))
TELESERVICE_CALL: Final = MessageSpec(
    "TeleserviceCall", TeleserviceCall, "plain", None, packed, unpack_call,
    TELESERVICE_BOUND, "refused", TELESERVICE_BOUND.largest, rules=(
        FieldRule("reason", "interval_28d|distance_1000km|service_need", "reason", "whim"),
        FieldRule("odometer_km", ">= 0 km", "odometer_km", -1.0),
        FieldRule("vin", "17 chars of ISO 3779", "vin", "WMW"),
        FieldRule("call_id", "1..64 chars", "call_id", ""),
        FieldRule("propulsion", "petrol|diesel|bev|phev_petrol|phev_diesel", "propulsion",
                  "steam"),
        FieldRule("at", EPOCH_RULE, "at", 5e9),
        FieldRule("service_items.item", "1..64 chars", "service_items.0.item", ""),
        FieldRule("service_items.status", "ok|due|overdue", "service_items.0.status", "late"),
        FieldRule("teleservice_call", "contract fields only", "colour", "red"),
    ))
SMART_TRANSFER: Final = MessageSpec(
    "SmartMaintenanceTransfer", SmartMaintenanceTransfer, "plain", None, packed,
    unpack_smart_transfer, TELESERVICE_BOUND, "refused", TELESERVICE_BOUND.largest, rules=(
        FieldRule("trigger", "trip|weekly", "trigger", "daily"),
        FieldRule("transfer_id", "1..64 chars", "transfer_id", ""),
        FieldRule("odometer_km", ">= 0 km", "odometer_km", -5.0),
    ))
WORKSHOP_MAP: Final = MessageSpec(
    "WorkshopMapUpdate", WorkshopMapUpdate, "plain", None, packed, unpack_workshop_map,
    WORKSHOP_MAP_BOUND, "refused", WORKSHOP_MAP_BOUND.largest, rules=(
        FieldRule("version", ">= 1", "version", 0),
        FieldRule("partner_count", ">= 0", "partner_count", -1),
    ))
OTA_EVENT: Final = MessageSpec(
    "OtaEvent", OtaEvent, "record", OTA_EVENT_KIND, pack_ota_event, unpack_ota_event,
    _bound(OTA_EVENT_MAX, OTA_EVENT_RULE), "refused", OTA_EVENT_MAX, rules=(
        FieldRule("bytes_total", SIZE_RULE, "bytes_total", 5),
        FieldRule("bytes_done", "0..bytes_total", "bytes_done", -1),
        FieldRule("state", "|".join(sorted(OTA_STATES)), "state", "stuck"),
        FieldRule("reason", "|".join(sorted(OTA_REASONS)), "reason", "bored"),
        FieldRule("vin", "1..17 chars", "vin", ""),
        FieldRule("campaign_id", "1..64 chars", "campaign_id", ""),
        FieldRule("version", "1..32 chars", "version", ""),
        FieldRule("running_version", "1..32 chars", "running_version", ""),
        FieldRule("at", EPOCH_RULE, "at", -1.0),
        FieldRule("channel", "type str|NoneType", "channel", 4),
        _SENT_NS_RULE,
    ))
OTA_OFFER: Final = MessageSpec(
    "OtaOffer", OtaOffer, "record", OTA_OFFER_KIND, pack_ota_offer, unpack_ota_offer,
    _bound(OTA_OFFER_MAX, OTA_OFFER_RULE), "refused", OTA_OFFER_MAX, rules=(
        FieldRule("size_bytes", SIZE_RULE, "size_bytes", 11_000_000_000),
        FieldRule("critical", "type bool", "critical", 1),
        FieldRule("release_notes", f"at most {MAX_RELEASE_NOTES} chars", "release_notes",
                  "x" * (MAX_RELEASE_NOTES + 1)),
        FieldRule("campaign_id", "1..64 chars", "campaign_id", "c" * 65),
    ))
OTA_COMMAND: Final = MessageSpec(
    "OtaCommand", OtaCommand, "record", OTA_COMMAND_KIND, pack_ota_command,
    unpack_ota_command, _bound(OTA_COMMAND_MAX, OTA_COMMAND_RULE), "refused",
    OTA_COMMAND_MAX, rules=(
        FieldRule("action", "cancel|confirm|retry", "action", "install"),
        FieldRule("by", "app|backend|car", "by", "dealer"),
    ))
CLOCK: Final = MessageSpec(
    "ClockState", ClockState, "record", CLOCK_KIND, pack_clock_state, unpack_clock_state,
    _bound(CLOCK_MAX, CLOCK_RULE), "refused", CLOCK_MAX, rules=(
        FieldRule("scale", "finite, >= 0 (0 = frozen)", "scale", -1.0),
        FieldRule("seq", ">= 0", "seq", -1),
        FieldRule("real_anchor_ns", "non-negative epoch ns", "real_anchor_ns", -1),
    ))

REJECTION: Final = MessageSpec(
    "Rejection", Rejection, "record", REJECTION_KIND, pack_rejection, unpack_rejection,
    _bound(REJECTION_MAX, REJECTION_RULE), "refused", REJECTION_MAX, rules=(
        FieldRule("topic", f"1..{TOPIC_CHARS} chars", "topic", ""),
        FieldRule("message_id", f"1..{ID_CHARS} chars", "message_id", ""),
        FieldRule("incident", f"1..{ID_CHARS} chars", "incident", "i" * (ID_CHARS + 1)),
        FieldRule("field", f"1..{FIELD_CHARS} chars", "field", ""),
        FieldRule("rule", f"1..{RULE_CHARS} chars", "rule", ""),
        FieldRule("message_id", "type str|NoneType", "message_id", 7),
        _SENT_NS_RULE,
    ))

_CAR: Final[Direction] = "car -> backend"
_DOWN: Final[Direction] = "backend -> car"
_ECALL_VIN: Final = (("vin", ECALL_TOPIC_RULE), ("vehicleIdentificationNumber", MSD_VIN_RULE),
                     ("messageIdentifier", MSD_ID_RULE))

CONTRACT: Final[tuple[TopicContract, ...]] = (
    TopicContract(
        "ecall", _pattern(ecall_topic(_PATTERN_VIN, cast(EcallVariant, _PATTERN_VARIANT))),
        _CAR, 1, False, "emergency lane",
        "An eCall's MSD, Intelligent (to the OEM call centre) or Legal (to the responsible "
        "PSAP); `{variant}` is `intelligent` or `legal`.", ECALL, safety=True,
        reply="ecall_ack", catalogue=("ecall_intelligent", "ecall_legal"),
        vin_rules=_ECALL_VIN, vin_check=_check_ecall),
    TopicContract(
        "ecall_ack", _pattern(ecall_ack_topic(_PATTERN_VIN)), _DOWN, 1, False, "car",
        "The backend took the eCall durably: a desk will see it. Sent for duplicates too.",
        ECALL_ACK),
    TopicContract(
        "msd_request", _pattern(msd_request_topic(_PATTERN_VIN)), _DOWN, 1, False, "car",
        "An operator asks for a fresh MSD; the car answers on its eCall topic with the "
        "next messageIdentifier.", MSD_REQUEST),
    TopicContract(
        "voice", voice_topic(_PATTERN_COUNTRY).replace(_PATTERN_COUNTRY.upper(), "{CC}"),
        _CAR, 1, False, "emergency lane",
        "A PSAP eCall: a voice call with no vehicle data, named by the two-letter country "
        "of the network it is placed in.", VOICE, safety=True, catalogue=("ecall_psap",)),
    TopicContract(
        "hv_warn", _pattern(hv_warn_topic(_PATTERN_VIN)), _CAR, 1, False, "emergency lane",
        "High Voltage Warn Call on a battery thermal event (BEV and PHEV only), to the OEM "
        "call centre.", HV_WARN, safety=True, reply="hv_ack", catalogue=("hv_warn_call",),
        vin_rules=_TOPIC_VIN, vin_check=_check_record_vin),
    TopicContract(
        "hv_ack", _pattern(hv_ack_topic(_PATTERN_VIN)), _DOWN, 1, False, "car",
        "The backend took the warn call durably (an `EcallAck` with `msg_id` 1).", ECALL_ACK),
    TopicContract(
        "telemetry", _pattern(telemetry_topic(_PATTERN_VIN)), _CAR, 0, False, "bulk lane",
        "Bulk vehicle status, losable; counted, not stored.", TELEMETRY),
    TopicContract(
        "teleservice_call", _pattern(teleservice_call_topic(_PATTERN_VIN)), _CAR, 1, False,
        "services lane", "Teleservice Call: vehicle state every 28 days or 1,000 km, and for "
        "every service need.", TELESERVICE_CALL, reply="workshop_map",
        catalogue=("teleservice_call",), vin_rules=_TOPIC_VIN, vin_check=_check_record_vin),
    TopicContract(
        "smart_maintenance", _pattern(smart_maintenance_topic(_PATTERN_VIN)), _CAR, 1, False,
        "services lane", "Smart Maintenance transfer (opt-in), after a trip or weekly.",
        SMART_TRANSFER, catalogue=("smart_maintenance",), vin_rules=_TOPIC_VIN,
        vin_check=_check_record_vin),
    TopicContract(
        "assistance", _pattern(assistance_topic(_PATTERN_VIN)), _CAR, 1, False,
        "services lane", "Roadside or Accident Assistance Call with the car's status and "
        "position.", ASSISTANCE, catalogue=("roadside_assistance", "accident_assistance"),
        vin_rules=_TOPIC_VIN, vin_check=_check_record_vin),
    TopicContract(
        "workshop_map", _pattern(workshop_map_topic(_PATTERN_VIN)), _DOWN, 1, False, "car",
        "Workshop map data, about six times a year, sent after a Teleservice Call.",
        WORKSHOP_MAP, catalogue=("workshop_map",)),
    TopicContract(
        "ota_event", _pattern(ota_event_topic(_PATTERN_VIN)), _CAR, 1, False, "services lane",
        "One state change of the car's software update.", OTA_EVENT, catalogue=("rsu",),
        vin_rules=_TOPIC_VIN, vin_check=_check_record_vin),
    TopicContract(
        "ota_offer", _pattern(ota_offer_topic(_PATTERN_VIN)), _DOWN, 1, False, "car",
        "A software update campaign offered to the car.", OTA_OFFER, catalogue=("rsu",)),
    TopicContract(
        "ota_command", _pattern(ota_command_topic(_PATTERN_VIN)), _DOWN, 1, False, "car",
        "Confirm, cancel or retry an update; the backend sends `cancel` when a campaign is "
        "withdrawn.", OTA_COMMAND),
    TopicContract(
        "rejected", _pattern(rejected_topic(_PATTERN_VIN)), _DOWN, 1, False, "car",
        "The backend refused one of the car's messages: which one (its topic, and its id "
        "and incident where they could be read), and the field and rule it broke. Sent for "
        "every refused uplink whose topic names the car, a refused safety call included "
        "(which gets no acknowledgement), within the rate limits of \"What the backend does "
        "with a bad message\".", REJECTION),
    TopicContract(
        "clock", CLOCK_TOPIC, "scenario runner -> backend", 1, True, "services lane, desks",
        "Virtual time of a scenario (never in production), retained where the broker keeps "
        "retained messages.", CLOCK),
)

_BY_KIND: Final[dict[str, TopicContract]] = {entry.kind: entry for entry in CONTRACT}
SAFETY_QOS_RULE: Final = "safety_needs_qos1"


def check_delivery_qos(kind: str, qos: int) -> None:
    """Refuse a safety call that arrived below its contract's QoS: at QoS 0 the broker
    neither redelivers it nor holds it for a restarting lane, so the car would be told of
    an eCall the backend may never have received (field ``qos``, ``SAFETY_QOS_RULE``)."""
    contract = _BY_KIND.get(kind)
    if contract is not None and contract.safety and qos < contract.qos:
        raise EnvelopeError(f"{kind} arrived at QoS {qos}", field="qos", rule=SAFETY_QOS_RULE)


def contract_of(kind: str) -> TopicContract:
    """The contract of one topic kind (``protocols.topics.TopicKind``)."""
    return _BY_KIND[kind]


def qos_of(kind: TopicKind) -> Literal[0, 1]:
    """The QoS a topic kind is published and subscribed at."""
    return _BY_KIND[kind].qos


def missing_kinds() -> tuple[str, ...]:
    """Topic kinds the registry has no entry for (a test keeps this empty)."""
    return tuple(kind for kind in get_args(TopicKind) if kind not in _BY_KIND)


