"""The parties' desks: consumers of the durable intake streams (loop in ``desk_loop``).

* The PSAP desks stand for the public authority's systems and write only to the PSAP
  database. They decode the MSD themselves, as a real PSAP does.
* The call-centre desk opens an Intelligent eCall case in the OEM database (tagged with
  its retention rule, so the retention engine can attach to it) and hands the incident
  over to the PSAP responsible for the position. It takes the MSD as the relay decoded
  it, in the entry: the OEM's own MSD is not decoded twice on its way.

What a desk makes of an entry is decided by the pure functions here
(``next_psap_incident``, ``next_case``, ``hv_case``); the stores
(``backend.emergency.edges``) run them against the stored record in one step.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from backend.emergency.desk_loop import Clock, DeskConsumer, StreamSpec
from backend.emergency.edges import (
    CallCentreCases,
    CustomerContacts,
    Intake,
    PsapIncidents,
    StreamAppender,
)
from backend.emergency.entries import (
    CallCentreEntry,
    EcallEntry,
    HandOver,
    HvWarnEntry,
    PsapEntry,
    VoiceEntry,
    callcentre_entry,
    psap_entry,
)
from backend.emergency.entry_fields import JsonObject
from backend.emergency.hv_handling import Customer, HvHandover, hand_over
from backend.emergency.psap_directory import desks as psap_desks
from backend.emergency.records import (
    CallCentreCase,
    EcallDetail,
    HvDetail,
    PsapIncident,
    Transmission,
    VoiceRecording,
    already_applied,
    chain_step,
)
from backend.infra import keys, metrics
from backend.infra.counters import Counters
from protocols.clock import Clock as TimeSource
from protocols.clock import RealClock
from protocols.errors import EnvelopeError
from protocols.msd.codec import decode_msd
from protocols.msd.jsonform import msd_to_json


def check_owner(owner: str, vin: str, incident: str) -> None:
    """An incident belongs to the car that opened it: another VIN reusing its id is
    refused (parked and counted), never merged into it or allowed to move it."""
    if owner and vin and owner != vin:
        raise EnvelopeError(f"incident {incident} was opened by another vehicle", field="vin",
                            rule="== the vehicle that opened the incident")


def _history(existing: PsapIncident | CallCentreCase | None, vin: str,
             sent: Transmission) -> tuple[Transmission, ...] | None:
    """The record's transmissions with ``sent``, or None when it was applied before."""
    if existing is None:
        return (sent,)
    check_owner(existing.vin, vin, existing.incident)
    if already_applied(existing.transmissions, sent):
        return None
    return (*existing.transmissions, sent)


def call_variant(entry: PsapEntry | CallCentreEntry) -> str:
    """The car's call an entry carries: its eCall variant, a voice call or an HV warn call."""
    if isinstance(entry, VoiceEntry):
        return "psap_voice"
    if isinstance(entry, HvWarnEntry):
        return HvDetail.VARIANT
    return entry.variant


def _sent(entry: PsapEntry | CallCentreEntry, received_ns: int, entry_id: str) -> Transmission:
    return Transmission.received(kind=entry.KIND, variant=call_variant(entry),
                                 msg_id=entry.msg_id, sent_ns=entry.sent_ns,
                                 received_ns=received_ns, entry=entry_id)


def _freshest_msd(existing: PsapIncident, sent: Transmission,
                  msd: JsonObject | None) -> JsonObject | None:
    """The MSD of the highest messageIdentifier: the car numbers every MSD of an incident
    in order, fallbacks included, so a late hand-over of MSD #1 does not replace #2."""
    if msd is None:
        return existing.msd
    held = [t.msg_id for t in existing.transmissions if t.kind in ("ecall", "handover")]
    fresher = existing.msd is None or not held or sent.msg_id > max(held)
    return msd if fresher else existing.msd


