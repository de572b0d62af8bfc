"""JSON form of the MSD: the standard's names, exact round trips, and shape errors."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from protocols.errors import MsdEncodeError
from protocols.msd import (
    AdditionalData,
    Msd,
    Propulsion,
    decode_msd,
    encode_msd,
    msd_from_json,
    msd_to_json,
)

Vector = tuple[bytes, dict[str, Any]]
LoadVector = Callable[[str], Vector]

ALL_VECTORS = ["v1_era_glonass_oad", "v1_legato_wm9", "v2_canonical_oad",
               "v2_explicit_defaults", "v3_annex_a3", "v3_annex_a3_explicit_defaults"]


@pytest.fixture
def annex(vector: LoadVector) -> dict[str, Any]:
    """A fresh copy of the Annex A.3 JSON value, safe to mutate."""
    return copy.deepcopy(vector("v3_annex_a3")[1])


def test_msd_to_json_annex_a3_uses_the_standards_names(vector: LoadVector) -> None:
    """The A.3 example comes out with the ASN.1 names and nesting, VIN in its four parts."""
    data, value = vector("v3_annex_a3")
    assert msd_to_json(decode_msd(data)) == value
    structure = value["msdStructure"]
    assert list(value) == ["msdVersion", "msdStructure"]
    assert structure["vehicleIdentificationNumber"] == {
        "isowmi": "ECA", "isovds": "LLEXAM", "isovisModelyear": "P", "isovisSeqPlant": "LE02020"}
    assert structure["vehicleLocation"] == {"positionLatitude": 187996428,
                                           "positionLongitude": 18859320}
    assert structure["numberOfOccupants"] == 2


@pytest.mark.parametrize("name", ALL_VECTORS)
def test_msd_from_json_round_trips_every_vector(name: str, vector: LoadVector) -> None:
    """to_json(from_json(x)) == x, and the value survives real JSON text."""
    data, value = vector(name)
    msd = msd_from_json(json.loads(json.dumps(value)))
    assert msd_to_json(msd) == value
    assert msd == decode_msd(data)


def test_msd_to_json_v2_uses_number_of_passengers(vector: LoadVector) -> None:
    """v1/v2 keep the older component name, numberOfPassengers."""
    _, value = vector("v2_canonical_oad")
    assert value["msdStructure"]["numberOfPassengers"] == 1
    assert "numberOfOccupants" not in value["msdStructure"]


def test_msd_to_json_v1_has_six_propulsion_flags(vector: LoadVector) -> None:
    """otherStorage does not exist in v1, so it is not shown."""
    _, value = vector("v1_era_glonass_oad")
    assert "otherStorage" not in value["msdStructure"]["vehiclePropulsionStorageType"]
    assert len(value["msdStructure"]["vehiclePropulsionStorageType"]) == 6


def test_msd_to_json_oad_is_dotted_oid_and_hex(vector: LoadVector) -> None:
    """The OAD shows its relative OID dotted and its data as uppercase hex."""
    _, value = vector("v1_era_glonass_oad")
    assert value["optionalAdditionalData"]["oid"] == "1.4.1"
    msd = msd_from_json(value)
    assert msd.additional_data is not None
    assert value["optionalAdditionalData"]["data"] == msd.additional_data.data.hex().upper()


def test_msd_to_json_unknown_vehicle_type_is_null(annex: dict[str, Any]) -> None:
    """An extension vehicle type this side does not know is JSON null, both ways."""
    annex["msdStructure"]["control"]["vehicleType"] = None
    msd = msd_from_json(annex)
    assert msd.vehicle_type is None
    assert msd_to_json(msd) == annex


def test_msd_from_json_omitted_propulsion_flags_are_false(annex: dict[str, Any]) -> None:
    """DEFAULT FALSE components may be left out, as ASN.1 value notation allows."""
    annex["msdStructure"]["vehiclePropulsionStorageType"] = {"dieselTankPresent": True}
    assert msd_from_json(annex).propulsion == Propulsion(diesel_tank_present=True)


def test_msd_from_json_accepts_lowercase_oad_hex(annex: dict[str, Any]) -> None:
    """OAD data hex is read in either case."""
    annex["optionalAdditionalData"] = {"oid": "8.1", "data": "0a0B"}
    assert msd_from_json(annex).additional_data == AdditionalData((8, 1), b"\x0a\x0b")


def _drop(obj: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        obj = obj[key]
    del obj[last]


def _set(obj: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    for key in parents:
        obj = obj[key]
    obj[last] = value


@pytest.mark.parametrize(("path", "field"), [
    ("msdVersion", "msdVersion"),
    ("msdStructure", "msdStructure"),
    ("msdStructure.messageIdentifier", "messageIdentifier"),
    ("msdStructure.control", "control"),
    ("msdStructure.control.testCall", "control.testCall"),
    ("msdStructure.control.vehicleType", "control.vehicleType"),
    ("msdStructure.vehicleIdentificationNumber.isovds", "vehicleIdentificationNumber.isovds"),
    ("msdStructure.vehiclePropulsionStorageType", "vehiclePropulsionStorageType"),
    ("msdStructure.timestamp", "timestamp"),
    ("msdStructure.vehicleLocation.positionLongitude", "vehicleLocation.positionLongitude"),
    ("msdStructure.vehicleDirection", "vehicleDirection"),
    ("msdStructure.recentVehicleLocationN1.latitudeDelta",
     "recentVehicleLocationN1.latitudeDelta"),
])
def test_msd_from_json_missing_key_names_field(
    annex: dict[str, Any], path: str, field: str,
) -> None:
    """A missing mandatory component raises MsdEncodeError naming it."""
    _drop(annex, path)
    with pytest.raises(MsdEncodeError) as caught:
        msd_from_json(annex)
    assert (caught.value.field, caught.value.rule) == (field, "missing key")


@pytest.mark.parametrize(("path", "value", "field"), [
    ("msdVersion", "3", "msdVersion"),
    ("msdStructure", [], "msdStructure"),
    ("msdStructure.messageIdentifier", True, "messageIdentifier"),
    ("msdStructure.messageIdentifier", 1.0, "messageIdentifier"),
    ("msdStructure.control.automaticActivation", 1, "control.automaticActivation"),
    ("msdStructure.control.vehicleType", 1, "control.vehicleType"),
    ("msdStructure.vehicleIdentificationNumber.isowmi", 123, "vehicleIdentificationNumber.isowmi"),
    ("msdStructure.vehiclePropulsionStorageType.hydrogenStorage", "false",
     "vehiclePropulsionStorageType.hydrogenStorage"),
    ("msdStructure.vehicleLocation", [1, 2], "vehicleLocation"),
    ("msdStructure.vehicleDirection", "45", "vehicleDirection"),
    ("msdStructure.vehicleDirection", None, "vehicleDirection"),
    ("msdStructure.recentVehicleLocationN2", 30, "recentVehicleLocationN2"),
    ("msdStructure.numberOfOccupants", "2", "numberOfOccupants"),
    ("optionalAdditionalData", "01", "optionalAdditionalData"),
])
def test_msd_from_json_wrong_type_names_field(
    annex: dict[str, Any], path: str, value: object, field: str,
) -> None:
    """A component of the wrong JSON type raises MsdEncodeError naming it, on one line."""
    _set(annex, path, value)
    with pytest.raises(MsdEncodeError) as caught:
        msd_from_json(annex)
    assert (caught.value.field, caught.value.rule) == (field, "wrong type")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("path", "field"), [
    ("msdStructure.numberOfPassengers", "numberOfPassengers"),
    ("msdStructure.control.colour", "control.colour"),
    ("msdStructure.vehicleLocation.altitude", "vehicleLocation.altitude"),
    ("extra", "extra"),
])
def test_msd_from_json_unknown_key_names_field(
    annex: dict[str, Any], path: str, field: str,
) -> None:
    """A key the version does not have is refused rather than silently dropped."""
    _set(annex, path, 1)
    with pytest.raises(MsdEncodeError) as caught:
        msd_from_json(annex)
    assert (caught.value.field, caught.value.rule) == (field, "unknown key")


@pytest.mark.parametrize(("oad", "field"), [
    ({"oid": "1.x.2", "data": "00"}, "optionalAdditionalData.oid"),
    ({"oid": "1..2", "data": "00"}, "optionalAdditionalData.oid"),
    ({"oid": "", "data": "00"}, "optionalAdditionalData.oid"),
    ({"oid": "1.4.2", "data": "0G"}, "optionalAdditionalData.data"),
    ({"oid": "1.4.2", "data": "000"}, "optionalAdditionalData.data"),
    ({"oid": "1.4.2"}, "optionalAdditionalData.data"),
])
def test_msd_from_json_bad_oad_names_field(
    annex: dict[str, Any], oad: dict[str, Any], field: str,
) -> None:
    """A malformed OID or hex in the OAD names the OAD component."""
    annex["optionalAdditionalData"] = oad
    with pytest.raises(MsdEncodeError) as caught:
        msd_from_json(annex)
    assert caught.value.field == field


def test_msd_from_json_vin_part_of_wrong_size(annex: dict[str, Any]) -> None:
    """VIN parts must have their ISO 3779 sizes, so the split cannot shift characters."""
    vin = annex["msdStructure"]["vehicleIdentificationNumber"]
    vin["isowmi"], vin["isovds"] = "ECAL", "LEXAM"
    with pytest.raises(MsdEncodeError) as caught:
        msd_from_json(annex)
    assert caught.value.field == "vehicleIdentificationNumber.isowmi"


@pytest.mark.parametrize("version", [0, 4])
def test_msd_from_json_unsupported_version(annex: dict[str, Any], version: int) -> None:
    """Only versions 1, 2 and 3 have a JSON form."""
    annex["msdVersion"] = version
    with pytest.raises(MsdEncodeError) as caught:
        msd_from_json(annex)
    assert caught.value.field == "msdVersion"


def test_msd_from_json_not_an_object() -> None:
    """A JSON array or string at the top is refused with a typed error."""
    with pytest.raises(MsdEncodeError):
        msd_from_json([])  # type: ignore[arg-type]  # not an object, on purpose


def test_msd_from_json_v2_without_options(vector: LoadVector) -> None:
    """v2's optional N1, N2 and passengers may be absent or null."""
    _, value = vector("v2_explicit_defaults")
    value = copy.deepcopy(value)
    del value["msdStructure"]["recentVehicleLocationN1"]
    value["msdStructure"]["recentVehicleLocationN2"] = None
    msd: Msd = msd_from_json(value)
    assert (msd.n1, msd.n2, msd.number_of_occupants) == (None, None, None)
    assert decode_msd(encode_msd(msd)) == msd
