"""MSDs as JSON objects shaped like the standard's ASN.1 value, with its field names.

People read MSDs next to EN 15722 Table 1 and the Annex A.3 example, so the JSON uses
``msdStructure.vehicleLocation.positionLatitude`` rather than the model's Python names,
splits the VIN into its four ISO 3779 parts, writes the OAD's relative OID dotted
('1.4.2') and its data as hex. OPTIONAL components are left out when absent, as in
ASN.1 value notation; DEFAULT FALSE propulsion flags may be left out on input.

``msd_from_json`` checks shape only (keys and JSON types) and raises ``MsdEncodeError``;
value rules are ``validate_msd``'s, applied by ``encode_msd``.
"""

from __future__ import annotations

from typing import Any, Final, NoReturn

from protocols.errors import MsdEncodeError
from protocols.msd.asn1value import msd_structure
from protocols.msd.model import AdditionalData, LocationDelta, Msd, Propulsion, VehicleLocation
from protocols.msd.oid import format_oid, parse_oid
from protocols.msd.schema import VERSIONS, VIN_PARTS, occupants_field, propulsion_fields

JsonObject = dict[str, Any]

_CONTROL: Final = ("automaticActivation", "testCall", "positionCanBeTrusted", "vehicleType")
_DELTA: Final = ("latitudeDelta", "longitudeDelta")
_LOCATION: Final = ("positionLatitude", "positionLongitude")
_OAD: Final = ("oid", "data")
_STRUCTURE_FIXED: Final = (
    "messageIdentifier", "control", "vehicleIdentificationNumber",
    "vehiclePropulsionStorageType", "timestamp", "vehicleLocation", "vehicleDirection",
    "recentVehicleLocationN1", "recentVehicleLocationN2",
)


def msd_to_json(msd: Msd) -> JsonObject:
    """The JSON form of ``msd``; it round-trips through ``msd_from_json`` unchanged."""
    structure = msd_structure(msd)
    if msd.version == 1 and msd.propulsion.other_storage:
        # Not a v1 component, but dropping it would hide why validation refuses the value.
        structure["vehiclePropulsionStorageType"]["otherStorage"] = True
    obj: JsonObject = {"msdVersion": msd.version, "msdStructure": structure}
    if msd.additional_data is not None:
        obj["optionalAdditionalData"] = {
            "oid": format_oid(msd.additional_data.oid),
            "data": msd.additional_data.data.hex().upper(),
        }
    return obj


def msd_from_json(obj: JsonObject) -> Msd:
    """Build an ``Msd`` from its JSON form, naming the first field with a wrong shape."""
    top = _Reader(obj, "")
    top.only("msdVersion", "msdStructure", "optionalAdditionalData")
    version = top.integer("msdVersion")
    if version not in VERSIONS:
        _fail("msdVersion", f"{version} is not a supported MSD version (1, 2 or 3)",
              "supported version")
    # Errors name fields as validation does ("vehicleDirection"), without the wrapper.
    s = top.child("msdStructure", path="")
    occupants_key = occupants_field(version)
    s.only(*_STRUCTURE_FIXED, occupants_key)
    control = s.child("control")
    control.only(*_CONTROL)
    vehicle_type = control.nullable("vehicleType", str)
    propulsion = s.child("vehiclePropulsionStorageType")
    propulsion.only(*(name for name, _ in propulsion_fields(2)))
    location = s.child("vehicleLocation")
    location.only(*_LOCATION)
    oad = top.optional_child("optionalAdditionalData")
    return Msd(
        message_identifier=s.integer("messageIdentifier"),
        automatic_activation=control.boolean("automaticActivation"),
        test_call=control.boolean("testCall"),
        position_can_be_trusted=control.boolean("positionCanBeTrusted"),
        vehicle_type=vehicle_type,
        vin=_vin(s.child("vehicleIdentificationNumber")),
        propulsion=Propulsion(**{
            attr: propulsion.flag(name)
            for name, attr in propulsion_fields(2)
        }),
        timestamp=s.integer("timestamp"),
        location=VehicleLocation(location.integer("positionLatitude"),
                                 location.integer("positionLongitude")),
        direction=s.integer("vehicleDirection"),
        n1=_delta(s.optional_child("recentVehicleLocationN1")),
        n2=_delta(s.optional_child("recentVehicleLocationN2")),
        number_of_occupants=s.optional(occupants_key, int),
        additional_data=None if oad is None else _additional_data(oad),
        version=version,
    )


