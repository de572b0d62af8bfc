"""Bodies of the retention report and the deletion audit."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from backend.privacy.retention import ServiceReport


class RuleDetailPublic(BaseModel):
    """A service's retention rule as the catalogue states it; only ``kind`` ("unknown")
    for a service the catalogue no longer lists (the route leaves the rest out)."""

    kind: str
    trigger: str | None = None
    window_s: float | None = None
    window_months: int | None = None
    idle_s: float | None = None
    idle_months: int | None = None
    erasable_on_request: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionLinePublic(ServiceReport):
    """One service: records held and pending, oldest, next deadline, deletions, overdue."""

    # The report line's own fields, so the body follows the report; and the rule itself.
    rule_detail: RuleDetailPublic


class NeverStoredPublic(BaseModel):
    """A service whose data may never be stored: what was relayed of it, that none is held."""

    service: str
    held: int
    relayed_to_psap: int
    stored_by_oem: bool


class RetentionReportPublic(BaseModel):
    at: float
    catalogue_version: str
    services: list[RetentionLinePublic]
    overdue: int
    deleted: int
    never_stored: list[NeverStoredPublic]


class AuditEntryPublic(BaseModel):
    """One deletion: which kind of record, under which rule, when; never its content.
    Times are as the audit stream holds them (epoch seconds as text, empty when none)."""

    id: str
    ref: str
    service: str
    record_type: str
    rule: str
    reason: str
    written_at: str
    deadline: str
    deleted_at: str


class AuditPublic(BaseModel):
    count: int
    data: list[AuditEntryPublic]


class StorageHitPublic(BaseModel):
    """A key that holds the value asked for: its type and where (name, field, value...)."""

    key: str
    type: str
    where: list[str]


class StoragePublic(BaseModel):
    """A scan of the OEM keyspace for one value; ``complete`` is False when it was cut
    short by its bounds, ``skipped`` counts the bookkeeping keys it leaves out."""

    needle: str
    count: int
    hits: list[StorageHitPublic]
    keys_scanned: int
    skipped: int
    complete: bool
