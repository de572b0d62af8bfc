"""msgpack framing shared by the call-service records (HV warn call, assistance calls).

These records are not eCall envelopes: they have their own size budgets from MINI Connected
(§2 "< 25 KB", §16e/§16f "< 50 KB") and their own kinds, so they are framed here with
the same ``v``/``k`` header as ``protocols.envelope`` and checked against the budget
both when packed and when read. Every failure is an ``EnvelopeError`` naming the field
and the rule, so the backend can count them by (field, rule).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, Final, TypeVar

import msgpack

from protocols.errors import EnvelopeError

RECORD_VERSION: Final = 1
MAX_RECORD: Final = 256 * 1024  # anything larger is refused before unpacking

FieldTypes = Mapping[str, type | tuple[type, ...]]
R = TypeVar("R")
# A message's own time (epoch seconds) must be a real instant before 2100: NaN,
# infinities, negative or far-future values broke retention deadlines and budgets. How
# far it may stray from the receiver's clock is the receiver's rule (the services lane's).
EPOCH_MIN: Final = 0.0
EPOCH_MAX: Final = 4_102_444_800.0  # 2100-01-01T00:00:00Z
EPOCH_RULE: Final = "finite epoch seconds, 0 up to 2100"


def check_epoch_seconds(value: float, *, field: str) -> None:
    """Refuse a time that is not a finite instant between 1970 and 2100."""
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not EPOCH_MIN <= value < EPOCH_MAX):
        raise EnvelopeError(f"{field} {value!r} is not a time", field=field, rule=EPOCH_RULE)


def packed_size(record: object, kind: str) -> int:
    """Bytes the record takes on the wire, header included (what the budget counts)."""
    return len(_packb(record, kind))


def check_budget(size: int, *, limit: int, rule: str) -> None:
    """Refuse a record over its budget; ``rule`` cites the requirement of the budget."""
    if size > limit:
        raise EnvelopeError(f"record is {size} bytes, over {limit}", field="envelope", rule=rule)


def pack_record(record: object, kind: str, *, limit: int, rule: str) -> bytes:
    """Serialise a dataclass record under the header ``v``/``k``; refuse it over ``limit``."""
    data = _packb(record, kind)
    check_budget(len(data), limit=limit, rule=rule)
    return data


def open_map(data: bytes, *, max_bytes: int, version: int) -> tuple[object, dict[str, Any]]:
    """Size check, msgpack map, ``v`` header: the framing every record and envelope shares.

    Returns the ``k`` header and the remaining fields.
    """
    if len(data) > max_bytes:
        raise EnvelopeError(f"payload is {len(data)} bytes", field="payload",
                            rule=f"at most {max_bytes} bytes")
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types
        raise EnvelopeError(f"not msgpack: {exc}", field="payload", rule="msgpack map") from None
    if not isinstance(body, dict):
        raise EnvelopeError("not a map", field="payload", rule="msgpack map")
    got_version = body.pop("v", None)
    if got_version != version:
        raise EnvelopeError(f"unsupported version {got_version!r}", field="v",
                            rule=f"== {version}")
    return body.pop("k", None), body


def unpack_record(data: bytes, cls: type[R], kind: str, *, limit: int, rule: str,
                  types: FieldTypes) -> R:
    """Parse bytes into ``cls``: header, budget, known fields, types, then ``__post_init__``."""
    if len(data) <= MAX_RECORD:
        check_budget(len(data), limit=limit, rule=rule)
    got_kind, body = open_map(data, max_bytes=MAX_RECORD, version=RECORD_VERSION)
    if got_kind != kind:
        raise EnvelopeError(f"kind {got_kind!r} where {kind!r} was expected", field="k",
                            rule=f"== {kind}")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = set(body) - names
    if unknown:
        raise EnvelopeError(f"unknown fields {sorted(unknown)}", field="envelope",
                            rule="only contract fields")
    missing = names - set(body)
    if missing:
        raise EnvelopeError(f"missing fields {sorted(missing)}", field="envelope",
                            rule="required fields")
    for name, expected in types.items():
        value = body[name]
        if not isinstance(value, expected) or (
            isinstance(value, bool) and bool not in _as_tuple(expected)
        ):
            raise EnvelopeError(f"{name} has type {type(value).__name__}", field=name,
                                rule=f"type {_type_names(expected)}")
    return cls(**body)


def _packb(record: object, kind: str) -> bytes:
    body: dict[str, Any] = asdict(record)  # type: ignore[call-overload]
    body["v"] = RECORD_VERSION
    body["k"] = kind
    data: bytes = msgpack.packb(body, use_bin_type=True)
    return data


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def _type_names(expected: type | tuple[type, ...]) -> str:
    return "|".join(t.__name__ for t in _as_tuple(expected))
