"""The specialised v3 decoder reads exactly what asn1tools reads, or leaves it to asn1tools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asn1tools
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.msd.codec import _from_asn1, _unwrap, decode_msd
from protocols.msd.model import VEHICLE_TYPES_V3
from protocols.msd.schema import (
    PROPULSION_FIELDS,
    VIN_ALPHABET,
    VIN_PARTS,
    message_type,
    module_text,
)
from protocols.msd.uper_v3 import decode_v3_message

_EXPLICIT = asn1tools.compile_string(module_text(3, explicit_defaults=True), "uper")


def _int(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


def _delta() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({"latitudeDelta": _int(-512, 511),
                                  "longitudeDelta": _int(-512, 511)})


@st.composite
def msd_values(draw: st.DrawFn) -> dict[str, Any]:
    """Any MSDMessage value of the common shape, every field over its whole range."""
    vin = draw(st.text(VIN_ALPHABET, min_size=17, max_size=17))
    structure: dict[str, Any] = {
        "messageIdentifier": draw(_int(0, 255)),
        "control": {"automaticActivation": draw(st.booleans()),
                    "testCall": draw(st.booleans()),
                    "positionCanBeTrusted": draw(st.booleans()),
                    "vehicleType": draw(st.sampled_from(VEHICLE_TYPES_V3))},
        "vehicleIdentificationNumber": {part: vin[a:b] for part, a, b in VIN_PARTS},
        "vehiclePropulsionStorageType": {name: draw(st.booleans())
                                         for name, _attr in PROPULSION_FIELDS},
        "timestamp": draw(_int(0, 2**32 - 1)),
        "vehicleLocation": {"positionLatitude": draw(_int(-(2**31), 2**31 - 1)),
                            "positionLongitude": draw(_int(-(2**31), 2**31 - 1))},
        "vehicleDirection": draw(st.one_of(_int(0, 179), st.just(255))),
        "recentVehicleLocationN1": draw(_delta()),
        "recentVehicleLocationN2": draw(_delta()),
    }
    if draw(st.booleans()):
        structure["numberOfOccupants"] = draw(_int(0, 255))
    return {"msdStructure": structure}


@settings(max_examples=400, deadline=None)
@given(value=msd_values(), explicit=st.booleans(), padding=st.binary(max_size=3))
def test_uper_v3_reads_random_msds_as_asn1tools_does(value: dict[str, Any], explicit: bool,
                                                     padding: bytes) -> None:
    """Canonical and explicit-default flags, with or without occupants, padded or not."""
    codec = _EXPLICIT.types["MSDMessage"] if explicit else message_type(3)
    encoded = codec.encode(value) + padding
    theirs = message_type(3).decode(encoded)
    assert decode_v3_message(encoded) == theirs


@settings(max_examples=300, deadline=None)
@given(value=msd_values(), cut=st.integers(1, 40))
def test_uper_v3_leaves_truncated_input_to_asn1tools(value: dict[str, Any], cut: int) -> None:
    encoded = message_type(3).encode(value)
    assert decode_v3_message(encoded[:max(0, len(encoded) - cut)]) is None


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(min_size=1, max_size=64))
def test_uper_v3_agrees_with_asn1tools_on_any_bytes_it_accepts(payload: bytes) -> None:
    fast = decode_v3_message(payload)
    if fast is not None:
        assert fast == message_type(3).decode(payload)


def test_uper_v3_leaves_additional_data_and_extensions_to_asn1tools() -> None:
    value = {"msdStructure": {
        "messageIdentifier": 1,
        "control": {"automaticActivation": True, "testCall": False,
                    "positionCanBeTrusted": True, "vehicleType": VEHICLE_TYPES_V3[0]},
        "vehicleIdentificationNumber": {"isowmi": "WMW", "isovds": "123456",
                                        "isovisModelyear": "A", "isovisSeqPlant": "1234567"},
        "vehiclePropulsionStorageType": {name: False for name, _ in PROPULSION_FIELDS},
        "timestamp": 1, "vehicleLocation": {"positionLatitude": 1, "positionLongitude": 2},
        "vehicleDirection": 3,
        "recentVehicleLocationN1": {"latitudeDelta": 0, "longitudeDelta": 0},
        "recentVehicleLocationN2": {"latitudeDelta": 0, "longitudeDelta": 0}},
        "optionalAdditionalData": {"oid": b"\x01", "data": b"\x00"}}
    encoded = message_type(3).encode(value)
    assert decode_v3_message(encoded) is None
    extended = bytes((encoded[0] | 0x80,)) + encoded[1:]
    assert decode_v3_message(extended) is None


@pytest.mark.parametrize("name", ["v3_annex_a3", "v3_annex_a3_explicit_defaults"])
def test_decode_msd_of_the_annex_vectors_is_what_asn1tools_reads(
        vector: Callable[[str], tuple[bytes, dict[str, Any]]], name: str) -> None:
    data, _value = vector(name)
    inner = _unwrap(data)
    assert decode_v3_message(inner) is not None  # the fast path is taken
    assert decode_msd(data) == _from_asn1(message_type(3).decode(inner), 3)
