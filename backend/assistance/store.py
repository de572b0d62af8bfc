"""Assistance cases in the OEM database, with their decision, reasons and retention tags.

Keys (OEM database)::

    as:case:{request_id}   hash  one case: ``AssistanceCaseRecord``, tagged when first written
    as:cases               zset  every case's request id, scored by when it was opened

A case is written whole when the desk decides it, so what the customer was granted and
why is part of the record (the issue asks for it), and re-deciding after the
specialist's assessment overwrites the decision but keeps when the case was opened and,
if it was, closed. Cases are written and read only as ``AssistanceCaseRecord``; the
views the API shows add the rule the case's tag holds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from backend.assistance.case_record import AssistanceCaseRecord
from backend.assistance.desk import AssistanceCase
from backend.assistance.errors import AssistanceError
from backend.infra.redis_once import under_watch
from backend.privacy.retention_store import rule_kinds
from backend.privacy.retention_tags import close_records, tag_record
from protocols.assistance import AssistanceCall

CASE_INDEX = "as:cases"


def case_key(request_id: str) -> str:
    return f"as:case:{request_id}"


async def load_case(oem: Redis, request_id: str) -> AssistanceCaseRecord | None:
    """The stored case, or None when there is none."""
    raw = cast(dict[bytes, bytes], await oem.hgetall(case_key(request_id)))
    return AssistanceCaseRecord.from_fields(raw) if raw else None


async def save_case(oem: Redis, case: AssistanceCase) -> None:
    """Write the case; the first write tags it with its service's retention rule."""
    key = case_key(case.call.request_id)
    stored = await load_case(oem, case.call.request_id)
    record = AssistanceCaseRecord.of_case(case)
    if stored is not None:
        record = replace(record, opened_at=stored.opened_at, closed_at=stored.closed_at)
    async with oem.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=record.to_fields())
        pipe.zadd(CASE_INDEX, {record.request_id: record.opened_at}, nx=True)
        if stored is None:
            tag_record(pipe, record_key=key, service=record.service, vin=record.vin,
                       written_at=record.opened_at, indexes=[(CASE_INDEX, record.request_id)],
                       record_type="assistance_case")
        await pipe.execute()


async def close_case(oem: Redis, request_id: str, *, now: float) -> bool:
    """All procedures of the case are completed (§16e/§16f): its retention clock starts.

    False when there is no such case.
    """
    key = case_key(request_id)

    async def body(pipe: Pipeline) -> bool:
        raw = cast(dict[bytes, bytes], await pipe.hgetall(key))
        if not raw:
            return False
        closed = replace(AssistanceCaseRecord.from_fields(raw), closed_at=now)
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.hset(key, mapping=closed.to_fields())
        await pipe.execute()
        return True

    if not await under_watch(oem, key, body, give_up=lambda: AssistanceError(
            f"assistance case {request_id!r} kept changing; not closed")):
        return False
    await close_records(oem, [key], closed_at=now)
    return True


async def _views(oem: Redis, records: list[AssistanceCaseRecord]) -> list[dict[str, Any]]:
    rules = await rule_kinds(oem, [case_key(r.request_id) for r in records])
    return [r.view(retention_rule=rule) for r, rule in zip(records, rules, strict=True)]


async def read_case(oem: Redis, request_id: str) -> dict[str, Any] | None:
    """The case as the API shows it (``AssistanceCaseRecord.view``), or None."""
    record = await load_case(oem, request_id)
    return None if record is None else (await _views(oem, [record]))[0]


async def list_cases(oem: Redis, *, limit: int = 100) -> list[dict[str, Any]]:
    """The latest ``limit`` cases as the API shows them, newest first."""
    ids = cast(list[bytes], await oem.zrevrange(CASE_INDEX, 0, limit - 1))
    records = [await load_case(oem, i.decode()) for i in ids]
    return await _views(oem, [r for r in records if r is not None])


def stored_call(view: dict[str, Any]) -> AssistanceCall:
    """The call a shown case was decided on, to decide it again."""
    return AssistanceCall(**view["call"])
