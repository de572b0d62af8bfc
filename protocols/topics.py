"""MQTT topic names of the wire contract, version 1.

Uplink topics start with ``tcu/v1/{vin}``, downlink with ``cmd/v1/{vin}``. The eCall
variant is part of the topic so the backend can subscribe the emergency lane
separately from bulk traffic (a shared subscription of its own), and so a broker ACL
can tell them apart without opening a payload. The PSAP voice call carries no vehicle
data, so its topic names only the country of the network the call is placed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from protocols.errors import TopicError

Publish = Callable[[str, bytes], None]
"""What a part of the car or the backend publishes through: a topic and its payload."""

VERSION = "v1"
EcallVariant = Literal["intelligent", "legal"]
ECALL_VARIANTS: tuple[EcallVariant, ...] = ("intelligent", "legal")

# Subscriptions of the backend. The emergency and services lanes subscribe plainly
# (``backend.runtime.roles`` says why); bulk telemetry is spread over a share group.
BULK_SHARE_GROUP = "bulk"
ECALL_FILTER = f"tcu/{VERSION}/+/ecall/+"
VOICE_FILTER = f"psap/{VERSION}/+/voice"
HV_WARN_FILTER = f"tcu/{VERSION}/+/hv-warn"  # a safety call: it rides the emergency lane
TELESERVICE_FILTER = f"tcu/{VERSION}/+/teleservice/+"
ASSISTANCE_FILTER = f"tcu/{VERSION}/+/assistance"
TELEMETRY_FILTER = f"tcu/{VERSION}/+/telemetry"
OTA_EVENT_FILTER = f"tcu/{VERSION}/+/ota/event"  # OTA state changes ride the services lane
# Virtual time of a scenario, announced retained so a backend that starts late still
# hears it (``protocols.clock.ClockState``); production never publishes it.
CLOCK_TOPIC = f"sim/{VERSION}/clock"
# A backend worker's own probe: it publishes here and hears it back through its own
# session, which proves the broker path of that worker (``backend.infra.readiness``).
PROBE_PREFIX = f"backend/{VERSION}/probe/"

_VIN_CHARS = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")


def shared(group: str, topic_filter: str) -> str:
    """MQTT v5 shared subscription of ``topic_filter`` for ``group``."""
    return f"$share/{group}/{topic_filter}"


def probe_topic(worker: str) -> str:
    """The probe topic of one backend worker, e.g. ``backend/v1/probe/emergency-1``."""
    if not worker or "/" in worker or "+" in worker or "#" in worker:
        raise TopicError(f"invalid worker name {worker!r}", field="worker",
                         rule="non-empty, no / + #")
    return f"{PROBE_PREFIX}{worker}"


def _check_vin(vin: str) -> str:
    if len(vin) != 17 or not set(vin) <= _VIN_CHARS:
        raise TopicError(f"invalid VIN {vin!r} in topic", field="vin", rule="17 chars of ISO 3779")
    return vin


def ecall_topic(vin: str, variant: EcallVariant) -> str:
    return f"tcu/{VERSION}/{_check_vin(vin)}/ecall/{variant}"


def telemetry_topic(vin: str) -> str:
    return f"tcu/{VERSION}/{_check_vin(vin)}/telemetry"


def hv_warn_topic(vin: str) -> str:
    return f"tcu/{VERSION}/{_check_vin(vin)}/hv-warn"


def teleservice_call_topic(vin: str) -> str:
    return f"tcu/{VERSION}/{_check_vin(vin)}/teleservice/call"


def smart_maintenance_topic(vin: str) -> str:
    return f"tcu/{VERSION}/{_check_vin(vin)}/teleservice/smart"


def assistance_topic(vin: str) -> str:
    return f"tcu/{VERSION}/{_check_vin(vin)}/assistance"


def ota_event_topic(vin: str) -> str:
    return f"tcu/{VERSION}/{_check_vin(vin)}/ota/event"


def ota_offer_topic(vin: str) -> str:
    return f"cmd/{VERSION}/{_check_vin(vin)}/ota/offer"


def ota_command_topic(vin: str) -> str:
    return f"cmd/{VERSION}/{_check_vin(vin)}/ota/command"


def workshop_map_topic(vin: str) -> str:
    return f"cmd/{VERSION}/{_check_vin(vin)}/teleservice/workshop-map"


def hv_ack_topic(vin: str) -> str:
    return f"cmd/{VERSION}/{_check_vin(vin)}/hv-warn/ack"


def voice_topic(country: str) -> str:
    return f"psap/{VERSION}/{country.upper()}/voice"


def ecall_ack_topic(vin: str) -> str:
    return f"cmd/{VERSION}/{_check_vin(vin)}/ecall/ack"


def msd_request_topic(vin: str) -> str:
    return f"cmd/{VERSION}/{_check_vin(vin)}/ecall/msd-request"


def rejected_topic(vin: str) -> str:
    """Where the backend tells one car which of its messages it refused, and why: under
    the car's own downlinks, so the subscription and the ACL a car has already cover it."""
    return f"cmd/{VERSION}/{_check_vin(vin)}/rejected"


