"""The EN 15722 ASN.1 modules as compiled asn1tools UPER codecs, one per MSD version.

asn1tools cannot compile ``RELATIVE-OID`` (eerimoq/asn1tools#97), so the module text is
compiled with ``OCTET STRING`` in its place: both are a length determinant followed by
the contents octets in PER, so the wire bits are identical and ``protocols.msd.oid``
turns the contents into arcs. ``OBJECT IDENTIFIER`` would not do: it packs the first
two arcs into one. Compiling takes tens of milliseconds, so each version is compiled
on first use and kept; importing this module reads nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final

import asn1tools

from protocols.msd.model import VEHICLE_TYPES_V3

MSD_MAX_BYTES: Final = 140  # EN 15722:2020 §5.1.4, the whole encoded ECallMessage
OAD_MAX_BYTES: Final = 94  # EN 15722:2020 §5.1.5, AdditionalData encoded in UPER
VERSIONS: Final = (1, 2, 3)

_ASN1_DIR: Final = Path(__file__).parent / "asn1"
_MODULE_FILES: Final = {
    1: "MSDASN1Module_v1_EN15722-2011__reconstructed.asn",
    2: "MSDASN1Module_v2_EN15722-2015__reconstructed.asn",
    3: "MSDASN1Module_v3_EN15722-2020.asn",
}

# v1 (EN 15722:2011) and v2 (EN 15722:2015) share these 13 enumerators; UPER sends
# the index in 4 bits. v3 has the 23 of ``VEHICLE_TYPES_V3``.
VEHICLE_TYPES_V2: Final[tuple[str, ...]] = (
    "passengerVehicleClassM1", "busesAndCoachesClassM2", "busesAndCoachesClassM3",
    "lightCommercialVehiclesClassN1", "heavyDutyVehiclesClassN2", "heavyDutyVehiclesClassN3",
    "motorcyclesClassL1e", "motorcyclesClassL2e", "motorcyclesClassL3e",
    "motorcyclesClassL4e", "motorcyclesClassL5e", "motorcyclesClassL6e",
    "motorcyclesClassL7e",
)

# (ASN.1 component, attribute of ``Propulsion``) in wire order; v1 lacks the last one.
PROPULSION_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("gasolineTankPresent", "gasoline_tank_present"),
    ("dieselTankPresent", "diesel_tank_present"),
    ("compressedNaturalGas", "compressed_natural_gas"),
    ("liquidPropaneGas", "liquid_propane_gas"),
    ("electricEnergyStorage", "electric_energy_storage"),
    ("hydrogenStorage", "hydrogen_storage"),
    ("otherStorage", "other_storage"),
)

VIN_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # ISO 3779: no I, O or Q
# (VIN component, start, end) within the 17-character VIN.
VIN_PARTS: Final[tuple[tuple[str, int, int], ...]] = (
    ("isowmi", 0, 3),
    ("isovds", 3, 9),
    ("isovisModelyear", 9, 10),
    ("isovisSeqPlant", 10, 17),
)


def vehicle_types(version: int) -> tuple[str, ...]:
    """The enumerators a version knows, because v3 renamed and extended them."""
    return VEHICLE_TYPES_V3 if version == 3 else VEHICLE_TYPES_V2


def propulsion_fields(version: int) -> tuple[tuple[str, str], ...]:
    """Propulsion components of a version: otherStorage arrived with v2."""
    return PROPULSION_FIELDS[:6] if version == 1 else PROPULSION_FIELDS


def occupants_field(version: int) -> str:
    """v3 renamed numberOfPassengers to numberOfOccupants (EN 15722:2020 Table 2)."""
    return "numberOfOccupants" if version == 3 else "numberOfPassengers"


def module_text(version: int, *, explicit_defaults: bool = False) -> str:
    """The module as asn1tools can compile it.

    ``explicit_defaults`` turns ``BOOLEAN DEFAULT FALSE`` into ``BOOLEAN OPTIONAL`` so
    that FALSE flags can be sent, which is how v1/v2 IVS encode (the decoder of the
    real module accepts both); it exists for building such vectors, never for sending.
    """
    text = (_ASN1_DIR / _MODULE_FILES[version]).read_text("utf-8")
    text = text.replace("RELATIVE-OID", "OCTET STRING")
    if explicit_defaults:
        text = text.replace("BOOLEAN DEFAULT FALSE", "BOOLEAN OPTIONAL")
    return text


@cache
def compiled(version: int) -> Any:
    """The asn1tools specification of one version, compiled once per process."""
    return asn1tools.compile_string(module_text(version), "uper")


@cache
def message_type(version: int) -> Any:
    """The type the hot path encodes and decodes.

    v2/v3 use ``MSDMessage`` (the outer frame is two octet-aligned fields handled in
    ``protocols.msd.codec``); v1 has no OCTET STRING wrapper, so it is ``ECallMessage``.
    Calling the compiled type directly skips asn1tools' per-call type walk, which costs
    a fifth of an encode; ``protocols.msd.validation`` checks every type first instead.
    """
    name = "ECallMessage" if version == 1 else "MSDMessage"
    return compiled(version).types[name]
