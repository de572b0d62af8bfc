"""Bodies of the anonymised traffic warnings: no field that could carry more than what
happened, roughly where and roughly when."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TrafficWarningPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str
    lat: float
    lon: float
    at: int


class TrafficWarningsPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int
    position_decimals: int
    time_bucket_s: int
    data: list[TrafficWarningPublic]
