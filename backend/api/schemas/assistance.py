"""Bodies of the assistance desk."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AssessmentIn(BaseModel):
    """What the assistance specialist found, to decide the case again."""

    model_config = ConfigDict(extra="forbid")
    repair_working_days: int = Field(default=0, ge=0)
    drivable: bool | None = None
    repairable_on_site: bool = False
