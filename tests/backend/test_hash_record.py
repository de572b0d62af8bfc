"""Typed records as Redis hash fields: every supported type round-trips, None clears,
older fields are ignored and newer ones default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pytest
from redis.typing import EncodableT

from backend.infra.errors import RecordFieldError
from backend.infra.hash_record import HashRecord


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    limit: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample(HashRecord):
    key: str
    status: Literal["open", "closed"]
    count: int
    share: float
    valid: bool
    closed_at: float | None = None
    note: str | None = None
    codes: tuple[str, ...] = ()
    parts: tuple[Part, ...] = ()
    main: Part | None = None


FULL = Sample(key="k-1", status="closed", count=3, share=0.1 + 0.2, valid=True,
              closed_at=1_767_225_600.125, note="late", codes=("P0300", "B1000"),
              parts=(Part("tow", 150.0), Part("taxi", None)), main=Part("hotel", 2.0))


def _as_redis(fields: Mapping[EncodableT, EncodableT]) -> dict[bytes, bytes]:
    """What HGETALL returns for a hash written with these fields."""
    return {str(k).encode(): str(v).encode() for k, v in fields.items()}


@pytest.mark.parametrize("record", [FULL, Sample(key="k-2", status="open", count=0,
                                                 share=0.0, valid=False)])
def test_hash_record_round_trips_every_type(record: Sample) -> None:
    assert Sample.from_fields(_as_redis(record.to_fields())) == record


def test_hash_record_encoding_is_the_one_documented() -> None:
    """Floats exact, bools 1/0, tuples and dataclasses JSON, None the empty string."""
    fields = FULL.to_fields()
    assert (fields["share"], fields["valid"], fields["count"]) == ("0.30000000000000004", "1",
                                                                   "3")
    assert fields["codes"] == '["P0300", "B1000"]'
    assert fields["main"] == '{"limit": 2.0, "name": "hotel"}'
    empty = Sample(key="k", status="open", count=0, share=0.0, valid=False).to_fields()
    assert (empty["closed_at"], empty["note"], empty["main"], empty["codes"]) == (
        "", "", "", "[]")


def test_hash_record_ignores_old_fields_and_defaults_new_ones() -> None:
    """A hash an older version wrote (with a field since dropped, without one since
    added) still reads."""
    old = {b"key": b"k", b"status": b"open", b"count": b"1", b"share": b"0.5",
           b"valid": b"0", b"retention_rule": b"until_procedures_closed"}
    assert Sample.from_fields(old) == Sample(key="k", status="open", count=1, share=0.5,
                                             valid=False)


def test_hash_record_names_the_field_that_does_not_read() -> None:
    fields = {**_as_redis(FULL.to_fields()), b"count": b"three"}
    with pytest.raises(RecordFieldError, match=r"Sample\.count: 'three'") as info:
        Sample.from_fields(fields)
    assert (info.value.record, info.value.field) == ("Sample", "count")
    missing = {k: v for k, v in _as_redis(FULL.to_fields()).items() if k != b"key"}
    with pytest.raises(RecordFieldError, match="key"):
        Sample.from_fields(missing)
