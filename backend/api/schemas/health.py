"""Bodies of liveness, readiness and the operator's health detail."""

from __future__ import annotations

from pydantic import BaseModel


class ReadyPublic(BaseModel):
    """Readiness: one boolean per required lane, and whether Redis answered in time."""

    ready: bool
    redis: bool
    lanes: dict[str, bool]


class HealthLive(BaseModel):
    status: str


class HealthPublic(BaseModel):
    status: str
    redis: bool
    ready: bool
    lanes: dict[str, float]
    counters: dict[str, dict[str, int]]
