"""MSD codec: the standard's example, vector files both ways, framing and typed errors."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asn1tools
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import protocols.msd
from protocols.errors import CodecError, MsdDecodeError, MsdEncodeError, MsdValidationError
from protocols.msd import (
    AdditionalData,
    Msd,
    decode_msd,
    encode_msd,
    encoded_size,
    msd_from_json,
)
from protocols.msd.oid import decode_relative_oid, encode_relative_oid
from protocols.msd.schema import compiled, module_text
from tests.protocols.annex_a3 import ANNEX_A3, ANNEX_A3_VALUE

Vector = tuple[bytes, dict[str, Any]]
LoadVector = Callable[[str], Vector]

ALL_VECTORS = ["v1_era_glonass_oad", "v1_legato_wm9", "v2_canonical_oad",
               "v2_explicit_defaults", "v3_annex_a3", "v3_annex_a3_explicit_defaults"]
CANONICAL_VECTORS = ["v2_canonical_oad", "v3_annex_a3"]
EXPLICIT_VECTORS = ["v1_era_glonass_oad", "v1_legato_wm9", "v2_explicit_defaults",
                    "v3_annex_a3_explicit_defaults"]
ASN1_DIR = Path(__file__).parents[2] / "protocols" / "msd" / "asn1"


def _variant(version: int, pattern: str, replacement: str) -> Any:
    """A v-module with one textual change, standing in for a future edition's encoder."""
    text, count = re.subn(pattern, replacement, module_text(version))
    assert count == 1
    return asn1tools.compile_string(text, "uper")


def _frame(version: int, inner: bytes) -> bytes:
    return bytes((version, len(inner))) + inner


def test_decode_msd_annex_a3_gives_published_values() -> None:
    """The standard's own example decodes to the values EN 15722:2020 A.3 publishes."""
    assert decode_msd(ANNEX_A3) == ANNEX_A3_VALUE


def test_encode_msd_annex_a3_is_byte_exact() -> None:
    """Encoding the published values reproduces the 38 example bytes exactly."""
    assert encode_msd(ANNEX_A3_VALUE) == ANNEX_A3


@pytest.mark.parametrize("name", ALL_VECTORS)
def test_decode_msd_vector_matches_its_json(name: str, vector: LoadVector) -> None:
    """Each vector file decodes to the value written in its JSON twin."""
    data, value = vector(name)
    assert decode_msd(data) == msd_from_json(value)


@pytest.mark.parametrize("name", CANONICAL_VECTORS)
def test_encode_msd_canonical_vector_is_byte_exact(name: str, vector: LoadVector) -> None:
    """Canonical vectors are reproduced byte for byte from their JSON value."""
    data, value = vector(name)
    assert encode_msd(msd_from_json(value)) == data


@pytest.mark.parametrize("name", EXPLICIT_VECTORS)
def test_decode_msd_explicit_defaults_vector_is_explicit(
    name: str, vector: LoadVector, explicit_encoder: Callable[[Msd], bytes],
) -> None:
    """The explicit vectors really send FALSE flags: the explicit encoder reproduces them."""
    data, _ = vector(name)
    msd = decode_msd(data)
    assert explicit_encoder(msd) == data
    assert len(explicit_encoder(msd)) > encoded_size(msd)


@pytest.mark.parametrize(("explicit", "canonical"), [
    ("v3_annex_a3_explicit_defaults", "v3_annex_a3"),
])
def test_decode_msd_explicit_defaults_equal_canonical(
    explicit: str, canonical: str, vector: LoadVector,
) -> None:
    """All-flags-sent and defaults-omitted encodings of one MSD decode to the same value."""
    explicit_data, _ = vector(explicit)
    canonical_data, _ = vector(canonical)
    assert explicit_data != canonical_data
    assert decode_msd(explicit_data) == decode_msd(canonical_data)


@pytest.mark.parametrize("name", ["v2_explicit_defaults", "v3_annex_a3_explicit_defaults"])
def test_encode_msd_explicit_input_re_encodes_canonically(name: str, vector: LoadVector) -> None:
    """Re-encoding an explicit-default MSD gives the shorter canonical form, same value."""
    data, _ = vector(name)
    canonical = encode_msd(decode_msd(data))
    assert len(canonical) < len(data)
    assert decode_msd(canonical) == decode_msd(data)


def test_decode_msd_v1_era_glonass_oad_carries_era_data(vector: LoadVector) -> None:
    """The v1 vector's OAD is relative OID 1.4.1 with a decodable ERAAdditionalData."""
    data, _ = vector("v1_era_glonass_oad")
    oad = decode_msd(data).additional_data
    assert oad is not None
    assert oad.oid == (1, 4, 1)
    era = asn1tools.compile_files(str(ASN1_DIR / "ERAOADASN1Module_msdv1__from_legato.asn"),
                                  "uper")
    assert era.decode("ERAAdditionalData", oad.data) == {
        "crashSeverity": 99,
        "diagnosticResult": {"micConnectionFailure": False, "gnssAntennaFailure": True},
        "crashInfo": {"crashFront": True, "crashFrontOrSide": True},
    }


