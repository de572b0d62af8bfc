"""Bodies of the desks and their incidents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


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
