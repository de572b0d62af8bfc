"""An Intelligent eCall envelope of an exact size, framed as ``pack`` frames it but
without its bound, so tests can put one at, under and over a size bound."""

from __future__ import annotations

from dataclasses import asdict

import msgpack

from protocols.envelope import ENVELOPE_VERSION, EcallMessage, IntelligentExtras


def intelligent_ecall_of_size(vin: str, incident: str, msd: bytes, size: int) -> EcallMessage:
    """The eCall whose framed envelope is exactly ``size`` bytes (its model name pads it)."""
    for pad in range(size):
        extras = IntelligentExtras(2, 1, 56.0, "frontal", False, False, "severe", 0.31, True,
                                   "m" * pad)
        message = EcallMessage("intelligent", vin, incident, 1, msd, 1_700_000_000_000_000_000,
                               "BE", extras)
        if len(framed(message)) == size:
            return message
    raise ValueError(f"no padding gives an eCall envelope of {size} bytes")


def framed(message: EcallMessage) -> bytes:
    """The envelope's bytes as a car would send them, whatever their size."""
    data: bytes = msgpack.packb({"v": ENVELOPE_VERSION, "k": "ecall", **asdict(message)},
                                use_bin_type=True)
    return data
