"""pycrate as an independent oracle: it compiles the standard's module text unchanged.

Our codec runs asn1tools on a modified module (RELATIVE-OID read as OCTET STRING) with
hand framing of the outer ECallMessage, so agreement with pycrate on random valid
MSDs checks the modification, the framing, the arc packing and the size arithmetic.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrate_asn1c.asnproc import GLOBAL, PycrateGenerator, compile_text, generate_modules
from pycrate_asn1rt.codecs import ASN1CodecPER

from protocols.msd import (
    LOCATION_UNKNOWN,
    AdditionalData,
    LocationDelta,
    Msd,
    Propulsion,
    VehicleLocation,
    decode_msd,
    encode_msd,
    encoded_size,
    msd_to_json,
    vehicle_types,
)
from protocols.msd.oid import encode_relative_oid, format_oid
from protocols.msd.schema import VIN_ALPHABET

Vector = tuple[bytes, dict[str, Any]]
ASN1_DIR = Path(__file__).parents[2] / "protocols" / "msd" / "asn1"
MODULE_FILES = {
    1: "MSDASN1Module_v1_EN15722-2011__reconstructed.asn",
    2: "MSDASN1Module_v2_EN15722-2015__reconstructed.asn",
    3: "MSDASN1Module_v3_EN15722-2020.asn",
}
ALL_VECTORS = ["v1_era_glonass_oad", "v1_legato_wm9", "v2_canonical_oad",
               "v2_explicit_defaults", "v3_annex_a3", "v3_annex_a3_explicit_defaults"]
ORACLE = settings(max_examples=200, deadline=None)


@pytest.fixture(scope="module")
def pycrate(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Any]:
    """The three modules compiled by pycrate into generated Python, once per module run."""
    out = tmp_path_factory.mktemp("pycrate_msd")
    modules: dict[int, Any] = {}
    for version, file_name in MODULE_FILES.items():
        target = out / f"msd_v{version}.py"
        GLOBAL.clear()
        with contextlib.redirect_stdout(io.StringIO()):
            compile_text((ASN1_DIR / file_name).read_text("utf-8"))
            generate_modules(PycrateGenerator, str(target))
        GLOBAL.clear()
        spec = importlib.util.spec_from_file_location(f"pycrate_msd_v{version}", target)
        assert spec is not None and spec.loader is not None
        generated = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(generated)
        modules[version] = generated.MSDASN1Module
    return modules


@contextlib.contextmanager
def _explicit_defaults() -> Iterator[None]:
    """pycrate's switch for sending DEFAULT components whose value equals the default."""
    ASN1CodecPER.CANONICAL = False
    try:
        yield
    finally:
        ASN1CodecPER.CANONICAL = True


def _pycrate_value(msd: Msd) -> dict[str, Any]:
    """The MSDMessage value in pycrate's notation (built from scratch: pycrate mutates it)."""
    value: dict[str, Any] = {"msdStructure": msd_to_json(msd)["msdStructure"]}
    if msd.additional_data is not None:
        value["optionalAdditionalData"] = {"oid": msd.additional_data.oid,
                                           "data": msd.additional_data.data}
    return value


def _pycrate_encode(module: Any, msd: Msd) -> bytes:
    message = module.ECallMessage
    if msd.version == 1:
        message.set_val({"id": 1, "msd": _pycrate_value(msd)})
    else:
        message.set_val({"msdVersion": msd.version, "msd": ("MSDMessage", _pycrate_value(msd))})
    data: bytes = message.to_uper()
    return data


@st.composite
def _additional_data(draw: st.DrawFn) -> AdditionalData:
    arcs = tuple(draw(st.lists(st.integers(0, 2**35), min_size=1, max_size=4)))
    room = 94 - 2 - len(encode_relative_oid(arcs))
    return AdditionalData(arcs, draw(st.binary(max_size=room)))


