"""The emergency lane: check every eCall, hand it on durably, acknowledge it to the car.

High-voltage warn calls, also safety calls, ride the same lane to the call centre.
Legal eCall and PSAP (voice) eCall are relayed to the PSAP domain and nothing of them is
kept on the OEM side (MINI Connected §7b/§7c, ECALL-R5, ECALL-R9: "geen gegevens verwerkt of
opgeslagen"): the de-duplication key lives in the PSAP database, and logs carry incident ids
and timings only. Intelligent eCall goes to the OEM call centre's intake stream.

The car is acknowledged only after Redis has taken the entry, so an acknowledgement
means "a desk will see it even if this worker dies now". Redis errors are retried with
backoff until the entry is taken; the MQTT PUBACK waits for that too, so neither a
Redis restart nor a worker crash loses the message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from backend.emergency.edges import BrokerLink, StreamAppender
from backend.emergency.entries import HV_MSG_ID, VOICE_MSG_ID, EcallEntry, HvWarnEntry, VoiceEntry
from backend.emergency.entry_fields import Fields
from backend.emergency.psap_directory import PsapChoice, responsible_psap
from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.redis_retry import until_redis_takes
from backend.infra.rejection_replies import Refusals
from protocols.consistency import (
    ECALL_KIND_RULE,
    VOICE_KIND_RULE,
    check_ecall_topic,
    check_msd_matches,
    check_topic_vin,
)
from protocols.envelope import (
    ECALL_ENVELOPE_BOUND,
    EcallAck,
    EcallMessage,
    VoiceCall,
    pack,
    unpack,
)
from protocols.errors import EnvelopeError, ProtocolError
from protocols.hv import HV_CALL_BOUND, HvWarnCall, unpack_hv_call
from protocols.msd.codec import decode_msd
from protocols.msd.model import LOCATION_UNKNOWN, Msd
from protocols.size_bounds import SizeBound, within
from protocols.topics import ecall_ack_topic, hv_ack_topic, parse_topic

log = logging.getLogger(__name__)

CALLCENTRE_DESK: Final = "callcentre"


@dataclass(frozen=True, slots=True)
class Hop:
    """Where an eCall goes: the stream of one database, and the desk it stands for."""

    domain: str  # "oem" | "psap"
    stream: str
    dedup_key: str
    desk: str


def psap_for(msd: Msd, network_country: str) -> PsapChoice:
    """The PSAP responsible for the MSD's position (rule in ``psap_directory``)."""
    loc = msd.location
    valid = (
        loc.latitude != LOCATION_UNKNOWN
        and loc.longitude != LOCATION_UNKNOWN
        and (loc.latitude, loc.longitude) != (0, 0)
    )
    if not valid:
        return responsible_psap(None, None, network_country=network_country)
    return responsible_psap(loc.latitude_deg, loc.longitude_deg, network_country=network_country)


def ecall_hop(message: EcallMessage, choice: PsapChoice) -> Hop:
    """Pure routing: Intelligent → call centre; Legal → the responsible PSAP."""
    if message.variant == "intelligent":
        return Hop("oem", keys.CALLCENTRE_STREAM,
                   keys.oem_dedup_key(message.vin, message.incident, message.msg_id),
                   CALLCENTRE_DESK)
    desk = choice.psap.desk
    return Hop("psap", keys.psap_stream(desk),
               keys.psap_dedup_key(message.vin, message.incident, message.msg_id), desk)


# (service, vin, bytes, at): meter a safety call the OEM stores; flags, never rejects.
SafetyMeter = Callable[[str, str, int, float], Awaitable[object]]
FLAGGED_COUNTERS: Final = "metrics:budget-flags"


