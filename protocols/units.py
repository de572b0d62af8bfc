"""Durations and sizes as people write them, one grammar each; pure.

Scenario files, the command line and the chaos plan all take "28d", "90min" or "4GB";
each used to read them with a grammar of its own, and they disagreed ("m" was minutes
on one command and an error in scenario files). Here is the one reading of each.

Durations: a bare number is seconds; otherwise parts with the units ``w d h min s ms``,
each at most once and largest first, optionally spaced: ``2w``, ``28d``, ``1d12h``,
``1d 12h 30min``, ``90min``, ``500ms``. ``m`` is refused on purpose: next to days and
months it could mean either, and the error says to write ``min``.

Sizes: a whole number of bytes, bare or with a decimal unit ``B KB MB GB TB`` in any
case, optionally spaced: ``4GB``, ``4.2 GB``, ``500mb``, ``4000000000``. A KB is 1,000
bytes, as the contract reads the catalogue's volumes (docs/requirements.md#conv-units),
so binary units (``GiB``) are refused rather than read 7 % off.

Every failure is a ``ProtocolError`` (a ``ValueError``) whose message names the text
and the accepted forms, and whose ``field`` and ``rule`` say the same for a caller that
counts or rephrases errors.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from protocols.errors import ProtocolError

DURATION_FORMS: Final = "a number of seconds or parts like 2w, 28d, 6h, 90min, 30s, 500ms, 1d12h"
SIZE_FORMS: Final = "a whole number of bytes, or one with B, KB, MB, GB, TB like 4GB or 4.2 GB"

# Largest unit first; a duration lists each unit at most once, in this order.
_UNIT_SECONDS: Final[dict[str, float]] = {
    "w": 7 * 86_400.0, "d": 86_400.0, "h": 3_600.0, "min": 60.0, "s": 1.0, "ms": 0.001,
}
_UNIT_ORDER: Final = tuple(_UNIT_SECONDS)
_NUMBER: Final = r"\d+(?:\.\d+)?"
_PART: Final = re.compile(rf"\s*({_NUMBER})\s*(ms|min|w|d|h|s)")
_BARE: Final = re.compile(rf"\s*({_NUMBER})\s*")
_MINUTES_AS_M: Final = re.compile(rf"\s*{_NUMBER}\s*m\s*", re.IGNORECASE)

# Decimal units (docs/requirements.md#conv-units), largest first for formatting.
_SIZE_UNITS: Final[dict[str, int]] = {
    "TB": 10**12, "GB": 10**9, "MB": 10**6, "KB": 10**3, "B": 1,
}
_SIZE: Final = re.compile(rf"\s*({_NUMBER})\s*([KMGT]?B)?\s*", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``28d``, ``90min``, ``1d12h`` or ``45``."""
    bare = _BARE.fullmatch(text)
    if bare is not None:
        return float(bare.group(1))
    total, pos, last = 0.0, 0, -1
    for match in _PART.finditer(text):
        unit_rank = _UNIT_ORDER.index(match.group(2))
        if match.start() != pos or unit_rank <= last:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos, last = match.end(), unit_rank
    if last < 0 or text[pos:].strip():
        hint = ("; 'm' could be minutes or months: write min"
                if _MINUTES_AS_M.fullmatch(text) else "")
        raise ProtocolError(f"{text!r} is not a duration; use {DURATION_FORMS}{hint}",
                            field="duration", rule=DURATION_FORMS)
    return total


def parse_size(text: str) -> int:
    """Bytes in a size such as ``4GB``, ``4.2 GB``, ``500MB`` or ``4000000000``."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ProtocolError(f"{text!r} is not a size; use {SIZE_FORMS}", field="size",
                            rule=SIZE_FORMS)
    number, unit = match.groups()
    value = Decimal(number) * _SIZE_UNITS[(unit or "B").upper()]  # exact: no float rounding
    if value != value.to_integral_value():
        raise ProtocolError(f"{text!r} is not a whole number of bytes", field="size",
                            rule=SIZE_FORMS)
    return int(value)


def format_size(value: float | None) -> str:
    """Bytes in the largest decimal unit up to GB, four significant digits; "-" for None."""
    if value is None:
        return "-"
    for unit in ("GB", "MB", "KB"):
        size = _SIZE_UNITS[unit]
        if abs(value) >= size:
            return f"{value / size:.4g} {unit}"
    return f"{int(value)} B"