@pytest.mark.parametrize("name", ALL_VECTORS)
def test_decode_msd_ignores_octets_after_the_message(name: str, vector: LoadVector) -> None:
    """Padding after the ASN.1 message is ignored, up to the 140-octet in-band frame."""
    data, _ = vector(name)
    assert decode_msd(data + bytes(140 - len(data))) == decode_msd(data)
    assert decode_msd(data + b"\xff") == decode_msd(data)


def test_decode_msd_over_140_octets_is_refused_when_strict() -> None:
    """More than 140 octets breaks EN 15722 §5.1.4 unless the caller is lenient."""
    oversized = ANNEX_A3 + bytes(141 - len(ANNEX_A3))
    with pytest.raises(MsdValidationError) as caught:
        decode_msd(oversized)
    assert caught.value.field == "msd"
    assert decode_msd(oversized, strict=False) == ANNEX_A3_VALUE


@pytest.mark.parametrize("name", ALL_VECTORS)
def test_decode_msd_truncated_input_raises_decode_error(name: str, vector: LoadVector) -> None:
    """Every proper prefix of a message raises MsdDecodeError, never another exception."""
    data, _ = vector(name)
    for cut in range(len(data)):
        with pytest.raises(MsdDecodeError) as caught:
            decode_msd(data[:cut])
        assert caught.value.rule == "truncated"


def test_decode_msd_truncation_names_the_field(vector: LoadVector) -> None:
    """A message that ends inside a field names that field, as validation would."""
    with pytest.raises(MsdDecodeError) as v3:
        decode_msd(_frame(3, ANNEX_A3[2:12]))
    assert v3.value.field == "vehicleIdentificationNumber.isovisModelyear"
    v1_data, _ = vector("v1_era_glonass_oad")
    with pytest.raises(MsdDecodeError) as v1:
        decode_msd(v1_data[:10])
    assert v1.value.field == "vehicleIdentificationNumber.isovds"
    with pytest.raises(MsdDecodeError) as outer:
        decode_msd(ANNEX_A3[:20])
    assert outer.value.field == "msd"


@pytest.mark.parametrize("first", [0, 4, 255])
def test_decode_msd_unsupported_version_names_msd_version(first: int) -> None:
    """Byte 0 outside 1..3 is refused before any decoding."""
    with pytest.raises(MsdDecodeError) as caught:
        decode_msd(bytes((first,)) + ANNEX_A3[1:])
    assert caught.value.field == "msdVersion"


def test_decode_msd_empty_input_names_msd_version() -> None:
    """No octets at all is a truncation at the version."""
    with pytest.raises(MsdDecodeError) as caught:
        decode_msd(b"")
    assert (caught.value.field, caught.value.rule) == ("msdVersion", "truncated")


def test_decode_msd_out_of_alphabet_vin_names_the_part() -> None:
    """A 6-bit VIN index beyond the 33-character alphabet is a decode error on that part."""
    bits = "".join(f"{octet:08b}" for octet in ANNEX_A3[2:])
    bad = bits[:21] + "111111" + bits[27:]  # isowmi's first character is bits 21..26
    inner = int(bad, 2).to_bytes(len(ANNEX_A3) - 2, "big")
    with pytest.raises(MsdDecodeError) as caught:
        decode_msd(_frame(3, inner))
    assert caught.value.field == "vehicleIdentificationNumber.isowmi"
    assert "\n" not in str(caught.value)


def test_decode_msd_vehicle_type_index_outside_root_names_it() -> None:
    """A 5-bit root index past the 23 v3 enumerators is a decode error, not a guess."""
    bits = "".join(f"{octet:08b}" for octet in ANNEX_A3[2:])
    bad = bits[:16] + f"{23:05b}" + bits[21:]  # vehicleType: ext bit 15, index bits 16..20
    inner = int(bad, 2).to_bytes(len(ANNEX_A3) - 2, "big")
    with pytest.raises(MsdDecodeError) as caught:
        decode_msd(_frame(3, inner))
    assert caught.value.field == "control.vehicleType"
    assert str(caught.value) == "control.vehicleType: index 23 is outside the permitted values"


def test_decode_msd_unknown_vehicle_type_extension_is_none() -> None:
    """A vehicleType added by a later edition decodes to None and cannot be re-encoded."""
    future = _variant(3, r"otherVehicleCategory\s*\(23\),\s*\.\.\.",
                      "otherVehicleCategory (23), ..., futureVehicleCategory (24)")
    value = future.decode("MSDMessage", ANNEX_A3[2:])
    value["msdStructure"]["control"]["vehicleType"] = "futureVehicleCategory"
    msd = decode_msd(_frame(3, future.encode("MSDMessage", value)))
    assert msd == dataclasses.replace(ANNEX_A3_VALUE, vehicle_type=None)
    with pytest.raises(MsdEncodeError) as caught:
        encode_msd(msd)
    assert caught.value.field == "control.vehicleType"


