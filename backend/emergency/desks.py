"""The parties' desks: consumers of the durable intake streams.

Each desk reads its stream through a consumer group and acknowledges (XACK) an entry
only after it has recorded it, so a desk that restarts finds its pending incidents:
on start it first reads its own pending entries (id ``0``), then new ones (``>``).

* The PSAP desks stand for the public authority's systems and write only to the PSAP
  database. They decode the MSD themselves, as a real PSAP does.
* The call-centre desk opens an Intelligent eCall case in the OEM database (tagged with
  its retention rules, so the retention engine can attach to it) and hands the
  incident over to the PSAP responsible for the position.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Final, Protocol, TypedDict, cast

import msgpack
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.typing import EncodableT

from backend.emergency.hv_handling import CustomerDirectory, hand_over
from backend.emergency.psap_directory import desks as psap_desks
from backend.infra import keys
from backend.infra.counters import Counters
from backend.infra.errors import StoreBusyError
from backend.infra.redis_once import create_once, under_watch
from backend.infra.redis_retry import WAITED_OUT
from backend.infra.streams import StreamWriter, ensure_group
from backend.privacy.retention_tags import tag_record
from protocols.clock import Clock as TimeSource
from protocols.clock import RealClock
from protocols.errors import EnvelopeError, ProtocolError
from protocols.hv import unpack_hv_call
from protocols.msd.codec import decode_msd
from protocols.msd.jsonform import msd_to_json

log = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes]]
ReadGroupReply = list[tuple[bytes, list[Entry]]] | None
Record = dict[EncodableT, EncodableT]
Clock = Callable[[], int]
# MINI Connected §7a (ECALL-R7): extended technical information is stored for 30 days; voice
# recordings at most 24 hours; the case itself until all procedures are closed.
CASE_SERVICE: Final = "ecall_intelligent"  # kept until the procedures are closed (§7a)
EXTENDED_SERVICE: Final = "ecall_intelligent_extended"  # 30 days (§7a)
CLAIM_IDLE_MS: Final = 30_000


def _busy(key: str) -> Callable[[], Exception]:
    """A record that kept changing: the entry stays pending and is read again (the loop
    waits it out like a Redis outage), never parked."""
    return lambda: StoreBusyError(f"{key} kept changing during the transaction")


def _text(fields: Mapping[bytes, bytes], name: str, default: str = "") -> str:
    value = fields.get(name.encode())
    return value.decode() if value is not None else default


def _int(fields: Mapping[bytes, bytes], name: str) -> int:
    return int(fields.get(name.encode(), b"0"))


class Transmission(TypedDict):
    msg_id: int
    sent_ns: int
    received_ns: int
    latency_ms: float
    kind: str  # ecall | handover | voice | hv_warn
    entry: str  # the stream entry it came from


def transmission(fields: Mapping[bytes, bytes], received_ns: int, entry_id: bytes) -> Transmission:
    """One MSD transmission as a desk records it: ids and timings, no content."""
    sent_ns = _int(fields, "sent_ns")
    return {
        "msg_id": _int(fields, "msg_id"),
        "sent_ns": sent_ns,
        "received_ns": received_ns,
        "latency_ms": round((received_ns - sent_ns) / 1e6, 3),
        "kind": _text(fields, "kind"),
        "entry": entry_id.decode(),
    }


def already_applied(history: Sequence[Mapping[str, object]], sent: Transmission) -> bool:
    """Has the record taken this transmission before? By its stream entry, or by its kind
    and messageIdentifier: a Redis restart, a redelivery or a claim of an abandoned entry
    hands a desk the same transmission again, and it must not become a phantom update."""
    return any(old.get("entry") == sent["entry"]
               or (old.get("kind", sent["kind"]) == sent["kind"]
                   and old.get("msg_id") == sent["msg_id"])
               for old in history)


def _history(raw: bytes | str | None) -> list[dict[str, object]]:
    return cast(list[dict[str, object]], json.loads(raw)) if raw else []


def _check_owner(owner: bytes | str | None, vin: str, incident: str) -> None:
    """An incident belongs to the car that opened it: another VIN reusing its id is
    refused (parked and counted), never merged into it or allowed to move it."""
    if owner and vin and (owner.decode() if isinstance(owner, bytes) else owner) != vin:
        raise EnvelopeError(f"incident {incident} was opened by another vehicle", field="vin",
                            rule="== the vehicle that opened the incident")


async def _open_history(pipe: Pipeline, key: str, *, vin: str, incident: str,
                        sent: Transmission) -> tuple[list[dict[str, object]], bool] | None:
    """Inside a WATCH on ``key``: the record's transmissions and whether it exists, or None
    when ``sent`` was applied already; another vehicle's transmission is refused."""
    existing, owner = await pipe.hmget(key, ["transmissions", "vin"])
    _check_owner(owner, vin, incident)
    history = _history(existing)
    if already_applied(history, sent):
        return None
    return history, existing is not None


