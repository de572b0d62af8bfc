"""EN 15722 eCall minimum set of data: model, UPER codec, rules and JSON form.

Other packages import from here; the submodules are the implementation.
"""

from protocols.msd.codec import decode_msd, encode_msd
from protocols.msd.jsonform import msd_from_json, msd_to_json
from protocols.msd.model import (
    DIRECTION_UNKNOWN,
    LOCATION_UNKNOWN,
    MAS_PER_DEGREE,
    OCCUPANTS_UNKNOWN,
    VEHICLE_TYPES_V3,
    AdditionalData,
    LocationDelta,
    Msd,
    Propulsion,
    VehicleLocation,
)
from protocols.msd.oid import format_oid, parse_oid
from protocols.msd.schema import MSD_MAX_BYTES, OAD_MAX_BYTES, VEHICLE_TYPES_V2, vehicle_types
from protocols.msd.validation import encoded_size, validate_msd

__all__ = [
    "DIRECTION_UNKNOWN",
    "LOCATION_UNKNOWN",
    "MAS_PER_DEGREE",
    "MSD_MAX_BYTES",
    "OAD_MAX_BYTES",
    "OCCUPANTS_UNKNOWN",
    "VEHICLE_TYPES_V2",
    "VEHICLE_TYPES_V3",
    "AdditionalData",
    "LocationDelta",
    "Msd",
    "Propulsion",
    "VehicleLocation",
    "decode_msd",
    "encode_msd",
    "encoded_size",
    "format_oid",
    "msd_from_json",
    "msd_to_json",
    "parse_oid",
    "validate_msd",
    "vehicle_types",
]
