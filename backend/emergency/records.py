"""What the desks store: the PSAP incident record and the call centre's cases.

Each record type writes its Redis hash (``to_fields``), reads it back (``from_fields``,
bytes or text, naming the field that is wrong) and shows it to the API (``view``), all
here: the desks write through these types and ``backend.emergency.incidents`` reads
through them. A record's retention rule is not a field of it: the retention tag
(``backend.privacy.retention_tags``) is its one source, written with the record.

Every record keeps its transmissions (ids and timings, no content): a transmission seen
before, by its stream entry or by its kind and messageIdentifier, is not applied again
(``already_applied``; docs/architecture.md#idempotent-desks).

One incident can reach a PSAP by several channels when the car falls back (a hand-over
of its Intelligent MSD, its Legal MSD, its voice call), in any order. Each transmission
keeps its channel and variant; the record says what the car finally did, the furthest
step of the chain it saw (``final_channel``), whatever arrived last; and an MSD update is
a further MSD on a channel the record already holds, which the car sends only when an
operator asks (docs/requirements.md#ecall-r1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from backend.emergency.entry_fields import EntryFields, Fields, JsonObject, RawFields, as_json
from backend.emergency.errors import MalformedEntryError
from backend.emergency.hv_handling import SERVICE as HV_SERVICE

# MINI Connected §7a (ECALL-R7): the case is kept until all procedures are closed, its
# extended technical information 30 days, the voice recording at most 24 hours; the
# catalogue holds the three rules.
CASE_SERVICE: Final = "ecall_intelligent"
EXTENDED_SERVICE: Final = "ecall_intelligent_extended"
EXTENDED_RECORD_TYPE: Final = "ecall_extended_data"
VOICE_SERVICE: Final = "ecall_intelligent_voice"
VOICE_RECORD_TYPE: Final = "ecall_voice_recording"
CaseStatus = Literal["open", "closed"]
CASE_STATUSES: Final[tuple[CaseStatus, ...]] = ("open", "closed")
# The car's fallback chain (ECALL-R1), in the order it moves along it: it never goes back.
FALLBACK_CHAIN: Final = ("intelligent", "legal", "psap_voice")


def chain_step(variant: str | None) -> int:
    """How far along the fallback chain ``variant`` is; an HV warn call, or a variant not
    kept, is a chain of its own, at its start."""
    return FALLBACK_CHAIN.index(variant) if variant in FALLBACK_CHAIN else 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Transmission:
    """One transmission as a record keeps it: ids and timings, never content.

    ``kind`` is the stream entry's kind, ``variant`` the car's call it carries
    (intelligent, legal, psap_voice, hv_warn). ``kind``, ``entry`` and ``variant`` are None
    in transmissions written before they were kept.
    """

    msg_id: int
    sent_ns: int
    received_ns: int
    latency_ms: float
    kind: str | None = None  # ecall | handover | voice | hv_warn
    entry: str | None = None  # the stream entry it came from
    variant: str | None = None

    @classmethod
    def received(cls, *, kind: str, variant: str, msg_id: int, sent_ns: int, received_ns: int,
                 entry: str) -> Transmission:
        return cls(msg_id=msg_id, sent_ns=sent_ns, received_ns=received_ns,
                   latency_ms=round((received_ns - sent_ns) / 1e6, 3), kind=kind, entry=entry,
                   variant=variant)

    @property
    def channel(self) -> str | None:
        """How it reached the desk: the car's ``intelligent`` or ``legal`` eCall, its
        ``voice`` call, its ``hv_warn`` call, or the call centre's ``handover``."""
        if self.kind == "ecall":
            return self.variant
        return self.kind

    def answers_update(self, history: Sequence[Transmission]) -> bool:
        """Is this an MSD update: a later MSD (by messageIdentifier, whatever the order of
        arrival) on a channel and variant ``history`` holds? The car sends one only when
        an operator asks; a fallback opens a new channel. Transmissions written before
        the variant was kept compare by kind."""
        return any(old.channel == self.channel and old.variant == self.variant
                   and old.msg_id < self.msg_id for old in history)

    def repeats(self, old: Transmission) -> bool:
        """Is this ``old`` again? The same stream entry, or the same kind (any, for an old
        transmission without one) and messageIdentifier."""
        return (old.entry == self.entry
                or ((old.kind is None or old.kind == self.kind) and old.msg_id == self.msg_id))

    def view(self) -> JsonObject:
        shown: JsonObject = {"msg_id": self.msg_id, "sent_ns": self.sent_ns,
                             "received_ns": self.received_ns, "latency_ms": self.latency_ms}
        if self.kind is not None:
            shown["kind"] = self.kind
        if self.entry is not None:
            shown["entry"] = self.entry
        if self.variant is not None:
            shown["variant"] = self.variant
            shown["channel"] = self.channel
        return shown

    @classmethod
    def from_view(cls, shown: object) -> Transmission:
        if not isinstance(shown, dict):
            raise MalformedEntryError("a transmission is not an object", field="transmissions",
                                      rule="JSON objects")
        try:
            kind, entry, variant = shown.get("kind"), shown.get("entry"), shown.get("variant")
            transmission = cls(msg_id=int(shown["msg_id"]), sent_ns=int(shown["sent_ns"]),
                               received_ns=int(shown["received_ns"]),
                               latency_ms=float(shown["latency_ms"]),
                               kind=None if kind is None else str(kind),
                               entry=None if entry is None else str(entry),
                               variant=None if variant is None else str(variant))
        except (KeyError, TypeError, ValueError):
            raise MalformedEntryError("a transmission lacks its ids or timings",
                                      field="transmissions",
                                      rule="msg_id, sent_ns, received_ns, latency_ms") from None
        return transmission