def next_psap_incident(existing: PsapIncident | None, *, entry: PsapEntry, desk: str,
                       sent: Transmission, msd: JsonObject | None, extras: JsonObject | None,
                       vin: str) -> PsapIncident | None:
    """The PSAP record once ``entry`` is applied to ``existing``; None if it was before.

    ``msd`` is the entry's MSD as this desk decoded it, ``vin`` the car's as far as the
    entry tells (the MSD's, or an HV warn call's details); what the entry lacks, the
    record keeps from before, and the MSD is the freshest one. The record's kind,
    variant, route and reason are those of what the car finally did: a transmission of
    an earlier step of the fallback chain that arrives late (a hand-over of the
    Intelligent MSD after the voice call) joins the history and changes none of them.
    The first transmission's timings stay the record's own.
    """
    history = _history(existing, vin, sent)
    if history is None:
        return None
    kind, variant = entry.KIND, call_variant(entry)
    via = "callcentre" if isinstance(entry, HandOver) else "direct"
    reason = entry.psap_reason
    if existing is not None:
        vin = vin or existing.vin
        msd = _freshest_msd(existing, sent, msd)
        extras = existing.extras if extras is None else extras
        if chain_step(existing.variant) > chain_step(variant):
            kind, variant, via, reason = (existing.kind, existing.variant, existing.via,
                                          existing.psap_reason)
    return PsapIncident(
        incident=entry.incident, desk=desk, kind=kind, variant=variant, via=via,
        psap_reason=reason, transmissions=history,
        received_ns=history[0].received_ns, latency_ms=history[0].latency_ms,
        last_received_ns=max(sent.received_ns, existing.last_received_ns if existing else 0),
        vin=vin, msd=msd, extras=extras)


def next_case(existing: CallCentreCase | None, *, entry: EcallEntry, msd: JsonObject,
              sent: Transmission) -> CallCentreCase | None:
    """The Intelligent eCall case once ``entry`` (its MSD ``msd``) is applied; None if it
    was before. Every transmission marks the case open, as it always has."""
    history = _history(existing, entry.vin, sent)
    if history is None:
        return None
    first = history[0]
    return CallCentreCase(
        incident=entry.incident, vin=entry.vin, status="open", psap=entry.psap,
        transmissions=history, detail=EcallDetail(msd), opened_ns=first.received_ns,
        received_ns=first.received_ns, latency_ms=first.latency_ms,
        last_received_ns=sent.received_ns,
        closed_at=existing.closed_at if existing is not None else None)


def _extras_of(entry: PsapEntry) -> JsonObject | None:
    if isinstance(entry, HandOver):
        return entry.extras
    if isinstance(entry, EcallEntry) and entry.extras is not None:
        return asdict(entry.extras)
    return None


def hv_details(handover: HvHandover) -> JsonObject:
    """The warn call's §2b fields with the customer's contact data (HV-R2)."""
    contact = asdict(handover.customer) if handover.customer is not None else None
    return {**asdict(handover.call), "contact": contact}


def hv_case(handover: HvHandover, sent: Transmission) -> CallCentreCase:
    """The case of an HV warn call; kept six months after the incident (HV-R4)."""
    call = handover.call
    return CallCentreCase(
        incident=call.incident, vin=call.vin, status="open", psap=handover.desk,
        transmissions=(sent,), opened_ns=sent.received_ns, received_ns=sent.received_ns,
        last_received_ns=sent.received_ns, latency_ms=sent.latency_ms,
        detail=HvDetail(psap_reason=handover.psap_reason, extras=hv_details(handover),
                        within_warning_limit=handover.within_warning_limit,
                        delete_after=handover.delete_after))


class NoContacts:
    """A call centre without customer profiles: every HV warn call lacks a contact."""

    async def contact(self, vin: str) -> Customer | None:
        return None


class PsapDesks(DeskConsumer):
    """All PSAP desks of the directory, one stream each, in the PSAP database."""

    def __init__(self, intake: Intake, incidents: PsapIncidents, *, consumer: str,
                 counters: Counters, clock_ns: Clock = time.time_ns,
                 desk_names: Sequence[str] | None = None) -> None:
        names = list(desk_names or psap_desks())
        super().__init__(intake, [StreamSpec(keys.psap_stream(d), keys.PSAP_GROUP) for d in names],
                         consumer=consumer, counters=counters, clock_ns=clock_ns)
        self._incidents = incidents

    async def record(self, stream: str, entry_id: str, fields: Mapping[bytes, bytes],
                     received_ns: int) -> None:
        entry = psap_entry(fields)
        desk = stream.removeprefix(keys.PSAP_STREAM_PREFIX)
        sent = _sent(entry, received_ns, entry_id)
        # Decoded before the transaction: a malformed MSD is parked, never half-written.
        decoded = None if isinstance(entry, VoiceEntry) or not entry.msd else decode_msd(entry.msd)
        msd = msd_to_json(decoded) if decoded is not None else None
        extras = _extras_of(entry)
        vin = decoded.vin if decoded is not None else str((extras or {}).get("vin", ""))
        applied = await self._incidents.apply(entry.incident, lambda existing: next_psap_incident(
            existing, entry=entry, desk=desk, sent=sent, msd=msd, extras=extras, vin=vin))
        if applied:
            self._counters.bump(keys.DESK_COUNTERS, f"{desk}:{entry.KIND}")
            metrics.ECALL_LATENCY.labels(sent.variant or "unknown", desk).observe(
                sent.latency_ms / 1e3)