def msds(version: int) -> st.SearchStrategy[Msd]:
    """Random MSDs that every rule of EN 15722 allows for ``version``."""
    delta = st.builds(LocationDelta, st.integers(-512, 511), st.integers(-512, 511))
    flag = st.booleans()
    return st.builds(
        Msd,
        message_identifier=st.integers(0, 255),
        automatic_activation=flag,
        test_call=flag,
        position_can_be_trusted=flag,
        vehicle_type=st.sampled_from(vehicle_types(version)),
        vin=st.text(VIN_ALPHABET, min_size=17, max_size=17),
        propulsion=st.builds(Propulsion, flag, flag, flag, flag, flag, flag,
                             flag if version > 1 else st.just(False)),
        timestamp=st.integers(0, 2**32 - 1),
        location=st.builds(
            VehicleLocation,
            st.integers(-324_000_000, 324_000_000) | st.just(LOCATION_UNKNOWN),
            st.integers(-648_000_000, 648_000_000) | st.just(LOCATION_UNKNOWN),
        ),
        direction=st.integers(0, 179) | st.just(255),
        n1=delta if version == 3 else st.none() | delta,
        n2=delta if version == 3 else st.none() | delta,
        number_of_occupants=st.none() | st.integers(0, 255),
        additional_data=st.none() | _additional_data(),
        version=st.just(version),
    )


ENCODABLE = st.one_of(msds(2), msds(3))


@ORACLE
@given(msd=ENCODABLE)
def test_encode_msd_matches_pycrate(pycrate: dict[int, Any], msd: Msd) -> None:
    """Our canonical bytes are exactly pycrate's for random valid v2 and v3 MSDs."""
    assert encode_msd(msd) == _pycrate_encode(pycrate[msd.version], msd)


@ORACLE
@given(msd=ENCODABLE)
def test_decode_msd_reads_pycrate_encoding(pycrate: dict[int, Any], msd: Msd) -> None:
    """What pycrate encodes, we decode to the original value; the size sum agrees."""
    data = _pycrate_encode(pycrate[msd.version], msd)
    assert decode_msd(data) == msd
    assert encoded_size(msd) == len(data)


@ORACLE
@given(msd=st.one_of(msds(1), msds(2), msds(3)))
def test_decode_msd_reads_pycrate_explicit_defaults(pycrate: dict[int, Any], msd: Msd) -> None:
    """pycrate with every DEFAULT flag sent decodes to the same value as canonical bytes."""
    with _explicit_defaults():
        explicit = _pycrate_encode(pycrate[msd.version], msd)
    canonical = _pycrate_encode(pycrate[msd.version], msd)
    flags = msd_to_json(msd)["msdStructure"]["vehiclePropulsionStorageType"].values()
    assert (explicit != canonical) == (False in flags)
    assert decode_msd(explicit) == decode_msd(canonical) == msd


@ORACLE
@given(msd=ENCODABLE)
def test_decode_msd_round_trips_encode_msd(msd: Msd) -> None:
    """decode(encode(x)) == x for every valid v2 and v3 value."""
    assert decode_msd(encode_msd(msd)) == msd


@pytest.mark.parametrize("name", ALL_VECTORS)
def test_decode_msd_agrees_with_pycrate_on_vectors(
    name: str, pycrate: dict[int, Any], vector: Callable[[str], Vector],
) -> None:
    """pycrate, on the unmodified module, reads each vector file as we do."""
    data, _ = vector(name)
    ours = msd_to_json(decode_msd(data))
    message = pycrate[data[0]].ECallMessage
    message.from_uper(data)
    theirs = message.get_val()["msd"]
    if data[0] != 1:
        assert theirs[0] == "MSDMessage"
        theirs = theirs[1]
    assert theirs["msdStructure"] == ours["msdStructure"]
    oad = theirs.get("optionalAdditionalData")
    if oad is None:
        assert "optionalAdditionalData" not in ours
    else:
        assert ours["optionalAdditionalData"] == {"oid": format_oid(oad["oid"]),
                                                  "data": oad["data"].hex().upper()}
