"""Counting MSD decodes: how often the eCall path pays for the UPER decoder."""

from __future__ import annotations

from typing import Any

import pytest

import protocols.msd.codec as codec


def count_msd_decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every MSD decoded from now on (its payload), wherever the decode is called from."""
    decoded: list[bytes] = []
    real = codec._asn1_decode

    def counting(version: int, payload: bytes) -> dict[str, Any]:
        decoded.append(payload)
        return real(version, payload)

    monkeypatch.setattr(codec, "_asn1_decode", counting)
    return decoded