class CallCentreDesk(DeskConsumer):
    """The OEM call centre: opens Intelligent eCall and HV warn cases, hands them to the PSAP.

    Its intake stream is transit only: the case holds the data under its rule, and a
    copy left in the stream would outlive the case's deletion.
    """

    transit_only = True

    def __init__(self, intake: Intake, cases: CallCentreCases, psap: StreamAppender, *,
                 consumer: str, counters: Counters, clock_ns: Clock = time.time_ns,
                 customers: CustomerContacts | None = None,
                 time_source: TimeSource | None = None) -> None:
        super().__init__(intake, [StreamSpec(keys.CALLCENTRE_STREAM, keys.CALLCENTRE_GROUP)],
                         consumer=consumer, counters=counters, clock_ns=clock_ns)
        self._cases = cases
        self._psap = psap
        self._customers = customers or NoContacts()
        # Retention runs on the scenario's time when one is announced; latency never does.
        self._time = time_source or RealClock()

    async def record(self, stream: str, entry_id: str, fields: Mapping[bytes, bytes],
                     received_ns: int) -> None:
        entry = callcentre_entry(fields)
        if isinstance(entry, HvWarnEntry):
            await self._hv_warn(entry, received_ns, entry_id)
            return
        sent = _sent(entry, received_ns, entry_id)
        msd = entry.decoded_msd()
        now = self._time.now()
        # The agent's voice call with the car begins as the case opens; it is recorded.
        applied = await self._cases.apply(
            entry.incident, lambda existing: next_case(existing, entry=entry, msd=msd, sent=sent),
            extended=entry.extras, written_at=now,
            recording=VoiceRecording(incident=entry.incident, started_at=now))
        # The hand-over is sent again even when the case was applied before: a desk that
        # died between the two steps must not leave the PSAP without it (append_once
        # de-duplicates).
        await self._hand_over(entry.psap, entry.vin, HandOver(
            variant="intelligent", incident=entry.incident, msg_id=entry.msg_id,
            sent_ns=entry.sent_ns, psap_reason=entry.psap_reason, msd=entry.msd,
            extras=asdict(entry.extras) if entry.extras is not None else None))
        if applied:
            self._counters.bump(keys.DESK_COUNTERS, "callcentre:case")

    async def _hv_warn(self, entry: HvWarnEntry, received_ns: int, entry_id: str) -> None:
        """MINI Connected §2b (HV-R2): add the customer's contact data, pass it to the PSAP."""
        call = entry.call
        # The call's own time plus its transit: scenario time when the car runs on one.
        now = call.timestamp + max(0, received_ns - call.sent_ns) / 1e9
        handover = hand_over(call, await self._customers.contact(call.vin), now=now)
        case = hv_case(handover, _sent(entry, received_ns, entry_id))
        # One warn call is one case: a second delivery of the entry changes nothing.
        applied = await self._cases.create_once(case, written_at=call.timestamp)
        await self._hand_over(handover.desk, call.vin, HandOver(
            variant="hv_warn", incident=call.incident, msg_id=entry.msg_id, sent_ns=call.sent_ns,
            psap_reason=handover.psap_reason, extras=hv_details(handover)))
        if applied:
            self._counters.bump(keys.DESK_COUNTERS, "callcentre:hv_warn")

    async def _hand_over(self, desk: str, vin: str, handover: HandOver) -> None:
        """Append to the PSAP's stream once per transmission (keyed ``cc-{incident}``)."""
        dedup = keys.psap_dedup_key(vin, f"cc-{handover.incident}", handover.msg_id)
        await self._psap.append_once(keys.psap_stream(desk), dedup, handover.to_fields())
