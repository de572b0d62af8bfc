"""The flat fields of a Redis stream entry or hash, read by name and type in one place.

Redis answers with bytes, or with text on a connection that decodes responses; a record
type reads its fields through ``EntryFields`` and never cares which. Every read names the
field it failed on and the rule it broke (``MalformedEntryError``), so a desk can count a
malformed entry by (field, rule) as the lanes count a malformed message. Nested values
(an MSD in its JSON form, the extras, the transmission history) are JSON text, the one
framing of both the streams and the stored records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias, TypeVar

from backend.emergency.errors import MalformedEntryError
from backend.infra.streams import FieldValue

JsonObject: TypeAlias = dict[str, Any]
RawFields: TypeAlias = Mapping[bytes, bytes | str] | Mapping[str, bytes | str]
Fields: TypeAlias = dict[str, FieldValue]
S = TypeVar("S", bound=str)


def as_json(value: object) -> str:
    """The JSON text a nested value is written as."""
    return json.dumps(value)


class EntryFields:
    """One entry's fields by name; ``default`` None means the field is required."""

    __slots__ = ("_raw",)

    def __init__(self, raw: RawFields) -> None:
        self._raw: dict[str, bytes | str] = {
            (name.decode() if isinstance(name, bytes) else name): value
            for name, value in raw.items()}

    @classmethod
    def of(cls, raw: RawFields | EntryFields) -> EntryFields:
        return raw if isinstance(raw, EntryFields) else cls(raw)

    def has(self, name: str) -> bool:
        return name in self._raw

    def _get(self, name: str) -> bytes | str:
        try:
            return self._raw[name]
        except KeyError:
            raise MalformedEntryError(f"no {name}", field=name, rule="required") from None

    def text(self, name: str, default: str | None = None) -> str:
        if default is not None and name not in self._raw:
            return default
        value = self._get(name)
        if isinstance(value, str):
            return value
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise MalformedEntryError(f"{name} is not text", field=name,
                                      rule="UTF-8 text") from None

    def integer(self, name: str, default: int | None = None) -> int:
        if default is not None and name not in self._raw:
            return default
        try:
            return int(self._get(name))
        except ValueError:
            raise MalformedEntryError(f"{name} is not an integer", field=name,
                                      rule="integer") from None

    def number(self, name: str, default: float | None = None) -> float:
        if default is not None and name not in self._raw:
            return default
        try:
            return float(self._get(name))
        except ValueError:
            raise MalformedEntryError(f"{name} is not a number", field=name,
                                      rule="number") from None

    def blob(self, name: str) -> bytes:
        value = self._get(name)
        return value.encode() if isinstance(value, str) else value

    def optional_blob(self, name: str) -> bytes | None:
        return self.blob(name) if name in self._raw else None

    def one_of(self, name: str, allowed: tuple[S, ...], default: S | None = None) -> S:
        value = self.text(name, default)
        for choice in allowed:
            if value == choice:
                return choice
        raise MalformedEntryError(f"{name} is {value!r}", field=name, rule="|".join(allowed))

    def _json(self, name: str, kind: type, rule: str) -> Any:
        try:
            value = json.loads(self._get(name))
        except ValueError:  # JSONDecodeError and undecodable bytes alike
            raise MalformedEntryError(f"{name} is not JSON", field=name, rule=rule) from None
        if not isinstance(value, kind):
            raise MalformedEntryError(f"{name} is JSON but not a {kind.__name__}", field=name,
                                      rule=rule)
        return value

    def json_object(self, name: str) -> JsonObject:
        value: JsonObject = self._json(name, dict, "JSON object")
        return value

    def optional_json_object(self, name: str) -> JsonObject | None:
        return self.json_object(name) if name in self._raw else None

    def json_list(self, name: str) -> list[Any]:
        value: list[Any] = self._json(name, list, "JSON list")
        return value