class Proof(Protocol):
    """What a desk loop tells about itself (``backend.infra.readiness.PartProver``)."""

    async def prove(self) -> None: ...

    def alive(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamSpec:
    stream: str
    group: str


class DeskConsumer:
    """Reads one or more streams of a group, pending first, and hands entries to ``record``.

    ``transit_only`` streams are queues, not stores: an entry is deleted once recorded,
    so nothing of it outlives the record and its retention rule.
    """

    transit_only = False
    prover: Proof | None = None

    def __init__(self, redis: Redis, specs: Sequence[StreamSpec], *, consumer: str,
                 counters: Counters, clock_ns: Clock = time.time_ns) -> None:
        self._redis = redis
        self._specs = list(specs)
        self._consumer = consumer
        self._counters = counters
        self._clock_ns = clock_ns

    async def setup(self) -> None:
        for spec in self._specs:
            await ensure_group(self._redis, spec.stream, spec.group)

    async def record(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes],
                     received_ns: int) -> None:
        raise NotImplementedError

    async def drain(self, *, pending: bool, block_ms: int | None) -> int:
        """Read and record one batch per group; return how many entries were handled."""
        handled = 0
        groups: dict[str, dict[str, str]] = {}
        for spec in self._specs:
            groups.setdefault(spec.group, {})[spec.stream] = "0" if pending else ">"
        for group, streams in groups.items():
            batches = cast(ReadGroupReply, await self._redis.xreadgroup(
                group, self._consumer, streams, count=100, block=block_ms))  # type: ignore[arg-type]
            received_ns = self._clock_ns()
            for raw_stream, entries in batches or []:
                stream = raw_stream.decode()
                for entry_id, fields in entries:
                    if not fields:  # already deleted while pending
                        await self._redis.xack(stream, group, entry_id)
                        continue
                    await self._record_safely(stream, group, entry_id, fields, received_ns)
                    handled += 1
        return handled

    async def _record_safely(self, stream: str, group: str, entry_id: bytes,
                             fields: dict[bytes, bytes], received_ns: int) -> None:
        """Record, then XACK; an entry that cannot be recorded is parked, never retried forever.

        Redis errors and ``StoreBusyError`` propagate (the entry stays pending and is read
        again after reconnecting). Anything else would fail again on every restart, so the entry is
        copied to ``{stream}:dead`` for inspection, counted, and acknowledged.
        """
        try:
            await self.record(stream, entry_id, fields, received_ns)
        except WAITED_OUT:
            raise
        except ProtocolError as exc:
            self._counters.bump(keys.ERROR_COUNTERS, f"desk:{exc.field}:{exc.rule}")
            log.warning("desk parked malformed entry %s: field=%s rule=%s", entry_id.decode(),
                        exc.field, exc.rule)
            await self._park(stream, entry_id, fields, f"{exc.field}: {exc.rule}")
        except Exception as exc:
            self._counters.bump(keys.ERROR_COUNTERS, f"desk:unreadable:{type(exc).__name__}")
            log.warning("desk parked unreadable entry %s (%s)", entry_id.decode(),
                        type(exc).__name__)
            await self._park(stream, entry_id, fields, type(exc).__name__)
        await self._redis.xack(stream, group, entry_id)
        if self.transit_only:
            await self._redis.xdel(stream, entry_id)

    async def _park(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes],
                    reason: str) -> None:
        parked: dict[EncodableT, EncodableT] = {b"entry": entry_id, b"reason": reason}
        for name, value in fields.items():
            parked[name] = value
        await self._redis.xadd(f"{stream}:dead", parked, maxlen=10_000, approximate=True)

    async def claim_abandoned(self) -> int:
        """Take over entries another consumer of the group read but never acknowledged.

        A desk worker that died for good leaves its pending entries behind; after
        ``CLAIM_IDLE_MS`` any live desk records them.
        """
        handled = 0
        for spec in self._specs:
            reply = await self._redis.xautoclaim(spec.stream, spec.group, self._consumer,
                                                 min_idle_time=CLAIM_IDLE_MS, count=100)
            received_ns = self._clock_ns()
            for entry_id, fields in reply[1]:
                if fields:
                    await self._record_safely(spec.stream, spec.group, entry_id, fields,
                                              received_ns)
                    handled += 1
        return handled

    async def run(self, stop: asyncio.Event) -> None:
        """Recover pending entries, then consume until ``stop`` is set; survive Redis restarts."""
        delay = 0.05
        recovered = False
        last_claim = time.monotonic()
        while not stop.is_set():
            try:
                if not recovered:
                    await self.setup()
                    while await self.drain(pending=True, block_ms=None):
                        pass
                    await self.claim_abandoned()
                    recovered = True
                    last_claim = time.monotonic()
                await self.drain(pending=False, block_ms=500)
                if time.monotonic() - last_claim > CLAIM_IDLE_MS / 1000:
                    await self.claim_abandoned()
                    last_claim = time.monotonic()
                delay = 0.05
                if self.prover is not None:
                    await self.prover.prove()
            except WAITED_OUT as exc:
                if self.prover is not None:
                    self.prover.alive()  # not hung: waiting for Redis, which a restart won't mend
                recovered = False
                log.warning("desk lost Redis (%s); retrying in %.2fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)


class PsapDesks(DeskConsumer):
    """All PSAP desks of the directory, one stream each, in the PSAP database."""

    def __init__(self, psap: Redis, *, consumer: str, counters: Counters,
                 clock_ns: Clock = time.time_ns, desk_names: Sequence[str] | None = None) -> None:
        names = list(desk_names or psap_desks())
        super().__init__(psap, [StreamSpec(keys.psap_stream(d), keys.PSAP_GROUP) for d in names],
                         consumer=consumer, counters=counters, clock_ns=clock_ns)

    async def record(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes],
                     received_ns: int) -> None:
        desk = stream.removeprefix(keys.PSAP_STREAM_PREFIX)
        incident = _text(fields, "incident")
        kind = _text(fields, "kind")
        key = keys.psap_incident_key(incident)
        sent = transmission(fields, received_ns, entry_id)
        msd = fields.get(b"msd")
        # Decoded before the transaction: a malformed MSD is parked, never half-written.
        decoded = decode_msd(msd) if msd else None
        msd_json = json.dumps(msd_to_json(decoded)) if decoded is not None else None
        extras = fields.get(b"extras")
        extras_data = msgpack.unpackb(extras) if extras else None
        extras_json = json.dumps(extras_data) if extras is not None else None
        vin = decoded.vin if decoded is not None else (
            str(extras_data.get("vin", "")) if isinstance(extras_data, dict) else "")

        async def write(pipe: Pipeline) -> bool:
            opened = await _open_history(pipe, key, vin=vin, incident=incident, sent=sent)
            if opened is None:
                return False
            history, existing = opened
            pipe.multi()  # type: ignore[no-untyped-call]
            record = self._psap_record(
                fields, desk=desk, incident=incident, kind=kind, sent=sent,
                history=[*history, sent], first=not existing, msd_json=msd_json,
                extras_json=extras_json)
            if vin:
                record["vin"] = vin
            pipe.hset(key, mapping=record)
            pipe.zadd(keys.psap_index(desk), {incident: received_ns}, nx=True)
            await pipe.execute()
            return True

        if await under_watch(self._redis, key, write, give_up=_busy(key)):
            self._counters.bump("metrics:desks", f"{desk}:{kind}")

    @staticmethod
    def _psap_record(fields: Mapping[bytes, bytes], *, desk: str, incident: str, kind: str,
                     sent: Transmission, history: list[object], first: bool,
                     msd_json: str | None, extras_json: str | None) -> Record:
        received_ns = sent["received_ns"]
        record: Record = {
            "incident": incident, "desk": desk, "kind": kind,
            "variant": _text(fields, "variant", "psap_voice"),
            "via": "callcentre" if kind == "handover" else "direct",
            "psap_reason": _text(fields, "psap_reason"),
            "transmissions": json.dumps(history),
            "updates": len(history) - 1,
            "last_received_ns": received_ns,
        }
        if first:
            record |= {"received_ns": received_ns, "latency_ms": sent["latency_ms"]}
        if msd_json is not None:
            record["msd"] = msd_json
        if extras_json is not None:
            record["extras"] = extras_json
        return record


