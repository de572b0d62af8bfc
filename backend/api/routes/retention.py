"""HTTP routes of retention: the report, the audit trail and the storage scan. Erasure on
request is a route of the vehicle (``routes/vehicles.py``); closing a case once its
procedures are complete is one of its desk (``routes/desks.py``, ``routes/assistance.py``).

The report is what an auditor asks for: per service, what is held, the oldest record,
the next deletion due, what was deleted, and anything past its deadline (which must be
none). Services whose data may never be stored (Legal and PSAP eCall, ECALL-R5 and
ECALL-R9)
are listed with what the backend relayed of them and that it holds nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from backend.api.access_deps import operator_only
from backend.api.deps import StateDep
from backend.api.error_statuses import errors
from backend.api.errors import RequestRuleError
from backend.api.schemas.retention import (
    AuditEntryPublic,
    AuditPublic,
    NeverStoredPublic,
    RetentionLinePublic,
    RetentionReportPublic,
    RuleDetailPublic,
    StorageHitPublic,
    StoragePublic,
)
from backend.infra import keys
from backend.infra.counters import read_counters
from backend.privacy import retention_store, storage_scan
from protocols.catalogue import CATALOGUE, CATALOGUE_VERSION, entry
from protocols.catalogue_model import CatalogueError

router = APIRouter(prefix="/retention", tags=["retention"],
                   dependencies=[Depends(operator_only("retention"))])
# What the emergency lane counts of the never-stored services, by ingest counter.
_RELAYED = {"ecall_legal": "legal:new", "ecall_psap": "voice:new"}


def _rule_of(service: str) -> RuleDetailPublic:
    try:
        rule = entry(service).retention
    except CatalogueError:
        return RuleDetailPublic(kind="unknown")
    return RuleDetailPublic(kind=rule.kind, trigger=rule.trigger, window_s=rule.window_s,
                            window_months=rule.window_months, idle_s=rule.idle_s,
                            idle_months=rule.idle_months,
                            erasable_on_request=rule.erasable_on_request)


@router.get("/report", response_model=RetentionReportPublic, response_model_exclude_unset=True)
async def read_report(state: StateDep) -> RetentionReportPublic:
    """Per service what is held, pending, due and deleted; the never-stored services."""
    now = state.clock.now()
    rows = [RetentionLinePublic(**row, rule_detail=_rule_of(str(row["service"])))
            for row in await retention_store.report(state.oem, now=now)]
    ingest = (await read_counters(state.oem, [keys.INGEST_COUNTERS]))[keys.INGEST_COUNTERS]
    held = await retention_store.held_counts(
        state.oem, [e.key for e in CATALOGUE if not e.retention.stores])
    never = [NeverStoredPublic(service=service, held=n, relayed_to_psap=ingest.get(
        _RELAYED.get(service, ""), 0), stored_by_oem=n > 0) for service, n in held.items()]
    return RetentionReportPublic(at=now, catalogue_version=CATALOGUE_VERSION, services=rows,
                                 overdue=sum(r.overdue for r in rows),
                                 deleted=sum(r.deleted for r in rows), never_stored=never)


@router.get("/audit", response_model=AuditPublic)
async def read_audit(state: StateDep, count: int = Query(default=100, ge=1, le=10_000)
                     ) -> AuditPublic:
    """The latest deletions, newest first; each names the kind of record, never its content."""
    data = [AuditEntryPublic.model_validate(e)
            for e in await retention_store.audit(state.oem, count=count)]
    return AuditPublic(count=len(data), data=data)


@router.get("/storage", response_model=StoragePublic, responses=errors(RequestRuleError))
async def read_storage(
    state: StateDep,
    contains: Annotated[str | None, Query(min_length=4, max_length=256, description=(
        "text to look for: an incident id, a VIN, a case id"))] = None,
    hex_bytes: Annotated[str | None, Query(
        alias="hex", pattern=r"^([0-9a-fA-F]{2}){2,4096}$", description=(
            "bytes to look for, in hexadecimal: an MSD as the car sent it"))] = None,
    max_keys: Annotated[int, Query(ge=1, le=1_000_000)] = 100_000,
) -> StoragePublic:
    """Which keys of the OEM database still hold the value, in their names or content.

    Operator only, as every retention route: the answer names keys, never their content.
    The backend's own non-personal bookkeeping is left out and counted as ``skipped``
    (``backend.privacy.storage_scan``)."""
    if (contains is None) == (hex_bytes is None):
        raise RequestRuleError("give exactly one of contains and hex", field="contains",
                               rule="one needle per scan")
    needle = contains.encode() if contains is not None else bytes.fromhex(hex_bytes or "")
    found = await storage_scan.scan(state.oem, needle, max_keys=max_keys)
    return StoragePublic(
        needle=contains if contains is not None else f"hex:{hex_bytes}",
        hits=[StorageHitPublic(key=h.key, type=h.type, where=list(h.where)) for h in found.hits],
        count=len(found.hits), keys_scanned=found.keys_scanned, skipped=found.skipped,
        complete=found.complete)