def already_applied(history: Sequence[Transmission], sent: Transmission) -> bool:
    """Has the record taken ``sent`` before? A Redis restart, a redelivery or a claim of an
    abandoned entry hands a desk the same transmission again, and it must not become a
    phantom update."""
    return any(sent.repeats(old) for old in history)


def _transmissions(fields: EntryFields) -> tuple[Transmission, ...]:
    return tuple(Transmission.from_view(t) for t in fields.json_list("transmissions"))


def update_flags(history: Sequence[Transmission]) -> list[bool]:
    """For each transmission, whether it is an MSD update (``answers_update``)."""
    return [sent.answers_update(history) for sent in history]


def _history_view(history: Sequence[Transmission]) -> JsonObject:
    """The transmissions as shown, each marked whether it is an update, and their count."""
    flags = update_flags(history)
    return {"transmissions": [{**t.view(), "update": flag} for t, flag in zip(
                history, flags, strict=True)],
            "updates": sum(flags)}


def _hash_of(view: JsonObject) -> Fields:
    """A record's Redis hash: its view with nested values as JSON text."""
    return {name: as_json(value) if isinstance(value, dict | list) else value
            for name, value in view.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class PsapIncident:
    """The PSAP domain's record of one incident, by the desk of the responsible PSAP.

    ``kind``, ``variant``, ``via`` and ``psap_reason`` are those of the transmission of
    what the car finally did (the furthest step of its fallback chain, the latest of
    that step), not of whatever arrived last; ``received_ns`` and ``latency_ms`` the
    first's. ``via`` is ``callcentre`` when the call centre handed that over, else
    ``direct``.
    """

    incident: str
    desk: str
    kind: str
    variant: str
    via: str
    psap_reason: str
    transmissions: tuple[Transmission, ...]
    received_ns: int
    latency_ms: float
    last_received_ns: int
    vin: str = ""
    msd: JsonObject | None = None
    extras: JsonObject | None = None

    @property
    def final_channel(self) -> str:
        """What the car finally did, as a channel: ``intelligent`` (handed over by the
        call centre), ``legal``, ``voice`` or ``hv_warn``."""
        return "voice" if self.variant == "psap_voice" else self.variant

    def view(self) -> JsonObject:
        shown: JsonObject = {
            "incident": self.incident, "desk": self.desk, "kind": self.kind,
            "variant": self.variant, "final_channel": self.final_channel, "via": self.via,
            "psap_reason": self.psap_reason, **_history_view(self.transmissions),
            "last_received_ns": self.last_received_ns,
            "received_ns": self.received_ns, "latency_ms": self.latency_ms,
        }
        if self.msd is not None:
            shown["msd"] = self.msd
        if self.extras is not None:
            shown["extras"] = self.extras
        if self.vin:
            shown["vin"] = self.vin
        return shown

    def to_fields(self) -> Fields:
        return _hash_of(self.view())

    @classmethod
    def from_fields(cls, raw: RawFields) -> PsapIncident:
        f = EntryFields(raw)
        return cls(incident=f.text("incident"), desk=f.text("desk"), kind=f.text("kind"),
                   variant=f.text("variant"), via=f.text("via"),
                   psap_reason=f.text("psap_reason"), transmissions=_transmissions(f),
                   received_ns=f.integer("received_ns"), latency_ms=f.number("latency_ms"),
                   last_received_ns=f.integer("last_received_ns"), vin=f.text("vin", ""),
                   msd=f.optional_json_object("msd"), extras=f.optional_json_object("extras"))


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceRecording:
    """The call centre's recording of an Intelligent eCall's voice call (§7a: "kan
    spraakopnames tot 24 uur bewaren"), as a reference: the platform carries no audio, so
    the record names the recording and when the call began, and the retention engine
    deletes it 24 hours later under its own rule (docs/requirements.md#ecall-r7)."""

    incident: str
    started_at: float  # epoch seconds of the call (the scenario's time when it runs one)

    @property
    def reference(self) -> str:
        return f"rec-{self.incident}"

    def view(self) -> JsonObject:
        return {"reference": self.reference, "incident": self.incident,
                "started_at": self.started_at, "audio": None}


@dataclass(frozen=True, slots=True)
class EcallDetail:
    """What an Intelligent eCall case adds: the MSD, in its JSON form. Its extended data
    lives apart (``keys.extended_key``), under its own rule."""

    SERVICE: ClassVar[str] = CASE_SERVICE
    RECORD_TYPE: ClassVar[str] = "ecall_case"

    msd: JsonObject

    def view(self) -> JsonObject:
        return {"msd": self.msd}


@dataclass(frozen=True, slots=True, kw_only=True)
class HvDetail:
    """What a High Voltage warn call case adds (HV-R2): the call's details with the
    customer's contact, and when it must be gone (HV-R4), six months after the incident."""

    SERVICE: ClassVar[str] = HV_SERVICE
    RECORD_TYPE: ClassVar[str] = "hv_warn_case"
    VARIANT: ClassVar[str] = "hv_warn"

    psap_reason: str
    extras: JsonObject
    within_warning_limit: bool
    delete_after: float

    def view(self) -> JsonObject:
        return {"variant": self.VARIANT, "psap_reason": self.psap_reason,
                "extras": self.extras, "within_warning_limit": int(self.within_warning_limit),
                "delete_after": self.delete_after}


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCentreCase:
    """One case of the OEM call centre: an Intelligent eCall or an HV warn call (``detail``).

    ``opened_ns``, ``received_ns`` and ``latency_ms`` are the first transmission's.
    ``closed_at`` (epoch seconds) is written by the API when the procedures are closed.
    """

    incident: str
    vin: str
    status: CaseStatus
    psap: str
    transmissions: tuple[Transmission, ...]
    opened_ns: int
    received_ns: int
    last_received_ns: int
    latency_ms: float
    detail: EcallDetail | HvDetail
    closed_at: float | None = None

    @property
    def service(self) -> str:
        """The catalogue entry the case is tagged with, and so its retention rule."""
        return self.detail.SERVICE

    @property
    def record_type(self) -> str:
        return self.detail.RECORD_TYPE

    def view(self) -> JsonObject:
        shown: JsonObject = {
            "incident": self.incident, "vin": self.vin, "status": self.status,
            "psap": self.psap, **_history_view(self.transmissions),
            "last_received_ns": self.last_received_ns,
            "opened_ns": self.opened_ns, "received_ns": self.received_ns,
            "latency_ms": self.latency_ms, "service": self.service, **self.detail.view(),
        }
        if self.closed_at is not None:
            shown["closed_at"] = repr(self.closed_at)  # the text the close route writes
        return shown

    def to_fields(self) -> Fields:
        return _hash_of(self.view())

    @classmethod
    def from_fields(cls, raw: RawFields) -> CallCentreCase:
        """A stored case; one whose ``variant`` is hv_warn is an HV warn call's."""
        f = EntryFields(raw)
        detail: EcallDetail | HvDetail
        variant = f.one_of("variant", ("intelligent", HvDetail.VARIANT), "intelligent")
        if variant == HvDetail.VARIANT:
            detail = HvDetail(psap_reason=f.text("psap_reason"), extras=f.json_object("extras"),
                              within_warning_limit=bool(f.integer("within_warning_limit")),
                              delete_after=f.number("delete_after"))
        else:
            detail = EcallDetail(f.json_object("msd"))
        return cls(incident=f.text("incident"), vin=f.text("vin"),
                   status=f.one_of("status", CASE_STATUSES),
                   psap=f.text("psap"), transmissions=_transmissions(f),
                   opened_ns=f.integer("opened_ns"), received_ns=f.integer("received_ns"),
                   last_received_ns=f.integer("last_received_ns"),
                   latency_ms=f.number("latency_ms"), detail=detail,
                   closed_at=f.number("closed_at") if f.has("closed_at") else None)
