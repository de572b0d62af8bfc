"""Bodies of the desks and their incidents.

An incident is shown as its desk holds it, and desks hold different things: a PSAP
incident names its desk and how it came (direct, or handed over by the call centre), a
call-centre case its status, VIN and retention. So every field but ``incident`` is
optional, a field the record lacks is left out of the answer (the routes answer with
``response_model_exclude_unset``), and a field this model does not name yet is passed on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TransmissionPublic(BaseModel):
    """One transmission as a desk recorded it: ids and timings, no content; its channel
    (intelligent, legal, voice, handover, hv_warn), the car's variant it carries, and
    whether it is an MSD update an operator asked for."""

    model_config = ConfigDict(extra="allow")
    msg_id: int
    sent_ns: int
    received_ns: int
    latency_ms: float
    kind: str | None = None
    entry: str | None = None
    channel: str | None = None
    variant: str | None = None
    update: bool | None = None


class IncidentPublic(BaseModel):
    """One incident or case: the MSD, each transmission with its latency, the extras."""

    model_config = ConfigDict(extra="allow")
    incident: str
    desk: str | None = None
    kind: str | None = None
    variant: str | None = None
    final_channel: Literal["intelligent", "legal", "voice", "hv_warn"] | None = Field(
        default=None, description="what the car finally did: the furthest step of its "
        "fallback chain this PSAP received, whatever arrived last")
    via: Literal["callcentre", "direct"] | None = None
    vin: str | None = None
    status: str | None = None
    psap: str | None = None
    psap_reason: str | None = None
    msd: dict[str, Any] | None = None
    extras: dict[str, Any] | None = None
    voice_recording: dict[str, Any] | None = Field(
        default=None, description="an Intelligent eCall's voice recording: a reference (no "
        "audio), shown until its 24 hours are over")
    transmissions: list[TransmissionPublic] = []
    updates: int | None = Field(default=None, description="MSD updates an operator asked "
                                "for: further MSDs on a channel the record already holds")
    opened_ns: int | None = None
    received_ns: int | None = None
    last_received_ns: int | None = None
    latency_ms: float | None = None
    within_warning_limit: int | None = None
    service: str | None = None
    retention_rule: str | None = None
    delete_after: float | None = None
    closed_at: float | None = None


class IncidentsPublic(BaseModel):
    desk: str
    count: int
    data: list[IncidentPublic]


class DesksPublic(BaseModel):
    data: list[str]


class MsdRequestPublic(BaseModel):
    incident: str
    desk: str
    topic: str
    requested: bool


class IncidentClosedPublic(BaseModel):
    """A call-centre case whose procedures are complete: its retention clock runs."""

    incident: str
    status: Literal["closed"]
    closed_at: float
