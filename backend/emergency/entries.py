"""What rides the intake streams from the relay to the desks, and from the call centre on
to the PSAP: one frozen type per entry, written and read here only.

* ``EcallEntry``: an eCall. A Legal one goes to the responsible PSAP's stream and holds
  no VIN (the PSAP takes it from the MSD, as a real PSAP does); an Intelligent one goes to
  the call centre's stream with the VIN (to call the car back), the extras (to triage)
  and the MSD in its JSON form, decoded once by the relay so the call centre does not
  decode it again.
* ``HvWarnEntry``: a High Voltage warn call, to the call centre, as the car framed it.
* ``VoiceEntry``: a PSAP voice call, to the PSAP of the network country; no vehicle data.
* ``HandOver``: the call centre passing an Intelligent eCall or an HV warn call to the
  PSAP responsible for the position.

A stream entry is flat: scalars, the MSD's bytes, and nested values as JSON text (the
framing the stored records use too). Reading is tolerant of bytes or text and strict
about the rest: a missing or malformed field is a ``MalformedEntryError`` naming it, an
HV record or extras breaking the wire contract its ``protocols.errors`` error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar, Final, Literal

from backend.emergency.entry_fields import EntryFields, Fields, JsonObject, RawFields, as_json
from backend.emergency.errors import MalformedEntryError
from backend.emergency.psap_directory import PsapChoice
from protocols.envelope import EcallMessage, IntelligentExtras
from protocols.hv import HvWarnCall, unpack_hv_call
from protocols.msd.jsonform import msd_to_json
from protocols.msd.model import Msd
from protocols.topics import ECALL_VARIANTS, EcallVariant

HV_MSG_ID: Final = 1  # a warn call is sent once: its one transmission
VOICE_MSG_ID: Final = 0  # a voice call carries no MSD, so no messageIdentifier
HandOverVariant = Literal["intelligent", "hv_warn"]
HANDOVER_VARIANTS: Final[tuple[HandOverVariant, ...]] = ("intelligent", "hv_warn")


@dataclass(frozen=True, slots=True, kw_only=True)
class EcallEntry:
    """An eCall handed to its desk; ``vin``, ``msd_json`` and ``extras`` only when Intelligent."""

    KIND: ClassVar[str] = "ecall"

    variant: EcallVariant
    incident: str
    msg_id: int
    msd: bytes
    sent_ns: int
    relay_ns: int
    psap: str
    psap_reason: str
    vin: str = ""
    msd_json: JsonObject | None = None
    extras: IntelligentExtras | None = None

    @classmethod
    def of(cls, message: EcallMessage, msd: Msd, choice: PsapChoice,
           relay_ns: int) -> EcallEntry:
        """``message`` as the relay hands it on; ``msd`` is its MSD, decoded."""
        intelligent = message.variant == "intelligent"
        return cls(variant=message.variant, incident=message.incident, msg_id=message.msg_id,
                   msd=message.msd, sent_ns=message.sent_ns, relay_ns=relay_ns,
                   psap=choice.psap.desk, psap_reason=choice.reason,
                   vin=message.vin if intelligent else "",
                   msd_json=msd_to_json(msd) if intelligent else None, extras=message.extras)

    def decoded_msd(self) -> JsonObject:
        """The MSD as the relay decoded it; only an Intelligent eCall's entry carries it."""
        if self.msd_json is None:
            raise MalformedEntryError("no decoded MSD", field="msd_json",
                                      rule="required for an Intelligent eCall")
        return self.msd_json

    def to_fields(self) -> Fields:
        fields: Fields = {
            "kind": self.KIND, "variant": self.variant, "incident": self.incident,
            "msg_id": self.msg_id, "msd": self.msd, "sent_ns": self.sent_ns,
            "relay_ns": self.relay_ns, "psap": self.psap, "psap_reason": self.psap_reason,
        }
        if self.vin:
            fields["vin"] = self.vin
        if self.msd_json is not None:
            fields["msd_json"] = as_json(self.msd_json)
        if self.extras is not None:
            fields["extras"] = as_json(asdict(self.extras))
        return fields

    @classmethod
    def from_fields(cls, raw: RawFields | EntryFields) -> EcallEntry:
        f = EntryFields.of(raw)
        return cls(variant=f.one_of("variant", ECALL_VARIANTS), incident=f.text("incident"),
                   msg_id=f.integer("msg_id"), msd=f.blob("msd"), sent_ns=f.integer("sent_ns"),
                   relay_ns=f.integer("relay_ns"), psap=f.text("psap"),
                   psap_reason=f.text("psap_reason"), vin=f.text("vin", ""),
                   msd_json=f.optional_json_object("msd_json"),
                   extras=_extras(f.optional_json_object("extras")))


