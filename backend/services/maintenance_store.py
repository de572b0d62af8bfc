"""Maintenance cases and received calls in the OEM database (Redis).

Keys (OEM database)::

    sp:case:{case_id}              hash    one case, tagged for retention when written
    sp:partner:{partner_id}:cases  zset    the partner's case ids, scored by opened_at
    sp:call:{vin}:{call_id}        hash    one received Teleservice call, tagged
    sp:calls:{vin}                 zset    a car's call ids, scored by the car's time

Teleservice and Smart Maintenance data is "kept until a specific maintenance need has been
determined and communicated and all procedures are completed" (docs/requirements.md#ts-r5).
Read literally, a car's calls build up until a need comes out of one of them; when that
need's case is closed, the procedures are complete and the case and every call of that cycle
(made up to the closure) start their retention clock together. A call that shows no need
is superseded by the car's later calls: once it is two call intervals old and no need
before it is open, its clock starts too (``maintenance.superseded``).
Every record is tagged with its catalogue rule in the transaction that writes it; the tag
is the one place the rule is held. A case and a call are written and read only as their
typed records (``Case``, ``CallRecord``: ``to_fields`` / ``from_fields``).
Status changes go through the pure life cycle in ``backend.services.maintenance`` inside a
WATCH/MULTI transaction, so two desks closing the same case cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from backend.infra.errors import StoreBusyError
from backend.infra.redis_once import create_once, under_watch
from backend.privacy.retention_store import delete_due
from backend.privacy.retention_tags import close_records, tag_record
from backend.services import maintenance
from backend.services.errors import UnknownCaseError
from backend.services.maintenance import (
    CallRecord,
    Case,
    CloseReason,
    MaintenanceNeed,
    decide,
    superseded,
)
from protocols.teleservice import SmartMaintenanceTransfer, TeleserviceCall

CATALOGUE_KEY: Final = {"teleservice": "teleservice_call",
                        "smart_maintenance": "smart_maintenance"}
_WATCH_TRIES: Final = 8


def case_key(case_id: str) -> str:
    return f"sp:case:{case_id}"


def partner_cases_key(partner_id: str) -> str:
    return f"sp:partner:{partner_id}:cases"


def calls_key(vin: str) -> str:
    return f"sp:calls:{vin}"


def call_key(vin: str, call_id: str) -> str:
    return f"sp:call:{vin}:{call_id}"


async def _stored(read: Redis | Pipeline, case_id: str, partner_id: str | None) -> Case:
    raw = cast(dict[bytes, bytes], await read.hgetall(case_key(case_id)))
    if not raw:
        raise UnknownCaseError(f"no case {case_id!r}", case_id=case_id)
    case = Case.from_fields(raw)
    if partner_id is not None and case.partner_id != partner_id:
        raise UnknownCaseError(f"no case {case_id!r} at partner {partner_id!r}",
                               case_id=case_id, partner_id=partner_id)
    return case


async def read_case(oem: Redis, case_id: str, *, partner_id: str | None = None) -> Case:
    """One case; with ``partner_id``, only if it is that partner's."""
    return await _stored(oem, case_id, partner_id)


async def open_case(oem: Redis, need: MaintenanceNeed, *, case_id: str, partner_id: str,
                    now: float) -> Case:
    """Write a new case, tagged; a case id seen before returns the stored case unchanged."""
    case = maintenance.open_case(need, case_id=case_id, partner_id=partner_id, now=now)
    key = case_key(case_id)

    def write(pipe: Pipeline) -> None:
        pipe.hset(key, mapping=case.to_fields())
        pipe.zadd(partner_cases_key(partner_id), {case_id: now})
        tag_record(pipe, record_key=key, service=CATALOGUE_KEY[case.service], vin=case.vin,
                   written_at=now, indexes=[(partner_cases_key(partner_id), case_id)],
                   record_type="maintenance_case")

    if await create_once(oem, key, write, tries=_WATCH_TRIES):
        return case
    return await read_case(oem, case_id)


async def _move(oem: Redis, case_id: str, partner_id: str | None,
                step: Callable[[Case], Case]) -> Case:
    key = case_key(case_id)

    async def body(pipe: Pipeline) -> Case:
        moved = step(await _stored(pipe, case_id, partner_id))
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.hset(key, mapping=moved.to_fields())
        await pipe.execute()
        return moved

    return await under_watch(oem, key, body, tries=_WATCH_TRIES, give_up=lambda: StoreBusyError(
        f"case {case_id!r} kept changing; gave up after {_WATCH_TRIES} tries"))


async def mark_notified(oem: Redis, case_id: str, *, now: float,
                        via: str = "partner_desk") -> Case:
    """Record that the need was communicated to the partner (open → notified)."""
    return await _move(oem, case_id, None,
                       lambda case: maintenance.notify(case, now=now, via=via))


