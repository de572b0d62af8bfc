"""Bodies of the service-partner directory and of a partner's maintenance cases."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from backend.services.maintenance import CloseReason
from backend.services.partners import Partner


@dataclass(frozen=True, slots=True)
class PartnerPublic(Partner):
    # A directory entry with the directory's own fields, so the body follows the
    # directory; ``authorised`` is always sent, so the body has no default for it.
    authorised: bool


class PartnersPublic(BaseModel):
    count: int
    data: list[PartnerPublic]


class CasePublic(BaseModel):
    case_id: str
    vin: str
    partner_id: str
    service: str
    status: str
    opened_at: float
    notified_at: float | None
    notified_via: str
    closed_at: float | None
    close_reason: str
    source_id: str
    reason: str
    fault_codes: list[str]
    due_items: list[str]
    odometer_km: float


class CasesPublic(BaseModel):
    partner_id: str
    count: int
    data: list[CasePublic]


class CloseRequest(BaseModel):
    reason: CloseReason = "procedures_completed"