def _extras(body: JsonObject | None) -> IntelligentExtras | None:
    if body is None:
        return None
    try:
        return IntelligentExtras(**body)
    except TypeError:
        raise MalformedEntryError("extras are not the Intelligent eCall's", field="extras",
                                  rule="the fields of IntelligentExtras") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class HvWarnEntry:
    """A High Voltage warn call handed to the call centre (HV-R2).

    ``record`` is the call as the car framed it, passed on unchanged: packing it again
    would refuse a call over its 25 KB budget, which is flagged, never dropped.
    """

    KIND: ClassVar[str] = "hv_warn"
    msg_id: ClassVar[int] = HV_MSG_ID

    call: HvWarnCall
    record: bytes
    relay_ns: int

    @property
    def incident(self) -> str:
        return self.call.incident

    @property
    def sent_ns(self) -> int:
        return self.call.sent_ns

    def to_fields(self) -> Fields:
        return {"kind": self.KIND, "variant": "hv_warn", "incident": self.incident,
                "msg_id": self.msg_id, "sent_ns": self.sent_ns, "relay_ns": self.relay_ns,
                "record": self.record}

    @classmethod
    def from_fields(cls, raw: RawFields | EntryFields) -> HvWarnEntry:
        f = EntryFields.of(raw)
        record = f.blob("record")
        return cls(call=unpack_hv_call(record), record=record, relay_ns=f.integer("relay_ns"))


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceEntry:
    """A PSAP voice call (§7c, ECALL-R9): its id and timings, nothing of the vehicle."""

    KIND: ClassVar[str] = "voice"
    msg_id: ClassVar[int] = VOICE_MSG_ID

    incident: str  # the voice call's id
    sent_ns: int
    relay_ns: int
    psap: str
    psap_reason: str

    def to_fields(self) -> Fields:
        return {"kind": self.KIND, "incident": self.incident, "msg_id": self.msg_id,
                "sent_ns": self.sent_ns, "relay_ns": self.relay_ns, "psap": self.psap,
                "psap_reason": self.psap_reason}

    @classmethod
    def from_fields(cls, raw: RawFields | EntryFields) -> VoiceEntry:
        f = EntryFields.of(raw)
        return cls(incident=f.text("incident"), sent_ns=f.integer("sent_ns"),
                   relay_ns=f.integer("relay_ns"), psap=f.text("psap"),
                   psap_reason=f.text("psap_reason"))


@dataclass(frozen=True, slots=True, kw_only=True)
class HandOver:
    """The call centre passing an incident to the PSAP; ``msd`` for an Intelligent eCall,
    ``extras`` its extras or the HV warn call's details with the customer's contact."""

    KIND: ClassVar[str] = "handover"

    variant: HandOverVariant
    incident: str
    msg_id: int
    sent_ns: int
    psap_reason: str
    msd: bytes | None = None
    extras: JsonObject | None = None

    def to_fields(self) -> Fields:
        fields: Fields = {"kind": self.KIND, "variant": self.variant, "incident": self.incident,
                          "msg_id": self.msg_id, "sent_ns": self.sent_ns,
                          "psap_reason": self.psap_reason}
        if self.msd is not None:
            fields["msd"] = self.msd
        if self.extras is not None:
            fields["extras"] = as_json(self.extras)
        return fields

    @classmethod
    def from_fields(cls, raw: RawFields | EntryFields) -> HandOver:
        f = EntryFields.of(raw)
        return cls(variant=f.one_of("variant", HANDOVER_VARIANTS), incident=f.text("incident"),
                   msg_id=f.integer("msg_id"), sent_ns=f.integer("sent_ns"),
                   psap_reason=f.text("psap_reason"), msd=f.optional_blob("msd"),
                   extras=f.optional_json_object("extras"))


PsapEntry = EcallEntry | VoiceEntry | HandOver
CallCentreEntry = EcallEntry | HvWarnEntry
_PSAP_KINDS: Final[dict[str, type[EcallEntry] | type[VoiceEntry] | type[HandOver]]] = {
    kind.KIND: kind for kind in (EcallEntry, VoiceEntry, HandOver)}


def psap_entry(raw: RawFields) -> PsapEntry:
    """An entry of a PSAP desk's stream: a Legal eCall, a voice call or a hand-over."""
    f = EntryFields(raw)
    return _PSAP_KINDS[f.one_of("kind", tuple(_PSAP_KINDS))].from_fields(f)


def callcentre_entry(raw: RawFields) -> CallCentreEntry:
    """An entry of the call centre's stream: an Intelligent eCall or an HV warn call."""
    f = EntryFields(raw)
    if f.one_of("kind", (EcallEntry.KIND, HvWarnEntry.KIND)) == HvWarnEntry.KIND:
        return HvWarnEntry.from_fields(f)
    return EcallEntry.from_fields(f)
