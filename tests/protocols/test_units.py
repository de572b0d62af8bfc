"""Durations and sizes as text: one grammar each, and errors that name the accepted forms."""

from __future__ import annotations

import pytest

from protocols.errors import ProtocolError
from protocols.units import format_size, parse_duration, parse_size


@pytest.mark.parametrize(("text", "seconds"), [
    ("28d", 28 * 86_400.0), ("6h", 21_600.0), ("90min", 5_400.0), ("30s", 30.0),
    ("500ms", 0.5), ("2w", 14 * 86_400.0), ("1d12h", 129_600.0), ("1d 12h 30min", 131_400.0),
    ("1.5h", 5_400.0), ("45", 45.0), (" 2.5 ", 2.5), ("0s", 0.0), ("7d", 604_800.0),
])
def test_parse_duration_accepts_every_form(text: str, seconds: float) -> None:
    """Units w d h min s ms, alone or combined largest first; a bare number is seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "28x", "5m", "1h1d", "1h1h", "-5s", "d", "1d12", "abc",
                                  "2 weeks"])
def test_parse_duration_refuses_other_text(text: str) -> None:
    """An error names the text and the accepted forms."""
    with pytest.raises(ProtocolError, match="28d, 6h, 90min") as info:
        parse_duration(text)
    assert repr(text) in str(info.value)
    assert (info.value.field, info.value.rule.startswith("a number of seconds")) == (
        "duration", True)


@pytest.mark.parametrize("text", ["90m", "5 M"])
def test_parse_duration_says_to_write_min_for_m(text: str) -> None:
    """'m' is refused, and the error says what to write instead."""
    with pytest.raises(ProtocolError, match="minutes or months: write min"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "size"), [
    ("4GB", 4_000_000_000), ("4.2 GB", 4_200_000_000), ("4.2gb", 4_200_000_000),
    ("500MB", 500_000_000), ("4000000000", 4_000_000_000), ("10GB", 10**10),
    ("1B", 1), ("50 KB", 50_000), ("2TB", 2 * 10**12), ("2.5GB", 2_500_000_000),
])
def test_parse_size_reads_decimal_units(text: str, size: int) -> None:
    """GB is 10**9 bytes, as the contract reads §15's "1 tot 10 GB"; no float rounding."""
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["4 GiB", "four", "", "-4GB", "4 G", "GB"])
def test_parse_size_refuses_the_unreadable(text: str) -> None:
    with pytest.raises(ProtocolError, match="is not a size; use a whole number") as info:
        parse_size(text)
    assert repr(text) in str(info.value)


def test_parse_size_refuses_part_of_a_byte() -> None:
    with pytest.raises(ProtocolError, match=r"'1\.5B' is not a whole number of bytes"):
        parse_size("1.5B")


@pytest.mark.parametrize(("value", "text"), [
    (None, "-"), (999, "999 B"), (1_000, "1 KB"), (1_200_000, "1.2 MB"),
    (10 * 10**9, "10 GB"), (123_456_789, "123.5 MB"),
])
def test_format_size_in_the_catalogue_units(value: int | None, text: str) -> None:
    assert format_size(value) == text


@pytest.mark.parametrize("size", [1, 999, 50_000, 4_200_000_000, 10**10])
def test_format_size_reads_back_within_its_precision(size: int) -> None:
    """What is shown reads back through the same grammar, to four significant digits."""
    shown = parse_size(format_size(size))
    assert shown == pytest.approx(size, rel=5e-4)