class CallCentreDesk(DeskConsumer):
    """The OEM call centre: opens Intelligent eCall and HV warn cases, hands them to the PSAP.

    Its intake stream is transit only: the case holds the data under its rule, and a
    copy left in the stream would outlive the case's deletion.
    """

    transit_only = True

    def __init__(self, oem: Redis, psap: StreamWriter, *, consumer: str, counters: Counters,
                 clock_ns: Clock = time.time_ns,
                 customers: CustomerDirectory | None = None,
                 time_source: TimeSource | None = None) -> None:
        super().__init__(oem, [StreamSpec(keys.CALLCENTRE_STREAM, keys.CALLCENTRE_GROUP)],
                         consumer=consumer, counters=counters, clock_ns=clock_ns)
        self._psap = psap
        self._customers = customers or CustomerDirectory()
        # Retention runs on the scenario's time when one is announced; latency never does.
        self._time = time_source or RealClock()

    async def record(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes],
                     received_ns: int) -> None:
        if _text(fields, "kind") == "hv_warn":
            await self._hv_warn(fields, received_ns, entry_id)
            return
        incident = _text(fields, "incident")
        key = keys.case_key(incident)
        sent = transmission(fields, received_ns, entry_id)
        msd_json = json.dumps(msd_to_json(decode_msd(fields[b"msd"])))
        extras = fields.get(b"extras")
        now = self._time.now()
        vin = _text(fields, "vin")

        async def write(pipe: Pipeline) -> bool:
            opened = await _open_history(pipe, key, vin=vin, incident=incident, sent=sent)
            if opened is None:
                return False
            history, existing = opened
            has_extended = bool(await pipe.exists(keys.extended_key(incident)))
            history.append(cast(dict[str, object], sent))
            case: Record = {
                "incident": incident, "vin": vin, "status": "open",
                "psap": _text(fields, "psap"), "msd": msd_json,
                "transmissions": json.dumps(history), "updates": len(history) - 1,
                "last_received_ns": received_ns,
            }
            if not existing:
                case |= {
                    "opened_ns": received_ns, "received_ns": received_ns,
                    "latency_ms": sent["latency_ms"],
                    "service": CASE_SERVICE, "retention_rule": "until_closed",
                }
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.hset(key, mapping=case)
            pipe.zadd(keys.CASE_INDEX, {incident: received_ns}, nx=True)
            if not existing:  # tagged once, when the case is written
                tag_record(pipe, record_key=key, service=CASE_SERVICE, vin=vin, written_at=now,
                           indexes=[(keys.CASE_INDEX, incident)], record_type="ecall_case")
            if extras and not has_extended:
                # The extended technical data lives apart: 30 days, not the case's life.
                pipe.set(keys.extended_key(incident), json.dumps(msgpack.unpackb(extras)))
                tag_record(pipe, record_key=keys.extended_key(incident),
                           service=EXTENDED_SERVICE, vin=vin, written_at=now,
                           record_type="ecall_extended_data")
            await pipe.execute()
            return True

        applied = await under_watch(self._redis, key, write, give_up=_busy(key))
        # The hand-over is sent again even when the case was applied before: a desk that
        # died between the two steps must not leave the PSAP without it (append_once
        # de-duplicates).
        handover: dict[str, bytes | str | int] = {
            "kind": "handover", "variant": "intelligent", "incident": incident,
            "msg_id": sent["msg_id"], "msd": fields[b"msd"],
            "sent_ns": sent["sent_ns"], "psap_reason": _text(fields, "psap_reason"),
        }
        if extras:
            handover["extras"] = extras
        psap_desk = _text(fields, "psap")
        dedup = keys.psap_dedup_key(vin, f"cc-{incident}", int(sent["msg_id"]))
        await self._psap.append_once(keys.psap_stream(psap_desk), dedup, handover)
        if applied:
            self._counters.bump("metrics:desks", "callcentre:case")

    async def _hv_warn(self, fields: dict[bytes, bytes], received_ns: int,
                       entry_id: bytes) -> None:
        """MINI Connected §2b (HV-R2): add the customer's contact data, pass it to the PSAP."""
        call = unpack_hv_call(fields[b"record"])
        # The call's own time plus its transit: scenario time when the car runs on one.
        now = call.timestamp + max(0, received_ns - call.sent_ns) / 1e9
        handover = hand_over(call, self._customers, now=now)
        sent = transmission(fields, received_ns, entry_id)
        contact = asdict(handover.customer) if handover.customer is not None else None
        details = {**asdict(call), "contact": contact}
        case: Record = {
            "incident": call.incident, "vin": call.vin, "status": "open", "variant": "hv_warn",
            "psap": handover.desk, "psap_reason": handover.psap_reason,
            "transmissions": json.dumps([sent]), "updates": 0,
            "opened_ns": received_ns, "received_ns": received_ns,
            "last_received_ns": received_ns, "latency_ms": sent["latency_ms"],
            "extras": json.dumps(details),
            "within_warning_limit": int(handover.within_warning_limit),
            # Kept six months after the incident (HV-R4), tagged below.
            "service": handover.service, "retention_rule": handover.retention_rule,
            "delete_after": handover.delete_after,
        }
        key = keys.case_key(call.incident)

        def write(pipe: Pipeline) -> None:
            pipe.hset(key, mapping=case)
            pipe.zadd(keys.CASE_INDEX, {call.incident: received_ns}, nx=True)
            tag_record(pipe, record_key=key, service=handover.service, vin=call.vin,
                       written_at=call.timestamp, indexes=[(keys.CASE_INDEX, call.incident)],
                       record_type="hv_warn_case")

        # One warn call is one case: a second delivery of the entry changes nothing.
        applied = await create_once(self._redis, key, write)
        await self._psap.append_once(
            keys.psap_stream(handover.desk),
            keys.psap_dedup_key(call.vin, f"cc-{call.incident}", 1),
            {"kind": "handover", "variant": "hv_warn", "incident": call.incident, "msg_id": 1,
             "sent_ns": call.sent_ns, "psap_reason": handover.psap_reason,
             "extras": msgpack.packb(details)})
        if applied:
            self._counters.bump("metrics:desks", "callcentre:hv_warn")
