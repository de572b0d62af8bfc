"""Assistance cases in the OEM database, with their decision, reasons and retention tags.

A case is written whole when the desk decides it, so what the customer was granted and
why is part of the record (the issue asks for it), and re-deciding after the
specialist's assessment overwrites the decision but keeps when the case was opened.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, cast

from redis.asyncio import Redis
from redis.typing import EncodableT

from backend.assistance.desk import AssistanceCase
from backend.privacy.retention_tags import close_records, tag_record
from protocols.assistance import AssistanceCall

CASE_INDEX = "as:cases"


def case_key(request_id: str) -> str:
    return f"as:case:{request_id}"


def _record(case: AssistanceCase) -> dict[EncodableT, EncodableT]:
    decision = case.decision
    return {
        "request_id": case.call.request_id, "vin": case.call.vin, "kind": case.call.kind,
        "status": case.status, "service": case.service,
        "retention_rule": case.retention_rule, "opened_at": case.opened_at,
        "valid": int(decision.valid), "programme": decision.programme,
        "reasons": json.dumps(list(decision.reasons)),
        "granted": json.dumps([asdict(g) for g in decision.granted]),
        "refused": json.dumps([str(r) for r in decision.refused]),
        "country": case.incident.country, "call": json.dumps(asdict(case.call)),
    }


async def save_case(oem: Redis, case: AssistanceCase) -> None:
    """Write the case; the first write tags it with its service's retention rule."""
    key = case_key(case.call.request_id)
    record = _record(case)
    opened = await oem.hget(key, "opened_at")
    if opened is not None:
        record["opened_at"] = float(opened)
    async with oem.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=record)
        pipe.zadd(CASE_INDEX, {case.call.request_id: case.opened_at}, nx=True)
        if opened is None:
            tag_record(pipe, record_key=key, service=case.service, vin=case.call.vin,
                       written_at=case.opened_at, indexes=[(CASE_INDEX, case.call.request_id)],
                       record_type="assistance_case")
        await pipe.execute()


async def close_case(oem: Redis, request_id: str, *, now: float) -> bool:
    """All procedures of the case are completed (§16e/§16f): its retention clock starts.

    False when there is no such case.
    """
    key = case_key(request_id)
    if not await oem.exists(key):
        return False
    await oem.hset(key, mapping={"status": "closed", "closed_at": now})
    await close_records(oem, [key], closed_at=now)
    return True


async def read_case(oem: Redis, request_id: str) -> dict[str, Any] | None:
    raw = cast(dict[bytes, bytes], await oem.hgetall(case_key(request_id)))
    if not raw:
        return None
    out: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
    for name in ("reasons", "granted", "refused", "call"):
        out[name] = json.loads(out[name])
    out["valid"] = out["valid"] == "1"
    out["opened_at"] = float(out["opened_at"])
    return out


async def list_cases(oem: Redis, *, limit: int = 100) -> list[dict[str, Any]]:
    ids = cast(list[bytes], await oem.zrevrange(CASE_INDEX, 0, limit - 1))
    cases = [await read_case(oem, i.decode()) for i in ids]
    return [c for c in cases if c is not None]


def stored_call(record: dict[str, Any]) -> AssistanceCall:
    """The call a stored case was decided on, to decide it again."""
    return AssistanceCall(**record["call"])
