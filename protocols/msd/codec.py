"""UPER encoding and decoding of EN 15722 MSDs, versions 1 (decode only), 2 and 3.

Byte 0 is always the version (v2/v3 ``msdVersion``, v1 ``id``), which is why the
standard wraps the MSDMessage in an OCTET STRING: a receiver can dispatch before it
knows the layout. The v2/v3 wrapper is two octet-aligned fields (8-bit version, then
the octet string's length determinant), so it is framed here by hand rather than by a
second asn1tools pass (a tenth of the decode cost); asn1tools then codes the
MSDMessage, except the common v3 shape, which ``protocols.msd.uper_v3`` reads (the same
value, several times faster, for the eCall path). v1 has no wrapper and is decoded as
one ``ECallMessage``.
"""

from __future__ import annotations

import re
from typing import Any, Final

import asn1tools

from protocols.errors import MsdDecodeError, MsdEncodeError, MsdValidationError
from protocols.msd.asn1value import msd_structure
from protocols.msd.model import AdditionalData, LocationDelta, Msd, Propulsion, VehicleLocation
from protocols.msd.oid import decode_relative_oid, encode_relative_oid
from protocols.msd.schema import MSD_MAX_BYTES, message_type
from protocols.msd.uper_v3 import decode_v3_message
from protocols.msd.validation import validate_msd

_V1_DECODE_ONLY: Final = "v1 is decode-only (EN 15722:2020 §5.3.3.2)"
_LOCATION_PREFIXES: Final = ("ECallMessage.", "msd.", "MSDMessage.", "msdStructure.")
# asn1tools lists every permitted index in these messages; one line should name the culprit.
_INDEX_MISS: Final = re.compile(
    r"Expected (?:a value in \[.*\]|enumeration index .*), but got (\d+)\.?")


def decode_msd(data: bytes, *, strict: bool = True) -> Msd:
    """Decode any supported MSD version from UPER bytes.

    Octets after the end of the ASN.1 message are ignored (EN 15722:2020 §5.1.4: the
    in-band modem delivers a padded frame). ``strict`` adds the 140-octet limit on the
    whole input and ``validate_msd``; a PSAP that must show whatever arrived can turn
    it off. Both canonical and explicit-default propulsion flags are accepted.
    """
    if not data:
        raise MsdDecodeError("no input: the version octet is missing", field="msdVersion",
                             rule="truncated")
    if strict and len(data) > MSD_MAX_BYTES:
        raise MsdValidationError(f"{len(data)} bytes received, limit is {MSD_MAX_BYTES}",
                                 field="msd", rule=f"at most {MSD_MAX_BYTES} bytes")
    version = data[0]
    if version == 1:
        message = _asn1_decode(version, data)["msd"]
    elif version in (2, 3):
        message = _asn1_decode(version, _unwrap(data))
    else:
        raise MsdDecodeError(f"version {version} is not supported (1, 2 or 3)",
                             field="msdVersion", rule="supported version")
    msd = _from_asn1(message, version)
    if strict:
        validate_msd(msd)
    return msd


def encode_msd(msd: Msd) -> bytes:
    """Canonical UPER of a v2 or v3 MSD, after ``validate_msd``.

    DEFAULT FALSE propulsion flags are left out, as in EN 15722:2020 Annex A.3.
    """
    if msd.version == 1:
        raise MsdEncodeError("MSD v1 cannot be encoded: it is withdrawn for IVS",
                             field="msdVersion", rule=_V1_DECODE_ONLY)
    validate_msd(msd)
    if msd.vehicle_type is None:
        raise MsdEncodeError("an unknown (extension) vehicle type cannot be encoded",
                             field="control.vehicleType", rule="known vehicle type")
    try:
        inner: bytes = message_type(msd.version).encode(_to_asn1(msd))
    except Exception as exc:
        raise _encode_error(exc) from exc
    return _frame(msd.version, inner)


def _unwrap(data: bytes) -> bytes:
    """The contents of ``msd OCTET STRING`` from an unconstrained UPER length determinant."""
    if len(data) < 2:
        raise MsdDecodeError("input ends before the length of the msd octet string",
                             field="msd", rule="truncated")
    first = data[1]
    if first < 0x80:
        length, start = first, 2
    elif first < 0xC0:
        if len(data) < 3:
            raise MsdDecodeError("input ends inside the length of the msd octet string",
                                 field="msd", rule="truncated")
        length, start = ((first & 0x3F) << 8) | data[2], 3
    else:
        raise MsdDecodeError("fragmented length (16K octets or more) is not an MSD",
                             field="msd", rule="length determinant")
    end = start + length
    if len(data) < end:
        raise MsdDecodeError(f"declares {length} octets but only {len(data) - start} follow",
                             field="msd", rule="truncated")
    return data[start:end]