async def close_case(oem: Redis, case_id: str, *, now: float,
                     reason: CloseReason = "procedures_completed",
                     partner_id: str | None = None) -> Case:
    """Close a notified case: the case and the car's calls of this cycle may now go."""
    case = await _move(oem, case_id, partner_id,
                       lambda case: maintenance.close(case, now=now, reason=reason))
    cycle = cast(list[bytes], await oem.zrangebyscore(calls_key(case.vin), "-inf", now))
    await close_records(oem, [case_key(case_id), *(call_key(case.vin, c.decode()) for c in cycle)],
                        closed_at=now)
    return case


async def cases_of(oem: Redis, partner_id: str, *, limit: int = 100) -> list[Case]:
    """The partner's cases, newest first."""
    ids = cast(list[bytes], await oem.zrevrange(partner_cases_key(partner_id), 0, limit - 1))
    out = []
    for raw_id in ids:
        raw = cast(dict[bytes, bytes], await oem.hgetall(case_key(raw_id.decode())))
        if raw:
            out.append(Case.from_fields(raw))
    return out


async def record_call(oem: Redis, call: TeleserviceCall, *, need: bool = True) -> None:
    """Keep the call id, reason, time and odometer, so the rhythm can be checked, and
    whether a need was determined from it (``need``), which decides how long it stays.

    Only ids and timing are kept here: the content lives in the case, if any. Smart
    Maintenance transfers follow trips, not the 28-day / 1,000 km rhythm, so they are
    not kept here. The index is sorted by the call's own time, so calls are in the car's
    order however the lane interleaves them; a redelivered call is written once.
    """
    key = call_key(call.vin, call.call_id)
    record = CallRecord(call.call_id, call.reason, call.at, call.odometer_km, need)

    def write(pipe: Pipeline) -> None:
        pipe.hset(key, mapping=record.to_fields())
        pipe.zadd(calls_key(call.vin), {call.call_id: call.at})
        tag_record(pipe, record_key=key, service="teleservice_call", vin=call.vin,
                   written_at=call.at, indexes=[(calls_key(call.vin), call.call_id)],
                   record_type="teleservice_call")

    await create_once(oem, key, write, tries=_WATCH_TRIES)


async def _records(oem: Redis, vin: str, ids: list[bytes]) -> list[CallRecord]:
    async with oem.pipeline(transaction=False) as pipe:
        for call_id in ids:
            pipe.hgetall(call_key(vin, call_id.decode()))
        rows = cast(list[dict[bytes, bytes]], await pipe.execute())
    return [CallRecord.from_fields(raw) for raw in rows if raw]  # empty: deleted meanwhile


async def calls_of(oem: Redis, vin: str) -> list[CallRecord]:
    """The calls held for ``vin``, newest first (by the time the car made them)."""
    return await _records(oem, vin, cast(list[bytes], await oem.zrevrange(calls_key(vin), 0, -1)))


async def supersede(oem: Redis, call: TeleserviceCall, *, received_at: float) -> int:
    """Start the retention clock of the car's calls that ``call`` supersedes.

    Which calls go is decided by the car's own times; their clock starts when the
    backend learns it, ``received_at`` (not before the call itself), so a call handled
    late does not make the records it supersedes overdue at once. Only calls the car
    made before ``call`` are read, so a call that arrives late never ends the life of
    calls after it. Their deadline is then now, so they are deleted here and then: left
    to the sweeper, a lane running behind a fast scenario clock would see them deleted
    days of virtual time late. Returns how many were closed."""
    ids = cast(list[bytes], await oem.zrangebyscore(calls_key(call.vin), "-inf", f"({call.at!r}"))
    gone = [call_key(call.vin, c.call_id)
            for c in superseded(await _records(oem, call.vin, ids), newest_at=call.at)]
    closed_at = max(call.at, received_at)
    closed = await close_records(oem, gone, closed_at=closed_at)
    await delete_due(oem, gone, now=closed_at)  # due at once: not left to the sweeper's round
    return closed


async def receive(oem: Redis, message: TeleserviceCall | SmartMaintenanceTransfer, *,
                  partner_id: str, now: float, case_id: str | None = None,
                  received_at: float | None = None) -> Case | None:
    """Record a received call or transfer; open a case when it shows a maintenance need.

    The case id defaults to the call's own id, so a redelivered call opens no second case.
    ``received_at`` is the backend's time of receipt (``supersede``; ``now`` if not given).
    """
    need = decide(message)
    if isinstance(message, TeleserviceCall):
        await record_call(oem, message, need=need is not None)
        await supersede(oem, message, received_at=now if received_at is None else received_at)
    if need is None:
        return None
    return await open_case(oem, need, case_id=case_id or f"{message.vin}-{need.source_id}",
                           partner_id=partner_id, now=now)
