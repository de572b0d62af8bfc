"""RELATIVE-OID contents octets (X.690 §8.20) and the dotted form people write.

``AdditionalData.oid`` is a relative OID below the eCall OAD arc, e.g. ERA-GLONASS
{1 4 2} is sent as ``01 04 02``. asn1tools hands these octets over untouched (see
``protocols.msd.schema``), so the base-128 arcs are packed and unpacked here.
"""

from __future__ import annotations

from collections.abc import Sequence


def encode_relative_oid(arcs: Sequence[int]) -> bytes:
    """Base-128 arcs, most significant group first, bit 8 set on all but the last octet."""
    out = bytearray()
    for arc in arcs:
        if arc < 0:
            raise ValueError(f"arc {arc} is negative")
        groups = [arc & 0x7F]
        arc >>= 7
        while arc:
            groups.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(groups))
    return bytes(out)


def decode_relative_oid(data: bytes) -> tuple[int, ...]:
    """Arcs of the contents octets; refuses a cut-off arc and non-minimal (0x80-led) arcs."""
    arcs: list[int] = []
    arc = 0
    fresh = True
    for octet in data:
        if fresh and octet == 0x80:
            raise ValueError("arc starts with a 0x80 padding octet")
        arc = (arc << 7) | (octet & 0x7F)
        fresh = not octet & 0x80
        if fresh:
            arcs.append(arc)
            arc = 0
    if not fresh:
        raise ValueError("last arc is cut off (its final octet has bit 8 set)")
    return tuple(arcs)


def format_oid(arcs: Sequence[int]) -> str:
    """Dotted notation, as the ERA-GLONASS documents write 1.4.2."""
    return ".".join(str(arc) for arc in arcs)


def parse_oid(text: str) -> tuple[int, ...]:
    """Inverse of ``format_oid``; only plain decimal arcs, so '1.+4' or '1..2' are refused."""
    parts = text.split(".")
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise ValueError(f"{text!r} is not dotted decimal arcs such as '1.4.2'")
    return tuple(int(part) for part in parts)
