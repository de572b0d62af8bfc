"""Typed records as Redis hashes: one encoding, read off the record's own field types; pure.

A store writes a frozen dataclass that derives from ``HashRecord`` with
``record.to_fields()`` and reads it back with ``Record.from_fields(raw)``, so what a
record holds is said once, in its class, and no store builds or parses a hash by hand.

The encoding, by the field's type:

* ``str`` and ``Literal`` of strings: as they are;
* ``bool``: ``1`` or ``0``; ``int``: decimal; ``float``: ``repr`` (exact round trip);
* a dataclass, or a ``tuple`` of them or of plain values: JSON (a dataclass as the
  object of its fields, rebuilt with its constructor, so its own checks run again);
* ``X | None``: None is written as the empty string, so rewriting a record clears a
  field that became None instead of leaving the old value standing.

Reading ignores fields the class does not have (what an older version wrote, like the
``retention_rule`` copies that the retention tag made redundant) and gives a missing
field its default, so a record written before a field was added still reads.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Self, get_args, get_origin, get_type_hints

from redis.typing import EncodableT

from backend.infra.errors import RecordFieldError

_EMPTY: typing.Final = ""


def _optional(kind: Any) -> tuple[Any, bool]:
    """The type inside ``X | None``, and whether None was allowed."""
    if get_origin(kind) in (types.UnionType, typing.Union):
        inner = [a for a in get_args(kind) if a is not type(None)]
        if len(inner) == 1 and len(get_args(kind)) == 2:
            return inner[0], True
    return kind, False


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _encode(kind: Any, value: Any) -> str:
    if kind is bool:
        return "1" if value else "0"
    if kind is float:
        return repr(float(value))
    if kind in (str, int) or get_origin(kind) is Literal:
        return str(value)
    return json.dumps([_plain(v) for v in value] if get_origin(kind) is tuple
                      else _plain(value), sort_keys=True)


def _build(kind: Any, value: Any) -> Any:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind) and isinstance(value, dict):
        return kind(**value)
    return value


def _decode(kind: Any, text: str) -> Any:
    if kind is bool:
        return text == "1"
    if kind is float:
        return float(text)
    if kind is int:
        return int(text)
    if kind is str or get_origin(kind) is Literal:
        return text
    value = json.loads(text)
    if get_origin(kind) is tuple:
        item = get_args(kind)[0]
        return tuple(_build(item, v) for v in value)
    return _build(kind, value)


_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    """Each dataclass field of ``cls`` with its resolved type, in declaration order
    (resolved once per class: reading a page of records must not re-evaluate them)."""
    if cls not in _FIELD_TYPES:
        hints = get_type_hints(cls)
        _FIELD_TYPES[cls] = {f.name: hints[f.name]
                             for f in dataclasses.fields(cls)}
    return _FIELD_TYPES[cls]


class HashRecord:
    """Base of a frozen dataclass stored as one Redis hash (see the module docstring)."""

    __slots__ = ()

    def to_fields(self) -> dict[EncodableT, EncodableT]:
        """The record as hash fields (text), every field present."""
        fields: dict[EncodableT, EncodableT] = {}
        for name, hint in _field_types(type(self)).items():
            value = getattr(self, name)
            kind, _ = _optional(hint)
            fields[name] = _EMPTY if value is None else _encode(kind, value)
        return fields

    @classmethod
    def from_fields(cls, raw: Mapping[bytes, bytes]) -> Self:
        """The record back from its hash as Redis returns it (``HGETALL``); unknown
        fields are ignored, missing ones default."""
        text = {k.decode(): v.decode() for k, v in raw.items()}
        values: dict[str, Any] = {}
        for name, hint in _field_types(cls).items():
            if name not in text:
                continue
            kind, optional = _optional(hint)
            try:
                values[name] = (None if optional and text[name] == _EMPTY
                                else _decode(kind, text[name]))
            except (ValueError, TypeError) as exc:
                raise RecordFieldError(f"{cls.__name__}.{name}: {text[name]!r} is not a "
                                       f"{hint}: {exc}", record=cls.__name__,
                                       field=name) from None
        try:
            return cls(**values)
        except TypeError as exc:
            raise RecordFieldError(f"{cls.__name__}: {exc}", record=cls.__name__,
                                   field="") from None
