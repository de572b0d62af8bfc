"""Bodies of one vehicle's routes: its partner history, Teleservice calls, OTA facts and
state, the customer's OTA command, and erasure on request. (The customer record itself
is the registry's ``VehicleProfile``, the same model in and out.)"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from backend.ota.vehicle_facts import Powertrain
from protocols.ota import CommandAction


class PartnerChangePublic(BaseModel):
    """One change of the preferred service partner (None: no partner)."""

    model_config = ConfigDict(populate_by_name=True)
    from_: str | None = Field(alias="from")
    to: str | None
    at: float


class PartnerHistoryPublic(BaseModel):
    vin: str
    count: int
    data: list[PartnerChangePublic]


class TeleserviceCallPublic(BaseModel):
    call_id: str
    reason: str
    at: float
    odometer_km: float


class TeleserviceCallsPublic(BaseModel):
    """The calls received, newest first, and those that came late (TS-R1)."""

    vin: str
    count: int
    data: list[TeleserviceCallPublic]
    late: list[TeleserviceCallPublic]


class VehicleFactsPublic(BaseModel):
    """What OTA targeting looks at."""

    vin: str
    model: str
    propulsion: Powertrain
    os_version: int
    country: str


class RunningVersionPublic(BaseModel):
    version: str
    at: float


class VehicleOtaPublic(BaseModel):
    """A car's OTA state as it last reported it, the version it runs, and its history:
    events it reported and offers and commands sent to it, each as recorded. The totals
    are left out when no history was asked for (``limit=0``)."""

    vin: str
    current: dict[str, Any] | None
    running_version: RunningVersionPublic | None
    total_events: int | None = None
    events: list[dict[str, Any]]
    total_sent: int | None = None
    sent: list[dict[str, Any]]
    retention_rules: dict[str, str | None] = Field(
        description="each part's retention rule, as its record's tag says (None: not stored)")


class OtaCommandPublic(BaseModel):
    """The command sent down to the car; the car decides what it does with it."""

    vin: str
    campaign_id: str
    action: CommandAction
    by: str


class ErasurePublic(BaseModel):
    """How many records went; the services whose rule kept theirs, with that rule."""

    vin: str
    erased: int
    refused: dict[str, str]
