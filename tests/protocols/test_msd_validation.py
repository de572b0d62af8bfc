"""MSD rules: each one broken once, with the standard's field name in the error."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from protocols.errors import MsdValidationError
from protocols.msd import (
    LOCATION_UNKNOWN,
    AdditionalData,
    LocationDelta,
    Msd,
    Propulsion,
    VehicleLocation,
    encode_msd,
    encoded_size,
    validate_msd,
)
from tests.protocols.annex_a3 import ANNEX_A3_VALUE

V3 = ANNEX_A3_VALUE
V2 = dataclasses.replace(V3, version=2, vehicle_type="passengerVehicleClassM1")
V1 = dataclasses.replace(V2, version=1)
OAD_94 = AdditionalData((1,), bytes(91))  # 1 + 1 + 1 + 91 octets encoded

# Each row breaks one field. Values of the wrong type are wrong on purpose (the validator
# must refuse what a caller without a type checker could pass), hence the ignores below.
BROKEN: list[tuple[str, Msd, dict[str, Any], str]] = [
    ("version", V3, {"version": 4}, "msdVersion"),
    ("identifier high", V3, {"message_identifier": 256}, "messageIdentifier"),
    ("identifier negative", V3, {"message_identifier": -1}, "messageIdentifier"),
    ("identifier bool", V3, {"message_identifier": True}, "messageIdentifier"),
    ("activation int", V3, {"automatic_activation": 1}, "control.automaticActivation"),
    ("test call none", V3, {"test_call": None}, "control.testCall"),
    ("trust str", V3, {"position_can_be_trusted": "yes"}, "control.positionCanBeTrusted"),
    ("v2 type in v3", V3, {"vehicle_type": "passengerVehicleClassM1"}, "control.vehicleType"),
    ("v3 type in v2", V2, {"vehicle_type": "trailersCategoryO"}, "control.vehicleType"),
    ("v3 type in v1", V1, {"vehicle_type": "passengerVehicleCategoryM1"},
     "control.vehicleType"),
    ("vin short", V3, {"vin": "ECALLEXAMPLE0202"}, "vehicleIdentificationNumber"),
    ("vin long", V3, {"vin": "ECALLEXAMPLE020200"}, "vehicleIdentificationNumber"),
    ("vin I", V3, {"vin": "ECALLEXAMPLEI2020"}, "vehicleIdentificationNumber"),
    ("vin O", V3, {"vin": "OCALLEXAMPLE02020"}, "vehicleIdentificationNumber"),
    ("vin Q", V3, {"vin": "ECALLEXAMPLE0202Q"}, "vehicleIdentificationNumber"),
    ("vin lower case", V3, {"vin": "eCALLEXAMPLE02020"}, "vehicleIdentificationNumber"),
    ("vin bytes", V3, {"vin": b"ECALLEXAMPLE02020"}, "vehicleIdentificationNumber"),
    ("propulsion flag int", V3, {"propulsion": Propulsion(diesel_tank_present=1)},  # type: ignore[arg-type]
     "vehiclePropulsionStorageType.dieselTankPresent"),
    ("propulsion type", V3, {"propulsion": None}, "vehiclePropulsionStorageType"),
    ("v1 other storage", V1, {"propulsion": Propulsion(other_storage=True)},
     "vehiclePropulsionStorageType.otherStorage"),
    ("timestamp negative", V3, {"timestamp": -1}, "timestamp"),
    ("timestamp 2**32", V3, {"timestamp": 2**32}, "timestamp"),
    ("latitude north", V3, {"location": VehicleLocation(324_000_001, 0)},
     "vehicleLocation.positionLatitude"),
    ("latitude south", V3, {"location": VehicleLocation(-324_000_001, 0)},
     "vehicleLocation.positionLatitude"),
    ("latitude float", V3, {"location": VehicleLocation(52.2, 0)},  # type: ignore[arg-type]
     "vehicleLocation.positionLatitude"),
    ("longitude east", V3, {"location": VehicleLocation(0, 648_000_001)},
     "vehicleLocation.positionLongitude"),
    ("longitude west", V3, {"location": VehicleLocation(0, -648_000_001)},
     "vehicleLocation.positionLongitude"),
    ("location type", V3, {"location": (0, 0)}, "vehicleLocation"),
    ("direction 180", V3, {"direction": 180}, "vehicleDirection"),
    ("direction 254", V3, {"direction": 254}, "vehicleDirection"),
    ("direction 256", V3, {"direction": 256}, "vehicleDirection"),
    ("direction negative", V3, {"direction": -1}, "vehicleDirection"),
    ("direction 200 in v2", V2, {"direction": 200}, "vehicleDirection"),
    ("v3 without n1", V3, {"n1": None}, "recentVehicleLocationN1"),
    ("v3 without n2", V3, {"n2": None}, "recentVehicleLocationN2"),
    ("n1 latitude high", V3, {"n1": LocationDelta(512, 0)},
     "recentVehicleLocationN1.latitudeDelta"),
    ("n2 longitude low", V3, {"n2": LocationDelta(0, -513)},
     "recentVehicleLocationN2.longitudeDelta"),
    ("n2 type", V2, {"n2": (0, 0)}, "recentVehicleLocationN2"),
    ("occupants high", V3, {"number_of_occupants": 256}, "numberOfOccupants"),
    ("passengers negative", V2, {"number_of_occupants": -1}, "numberOfPassengers"),
    ("oad empty oid", V3, {"additional_data": AdditionalData((), b"")},
     "optionalAdditionalData.oid"),
    ("oad negative arc", V3, {"additional_data": AdditionalData((1, -4), b"")},
     "optionalAdditionalData.oid"),
    ("oad oid list", V3, {"additional_data": AdditionalData([1, 4], b"")},  # type: ignore[arg-type]
     "optionalAdditionalData.oid"),
    ("oad data str", V3, {"additional_data": AdditionalData((1,), "00")},  # type: ignore[arg-type]
     "optionalAdditionalData.data"),
    ("oad 95 octets", V3, {"additional_data": AdditionalData((1,), bytes(92))},
     "optionalAdditionalData"),
    ("oad type", V3, {"additional_data": b"\x01"}, "optionalAdditionalData"),
]


@pytest.mark.parametrize(("base", "change", "field"),
                         [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_validate_msd_broken_rule_names_field(
    base: Msd, change: dict[str, Any], field: str,
) -> None:
    """Breaking one rule raises MsdValidationError naming the standard's field, on one line."""
    with pytest.raises(MsdValidationError) as caught:
        validate_msd(dataclasses.replace(base, **change))
    assert caught.value.field == field
    assert caught.value.rule
    assert str(caught.value).startswith(f"{field}: ")
    assert "\n" not in str(caught.value)


