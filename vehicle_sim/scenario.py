"""Scenario files: vehicles, timed events and expectations, loaded from YAML.

YAML goes through ``yaml.safe_load`` into pydantic models that forbid unknown keys, so
a typo in a scenario is an error naming the key, not a silently ignored line.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from protocols.clock import parse_duration, parse_instant
from protocols.msd.model import VEHICLE_TYPES_V3
from vehicle_sim.fleet import ROAD_KM
from vehicle_sim.places import place_index

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min)?\s*$")
PropulsionName = Literal["gasoline", "diesel", "cng", "lpg", "electric", "hydrogen", "other"]
Variant = Literal["intelligent", "legal", "psap_voice", "hv_warn"]
_GASOLINE: tuple[PropulsionName, ...] = ("gasoline",)


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


def _seconds(value: object) -> object:
    """Accept 1.5, "1.5", "500ms", "2s", "1min" as seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration like 500ms, 2s or 1min")
        number, unit = float(match.group(1)), match.group(2) or "s"
        return number * {"ms": 0.001, "s": 1.0, "min": 60.0}[unit]
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Position(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class IntelligentService(_Model):
    bought: bool = True
    expires: date | None = None


class VehicleDef(_Model):
    id: str
    vin: str = Field(pattern=r"^[0-9A-HJ-NPR-Z]{17}$")
    vehicle_type: str = "passengerVehicleCategoryM1"
    propulsion: list[PropulsionName] = Field(default_factory=lambda: list(_GASOLINE))
    position: Position
    heading_deg: float = Field(default=0.0, ge=0, lt=360)
    speed_kmh: float = Field(default=0.0, ge=0, le=400)
    occupants: int = Field(default=1, ge=0, le=255)
    seats: int = Field(default=5, ge=1, le=255)
    activation_country: str = Field(pattern=r"^[A-Z]{2}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$",
                                description="where the car is now; default: activation country")
    intelligent_ecall: IntelligentService = Field(default_factory=IntelligentService)
    faults: list[Literal["intelligent_unreachable", "legal_unreachable"]] = Field(
        default_factory=list)
    plugged: bool = Field(default=False, description="charging cable connected (BEV/PHEV)")
    locked: bool = False
    odometer_km: float = Field(default=0.0, ge=0)
    os_version: int = Field(default=8, ge=1, le=99)
    smart_maintenance: bool = Field(default=False, description="opted in (off by default)")
    profile: dict[str, Any] | None = Field(
        default=None, description="the customer record the backend holds (home, policy, "
        "preferred partner); registered through the API before the events")

    @model_validator(mode="after")
    def _known_type(self) -> VehicleDef:
        if self.vehicle_type not in VEHICLE_TYPES_V3:
            raise ValueError(f"vehicle_type {self.vehicle_type!r} is not an EN 15722 v3 category")
        return self

    @property
    def current_country(self) -> str:
        return self.country or self.activation_country

    @property
    def powertrain(self) -> Literal["ICE", "BEV", "PHEV"]:
        """BEV: electric storage only; PHEV: electric beside a tank; otherwise ICE."""
        if "electric" not in self.propulsion:
            return "ICE"
        return "BEV" if set(self.propulsion) <= {"electric"} else "PHEV"


class CrashDef(_Model):
    delta_v_kmh: float = Field(ge=0, le=300)
    direction: Literal["frontal", "near_side", "far_side", "rear", "rollover"] = "frontal"
    multiple_impacts: bool = False
    rollover: bool = False
    belted: list[bool] | None = Field(default=None,
                                      description="per occupied seat; default: all belted")


class MsdUpdateDef(_Model):
    desk: str


class ThermalRunawayDef(_Model):
    ambient_c: float = Field(default=15.0, ge=-40, le=60)


class DriveDef(_Model):
    """A distance, or a route through named towns (road km between them)."""

    km: float | None = Field(default=None, gt=0, le=100_000)
    route: list[str] | None = Field(default=None, min_length=2)

    @model_validator(mode="after")
    def _one_of(self) -> DriveDef:
        if (self.km is None) == (self.route is None):
            raise ValueError("drive takes km or route, not both")
        if self.route is not None:
            for town in self.route:
                place_index(town)
        return self

    def distance_km(self) -> float:
        if self.km is not None:
            return self.km
        assert self.route is not None
        legs = zip(self.route, self.route[1:], strict=False)
        return float(sum(ROAD_KM[place_index(a), place_index(b)] for a, b in legs))


class FaultDef(_Model):
    codes: list[str] = Field(min_length=1)


class AssistanceDef(_Model):
    kind: Literal["breakdown", "light_accident", "manual", "failed_update"] = "breakdown"
    channel: Literal["car", "app", "phone"] = "car"
    confirmed: bool = True
    drivable: bool = False
    fault_codes: list[str] = Field(default_factory=list)


class AssessDef(_Model):
    repair_working_days: int = Field(default=0, ge=0)
    drivable: bool | None = None


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


class EventDef(_Model):
    """One step. ``at`` is a real-time offset from the start (``2s``) or a virtual
    instant (``2026-03-01T08:00``), which moves the scenario clock there first."""

    at: Seconds | None = None
    instant: float | None = None
    vehicle: str | None = None
    crash: CrashDef | None = None
    sos: dict[str, object] | None = None
    msd_update: MsdUpdateDef | None = None
    thermal_runaway: ThermalRunawayDef | None = None
    advance: Annotated[float, BeforeValidator(_duration), Field(gt=0)] | None = None
    drive: DriveDef | None = None
    fault: FaultDef | None = None
    assistance: AssistanceDef | None = None
    assess: AssessDef | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_at(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("at"), str | datetime):
            at = data["at"]
            text = at.isoformat() if isinstance(at, datetime) else at
            if "T" in text or "-" in text:
                return {**data, "at": None, "instant": parse_instant(text)}
        return data

    @model_validator(mode="after")
    def _one_action(self) -> EventDef:
        actions = [a for a in (self.crash, self.sos, self.msd_update, self.thermal_runaway,
                               self.advance, self.drive, self.fault, self.assistance,
                               self.assess) if a is not None]
        if self.instant is not None and not actions:
            return self  # a pure move of the scenario clock
        if len(actions) != 1:
            raise ValueError("an event has exactly one of crash, sos, msd_update, "
                             "thermal_runaway, advance, drive, fault, assistance, assess")
        if self.advance is None and self.vehicle is None:
            raise ValueError("this event needs a vehicle")
        return self


class ExpectDef(_Model):
    vehicle: str
    variant: Variant
    desk: str
    handed_to: str | None = None
    within_ms: float | None = Field(default=None, gt=0)
    updates: int | None = Field(default=None, ge=0)


class PartnerCaseDef(_Model):
    partner: str
    status: Literal["open", "notified", "closed"] = "notified"


class GrantDef(_Model):
    valid: bool = True
    granted: list[str] = Field(default_factory=list)
    not_granted: list[str] = Field(default_factory=list)
    limits: dict[str, float] = Field(default_factory=dict,
                                     description="service -> the limit it must be granted with")


class ServiceExpectDef(_Model):
    """What the backend must have done for a car's non-emergency calls."""

    vehicle: str
    teleservice_calls: list[Literal["interval_28d", "distance_1000km", "service_need"]] | None = (
        None)
    partner_case: PartnerCaseDef | None = None
    assistance: GrantDef | None = None


class FleetDef(_Model):
    """Many cars stepped together by the fleet model, for the Teleservice rhythm."""

    count: int = Field(ge=1, le=20_000)
    seed: int = 1
    countries: list[str] | None = None
    smart_maintenance_share: float = Field(default=0.0, ge=0, le=1)


class FleetExpectDef(_Model):
    """Every call the fleet's cars made reached the backend, none later than the rule."""

    teleservice_on_rhythm: bool = True
    min_calls: int = Field(default=0, ge=0)

    @property
    def vehicle(self) -> str:
        return "fleet"


class Scenario(_Model):
    name: str
    description: str = ""
    start: str | None = Field(default=None, description="virtual start, ISO 8601 (UTC if naive)")
    time_scale: float = Field(default=1.0, ge=0, description="virtual seconds per real second")
    fleet: FleetDef | None = None
    expect_fleet: FleetExpectDef | None = None
    expect_services: list[ServiceExpectDef] = Field(default_factory=list)
    ack_timeout_s: Seconds = 5.0
    settle_timeout_s: Seconds = 20.0
    vehicles: list[VehicleDef]
    events: list[EventDef] = Field(default_factory=list)
    expect: list[ExpectDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        ids = [v.id for v in self.vehicles]
        if len(set(ids)) != len(ids):
            raise ValueError("vehicle ids must be unique")
        vins = [v.vin for v in self.vehicles]
        if len(set(vins)) != len(vins):
            raise ValueError("VINs must be unique")
        known = set(ids)
        if self.start is not None:
            parse_instant(self.start)
        offsets = [e.at for e in self.events if e.at is not None]
        if offsets != sorted(offsets):
            raise ValueError("events run in file order; their real-time offsets must not "
                             "go down")
        for i, event in enumerate(self.events):
            if event.vehicle is not None and event.vehicle not in known:
                raise ValueError(f"events[{i}].vehicle {event.vehicle!r} is not a vehicle id")
            if (event.thermal_runaway and event.vehicle is not None
                    and self.vehicle(event.vehicle).powertrain == "ICE"):
                raise ValueError(f"events[{i}]: thermal_runaway needs a BEV or PHEV "
                                 "(an 'electric' propulsion), seed 001 §2")
        for i, expect in enumerate(self.expect):
            if expect.vehicle not in known:
                raise ValueError(f"expect[{i}].vehicle {expect.vehicle!r} is not a vehicle id")
        for i, service in enumerate(self.expect_services):
            if service.vehicle not in known:
                raise ValueError(f"expect_services[{i}].vehicle {service.vehicle!r} is not a "
                                 "vehicle id")
        return self

    def vehicle(self, vehicle_id: str) -> VehicleDef:
        return next(v for v in self.vehicles if v.id == vehicle_id)


def resolve(name_or_path: str, *, scenario_dir: Path = SCENARIO_DIR) -> Path:
    """A scenario name (``default``) or a path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = scenario_dir / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    known = sorted(p.stem for p in scenario_dir.glob("*.yaml"))
    raise ScenarioError(f"no scenario {name_or_path!r}; shipped: {', '.join(known) or 'none'}")


def parse(text: str, *, source: str = "<string>") -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not YAML: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        more = exc.error_count() - 1
        suffix = f" (+{more} more)" if more else ""
        raise ScenarioError(f"{source}: {where}: {first['msg']}{suffix}") from None


def load(name_or_path: str, *, scenario_dir: Path = SCENARIO_DIR) -> Scenario:
    path = resolve(name_or_path, scenario_dir=scenario_dir)
    return parse(path.read_text(encoding="utf-8"), source=str(path))
