"""A decoder specialised to the common v3 MSDMessage, beside asn1tools, for the eCall path.

Profiled on the eCall path (README, "Performance"), asn1tools' generic UPER walk was
about half of the relay's CPU between an eCall's arrival and its hand-off to Redis.
The v3 MSDMessage is a fixed layout of fixed-width fields, so this module reads it with
shifts on one integer and returns the very value asn1tools returns (same names, same
nesting, DEFAULT flags filled in), for ``protocols.msd.codec`` to build the ``Msd`` from.

It reads only the shape every car of ours and of Annex A.3 sends: no extension
additions (in MSDMessage, MSDStructure, the vehicle type or the propulsion flags) and
no optionalAdditionalData. Anything else, and any input too short for the layout, gives
None and asn1tools decodes it (with its errors and their wording): this path can be
faster but never different. The tests compare both on random MSDs.
"""

from __future__ import annotations

from typing import Any, Final

from protocols.msd.model import VEHICLE_TYPES_V3
from protocols.msd.schema import PROPULSION_FIELDS, VIN_ALPHABET, VIN_PARTS

# Bits of the layout up to and including recentVehicleLocationN2 (X.691 unaligned):
# 2 extension bits and 2 presence bits, messageIdentifier 8, control 3 + 1 + 5,
# VIN 17 x 6 (a 33-character alphabet, sent as indices), propulsion 1 + 7 presence bits
# (+ one per flag sent), timestamp 32, location 2 x 32, direction 8 (0..179 | 255 is the
# range 0..255 to PER), N1 and N2 2 x 2 x 10.
_TAIL_BITS: Final = 32 + 64 + 8 + 40  # timestamp to N2, after the propulsion flags
_FIXED_BITS: Final = 4 + 8 + 9 + 17 * 6 + 8 + _TAIL_BITS
_VIN_SORTED: Final = "".join(sorted(VIN_ALPHABET))
_FLAG_NAMES: Final = tuple(name for name, _attr in PROPULSION_FIELDS)
_LAT_LON_OFFSET: Final = 2**31
_DELTA_OFFSET: Final = 512


class _Bits:
    """Reads big-endian bit fields from the front of one message."""

    __slots__ = ("_value", "left")

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self.left = 8 * len(data)

    def take(self, width: int) -> int:
        self.left -= width
        return (self._value >> self.left) & ((1 << width) - 1)


def decode_v3_message(payload: bytes) -> dict[str, Any] | None:
    """The MSDMessage in ``payload`` as asn1tools gives it, or None when it is not the
    common shape (then asn1tools must decode it)."""
    if 8 * len(payload) < _FIXED_BITS:
        return None
    bits = _Bits(payload)
    message_extended, has_oad = bits.take(1), bits.take(1)
    structure_extended, has_occupants = bits.take(1), bits.take(1)
    if message_extended or has_oad or structure_extended:
        return None
    message_identifier = bits.take(8)
    automatic, test_call, trusted = bits.take(1), bits.take(1), bits.take(1)
    if bits.take(1):  # a vehicle type from an extension of the enumeration
        return None
    type_index = bits.take(5)
    if type_index >= len(VEHICLE_TYPES_V3):
        return None
    indices = [bits.take(6) for _ in range(17)]
    if max(indices) >= len(_VIN_SORTED) or bits.take(1):  # past the alphabet; an extension
        return None
    vin = "".join(_VIN_SORTED[i] for i in indices)
    present = bits.take(len(_FLAG_NAMES))
    flags: dict[str, bool] = {}
    for i, name in enumerate(_FLAG_NAMES):
        sent = present >> (len(_FLAG_NAMES) - 1 - i) & 1
        flags[name] = bool(bits.take(1)) if sent else False
    if bits.left < _TAIL_BITS + (8 if has_occupants else 0):
        return None
    structure: dict[str, Any] = {
        "messageIdentifier": message_identifier,
        "control": {"automaticActivation": bool(automatic), "testCall": bool(test_call),
                    "positionCanBeTrusted": bool(trusted),
                    "vehicleType": VEHICLE_TYPES_V3[type_index]},
        "vehicleIdentificationNumber": {part: vin[start:end] for part, start, end in VIN_PARTS},
        "vehiclePropulsionStorageType": flags,
        "timestamp": bits.take(32),
        "vehicleLocation": {"positionLatitude": bits.take(32) - _LAT_LON_OFFSET,
                            "positionLongitude": bits.take(32) - _LAT_LON_OFFSET},
        "vehicleDirection": bits.take(8),
        "recentVehicleLocationN1": {"latitudeDelta": bits.take(10) - _DELTA_OFFSET,
                                    "longitudeDelta": bits.take(10) - _DELTA_OFFSET},
        "recentVehicleLocationN2": {"latitudeDelta": bits.take(10) - _DELTA_OFFSET,
                                    "longitudeDelta": bits.take(10) - _DELTA_OFFSET},
    }
    if has_occupants:
        structure["numberOfOccupants"] = bits.take(8)
    return {"msdStructure": structure}
