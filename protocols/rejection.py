"""The backend's answer to a refused uplink: which message, which field, which rule.

A TCU whose message is refused must learn why, or it waits out its timer and falls back
(an eCall to a voice call) without ever knowing what to fix. So every refused uplink whose
topic names a car is answered on that car's ``rejected`` topic with a ``Rejection``: the
refused message's topic and, where its bytes could still be read, its own id and
incident, and the field and rule the backend counts the refusal by. A refused safety call
gets this answer and never an acknowledgement.

The id is read leniently (``identity_of``): the message was refused, perhaps for being
unreadable, so whatever cannot be read is nil rather than a second refusal. Texts are
clipped to fixed lengths, so a reply is small whatever the refused message was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgpack

from protocols.errors import EnvelopeError
from protocols.record_codec import FieldTypes, pack_record, unpack_record

REJECTION_KIND: Final = "rejected"
REJECTION_MAX: Final = 1_000  # bytes; own bound: four clipped texts and a stamp
REJECTION_RULE: Final = "at most 1,000 bytes per rejection (contract bound)"
TOPIC_CHARS: Final = 128
ID_CHARS: Final = 64
FIELD_CHARS: Final = 64
RULE_CHARS: Final = 200
# A refused payload larger than this is not opened for its id: the answer says which
# topic, and reading a large refused message would be work a flood could ask for.
IDENTITY_READ_MAX: Final = 64 * 1024

# The field that carries a message's own id, by topic kind (``protocols.topics``).
ID_FIELDS: Final[dict[str, str]] = {
    "ecall": "msg_id",
    "telemetry": "seq",
    "teleservice_call": "call_id",
    "smart_maintenance": "transfer_id",
    "assistance": "request_id",
    "ota_event": "sent_ns",
}
INCIDENT_FIELD: Final = "incident"  # eCall and High Voltage Warn Call


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """One refused message, as the car that sent it is told.

    ``topic`` is the refused message's topic; ``message_id`` its own id as text (an
    eCall's ``msg_id``, a Teleservice Call's ``call_id``, ...; nil where none could be
    read); ``incident`` its incident (eCall, HV warn call), else nil; ``field`` and
    ``rule`` what the backend counts the refusal by; ``sent_ns`` when it answered.
    """

    topic: str
    message_id: str | None
    incident: str | None
    field: str
    rule: str
    sent_ns: int

    def __post_init__(self) -> None:
        _text(self.topic, "topic", TOPIC_CHARS)
        _text(self.field, "field", FIELD_CHARS)
        _text(self.rule, "rule", RULE_CHARS)
        for name in ("message_id", "incident"):
            value = getattr(self, name)
            if value is not None:
                _text(value, name, ID_CHARS)
        if isinstance(self.sent_ns, bool) or not isinstance(self.sent_ns, int) or (
                self.sent_ns < 0):
            raise EnvelopeError(f"sent_ns {self.sent_ns!r}", field="sent_ns", rule="int >= 0")


def rejection_of(topic: str, kind: str, payload: bytes, *, field: str, rule: str,
                 sent_ns: int) -> Rejection:
    """The answer to ``payload`` refused on ``topic`` (of ``kind``) for ``field``/``rule``;
    every text clipped to its length, an empty field or rule named ``?``."""
    message_id, incident = identity_of(kind, payload)
    return Rejection(topic=topic[:TOPIC_CHARS], message_id=message_id, incident=incident,
                     field=field[:FIELD_CHARS] or "?", rule=rule[:RULE_CHARS] or "?",
                     sent_ns=sent_ns)


def identity_of(kind: str, payload: bytes) -> tuple[str | None, str | None]:
    """The refused message's own id and incident, as far as its bytes can be read (pure):
    a msgpack map holding the kind's id field (text, or an integer) and ``incident``."""
    if len(payload) > IDENTITY_READ_MAX:
        return None, None
    try:
        body = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except Exception:  # msgpack raises several unrelated types; unreadable is nil here
        return None, None
    if not isinstance(body, dict):
        return None, None
    id_field = ID_FIELDS.get(kind)
    return (_id_text(body.get(id_field)) if id_field else None,
            _id_text(body.get(INCIDENT_FIELD)))


def pack_rejection(rejection: Rejection) -> bytes:
    """Serialise a rejection under the record header."""
    return pack_record(rejection, REJECTION_KIND, limit=REJECTION_MAX, rule=REJECTION_RULE)


def unpack_rejection(data: bytes) -> Rejection:
    """Parse and check a rejection (what a car does with its ``rejected`` topic)."""
    return unpack_record(data, Rejection, REJECTION_KIND, limit=REJECTION_MAX,
                         rule=REJECTION_RULE, types=_TYPES)


_NONE = type(None)
_TYPES: Final[FieldTypes] = {
    "topic": str, "message_id": (str, _NONE), "incident": (str, _NONE), "field": str,
    "rule": str, "sent_ns": int,
}


def _id_text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)[:ID_CHARS]
    return text or None


def _text(value: object, name: str, max_len: int) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise EnvelopeError(f"{name} must be 1..{max_len} chars", field=name,
                            rule=f"1..{max_len} chars")
