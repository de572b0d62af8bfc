"""Message envelopes of the wire contract (msgpack maps, version 1).

Each envelope carries ``v`` (contract version), ``k`` (kind) and ``sent_ns``, the
sender's wall-clock time in nanoseconds when it published, so any receiver on the same
host (or a synchronised one) can measure end-to-end latency without a second channel.
MINI Connected caps what the telematics unit sends for an eCall at "minder dan 1 KB"
(docs/requirements.md#ecall-r4): ``ECALL_ENVELOPE_BOUND``, exclusive, so 1,000 bytes is over
(the reading of ``protocols.size_bounds``). ``pack`` refuses such an envelope; a receiver
reads it all the same and flags it (a safety call is never dropped).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import msgpack

from protocols.errors import EnvelopeError
from protocols.record_codec import open_map
from protocols.size_bounds import SizeBound, check_within
from protocols.topics import ECALL_VARIANTS, EcallVariant

ENVELOPE_VERSION: Final = 1
ECALL_ENVELOPE_MAX: Final = 1000  # bytes; MINI Connected: "minder dan 1 KB" per eCall transfer
ECALL_ENVELOPE_BOUND: Final = SizeBound(
    ECALL_ENVELOPE_MAX, exclusive=True, rule="under 1 KB (MINI Connected §7, ECALL-R4)")
MAX_ENVELOPE: Final = 256 * 1024  # anything larger is refused before unpacking

Kind = Literal["ecall", "ecall_ack", "msd_request", "voice_call", "telemetry"]


@dataclass(frozen=True, slots=True)
class IntelligentExtras:
    """What an Intelligent eCall adds beside the MSD (MINI Connected §7a, ECALL-R6).

    ``p_serious_injury`` is the probability of ISS 15+ from the AACN model named in
    ``model``; ``triage`` is True when it reaches the model's 0.20 triage threshold,
    which the desk shows as a flag.
    """

    occupants: int
    belted: int
    delta_v_kmh: float
    principal_direction: str
    multiple_impacts: bool
    rollover: bool
    severity: str
    p_serious_injury: float
    triage: bool
    model: str

    def __post_init__(self) -> None:
        if not 0 <= self.occupants <= 255:
            raise EnvelopeError("occupants out of 0..255", field="extras.occupants", rule="0..255")
        if not 0.0 <= self.p_serious_injury <= 1.0:
            raise EnvelopeError(
                "probability out of 0..1", field="extras.p_serious_injury", rule="0..1"
            )


@dataclass(frozen=True, slots=True)
class EcallMessage:
    """An MSD (UPER bytes) sent by the car, for one incident and message identifier."""

    variant: EcallVariant
    vin: str
    incident: str
    msg_id: int
    msd: bytes
    sent_ns: int
    network_country: str = ""
    extras: IntelligentExtras | None = None

    def __post_init__(self) -> None:
        if self.variant not in ECALL_VARIANTS:
            raise EnvelopeError(f"unknown variant {self.variant!r}", field="variant",
                                rule="intelligent|legal")
        if self.variant == "legal" and self.extras is not None:
            raise EnvelopeError("Legal eCall carries only the MSD", field="extras",
                                rule="absent for legal")
        if not self.incident or len(self.incident) > 64:
            raise EnvelopeError("incident id must be 1..64 chars", field="incident",
                                rule="1..64 chars")


@dataclass(frozen=True, slots=True)
class EcallAck:
    """Application-level acknowledgement to the car: the MSD was handed on durably."""

    incident: str
    msg_id: int
    route: str
    sent_ns: int


@dataclass(frozen=True, slots=True)
class MsdRequest:
    """An operator's request for a fresh MSD (the car answers with the next msg_id)."""

    incident: str
    requested_by: str
    sent_ns: int


@dataclass(frozen=True, slots=True)
class VoiceCall:
    """A PSAP eCall: a voice connection with no vehicle data at all (§7c, ECALL-R9)."""

    call: str
    sent_ns: int

    def __post_init__(self) -> None:
        if not self.call or len(self.call) > 64:
            raise EnvelopeError("call id must be 1..64 chars", field="call", rule="1..64 chars")
        if isinstance(self.sent_ns, bool) or self.sent_ns <= 0:
            raise EnvelopeError(f"sent_ns {self.sent_ns}", field="sent_ns", rule="> 0 ns")


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Bulk vehicle status; lives on its own lane so it never delays an eCall."""

    vin: str
    seq: int
    sent_ns: int
    lat: float
    lon: float
    speed_kmh: float
    odometer_km: float
    extra: dict[str, Any] = field(default_factory=dict)


Envelope = EcallMessage | EcallAck | MsdRequest | VoiceCall | Telemetry

_KIND_OF: Final[dict[type[Any], Kind]] = {
    EcallMessage: "ecall",
    EcallAck: "ecall_ack",
    MsdRequest: "msd_request",
    VoiceCall: "voice_call",
    Telemetry: "telemetry",
}
_CLASS_OF: Final[dict[str, type[Any]]] = {kind: cls for cls, kind in _KIND_OF.items()}


def pack(envelope: Envelope) -> bytes:
    """Serialise an envelope; refuses an eCall envelope not under 1 KB."""
    body = asdict(envelope)
    body["v"] = ENVELOPE_VERSION
    body["k"] = _KIND_OF[type(envelope)]
    data: bytes = msgpack.packb(body, use_bin_type=True)
    if isinstance(envelope, EcallMessage):
        check_within(ECALL_ENVELOPE_BOUND, len(data), field="envelope")
    return data


def unpack(data: bytes) -> Envelope:
    """Parse and check an envelope; every failure is an EnvelopeError naming the field."""
    kind, body = open_map(data, max_bytes=MAX_ENVELOPE, version=ENVELOPE_VERSION)
    cls = _CLASS_OF.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EnvelopeError(f"unknown kind {kind!r}", field="k", rule="|".join(_CLASS_OF))
    if cls is EcallMessage:
        # No size check on reading: an eCall over its 1 KB budget is a safety call all
        # the same, relayed and flagged by the receiver, never dropped (see the relay).
        extras = body.get("extras")
        if extras is not None:
            body["extras"] = _build(IntelligentExtras, extras, "extras")
    envelope: Envelope = _build(cls, body, "envelope")
    return envelope


_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "int": int, "str": str, "bytes": bytes, "float": (float, int), "bool": bool,
}


def _build(cls: type[Any], body: Any, where: str) -> Any:
    if not isinstance(body, dict):
        raise EnvelopeError("not a map", field=where, rule="msgpack map")
    names = set(cls.__dataclass_fields__)
    unknown = set(body) - names
    if unknown:
        raise EnvelopeError(f"unknown fields {sorted(unknown)}", field=where,
                            rule="only contract fields")
    for name, spec in cls.__dataclass_fields__.items():
        if name not in body:
            continue
        expected = _TYPES.get(str(spec.type))
        value = body[name]
        if expected is not None and (
            not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        ):
            raise EnvelopeError(f"{name} has type {type(value).__name__}",
                                field=f"{where}.{name}", rule=f"type {spec.type}")
    try:
        return cls(**body)
    except TypeError as exc:
        raise EnvelopeError(str(exc), field=where, rule="required fields") from None
