"""EN 15722 rules that the ASN.1 alone does not enforce, and the exact encoded size.

The codec runs asn1tools with ``check_constraints=False`` because asn1tools reads
``INTEGER(0..179 | 255)`` as 0..179 and would refuse the valid 'unknown' 255; it also
skips asn1tools' type walk. So every constraint of the modules is checked here, plus
the rules of the standard's text (position ranges, 140 and 94 bytes, v3 N1/N2), each
named by the standard's field path so the backend can count errors by (field, rule).

The size is computed from the fixed UPER layout rather than by encoding, so a decoder
can check it for free: v3 without OAD is 275 bits plus one per TRUE propulsion flag,
plus 8 when numberOfOccupants is present, plus the two outer octets.
"""

from __future__ import annotations

from typing import Final, NoReturn

from protocols.errors import MsdValidationError
from protocols.msd.model import (
    LOCATION_UNKNOWN,
    AdditionalData,
    LocationDelta,
    Msd,
    Propulsion,
    VehicleLocation,
)
from protocols.msd.oid import encode_relative_oid
from protocols.msd.schema import (
    MSD_MAX_BYTES,
    OAD_MAX_BYTES,
    VERSIONS,
    VIN_ALPHABET,
    occupants_field,
    propulsion_fields,
    vehicle_types,
)

LATITUDE_LIMIT: Final = 324_000_000  # ±90° in milliarcseconds
LONGITUDE_LIMIT: Final = 648_000_000  # ±180°
DELTA_MIN: Final = -512
DELTA_MAX: Final = 511
_VIN_CHARS: Final = frozenset(VIN_ALPHABET)
_CONTROL_FLAGS: Final = (
    ("control.automaticActivation", "automatic_activation"),
    ("control.testCall", "test_call"),
    ("control.positionCanBeTrusted", "position_can_be_trusted"),
)
# Field paths built once: validation runs on every decode, so the valid path formats nothing.
_PROPULSION_FLAGS: Final = {
    version: tuple((f"vehiclePropulsionStorageType.{name}", attr)
                   for name, attr in propulsion_fields(version))
    for version in VERSIONS
}
_DELTA_FIELDS: Final = {
    name: (f"{name}.latitudeDelta", f"{name}.longitudeDelta")
    for name in ("recentVehicleLocationN1", "recentVehicleLocationN2")
}


def _fail(field: str, message: str, rule: str) -> NoReturn:
    raise MsdValidationError(message, field=field, rule=rule)


def _check_int(field: str, value: object, low: int, high: int) -> None:
    # type() rather than isinstance(): a bool is an int to Python but not to ASN.1.
    if type(value) is not int:
        _fail(field, f"{value!r} is not an integer", "integer")
    if not low <= value <= high:
        _fail(field, f"{value} is not {low}..{high}", f"{low}..{high}")


def _check_bool(field: str, value: object) -> None:
    if type(value) is not bool:
        _fail(field, f"{value!r} is not a boolean", "boolean")


def _wrong_type(field: str, value: object, expected: type) -> NoReturn:
    _fail(field, f"{type(value).__name__} is not {expected.__name__}", "type")


def _check_vin(vin: object) -> None:
    field = "vehicleIdentificationNumber"
    if type(vin) is not str:
        _fail(field, f"{vin!r} is not a string", "string")
    if len(vin) != 17:
        _fail(field, f"{vin!r} has {len(vin)} characters, not 17", "17 characters")
    if not _VIN_CHARS.issuperset(vin):
        position, char = next((i, c) for i, c in enumerate(vin, 1) if c not in _VIN_CHARS)
        _fail(field, f"{char!r} at position {position} is not in the ISO 3779 alphabet "
                     f"(0-9, A-Z without I, O, Q)", "VIN alphabet")


def _check_location(location: object) -> None:
    if not isinstance(location, VehicleLocation):
        _wrong_type("vehicleLocation", location, VehicleLocation)
    for name, value, limit in (
        ("positionLatitude", location.latitude, LATITUDE_LIMIT),
        ("positionLongitude", location.longitude, LONGITUDE_LIMIT),
    ):
        field = f"vehicleLocation.{name}"
        if type(value) is not int:
            _fail(field, f"{value!r} is not an integer", "integer")
        if value != LOCATION_UNKNOWN and not -limit <= value <= limit:
            _fail(field, f"{value} is not within ±{limit} mas or {LOCATION_UNKNOWN} (unknown)",
                  f"±{limit} or unknown")


def _check_delta(field: str, delta: object, version: int) -> None:
    if delta is None:
        if version == 3:
            _fail(field, "absent but mandatory in MSD v3", "mandatory in v3")
        return
    if not isinstance(delta, LocationDelta):
        _wrong_type(field, delta, LocationDelta)
    latitude_field, longitude_field = _DELTA_FIELDS[field]
    _check_int(latitude_field, delta.latitude_delta, DELTA_MIN, DELTA_MAX)
    _check_int(longitude_field, delta.longitude_delta, DELTA_MIN, DELTA_MAX)


