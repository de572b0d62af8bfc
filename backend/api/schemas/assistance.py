"""Bodies of the assistance desk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.assistance.entitlement_model import Programme, Service, Unit
from protocols.assistance import AssistanceCall, AssistanceKind


class AssessmentIn(BaseModel):
    """What the assistance specialist found, to decide the case again."""

    model_config = ConfigDict(extra="forbid")
    repair_working_days: int = Field(default=0, ge=0)
    drivable: bool | None = None
    repairable_on_site: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistanceCallPublic(AssistanceCall):
    """The call the case was decided on, as the car (or the app, or the phone) sent it."""

    # The wire record's own fields, so the body cannot drift from the protocol.


class GrantPublic(BaseModel):
    """One service granted with its limit (None: no amount applies) and its rule."""

    service: Service
    limit: float | None
    unit: Unit
    rule: str


class AssistanceCasePublic(BaseModel):
    """A case with what the programme granted and refused, and why. ``closed_at`` is left
    out while the case is open (the route answers with ``response_model_exclude_unset``)."""

    request_id: str
    vin: str
    kind: AssistanceKind
    status: str
    service: str
    retention_rule: str
    opened_at: float
    valid: bool
    programme: Programme
    reasons: list[str]
    granted: list[GrantPublic]
    refused: list[str]
    country: str
    call: AssistanceCallPublic
    closed_at: float | None = None


class AssistanceCasesPublic(BaseModel):
    count: int
    data: list[AssistanceCasePublic]


class AssistanceClosedPublic(BaseModel):
    """A case whose procedures are complete: its retention clock runs (§16e/§16f)."""

    request_id: str
    status: Literal["closed"]
    closed_at: float