def test_decode_msd_skips_unknown_structure_extension() -> None:
    """A component added after MSDStructure's '...' is skipped, the rest decodes."""
    future = _variant(3, r"(numberOfOccupants\s+INTEGER\(0 \.\. 255\) OPTIONAL,\s*\.\.\.)",
                      r"\1, futureField INTEGER(0..255)")
    value = future.decode("MSDMessage", ANNEX_A3[2:])
    value["msdStructure"]["futureField"] = 7
    assert decode_msd(_frame(3, future.encode("MSDMessage", value))) == ANNEX_A3_VALUE


@pytest.mark.parametrize("oid", [b"\x81", b"\x80\x01", b"\x01\x82"])
def test_decode_msd_bad_relative_oid_names_oad_oid(oid: bytes) -> None:
    """Cut-off or padded base-128 arcs in the OAD's oid are a decode error on that field."""
    value = compiled(3).decode("MSDMessage", ANNEX_A3[2:])
    value["optionalAdditionalData"] = {"oid": oid, "data": b"\x00"}
    with pytest.raises(MsdDecodeError) as caught:
        decode_msd(_frame(3, compiled(3).encode("MSDMessage", value)))
    assert caught.value.field == "optionalAdditionalData.oid"


def test_decode_msd_lenient_returns_rule_breaking_values() -> None:
    """strict=False hands over what the ASN.1 allows even when EN 15722's text forbids it."""
    value = compiled(3).decode("MSDMessage", ANNEX_A3[2:])
    value["msdStructure"]["vehicleDirection"] = 200
    data = _frame(3, compiled(3).encode("MSDMessage", value))
    with pytest.raises(MsdValidationError) as caught:
        decode_msd(data)
    assert caught.value.field == "vehicleDirection"
    assert decode_msd(data, strict=False).direction == 200


def test_encode_msd_v1_is_refused() -> None:
    """v1 is decode-only; encoding it says why, citing the standard."""
    v1 = dataclasses.replace(ANNEX_A3_VALUE, version=1, vehicle_type="passengerVehicleClassM1")
    with pytest.raises(MsdEncodeError) as caught:
        encode_msd(v1)
    assert caught.value.rule == "v1 is decode-only (EN 15722:2020 §5.3.3.2)"


def test_encode_msd_direction_unknown_is_accepted() -> None:
    """255 ('unknown') encodes in v3 although asn1tools' own check would refuse it."""
    msd = dataclasses.replace(ANNEX_A3_VALUE, direction=255)
    assert decode_msd(encode_msd(msd)).direction == 255


def test_encode_msd_large_oad_uses_two_octet_length() -> None:
    """An inner message of 128+ octets gets the two-octet length determinant, both ways."""
    oad = AdditionalData((1, 4, 2), bytes(range(89)))  # 94 octets encoded
    msd = dataclasses.replace(ANNEX_A3_VALUE, additional_data=oad)
    data = encode_msd(msd)
    assert data[1] & 0xC0 == 0x80
    assert len(data) == encoded_size(msd)
    assert decode_msd(data) == msd
    inner = compiled(3).decode("ECallMessage", data)["msd"]
    assert compiled(3).decode("MSDMessage", inner)["optionalAdditionalData"]["data"] == oad.data


@pytest.mark.parametrize("arcs", [(0,), (1, 4, 2), (127, 128), (16383, 16384), (2**32, 8, 1)])
def test_relative_oid_round_trip(arcs: tuple[int, ...]) -> None:
    """Arcs survive base-128 packing, including the 7-bit group boundaries."""
    assert decode_relative_oid(encode_relative_oid(arcs)) == arcs


def test_relative_oid_known_encoding() -> None:
    """ERA-GLONASS 1.4.2 is the three octets 01 04 02; 128 takes two octets."""
    assert encode_relative_oid((1, 4, 2)) == b"\x01\x04\x02"
    assert encode_relative_oid((128,)) == b"\x81\x00"


def test_msd_package_exports_exactly_its_all() -> None:
    """The package's public names are exactly ``__all__``, so the surface is deliberate."""
    public = {name for name, value in vars(protocols.msd).items()
              if not name.startswith("_") and not inspect.ismodule(value)}
    assert set(protocols.msd.__all__) == public
    assert len(protocols.msd.__all__) == len(public)


@settings(max_examples=300, deadline=None)
@given(version=st.sampled_from([1, 2, 3]), body=st.binary(max_size=150),
       flips=st.lists(st.integers(0, 8 * len(ANNEX_A3) - 1), max_size=3),
       strict=st.booleans())
def test_decode_msd_garbage_raises_only_codec_errors(
    version: int, body: bytes, flips: list[int], strict: bool,
) -> None:
    """Random bodies and bit-flipped A.3 bytes either decode or raise a CodecError."""
    flipped = bytearray(ANNEX_A3)
    for bit in flips:
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
    for data in (bytes((version,)) + body, bytes(flipped)):
        with contextlib.suppress(CodecError):
            decode_msd(data, strict=strict)