def _fail(field: str, message: str, rule: str) -> NoReturn:
    raise MsdEncodeError(message, field=field, rule=rule)


_JSON_TYPE_NAMES: Final = {bool: "a boolean", int: "an integer", str: "a string",
                           dict: "an object"}


class _Reader:
    """One JSON object being read, with the dotted path used in error messages."""

    def __init__(self, obj: object, path: str) -> None:
        if not isinstance(obj, dict):
            _fail(path or "msd", f"{_describe(obj)} is not an object", "object")
        self._obj: JsonObject = obj
        self._path = path

    def _field(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def only(self, *keys: str) -> None:
        for key in self._obj:
            if key not in keys:
                _fail(self._field(key), "not a component of this MSD version",
                      "unknown key")

    def _get(self, key: str, kind: type, *, required: bool) -> Any:
        if key not in self._obj:
            if required:
                _fail(self._field(key), "missing", "missing key")
            return None
        value = self._obj[key]
        if value is None and not required:
            return None
        # JSON has no int/bool overlap, so True must not pass as 1 nor 1 as True.
        if type(value) is not kind:
            _fail(self._field(key), f"{_describe(value)} is not {_JSON_TYPE_NAMES[kind]}",
                  "wrong type")
        return value

    def integer(self, key: str) -> int:
        value: int = self._get(key, int, required=True)
        return value

    def boolean(self, key: str) -> bool:
        value: bool = self._get(key, bool, required=True)
        return value

    def flag(self, key: str) -> bool:
        """A BOOLEAN DEFAULT FALSE component, which ASN.1 value notation may omit."""
        return self._get(key, bool, required=False) is True

    def string(self, key: str) -> str:
        value: str = self._get(key, str, required=True)
        return value

    def optional(self, key: str, kind: type) -> Any:
        """An OPTIONAL component: absent and null both mean not present."""
        return self._get(key, kind, required=False)

    def nullable(self, key: str, kind: type) -> Any:
        """A mandatory component whose value may be null (an unknown enumerator)."""
        if key not in self._obj:
            _fail(self._field(key), "missing", "missing key")
        return self._get(key, kind, required=False)

    def child(self, key: str, *, path: str | None = None) -> _Reader:
        field = self._field(key) if path is None else path
        return _Reader(self._get(key, dict, required=True), field)

    def optional_child(self, key: str) -> _Reader | None:
        value = self._get(key, dict, required=False)
        return None if value is None else _Reader(value, self._field(key))


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _vin(reader: _Reader) -> str:
    reader.only(*(name for name, _, _ in VIN_PARTS))
    parts = []
    for name, start, end in VIN_PARTS:
        part = reader.string(name)
        if len(part) != end - start:
            _fail(f"vehicleIdentificationNumber.{name}",
                  f"{part!r} has {len(part)} characters, not {end - start}", "size")
        parts.append(part)
    return "".join(parts)


def _delta(reader: _Reader | None) -> LocationDelta | None:
    if reader is None:
        return None
    reader.only(*_DELTA)
    return LocationDelta(reader.integer("latitudeDelta"), reader.integer("longitudeDelta"))


def _additional_data(reader: _Reader) -> AdditionalData:
    reader.only(*_OAD)
    oid_text = reader.string("oid")
    data_text = reader.string("data")
    try:
        oid = parse_oid(oid_text)
    except ValueError as exc:
        raise MsdEncodeError(str(exc), field="optionalAdditionalData.oid",
                             rule="dotted decimal") from exc
    try:
        data = bytes.fromhex(data_text)
    except ValueError as exc:
        raise MsdEncodeError(f"{_describe(data_text)} is not hex",
                             field="optionalAdditionalData.data", rule="hex") from exc
    return AdditionalData(oid, data)
