"""The wire contract: pure, I/O-free, importing nothing else of this project.

Both the emulated car and the backend speak only this; they never import each other.
"""

from protocols.addresses import mqtt_address
from protocols.envelope import (
    ECALL_ENVELOPE_MAX,
    EcallAck,
    EcallMessage,
    Envelope,
    IntelligentExtras,
    MsdRequest,
    Telemetry,
    VoiceCall,
    pack,
    unpack,
)
from protocols.errors import (
    CodecError,
    EnvelopeError,
    MsdDecodeError,
    MsdEncodeError,
    MsdValidationError,
    ProtocolError,
    TopicError,
)
from protocols.topics import ParsedTopic, parse_topic

__all__ = [
    "ECALL_ENVELOPE_MAX",
    "CodecError",
    "EcallAck",
    "EcallMessage",
    "Envelope",
    "EnvelopeError",
    "IntelligentExtras",
    "MsdDecodeError",
    "MsdEncodeError",
    "MsdRequest",
    "MsdValidationError",
    "ParsedTopic",
    "ProtocolError",
    "Telemetry",
    "TopicError",
    "VoiceCall",
    "mqtt_address",
    "pack",
    "parse_topic",
    "unpack",
]
