"""Shared fixtures of the MSD tests: the vector files and an explicit-default encoder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asn1tools
import pytest

from protocols.msd import Msd, msd_to_json
from protocols.msd.oid import encode_relative_oid
from protocols.msd.schema import module_text, propulsion_fields

MSD_FILES = Path(__file__).parents[1] / "files" / "msd"

Vector = tuple[bytes, dict[str, Any]]


@pytest.fixture(scope="session")
def vector() -> Callable[[str], Vector]:
    """Load ``tests/files/msd/<name>.hex`` and its ``.json`` value."""

    def load(name: str) -> Vector:
        data = bytes.fromhex((MSD_FILES / f"{name}.hex").read_text())
        value: dict[str, Any] = json.loads((MSD_FILES / f"{name}.json").read_text())
        return data, value

    return load


@pytest.fixture(scope="session")
def explicit_encoder() -> Callable[[Msd], bytes]:
    """Encode like v1/v2 IVS do: every propulsion flag sent, FALSE ones included.

    The modules are compiled with ``BOOLEAN DEFAULT FALSE`` read as ``BOOLEAN OPTIONAL``
    and every flag is supplied, which gives the non-canonical but valid encoding. The
    JSON form's msdStructure is already the asn1tools value (same names and nesting).
    """
    specs = {v: asn1tools.compile_string(module_text(v, explicit_defaults=True), "uper")
             for v in (1, 2, 3)}

    def encode(msd: Msd) -> bytes:
        structure = msd_to_json(msd)["msdStructure"]
        structure["vehiclePropulsionStorageType"] = {
            name: getattr(msd.propulsion, attr) for name, attr in propulsion_fields(msd.version)
        }
        message: dict[str, Any] = {"msdStructure": structure}
        if msd.additional_data is not None:
            message["optionalAdditionalData"] = {
                "oid": encode_relative_oid(msd.additional_data.oid),
                "data": msd.additional_data.data,
            }
        spec = specs[msd.version]
        if msd.version == 1:
            return bytes(spec.encode("ECallMessage", {"id": 1, "msd": message}))
        inner = spec.encode("MSDMessage", message)
        return bytes(spec.encode("ECallMessage", {"msdVersion": msd.version, "msd": inner}))

    return encode
