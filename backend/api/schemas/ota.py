"""Bodies of OTA campaigns and of the customer's commands from the app."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from backend.ota.campaign import (
    MAX_ACTION_TIMEOUT_S,
    CampaignSpec,
    RolloutGroup,
    TargetSelector,
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
