"""An MSD as the value the ASN.1 module describes: the standard's names and nesting.

The asn1tools encoder and the JSON form both start from this one mapping, so a field
renamed in one place is renamed everywhere.
"""

from __future__ import annotations

from typing import Any

from protocols.msd.model import Msd
from protocols.msd.schema import VIN_PARTS, occupants_field, propulsion_fields


def msd_structure(msd: Msd) -> dict[str, Any]:
    """``MSDStructure`` of ``msd`` with the field names of its version's module."""
    structure: dict[str, Any] = {
        "messageIdentifier": msd.message_identifier,
        "control": {
            "automaticActivation": msd.automatic_activation,
            "testCall": msd.test_call,
            "positionCanBeTrusted": msd.position_can_be_trusted,
            "vehicleType": msd.vehicle_type,
        },
        "vehicleIdentificationNumber": {
            name: msd.vin[start:end] for name, start, end in VIN_PARTS
        },
        "vehiclePropulsionStorageType": {
            name: getattr(msd.propulsion, attr) for name, attr in propulsion_fields(msd.version)
        },
        "timestamp": msd.timestamp,
        "vehicleLocation": {
            "positionLatitude": msd.location.latitude,
            "positionLongitude": msd.location.longitude,
        },
        "vehicleDirection": msd.direction,
    }
    for name, delta in (("recentVehicleLocationN1", msd.n1), ("recentVehicleLocationN2", msd.n2)):
        if delta is not None:
            structure[name] = {"latitudeDelta": delta.latitude_delta,
                               "longitudeDelta": delta.longitude_delta}
    if msd.number_of_occupants is not None:
        structure[occupants_field(msd.version)] = msd.number_of_occupants
    return structure
