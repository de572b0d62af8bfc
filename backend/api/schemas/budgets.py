"""Bodies of the data-volume budgets and the usage against them."""

from __future__ import annotations

from pydantic import BaseModel

from backend.privacy.budget_store import ServiceUsage


class BudgetPublic(BaseModel):
    key: str
    service: str
    sub_function: str
    per: str
    per_message_bytes: int | None
    period_bytes: int | None
    period_s: float | None
    exclusive: bool
    approx: bool
    wording: str
    safety: bool
    source: str


class FleetPublic(BaseModel):
    vehicles: int
    services: list[ServiceUsage]


class BudgetsPublic(BaseModel):
    at: float
    count: int
    budgets: list[BudgetPublic]
    fleet: FleetPublic


class VehicleBudgetsPublic(BaseModel):
    vin: str
    at: float
    services: list[ServiceUsage]
