"""Envelopes: round trips, the 1 KB eCall budget, and errors that name the field."""

from __future__ import annotations

import msgpack
import pytest

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
from protocols.errors import EnvelopeError

VIN = "WMW21DH0X0T123451"
EXTRAS = IntelligentExtras(occupants=2, belted=1, delta_v_kmh=56.0,
                           principal_direction="frontal", multiple_impacts=False,
                           rollover=False, severity="severe", p_serious_injury=0.31,
                           triage=True, model="Kononen 2011")


@pytest.mark.parametrize("envelope", [
    EcallMessage("intelligent", VIN, "inc-1", 1, bytes(38), 123, "BE", EXTRAS),
    EcallMessage("legal", VIN, "inc-1", 2, bytes(38), 123, "BE"),
    EcallAck("inc-1", 1, "psap-BE", 5),
    MsdRequest("inc-1", "psap-BE", 6),
    VoiceCall("inc-2", 7),
    Telemetry(VIN, 1, 8, 50.1, 4.2, 88.0, 12345.6, {"soc": 80}),
])
def test_envelope_round_trip(envelope: Envelope) -> None:
    """Every kind unpacks to exactly what was packed."""
    assert unpack(pack(envelope)) == envelope


def test_envelope_intelligent_ecall_stays_under_one_kilobyte() -> None:
    """An Intelligent eCall with a full MSD and extras fits MINI Connected's < 1 KB."""
    size = len(pack(EcallMessage("intelligent", VIN, "x" * 64, 255, bytes(140), 2**63 - 1,
                                 "BE", EXTRAS)))
    assert size < ECALL_ENVELOPE_MAX


def test_envelope_oversized_ecall_is_refused_when_built_and_read_when_received() -> None:
    """The car may not build an eCall over budget; a receiver still reads one (a safety
    call is flagged, never dropped)."""
    big = EcallMessage("legal", VIN, "inc", 1, bytes(1200), 1)
    with pytest.raises(EnvelopeError) as built:
        pack(big)
    assert built.value.field == "envelope"
    raw = msgpack.packb({"v": 1, "k": "ecall", "variant": "legal", "vin": VIN, "incident": "i",
                         "msg_id": 1, "msd": bytes(1200), "sent_ns": 1, "network_country": "",
                         "extras": None})
    assert len(raw) > ECALL_ENVELOPE_MAX
    read = unpack(raw)
    assert isinstance(read, EcallMessage) and len(read.msd) == 1200


@pytest.mark.parametrize(("body", "field"), [
    ({"v": 2, "k": "voice_call", "call": "c", "sent_ns": 1}, "v"),
    ({"v": 1, "k": "nonsense"}, "k"),
    ({"v": 1, "k": "voice_call", "call": "c", "sent_ns": "soon"}, "envelope.sent_ns"),
    ({"v": 1, "k": "voice_call", "call": "c", "sent_ns": 1, "vin": VIN}, "envelope"),
    ({"v": 1, "k": "voice_call", "call": "c"}, "envelope"),
    ({"v": 1, "k": "ecall", "variant": "legal", "vin": VIN, "incident": "i", "msg_id": True,
      "msd": b"", "sent_ns": 1}, "envelope.msg_id"),
])
def test_envelope_malformed_names_the_field(body: dict[str, object], field: str) -> None:
    """Wrong version, kind, type, extra or missing fields are errors naming the field."""
    with pytest.raises(EnvelopeError) as err:
        unpack(msgpack.packb(body))
    assert err.value.field == field


def test_envelope_not_msgpack_is_an_envelope_error() -> None:
    """Garbage bytes give an EnvelopeError, never another exception type."""
    with pytest.raises(EnvelopeError) as err:
        unpack(b"\xc1\xff\x00")
    assert err.value.field == "payload"


def test_envelope_legal_ecall_carries_no_extras() -> None:
    """Legal eCall sends only the legally required data (MINI Connected §7b, ECALL-R5)."""
    with pytest.raises(EnvelopeError) as err:
        EcallMessage("legal", VIN, "inc", 1, bytes(38), 1, "BE", EXTRAS)
    assert err.value.field == "extras"
