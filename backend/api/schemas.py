"""Response schemas of the HTTP API, one per direction (public views only)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class HealthPublic(BaseModel):
    status: str
    redis: bool
    ready: bool
    lanes: dict[str, float]
    counters: dict[str, dict[str, int]]


class IncidentsPublic(BaseModel):
    desk: str
    count: int
    data: list[dict[str, Any]]


class DesksPublic(BaseModel):
    data: list[str]


class MsdRequestPublic(BaseModel):
    incident: str
    desk: str
    topic: str
    requested: bool