def _check_additional_data(oad: object) -> None:
    if not isinstance(oad, AdditionalData):
        _wrong_type("optionalAdditionalData", oad, AdditionalData)
    if not isinstance(oad.oid, tuple) or not oad.oid:
        _fail("optionalAdditionalData.oid", f"{oad.oid!r} is not a non-empty tuple of arcs",
              "at least one arc")
    for arc in oad.oid:
        if type(arc) is not int or arc < 0:
            _fail("optionalAdditionalData.oid", f"arc {arc!r} is not a non-negative integer",
                  "non-negative arcs")
    if not isinstance(oad.data, bytes):
        _fail("optionalAdditionalData.data", f"{type(oad.data).__name__} is not bytes", "bytes")
    size = additional_data_size(oad)
    if size > OAD_MAX_BYTES:
        _fail("optionalAdditionalData", f"{size} bytes encoded, limit is {OAD_MAX_BYTES}",
              f"at most {OAD_MAX_BYTES} bytes")


def validate_msd(msd: Msd) -> None:
    """Raise ``MsdValidationError`` for the first rule ``msd`` breaks.

    ``vehicle_type=None`` passes: it is how an enumerator added after this side's
    version arrives, and EN 15722 tells receivers to expect one. It cannot be encoded,
    which ``encode_msd`` reports.
    """
    version = msd.version
    if type(version) is not int or version not in VERSIONS:
        _fail("msdVersion", f"{version!r} is not a supported MSD version (1, 2 or 3)",
              "supported version")
    _check_int("messageIdentifier", msd.message_identifier, 0, 255)
    for field, attr in _CONTROL_FLAGS:
        _check_bool(field, getattr(msd, attr))
    vehicle_type = msd.vehicle_type
    if vehicle_type is not None and vehicle_type not in vehicle_types(version):
        _fail("control.vehicleType", f"{vehicle_type!r} is not a vehicle type of MSD v{version}",
              "known vehicle type")
    _check_vin(msd.vin)
    if not isinstance(msd.propulsion, Propulsion):
        _wrong_type("vehiclePropulsionStorageType", msd.propulsion, Propulsion)
    for field, attr in _PROPULSION_FLAGS[version]:
        _check_bool(field, getattr(msd.propulsion, attr))
    if version == 1 and msd.propulsion.other_storage is not False:
        _fail("vehiclePropulsionStorageType.otherStorage", "TRUE but MSD v1 has no such flag",
              "absent in v1")
    _check_int("timestamp", msd.timestamp, 0, 4_294_967_295)
    _check_location(msd.location)
    # v1/v2 declare INTEGER(0..255) but give it the same meaning (2° steps, 255 unknown),
    # so 180..254 are as meaningless there as v3's constraint makes them.
    direction = msd.direction
    if type(direction) is not int:
        _fail("vehicleDirection", f"{direction!r} is not an integer", "integer")
    if not (0 <= direction <= 179 or direction == 255):
        _fail("vehicleDirection", f"{direction} is not 0..179 or 255", "0..179 or 255")
    _check_delta("recentVehicleLocationN1", msd.n1, version)
    _check_delta("recentVehicleLocationN2", msd.n2, version)
    if msd.number_of_occupants is not None:
        _check_int(occupants_field(version), msd.number_of_occupants, 0, 255)
    if msd.additional_data is not None:
        _check_additional_data(msd.additional_data)
    size = encoded_size(msd)
    if size > MSD_MAX_BYTES:
        _fail("msd", f"{size} bytes encoded, limit is {MSD_MAX_BYTES}",
              f"at most {MSD_MAX_BYTES} bytes")


def _length_determinant_octets(count: int) -> int:
    return 1 if count < 128 else 2


def additional_data_size(oad: AdditionalData) -> int:
    """Octets of AdditionalData in UPER: two length-prefixed octet strings."""
    oid_octets = len(encode_relative_oid(oad.oid))
    data_octets = len(oad.data)
    return (_length_determinant_octets(oid_octets) + oid_octets
            + _length_determinant_octets(data_octets) + data_octets)


def encoded_size(msd: Msd) -> int:
    """Octets of the canonical UPER encoding of the whole ECallMessage.

    Assumes a valid ``msd``; an explicit-default encoding of the same value is longer
    by one bit per FALSE propulsion flag.
    """
    version = msd.version
    p = msd.propulsion
    flags_sent = (p.gasoline_tank_present + p.diesel_tank_present + p.compressed_natural_gas
                  + p.liquid_propane_gas + p.electric_energy_storage + p.hydrogen_storage
                  + p.other_storage)  # FALSE in v1, which validation ensures
    bits = (
        2  # MSDMessage: extension bit, optionalAdditionalData presence bit
        + (2 if version == 3 else 4)  # MSDStructure: extension bit, presence bitmap
        + 8  # messageIdentifier
        + 3 + 1 + (5 if version == 3 else 4)  # control: flags, vehicleType ext bit + index
        + 17 * 6  # VIN, 6 bits per character
        + 1 + (6 if version == 1 else 7) + flags_sent  # propulsion: ext bit, bitmap, values
        + 32 + 64 + 8  # timestamp, vehicleLocation, vehicleDirection
    )
    bits += 20 * ((msd.n1 is not None) + (msd.n2 is not None))
    if msd.number_of_occupants is not None:
        bits += 8
    if msd.additional_data is not None:
        bits += 8 * additional_data_size(msd.additional_data)
    if version == 1:
        return (8 + bits + 7) // 8  # id octet, then MSDMessage unwrapped
    inner = (bits + 7) // 8
    return 1 + _length_determinant_octets(inner) + inner
