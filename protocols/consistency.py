"""The VIN consistency rules of the wire contract: topic, envelope and MSD name one car.

A car's topic carries its VIN so a broker ACL can hold each car to its own topics, and
its payload carries it again (and an eCall's MSD a third time). The backend refuses a
message whose copies disagree, because it could not tell which car is in trouble. The
lanes call these checks, and so does ``telematics wire check``, so the rule an integrator
is told is the rule the backend applies.
"""

from __future__ import annotations

from typing import Final

from protocols.envelope import EcallMessage
from protocols.errors import EnvelopeError
from protocols.msd.model import Msd

TOPIC_VIN_RULE: Final = "record vin == topic vin"
ECALL_TOPIC_RULE: Final = "envelope vin/variant == topic"
MSD_VIN_RULE: Final = "== envelope vin"
MSD_ID_RULE: Final = "== envelope msg_id"
# The kind an envelope must have on the topics that carry one kind only.
ECALL_KIND_RULE: Final = "ecall on tcu/v1/{vin}/ecall/*"
VOICE_KIND_RULE: Final = "voice_call on psap/v1/{cc}/voice"
TELEMETRY_KIND_RULE: Final = "telemetry on telemetry topic"


def check_topic_vin(topic_vin: str, record_vin: str) -> None:
    """Refuse a record whose ``vin`` is not the VIN of the topic it came on."""
    if record_vin != topic_vin:
        raise EnvelopeError("VIN differs from its topic", field="vin", rule=TOPIC_VIN_RULE)


def check_ecall_topic(topic_vin: str, topic_variant: str, message: EcallMessage) -> None:
    """Refuse an eCall envelope whose VIN or variant is not its topic's."""
    if message.vin != topic_vin or message.variant != topic_variant:
        raise EnvelopeError("envelope disagrees with its topic", field="vin",
                            rule=ECALL_TOPIC_RULE)


def check_msd_matches(message: EcallMessage, msd: Msd) -> None:
    """Refuse an MSD that names another car or another message than its envelope."""
    if msd.vin != message.vin:
        raise EnvelopeError("MSD VIN differs from the envelope",
                            field="vehicleIdentificationNumber", rule=MSD_VIN_RULE)
    if msd.message_identifier != message.msg_id:
        raise EnvelopeError("MSD messageIdentifier differs from the envelope",
                            field="messageIdentifier", rule=MSD_ID_RULE)
