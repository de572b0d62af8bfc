"""The EN 15722 minimum set of data as plain values, one model for versions 1, 2 and 3.

Field names are Python spellings of the ASN.1 names; ``protocols.msd.jsonform`` maps
them back to the standard's names. Positions stay in the wire unit (milliarcseconds)
so a decode/encode round trip is exact; ``degrees`` helpers are for display and routing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAS_PER_DEGREE: Final = 3_600_000
LOCATION_UNKNOWN: Final = 2_147_483_647
DIRECTION_UNKNOWN: Final = 255
OCCUPANTS_UNKNOWN: Final = 255

# UPER encodes the index of the enumerator, not the number in brackets (EN 15722 A.1).
VEHICLE_TYPES_V3: Final[tuple[str, ...]] = (
    "passengerVehicleCategoryM1", "busesAndCoachesCategoryM2", "busesAndCoachesCategoryM3",
    "lightCommercialVehiclesN1", "heavyDutyVehiclesCategoryN2", "heavyDutyVehiclesCategoryN3",
    "motorcyclesCategoryL1e", "motorcyclesCategoryL2e", "motorcyclesCategoryL3e",
    "motorcyclesCategoryL4e", "motorcyclesCategoryL5e", "motorcyclesCategoryL6e",
    "motorcyclesCategoryL7e", "trailersCategoryO", "agriVehiclesCategoryR",
    "agriVehiclesCategoryS", "agriVehiclesCategoryT", "offRoadVehiclesCategoryG",
    "specialPurposeMotorCaravanCategorySA", "specialPurposeArmouredVehicleCategorySB",
    "specialPurposeAmbulanceCategorySC", "specialPurposeHearseCategorySD",
    "otherVehicleCategory",
)


@dataclass(frozen=True, slots=True)
class Propulsion:
    """vehiclePropulsionStorageType; all False means 'unknown' per EN 15722 Table 1."""

    gasoline_tank_present: bool = False
    diesel_tank_present: bool = False
    compressed_natural_gas: bool = False
    liquid_propane_gas: bool = False
    electric_energy_storage: bool = False
    hydrogen_storage: bool = False
    other_storage: bool = False  # absent in v1


@dataclass(frozen=True, slots=True)
class VehicleLocation:
    """WGS84 position in milliarcseconds (valid: |lat| <= 324e6, |lon| <= 648e6)."""

    latitude: int
    longitude: int

    @property
    def latitude_deg(self) -> float:
        return self.latitude / MAS_PER_DEGREE

    @property
    def longitude_deg(self) -> float:
        return self.longitude / MAS_PER_DEGREE

    @classmethod
    def from_degrees(cls, lat: float, lon: float) -> VehicleLocation:
        return cls(round(lat * MAS_PER_DEGREE), round(lon * MAS_PER_DEGREE))


@dataclass(frozen=True, slots=True)
class LocationDelta:
    """A recent position as a delta in units of 100 mas (-512..511 each)."""

    latitude_delta: int = 0
    longitude_delta: int = 0


@dataclass(frozen=True, slots=True)
class AdditionalData:
    """optionalAdditionalData: a relative OID (as arcs) and opaque bytes (<= 94 bytes)."""

    oid: tuple[int, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class Msd:
    """One MSD. ``version`` selects the schema; v3 requires ``n1`` and ``n2``."""

    message_identifier: int
    automatic_activation: bool
    test_call: bool
    position_can_be_trusted: bool
    vehicle_type: str | None  # enumerator name; None = an extension value this side does not know
    vin: str
    propulsion: Propulsion
    timestamp: int
    location: VehicleLocation
    direction: int
    n1: LocationDelta | None = None
    n2: LocationDelta | None = None
    number_of_occupants: int | None = None
    additional_data: AdditionalData | None = None
    version: int = 3
