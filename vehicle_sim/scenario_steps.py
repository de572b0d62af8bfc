"""What a consent step and an injection step say, as the scenario file writes them.

Kept apart from ``vehicle_sim.scenario`` so the scenario's grammar grows by modules; the
event types that carry these (``consent:``, ``inject:``) are registered there. The car
never sees these models: ``vehicle_sim.car_steps`` turns them into calls on the car.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from protocols.units import parse_size
from vehicle_sim.car_config import ConsentService
from vehicle_sim.injection import Corruption, InjectKind


class _Def(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentDef(_Def):
    """The customer switches a service on or off in the car; it holds from that moment.

    ``teleservice`` is the data-transfer switch of the data-protection menu (TS-R6):
    off, the car sends no Teleservice call and no Smart Maintenance transfer;
    ``smart_maintenance`` is that service's own consent box (TS-R3); ``intelligent_ecall``
    off leaves the car the Legal eCall, which cannot be switched off (ECALL-R5).
    """

    service: ConsentService
    on: bool

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 (``yaml.safe_load``) reads the key ``on`` as true; it is this key."""
        if isinstance(data, dict) and True in data and "on" not in data:
            return {("on" if k is True else k): v for k, v in data.items()}
        return data


def _size(value: object) -> object:
    """Accept 60000, "60KB" or "1.5MB" (decimal units, ``protocols.units``)."""
    return parse_size(value) if isinstance(value, str) else value


class BuildDef(_Def):
    """A message built from a valid one of ``kind``, then broken as asked."""

    kind: InjectKind | None = Field(default=None, description="the message to build; "
                                    "default: the kind of the topic it goes on")
    vin_override: str | None = Field(default=None, min_length=1, max_length=64,
                                     description="the VIN the message says, not the car's")
    pad_to_bytes: Annotated[int | None, BeforeValidator(_size,
                                                        json_schema_input_type=int | str | None),
                            Field(default=None, ge=1, le=1_000_000,
                                  description="grow the message to this many bytes")]
    corrupt: Corruption | None = Field(default=None, description="break the encoding last")


class InjectDef(_Def):
    """A raw or deliberately invalid message the car publishes on its own connection."""

    topic_kind: InjectKind
    variant: Literal["intelligent", "legal"] = Field(default="intelligent",
                                                     description="the eCall topic's variant")
    payload_hex: str | None = Field(default=None, pattern=r"^([0-9a-fA-F]{2})*$")
    payload_text: str | None = None
    build: BuildDef | None = None
    qos: Literal[0, 1, 2] = 1

    @model_validator(mode="after")
    def _one_payload(self) -> InjectDef:
        given = [self.payload_hex, self.payload_text, self.build]
        if sum(p is not None for p in given) != 1:
            raise ValueError("inject takes exactly one of payload_hex, payload_text, build")
        return self


class RejectionsExpectDef(_Def):
    """Refusals the backend must have counted by the rule each broke, at least this many
    each: its error counters (``GET /health/detail``), keyed ``field:rule`` as the
    backend logs them, e.g. ``vin:record vin == topic vin``."""

    counts: dict[str, Annotated[int, Field(ge=1)]] = Field(min_length=1)
    answered: Annotated[int, Field(ge=0)] = Field(
        default=0, description="at least this many refusals answered to the scenario's "
        "cars on their rejected topic (docs/wire-contract.md)")

    @property
    def vehicle(self) -> str:
        return "rejections"