ENCODABLE = [case for case in BROKEN if case[1].version != 1]


@pytest.mark.parametrize(("base", "change", "field"),
                         [case[1:] for case in ENCODABLE], ids=[case[0] for case in ENCODABLE])
def test_encode_msd_broken_rule_is_refused(
    base: Msd, change: dict[str, Any], field: str,
) -> None:
    """encode_msd always validates first, so nothing rule-breaking reaches the wire."""
    with pytest.raises(MsdValidationError) as caught:
        encode_msd(dataclasses.replace(base, **change))
    assert caught.value.field == field


VALID: list[tuple[str, Msd]] = [
    ("annex a3", V3),
    ("v2", V2),
    ("v1", V1),
    ("direction unknown", dataclasses.replace(V3, direction=255)),
    ("direction 0", dataclasses.replace(V3, direction=0)),
    ("direction 179", dataclasses.replace(V3, direction=179)),
    ("location unknown",
     dataclasses.replace(V3, location=VehicleLocation(LOCATION_UNKNOWN, LOCATION_UNKNOWN))),
    ("location limits", dataclasses.replace(V3, location=VehicleLocation(-324_000_000,
                                                                          648_000_000))),
    ("delta limits", dataclasses.replace(V3, n1=LocationDelta(-512, 511),
                                         n2=LocationDelta(511, -512))),
    ("occupants absent", dataclasses.replace(V3, number_of_occupants=None)),
    ("occupants unknown", dataclasses.replace(V3, number_of_occupants=255)),
    ("vehicle type extension", dataclasses.replace(V3, vehicle_type=None)),
    ("last v3 vehicle type", dataclasses.replace(V3, vehicle_type="otherVehicleCategory")),
    ("v2 without options", dataclasses.replace(V2, n1=None, n2=None, number_of_occupants=None)),
    ("v2 other storage", dataclasses.replace(V2, propulsion=Propulsion(other_storage=True))),
    ("zeros", dataclasses.replace(V3, message_identifier=0, timestamp=0)),
    ("maxima", dataclasses.replace(V3, message_identifier=255, timestamp=2**32 - 1)),
    ("vin digits and A-G", dataclasses.replace(V3, vin="0123456789ABCDEFG")),
    ("vin H-Z", dataclasses.replace(V3, vin="HJKLMNPRSTUVWXYZ9")),
    ("oad of 94 octets", dataclasses.replace(V3, additional_data=OAD_94)),
]


@pytest.mark.parametrize("msd", [case[1] for case in VALID], ids=[case[0] for case in VALID])
def test_validate_msd_boundary_values_pass(msd: Msd) -> None:
    """Values on the edge of every rule, 'unknown' markers and absent options are valid."""
    validate_msd(msd)


def test_validate_msd_total_size_over_140_names_msd(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 140-octet limit is checked too, although a 94-octet OAD tops out at 134."""
    monkeypatch.setattr("protocols.msd.validation.OAD_MAX_BYTES", 200)
    msd = dataclasses.replace(V3, additional_data=AdditionalData((1,), bytes(110)))
    assert encoded_size(msd) > 140
    with pytest.raises(MsdValidationError) as caught:
        validate_msd(msd)
    assert caught.value.field == "msd"


def test_validate_msd_largest_valid_msd_fits_140() -> None:
    """The largest value the rules allow (every flag, occupants, a 94-octet OAD) fits."""
    largest = dataclasses.replace(V2, propulsion=Propulsion(*[True] * 7),
                                  additional_data=OAD_94)
    validate_msd(largest)
    assert encoded_size(largest) == len(encode_msd(largest)) == 134


def test_validate_msd_direction_message_reads_as_documented() -> None:
    """The direction error is the one line the CLI shows a desk operator."""
    with pytest.raises(MsdValidationError) as caught:
        validate_msd(dataclasses.replace(V3, direction=200))
    assert str(caught.value) == "vehicleDirection: 200 is not 0..179 or 255"
    assert caught.value.rule == "0..179 or 255"