class EmergencyRelay:
    """Handles one emergency-lane message end to end; never raises for bad input."""

    def __init__(self, *, oem: StreamAppender, psap: StreamAppender, broker: BrokerLink,
                 counters: Counters, clock_ns: Callable[[], int] = time.time_ns,
                 meter: SafetyMeter | None = None, refusals: Refusals | None = None) -> None:
        self._writers = {"oem": oem, "psap": psap}
        self._broker = broker
        self._counters = counters
        self._clock_ns = clock_ns
        self._meter = meter
        self._refusals = refusals or Refusals(broker.publish, counters)

    async def handle(self, topic: str, payload: bytes) -> None:
        try:
            parsed = parse_topic(topic)
            if parsed.kind == "hv_warn":
                call = await self._hv_warn(parsed.vin, payload)
                await self._account("hv_warn_call", call.vin, len(payload), call.timestamp,
                                    bound=HV_CALL_BOUND)
                return
            envelope = unpack(payload)
            if parsed.kind == "ecall":
                if not isinstance(envelope, EcallMessage):
                    raise EnvelopeError("eCall topic without an eCall envelope", field="k",
                                        rule=ECALL_KIND_RULE)
                at = await self._ecall(parsed.vin, parsed.variant or "", envelope)
                # Legal eCall data is not the OEM's to keep (ECALL-R5): it is only
                # checked against its budget, never metered per vehicle.
                service = "ecall_intelligent" if envelope.variant == "intelligent" else ""
                await self._account(service, envelope.vin, len(payload), at,
                                    bound=ECALL_ENVELOPE_BOUND, variant=envelope.variant)
            elif parsed.kind == "voice":
                if not isinstance(envelope, VoiceCall):
                    raise EnvelopeError("voice topic without a voice envelope", field="k",
                                        rule=VOICE_KIND_RULE)
                await self._voice(parsed.country, envelope)
            else:
                raise EnvelopeError(f"{parsed.kind} is not an emergency topic", field="topic",
                                    rule="emergency lane")
        except ProtocolError as exc:
            self.refuse(topic, payload, exc)

    def refuse(self, topic: str, payload: bytes, exc: ProtocolError) -> None:
        """The lane's rejection branch: count the refusal and answer the car with its
        field and rule; a refused safety call is never acknowledged."""
        self._counters.reject(exc, lane="emergency")
        self._refusals.answer(topic, payload, exc)

    async def _account(self, service: str, vin: str, size: int, at: float, *,
                       bound: SizeBound, variant: str = "") -> None:
        """After the acknowledgement: count a safety call against its budget, flag it if
        over, never drop it. A metering failure costs the count, not the call.

        Over is ``not within(bound, size)``, the reading the car and the meter use
        (docs/requirements.md#conv-bounds): a 1,000-byte eCall is over "< 1 KB" here too."""
        if not within(bound, size):
            self._counters.bump(FLAGGED_COUNTERS, f"{service or variant}:message_over_budget")
            log.warning("%s safety call of %d bytes is over its bound (%s); relayed and "
                        "flagged", service or variant, size, bound.rule)
        if not service or self._meter is None:
            return
        try:
            await self._meter(service, vin, size, at)
        except Exception:  # the call is already handed off and acknowledged
            log.exception("metering %s failed", service)
            self._counters.bump(keys.ERROR_COUNTERS, "budget:meter_failed")

    async def _ecall(self, vin: str, variant: str, message: EcallMessage) -> float:
        check_ecall_topic(vin, variant, message)
        msd = decode_msd(message.msd)
        check_msd_matches(message, msd)
        choice = psap_for(msd, message.network_country)
        hop = ecall_hop(message, choice)
        entry = EcallEntry.of(message, msd, choice, self._clock_ns())
        appended = await self._hand_off(hop, entry.to_fields())
        self._counters.bump(keys.INGEST_COUNTERS,
                            f"{message.variant}:{'new' if appended else 'dup'}")
        # Ack duplicates too: the car may have missed the first acknowledgement.
        ack = EcallAck(message.incident, message.msg_id, hop.desk, self._clock_ns())
        self._broker.publish(ecall_ack_topic(message.vin), pack(ack))
        log.info("ecall incident=%s msg=%d -> %s in %.3f ms", message.incident, message.msg_id,
                 hop.desk, (self._clock_ns() - message.sent_ns) / 1e6)
        return float(msd.timestamp)

    async def _hv_warn(self, vin: str, payload: bytes) -> HvWarnCall:
        """A high-voltage warn call goes to the OEM call centre at once (HV-R2)."""
        call = unpack_hv_call(payload)
        check_topic_vin(vin, call.vin)
        hop = Hop("oem", keys.CALLCENTRE_STREAM, keys.oem_dedup_key(call.vin, call.incident, 0),
                  CALLCENTRE_DESK)
        entry = HvWarnEntry(call=call, record=payload, relay_ns=self._clock_ns())
        appended = await self._hand_off(hop, entry.to_fields())
        self._counters.bump(keys.INGEST_COUNTERS, f"hv_warn:{'new' if appended else 'dup'}")
        ack = EcallAck(call.incident, HV_MSG_ID, hop.desk, self._clock_ns())
        self._broker.publish(hv_ack_topic(vin), pack(ack))
        return call

    async def _voice(self, country: str, call: VoiceCall) -> None:
        choice = responsible_psap(None, None, network_country=country)
        desk = choice.psap.desk
        hop = Hop("psap", keys.psap_stream(desk),
                  keys.psap_dedup_key("", call.call, VOICE_MSG_ID), desk)
        entry = VoiceEntry(incident=call.call, sent_ns=call.sent_ns, relay_ns=self._clock_ns(),
                           psap=desk, psap_reason=choice.reason)
        appended = await self._hand_off(hop, entry.to_fields())
        self._counters.bump(keys.INGEST_COUNTERS, f"voice:{'new' if appended else 'dup'}")

    async def _hand_off(self, hop: Hop, fields: Fields) -> str | None:
        """Append until Redis takes it; a safety message is never dropped for a Redis outage."""
        writer = self._writers[hop.domain]
        return await until_redis_takes(
            lambda: writer.append_once(hop.stream, hop.dedup_key, fields),
            counters=self._counters, what="handoff")