def _frame(version: int, inner: bytes) -> bytes:
    """ECallMessage around an encoded MSDMessage (validation keeps it under 16K octets)."""
    length = len(inner)
    if length < 0x80:
        return bytes((version, length)) + inner
    return bytes((version, 0x80 | (length >> 8), length & 0xFF)) + inner


def _field_of(exc: Exception) -> str:
    """The standard's field path from an asn1tools error location, as validation names it."""
    location: str = getattr(exc, "location_str", "")
    for prefix in _LOCATION_PREFIXES:
        location = location.removeprefix(prefix)
    return location if location and location not in {"ECallMessage", "MSDMessage"} else "msd"


def _asn1_decode(version: int, payload: bytes) -> dict[str, Any]:
    """The message's ASN.1 value: the common v3 shape read by ``uper_v3``, the rest by
    asn1tools (and every error in asn1tools' words)."""
    fast = decode_v3_message(payload) if version == 3 else None
    if fast is not None:
        return fast
    try:
        decoded: dict[str, Any] = message_type(version).decode(payload)
    except asn1tools.codecs.OutOfDataError as exc:
        field = _field_of(exc)
        raise MsdDecodeError("input ends inside this field", field=field,
                             rule="truncated") from exc
    except asn1tools.DecodeError as exc:
        message = _one_line(getattr(exc, "message", exc))
        miss = _INDEX_MISS.fullmatch(message)
        if miss:
            message = f"index {miss.group(1)} is outside the permitted values"
        raise MsdDecodeError(message, field=_field_of(exc), rule="malformed") from exc
    except Exception as exc:  # untrusted bytes: any library failure is a decode error
        raise MsdDecodeError(f"undecodable ({type(exc).__name__}: {_one_line(exc)})",
                             field=_field_of(exc), rule="malformed") from exc
    return decoded


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _encode_error(exc: Exception) -> MsdEncodeError:
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return MsdEncodeError(_one_line(message), field=_field_of(exc), rule="asn1 encode")


def _from_asn1(message: dict[str, Any], version: int) -> Msd:
    s = message["msdStructure"]
    control = s["control"]
    vin = s["vehicleIdentificationNumber"]
    p = s["vehiclePropulsionStorageType"]
    location = s["vehicleLocation"]
    n1 = s.get("recentVehicleLocationN1")
    n2 = s.get("recentVehicleLocationN2")
    oad = message.get("optionalAdditionalData")
    return Msd(
        message_identifier=s["messageIdentifier"],
        automatic_activation=control["automaticActivation"],
        test_call=control["testCall"],
        position_can_be_trusted=control["positionCanBeTrusted"],
        vehicle_type=control["vehicleType"],
        vin=vin["isowmi"] + vin["isovds"] + vin["isovisModelyear"] + vin["isovisSeqPlant"],
        propulsion=Propulsion(
            p["gasolineTankPresent"], p["dieselTankPresent"], p["compressedNaturalGas"],
            p["liquidPropaneGas"], p["electricEnergyStorage"], p["hydrogenStorage"],
            p.get("otherStorage", False),
        ),
        timestamp=s["timestamp"],
        location=VehicleLocation(location["positionLatitude"], location["positionLongitude"]),
        direction=s["vehicleDirection"],
        n1=None if n1 is None else LocationDelta(n1["latitudeDelta"], n1["longitudeDelta"]),
        n2=None if n2 is None else LocationDelta(n2["latitudeDelta"], n2["longitudeDelta"]),
        number_of_occupants=s.get("numberOfOccupants" if version == 3 else "numberOfPassengers"),
        additional_data=None if oad is None else _oad_from_asn1(oad),
        version=version,
    )


def _oad_from_asn1(oad: dict[str, Any]) -> AdditionalData:
    try:
        arcs = decode_relative_oid(oad["oid"])
    except ValueError as exc:
        raise MsdDecodeError(str(exc), field="optionalAdditionalData.oid",
                             rule="relative OID") from exc
    return AdditionalData(arcs, oad["data"])


def _to_asn1(msd: Msd) -> dict[str, Any]:
    structure = msd_structure(msd)
    message: dict[str, Any] = {"msdStructure": structure}
    oad = msd.additional_data
    if oad is not None:
        message["optionalAdditionalData"] = {"oid": encode_relative_oid(oad.oid),
                                             "data": oad.data}
    return message