def vehicle_commands_filter(vin: str) -> str:
    """Everything the backend may send down to one car."""
    return f"cmd/{VERSION}/{_check_vin(vin)}/#"


TopicKind = Literal["ecall", "telemetry", "voice", "ecall_ack", "msd_request", "hv_warn",
                    "hv_ack", "teleservice_call", "smart_maintenance", "assistance",
                    "workshop_map", "ota_event", "ota_offer", "ota_command", "clock",
                    "rejected"]


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """What a topic says: its kind, the VIN or country it names, the eCall variant."""

    kind: TopicKind
    vin: str = ""
    country: str = ""
    variant: EcallVariant | None = None


def parse_topic(topic: str) -> ParsedTopic:
    """Parse any topic of the contract; raise TopicError for anything else."""
    parts = topic.split("/")
    if len(parts) >= 3 and parts[1] != VERSION:
        raise TopicError(f"unsupported topic version in {topic!r}", field="topic", rule=VERSION)
    match parts:
        case ["tcu", _, vin, "ecall", variant] if variant in ECALL_VARIANTS:
            return ParsedTopic("ecall", vin=_check_vin(vin), variant=variant)
        case ["tcu", _, vin, "telemetry"]:
            return ParsedTopic("telemetry", vin=_check_vin(vin))
        case ["tcu", _, vin, "teleservice", "call"]:
            return ParsedTopic("teleservice_call", vin=_check_vin(vin))
        case ["tcu", _, vin, "teleservice", "smart"]:
            return ParsedTopic("smart_maintenance", vin=_check_vin(vin))
        case ["tcu", _, vin, "assistance"]:
            return ParsedTopic("assistance", vin=_check_vin(vin))
        case ["tcu", _, vin, "ota", "event"]:
            return ParsedTopic("ota_event", vin=_check_vin(vin))
        case ["cmd", _, vin, "ota", "offer"]:
            return ParsedTopic("ota_offer", vin=_check_vin(vin))
        case ["cmd", _, vin, "ota", "command"]:
            return ParsedTopic("ota_command", vin=_check_vin(vin))
        case ["sim", _, "clock"]:
            return ParsedTopic("clock")
        case ["cmd", _, vin, "teleservice", "workshop-map"]:
            return ParsedTopic("workshop_map", vin=_check_vin(vin))
        case ["tcu", _, vin, "hv-warn"]:
            return ParsedTopic("hv_warn", vin=_check_vin(vin))
        case ["cmd", _, vin, "hv-warn", "ack"]:
            return ParsedTopic("hv_ack", vin=_check_vin(vin))
        case ["psap", _, country, "voice"] if len(country) == 2 and country.isalpha():
            return ParsedTopic("voice", country=country.upper())
        case ["cmd", _, vin, "ecall", "ack"]:
            return ParsedTopic("ecall_ack", vin=_check_vin(vin))
        case ["cmd", _, vin, "ecall", "msd-request"]:
            return ParsedTopic("msd_request", vin=_check_vin(vin))
        case ["cmd", _, vin, "rejected"]:
            return ParsedTopic("rejected", vin=_check_vin(vin))
    raise TopicError(f"unknown topic {topic!r}", field="topic", rule="contract v1")
