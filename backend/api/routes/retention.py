"""HTTP routes of retention: the report, the audit trail, erasure and procedure closure.

The report is what an auditor asks for: per service, what is held, the oldest record,
the next deletion due, what was deleted, and anything past its deadline (which must be
none). Services whose data may never be stored (Legal and PSAP eCall, ECALL-R5 and
ECALL-R9)
are listed with what the backend relayed of them and that it holds nothing.
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Depends, HTTPException, Query

from backend.api.access import AssistanceCases, Desk
from backend.api.access_deps import CallerDep, operator_only, require
from backend.api.deps import StateDep
from backend.api.schemas import errors
from backend.assistance.store import close_case as close_assistance_case
from backend.infra import keys
from backend.privacy import retention_store
from backend.privacy.errors import ErasureRefusedError
from backend.privacy.retention_tags import close_records
from protocols.catalogue import CATALOGUE, CATALOGUE_VERSION, entry
from protocols.catalogue_model import CatalogueError

retention = APIRouter(prefix="/retention", tags=["retention"],
                      dependencies=[Depends(operator_only("retention"))])
erasure = APIRouter(tags=["retention"], dependencies=[Depends(operator_only("erasure"))])
closures = APIRouter(tags=["retention"])
# What the emergency lane counts of the never-stored services, by ingest counter.
_RELAYED = {"ecall_legal": "legal:new", "ecall_psap": "voice:new"}


def _rule_of(service: str) -> dict[str, Any]:
    try:
        rule = entry(service).retention
    except CatalogueError:
        return {"kind": "unknown"}
    return {"kind": rule.kind, "trigger": rule.trigger, "window_s": rule.window_s,
            "idle_s": rule.idle_s, "erasable_on_request": rule.erasable_on_request}


@retention.get("/report")
async def read_report(state: StateDep) -> dict[str, Any]:
    now = state.clock.now()
    rows = await retention_store.report(state.oem, now=now)
    for row in rows:
        row["rule_detail"] = _rule_of(str(row["service"]))
    ingest = cast(dict[bytes, bytes], await state.oem.hgetall(keys.INGEST_COUNTERS))
    never = []
    for e in CATALOGUE:
        if not e.retention.stores:
            held = int(await state.oem.zcard(retention_store.held_key(e.key)))
            relayed = int(ingest.get(_RELAYED.get(e.key, "").encode(), b"0"))
            never.append({"service": e.key, "held": held, "relayed_to_psap": relayed,
                          "stored_by_oem": held > 0})
    return {"at": now, "catalogue_version": CATALOGUE_VERSION, "services": rows,
            "overdue": sum(int(r["overdue"]) for r in rows),
            "deleted": sum(int(r["deleted"]) for r in rows), "never_stored": never}


@retention.get("/audit")
async def read_audit(state: StateDep, count: int = Query(default=100, ge=1, le=10_000)
                     ) -> dict[str, Any]:
    """The latest deletions, newest first; each names the kind of record, never its content."""
    data = await retention_store.audit(state.oem, count=count)
    return {"count": len(data), "data": data}


@erasure.delete("/vehicles/{vin}/data", responses=errors(404, 409))
async def erase_vehicle_data(vin: str, state: StateDep,
                             service: str | None = Query(default=None, max_length=64)
                             ) -> dict[str, Any]:
    """Erasure on request, where the service's rule allows it; the rest stays until due."""
    if service is not None:
        try:
            entry(service)
        except CatalogueError:
            raise HTTPException(status_code=404, detail={
                "message": f"no catalogue service {service!r}", "field": "service",
                "rule": "a catalogue key"}) from None
    try:
        done = await retention_store.erase(
            state.oem, vin=vin, now=state.clock.now(), service=service,
            rule_allows=lambda s: entry(s).retention.erasable_on_request)
    except ErasureRefusedError as exc:
        raise HTTPException(status_code=409, detail={
            "message": str(exc), "field": "service",
            "rule": f"{exc.kind}: not erasable on request"}) from None
    return {"vin": vin, "erased": done.erased, "refused": done.refused}


@closures.post("/desks/callcentre/incidents/{incident}/close", status_code=200,
               responses=errors(404))
async def close_callcentre_incident(incident: str, state: StateDep,
                                    caller: CallerDep) -> dict[str, Any]:
    """All procedures of an Intelligent eCall or HV case are completed (§7a)."""
    require(caller, Desk("callcentre", "close"))
    key = keys.case_key(incident)
    if not await state.oem.exists(key):
        raise HTTPException(status_code=404, detail=f"no incident {incident!r} at callcentre")
    now = state.clock.now()
    await state.oem.hset(key, mapping={"status": "closed", "closed_at": repr(now)})
    await close_records(state.oem, [key], closed_at=now)
    return {"incident": incident, "status": "closed", "closed_at": now}


@closures.post("/assistance/cases/{request_id}/close", status_code=200,
               responses=errors(404))
async def close_assistance(request_id: str, state: StateDep,
                           caller: CallerDep) -> dict[str, Any]:
    """All procedures of an assistance case are completed (§16e/§16f)."""
    require(caller, AssistanceCases("close"))
    now = state.clock.now()
    if not await close_assistance_case(state.oem, request_id, now=now):
        raise HTTPException(status_code=404, detail=f"no assistance case {request_id!r}")
    return {"request_id": request_id, "status": "closed", "closed_at": now}
