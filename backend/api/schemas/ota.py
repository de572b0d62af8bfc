"""Bodies of OTA campaigns and of the customer's commands from the app."""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field

from backend.ota.campaign import (
    MAX_ACTION_TIMEOUT_S,
    CampaignSpec,
    CampaignStatus,
    RolloutGroup,
    TargetSelector,
    VehicleStatus,
)
from backend.ota.vehicle_facts import VIN_PATTERN, Powertrain
from protocols.ota import MAX_RELEASE_NOTES, CommandAction

CAMPAIGN_ID: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # a Redis key part and a path
Vin = Annotated[str, Field(pattern=VIN_PATTERN)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Model = Annotated[str, Field(min_length=1, max_length=64)]


class TargetIn(BaseModel):
    """Which cars: every criterion given must hold; below OS 9 never (OTA-R1)."""

    model_config = ConfigDict(extra="forbid")
    models: list[Model] = []
    propulsions: list[Powertrain] = []
    min_os: int | None = Field(default=None, ge=1, le=99)
    max_os: int | None = Field(default=None, ge=1, le=99)
    countries: list[Country] = []
    vins: list[Vin] = []


class GroupIn(BaseModel):
    """A rollout group: ``share`` (0..1] of the targeted cars or a fixed ``size``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    share: float | None = None
    size: int | None = None
    success_threshold: float = 1.0
    error_threshold: float = 0.0


class CampaignIn(BaseModel):
    """The body of ``POST /ota/campaigns``.

    ``action_timeout_s`` defaults to 7 days, the longest AWS IoT Jobs allows: a car may
    wait days for its driver to confirm, yet never stays "in progress" for ever.
    """

    model_config = ConfigDict(extra="forbid")
    campaign_id: str = Field(pattern=CAMPAIGN_ID)
    version: str = Field(min_length=1, max_length=32)
    size_bytes: int
    critical: bool = False
    release_notes: str = Field(default="", max_length=MAX_RELEASE_NOTES)
    action_timeout_s: float = MAX_ACTION_TIMEOUT_S
    target: TargetIn = Field(default_factory=TargetIn)
    groups: list[GroupIn]
    start: bool = True

    def spec(self) -> CampaignSpec:
        """The pure spec; raises ``CampaignSpecError`` naming the field and the rule."""
        t = self.target
        return CampaignSpec(
            self.campaign_id, self.version, self.size_bytes,
            TargetSelector(tuple(t.models), tuple(t.propulsions), t.min_os, t.max_os,
                           tuple(t.countries), tuple(t.vins)),
            tuple(RolloutGroup(g.name, g.share, g.size, g.success_threshold,
                               g.error_threshold) for g in self.groups),
            self.action_timeout_s, critical=self.critical)


class CommandIn(BaseModel):
    """The customer's action from the app on one campaign (MINI Connected art. 4.8, OTA-R2)."""

    model_config = ConfigDict(extra="forbid")
    campaign_id: str = Field(pattern=CAMPAIGN_ID)
    action: CommandAction


class TargetPublic(BaseModel):
    models: list[str]
    propulsions: list[Powertrain]
    min_os: int | None
    max_os: int | None
    countries: list[str]
    vins: list[str]


class GroupProgressPublic(BaseModel):
    """One rollout group: released yet, complete, its tallies against its thresholds."""

    name: str
    size: int
    released: bool
    complete: bool
    successes: int
    failures: int
    success_threshold: float
    error_threshold: float
    counts: dict[VehicleStatus, int]


class CampaignSummaryPublic(BaseModel):
    """A campaign's status and counts per car status, with the reason codes of failures."""

    campaign_id: str
    version: str
    size_bytes: int
    critical: bool
    status: CampaignStatus
    paused_reason: str
    current_group: str | None
    vehicles: int
    counts: dict[VehicleStatus, int]
    reasons: dict[str, int]
    updated_at: float | None


class CampaignPublic(CampaignSummaryPublic):
    """The summary plus each group's progress and what was asked for."""

    groups: list[GroupProgressPublic]
    action_timeout_s: float
    release_notes: str
    target: TargetPublic


class CampaignsPublic(BaseModel):
    count: int
    data: list[CampaignSummaryPublic]


class CampaignVehiclePublic(BaseModel):
    """One targeted car: its group, status, last reason code and time of its last change."""

    vin: str
    group: str
    group_index: int
    status: VehicleStatus
    reason: str
    updated_at: float | None


class CampaignVehiclesPublic(BaseModel):
    campaign_id: str
    count: int
    data: list[CampaignVehiclePublic]


class CampaignCarPublic(CampaignVehiclePublic):
    """One car of the campaign, with its last reported OTA state when it is about it."""

    campaign_id: str
    car: dict[str, Any] | None
