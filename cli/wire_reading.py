"""What a payload of the wire contract means, and whether the backend would take it.

Pure: no broker, no Redis. ``read`` picks the message kind from the topic (or from the
payload's ``k`` header) and decodes with the contract's own decoder; ``check`` adds what
the receiving lane applies before it stores anything: the VIN consistency rules and, on
the services lane, the window around the backend's clock. The functions are the lanes'
own (``protocols.contract`` points at them), so a payload this accepts passes the same
checks in the backend; what needs the backend's stored state (per-period budgets,
duplicates, OTA campaign membership) is judged there only.

The JSON reading (``meaning``) is what ``telematics wire decode`` prints and what the
golden files under docs/wire-examples/ hold; ``payload_of`` turns it back into bytes
with the real encoder, so the goldens are checked both ways.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Final, Union

import msgpack

from backend.services.lane import check_message_time
from protocols.contract import CONTRACT, TopicContract, contract_of
from protocols.envelope import EcallMessage
from protocols.errors import EnvelopeError, ProtocolError
from protocols.msd import decode_msd, encode_msd, msd_from_json, msd_to_json
from protocols.size_bounds import within
from protocols.topics import parse_topic

JsonObject = dict[str, Any]
# Kinds whose lane judges the message's own time (``at``) against the backend's clock.
TIMED_KINDS: Final = frozenset({"teleservice_call", "smart_maintenance", "assistance",
                                "ota_event"})
# An MSD starts with its version octet; a msgpack map never starts with these.
MSD_VERSION_OCTETS: Final = (b"\x01", b"\x02", b"\x03")
BACKEND_STATE_NOTE: Final = ("not checked here: per-period budgets, duplicates and OTA "
                             "campaign membership, which the backend judges against its "
                             "stored state")


@dataclass(frozen=True, slots=True)
class Reading:
    """A decoded payload: its topic (if known), contract and message, and remarks."""

    topic: str | None
    contract: TopicContract
    message: Any
    remarks: tuple[str, ...] = ()


def read(payload: bytes, topic: str | None = None) -> Reading:
    """Decode ``payload`` as the message of ``topic``, or of its own ``k`` header.

    Raises ``ProtocolError`` naming the field and rule when it does not decode.
    """
    if topic is not None:
        contract = contract_of(parse_topic(topic).kind)
        return Reading(topic, contract, contract.message.decode(payload))
    return _read_untopiced(payload)


def check(topic: str, payload: bytes, *, now: float) -> Reading:
    """Everything the receiving lane refuses before it stores: raises ``ProtocolError``.

    ``now`` stands for the backend's clock (epoch seconds) in the services lane's window.
    """
    parsed = parse_topic(topic)
    reading = read(payload, topic)
    contract, message = reading.contract, reading.message
    if contract.vin_check is not None:
        contract.vin_check(parsed, message)
    if parsed.kind in TIMED_KINDS:
        check_message_time(message.at, now=now)
    return dataclasses.replace(reading, remarks=_remarks(contract, payload))


def _remarks(contract: TopicContract, payload: bytes) -> tuple[str, ...]:
    spec = contract.message
    remarks = []
    if contract.safety and not within(spec.bound, len(payload)):
        remarks.append(f"{len(payload)} bytes is over the bound ({spec.bound.rule}): a safety "
                       "call is handled all the same and counted as over budget")
    if contract.catalogue and contract.direction == "car -> backend":
        remarks.append(BACKEND_STATE_NOTE)
    return tuple(remarks)


def _read_untopiced(payload: bytes) -> Reading:
    """Without a topic: the ``k`` header names the kind; a map without one is tried as each
    headerless message in turn; anything that is not a map is tried as a bare MSD."""
    try:
        body = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except Exception:  # msgpack raises several unrelated types
        body = None
    if not isinstance(body, dict):
        if payload[:1] in MSD_VERSION_OCTETS:
            return _as_bare_msd(payload)
        raise EnvelopeError("not a msgpack map", field="payload", rule="msgpack map")
    kind = body.get("k")
    candidates = [entry for entry in CONTRACT if entry.message.header_kind == kind]
    if not candidates:
        raise EnvelopeError(f"no message of the contract has kind {kind!r}", field="k",
                            rule="a kind of the contract")
    error: ProtocolError | None = None
    for entry in candidates:
        try:
            return Reading(None, entry, entry.message.decode(payload))
        except ProtocolError as exc:
            error = error or exc
    assert error is not None
    raise error


def _as_bare_msd(payload: bytes) -> Reading:
    msd = decode_msd(payload)
    return Reading(None, contract_of("ecall"), msd, remarks=(
        "a bare MSD, not an envelope: on the wire it travels inside an EcallMessage",))


def meaning(reading: Reading) -> JsonObject:
    """The JSON reading of a decoded payload (the golden files' form)."""
    message = reading.message
    name = type(message).__name__
    return {"topic": reading.topic, "kind": reading.contract.kind, "message": name,
            "fields": msd_to_json(message) if name == "Msd" else _json_of(message)}


def payload_of(obj: JsonObject) -> bytes:
    """The bytes the real encoder makes of a JSON reading (inverse of ``meaning``)."""
    contract = contract_of(obj["kind"])
    spec = contract.message
    if obj["message"] != spec.model.__name__:
        raise EnvelopeError(f"{obj['message']} does not travel on {contract.kind}",
                            field="message", rule=spec.model.__name__)
    return spec.encode(_value_of(spec.model, obj["fields"]))


def _json_of(value: Any) -> Any:
    if isinstance(value, EcallMessage):
        fields = _json_of_fields(value)
        fields["msd"] = _msd_json(value.msd)
        return fields
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_of_fields(value)
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, list):
        return [_json_of(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_of(item) for key, item in value.items()}
    return value


def _json_of_fields(value: Any) -> JsonObject:
    return {f.name: _json_of(getattr(value, f.name)) for f in dataclasses.fields(value)}


def _msd_json(data: bytes) -> JsonObject:
    """The MSD's hex and its decoded form; a broken MSD shows why, for an integrator."""
    try:
        return {"hex": data.hex().upper(), "decoded": msd_to_json(decode_msd(data))}
    except ProtocolError as exc:
        return {"hex": data.hex().upper(), "error": str(exc)}


def _value_of(hint: Any, value: Any) -> Any:
    if hint is bytes:
        return bytes.fromhex(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint)
        fields = dict(value)
        if hint is EcallMessage:
            fields["msd"] = encode_msd(msd_from_json(fields["msd"]["decoded"]))
            hints = {**hints, "msd": object}
        return hint(**{name: _value_of(hints[name], item) for name, item in fields.items()})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and value is not None:
        return [_value_of(args[0], item) for item in value]
    if origin in (Union, types.UnionType) and value is not None:
        return _value_of(next(arg for arg in args if arg is not type(None)), value)
    return value
