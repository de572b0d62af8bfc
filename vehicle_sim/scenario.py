"""Scenario files: vehicles, timed events and expectations, loaded from YAML.

YAML goes through ``yaml.safe_load`` into pydantic models that forbid unknown keys, so
a typo in a scenario is an error naming the key, not a silently ignored line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from protocols.clock import parse_instant
from protocols.geo import country_at
from protocols.msd.model import VEHICLE_TYPES_V3
from protocols.units import parse_duration, parse_size
from vehicle_sim.fleet import ROAD_KM
from vehicle_sim.places import place_index
from vehicle_sim.scenario_checks import NewCheckKinds
from vehicle_sim.scenario_steps import ConsentDef, InjectDef, RejectionsExpectDef
from vehicle_sim.schema_errors import describe
from vehicle_sim.shipped_files import find_yaml, shipped_dir, shipped_names

SCENARIO_DIR = shipped_dir(__file__, "scenarios")  # in the wheel, or the checkout's
REFUSED_DIR = SCENARIO_DIR / "refused"  # negative scenarios, each with its marker
REFUSED_KEY: Final = "refused"  # top-level key of a file that must be refused
PropulsionName = Literal["gasoline", "diesel", "cng", "lpg", "electric", "hydrogen", "other"]
Variant = Literal["intelligent", "legal", "psap_voice", "hv_warn"]
_GASOLINE: tuple[PropulsionName, ...] = ("gasoline",)


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


class NegativeScenarioError(ScenarioError):
    """A file marked ``refused:``: it shows a mistake being caught (``refusal_of``)."""


def _duration(value: object) -> object:
    """Accept 1.5, "1.5", "500ms", "2s", "1min", "28d" as seconds (``protocols.units``)."""
    return parse_duration(value) if isinstance(value, str) else value


# The JSON Schema (``vehicle_sim.scenario_schema``) says what a file may write: a number
# or the text of a duration, size or ISO instant, as these validators read them.
_NUMBER_OR_TEXT: Final = float | str
Seconds = Annotated[float, BeforeValidator(_duration, json_schema_input_type=_NUMBER_OR_TEXT),
                    Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Position(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class IntelligentService(_Model):
    bought: bool = True
    expires: date | None = None


OtaPhase = Literal["idle", "notified", "downloading", "downloaded", "awaiting_confirmation",
                   "installing", "done", "failed", "rolled_back", "waiting_ecall", "refused"]


class OtaCarDef(_Model):
    """The car's side of a software update: its conditions and its customer's habits.

    ``download_s`` and ``install_real_s`` are real seconds of the modelled transfer and
    installer; ``install_s`` is the virtual limit of one attempt (at most 10 minutes,
    MINI Connected art. 4.5(d), OTA-R4).
    """

    running_version: str = Field(default="21.07", min_length=1, max_length=32)
    battery_soc: float = Field(default=0.8, ge=0, le=1)
    parked: bool = True
    service_enabled: bool = True
    auto_confirm: bool = Field(default=False, description="the customer confirms as soon "
                               "as the car asks (every installation is started manually)")
    channel: Literal["sim", "wifi", "app"] = "sim"
    download_s: Seconds = 0.5
    install_s: float = Field(default=600.0, gt=0, le=600)
    install_real_s: Seconds = 0.3
    fail_install: bool = False
    can_roll_back: bool = True
    lose_connection_at: float | None = Field(default=None, gt=0, lt=1)


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
    country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$",
        description="where the car is now, overriding its position's country; default: the "
        "country at its position (activation country only at sea)")
    intelligent_ecall: IntelligentService = Field(default_factory=IntelligentService)
    faults: list[Literal["intelligent_unreachable", "legal_unreachable", "intelligent_ack_late",
                         "legal_ack_late", "intelligent_ack_lost", "legal_ack_lost"]] = Field(
        default_factory=list, description="unreachable: the call never gets through; "
        "ack_late / ack_lost: the backend takes the MSD, its acknowledgement reaches the car "
        "after the car's timer fired, or never")
    plugged: bool = Field(default=False, description="charging cable connected (BEV/PHEV)")
    locked: bool = False
    odometer_km: float = Field(default=0.0, ge=0)
    os_version: int = Field(default=8, ge=1, le=99)
    model: str = Field(default="MINI Cooper", min_length=1, max_length=64)
    ota: OtaCarDef = Field(default_factory=OtaCarDef)
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
        """Where the car is: the explicit ``country`` if the scenario gives one, else the
        country at its position by the lookup the backend uses (``protocols.geo``), so a
        BE car placed in Cologne is in DE. Only a position with no country (at sea) falls
        back to the activation country."""
        if self.country is not None:
            return self.country
        return country_at(self.position.lat, self.position.lon) or self.activation_country

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


def _bytes(value: object) -> object:
    """Accept 4000000000, "4GB", "1.5GB" or "800MB" (decimal units, ``protocols.units``)."""
    return parse_size(value) if isinstance(value, str) else value


Duration = Annotated[float, BeforeValidator(_duration, json_schema_input_type=_NUMBER_OR_TEXT),
                     Field(gt=0)]


class CampaignDef(_Model):
    """An operator's OTA campaign, created through the backend's API (``POST /ota/campaigns``).

    ``target`` and ``groups`` are passed as the API takes them; the backend checks them.
    """

    id: str = Field(min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=32)
    size: Annotated[int, BeforeValidator(_bytes, json_schema_input_type=_NUMBER_OR_TEXT),
                    Field(ge=0)]
    target: dict[str, Any] = Field(default_factory=dict)
    groups: list[dict[str, Any]] = Field(min_length=1)
    action_timeout: Duration = 3600.0
    critical: bool = False
    release_notes: str = ""

    def body(self) -> dict[str, Any]:
        return {"campaign_id": self.id, "version": self.version, "size_bytes": self.size,
                "target": self.target, "groups": self.groups,
                "action_timeout_s": self.action_timeout, "critical": self.critical,
                "release_notes": self.release_notes}


class CampaignActionDef(_Model):
    id: str
    action: Literal["start", "pause", "resume", "cancel"]


class OtaActionDef(_Model):
    """What the customer does: confirm waits until the car asks for it."""

    action: Literal["confirm", "cancel", "retry", "switch_off", "switch_on"]
    by: Literal["car", "app"] = "car"


class CloseDef(_Model):
    """All procedures of a case are completed: the party that holds it closes it."""

    case: Literal["callcentre", "partner", "assistance"]


class BatteryDef(_Model):
    soc: float = Field(ge=0, le=1)
    charging: bool | None = None


class _Step(_Model):
    """What every event has: when it happens, and an optional wait for a car's update.

    ``at`` is a real-time offset from the start (``2s``) or a virtual instant
    (``2026-03-01T08:00``), which moves the scenario clock there first (``instant``).
    """

    at: Seconds | None = None
    instant: float | None = None
    wait_for_ota: OtaPhase | None = Field(
        default=None, description="before acting, wait until the car's update is in this "
        "phase (bounded by settle_timeout_s)")


class CarStep(_Step):
    """An event that happens to one car, named by its id."""

    vehicle: str


class FleetStep(_Step):
    """An event of the whole scenario: the clock, or the operator's campaigns."""

    vehicle: str | None = Field(default=None, description="a car to wait_for_ota on first")

    @model_validator(mode="after")
    def _wait_needs_vehicle(self) -> FleetStep:
        if self.wait_for_ota is not None and self.vehicle is None:
            raise ValueError("wait_for_ota needs a vehicle")
        return self


class CrashEvent(CarStep):
    crash: CrashDef


class SosEvent(CarStep):
    sos: dict[str, object]


class MsdUpdateEvent(CarStep):
    msd_update: MsdUpdateDef


class ThermalRunawayEvent(CarStep):
    thermal_runaway: ThermalRunawayDef


class DriveEvent(CarStep):
    drive: DriveDef


class FaultEvent(CarStep):
    fault: FaultDef


class AssistanceEvent(CarStep):
    assistance: AssistanceDef


class AssessEvent(CarStep):
    assess: AssessDef


class OtaCustomerEvent(CarStep):
    ota: OtaActionDef


class BatteryEvent(CarStep):
    battery: BatteryDef


class EcallEndEvent(CarStep):
    ecall_end: dict[str, object]


class CloseEvent(CarStep):
    close: CloseDef


class ConsentEvent(CarStep):
    consent: ConsentDef


class InjectEvent(CarStep):
    inject: InjectDef


class AdvanceEvent(FleetStep):
    advance: Duration
    step: Duration | None = Field(default=None, description="move the clock in steps of "
                                  "this size, letting the backend's retention catch up after "
                                  "each, so deletions happen on their day")


class CampaignCreateEvent(FleetStep):
    ota_campaign: CampaignDef


class CampaignActionEvent(FleetStep):
    campaign: CampaignActionDef


class CheckEvent(FleetStep):
    """Expectations evaluated at this moment of the scenario clock (``scenario_checks``)."""

    check: list[CheckItem] = Field(min_length=1)


class ClockEvent(FleetStep):
    """A pure move of the scenario clock to an instant (``at: 2026-04-02T18:00``)."""

    instant: float


# One type per event, tagged by the key that says what happens (``crash: {...}``), so the
# YAML reads as it always did and the runner can ``match`` on the type.
_Tagged = (
    Annotated[CrashEvent, Tag("crash")]
    | Annotated[SosEvent, Tag("sos")]
    | Annotated[MsdUpdateEvent, Tag("msd_update")]
    | Annotated[ThermalRunawayEvent, Tag("thermal_runaway")]
    | Annotated[AdvanceEvent, Tag("advance")]
    | Annotated[DriveEvent, Tag("drive")]
    | Annotated[FaultEvent, Tag("fault")]
    | Annotated[AssistanceEvent, Tag("assistance")]
    | Annotated[AssessEvent, Tag("assess")]
    | Annotated[CampaignCreateEvent, Tag("ota_campaign")]
    | Annotated[CampaignActionEvent, Tag("campaign")]
    | Annotated[OtaCustomerEvent, Tag("ota")]
    | Annotated[BatteryEvent, Tag("battery")]
    | Annotated[EcallEndEvent, Tag("ecall_end")]
    | Annotated[CloseEvent, Tag("close")]
    | Annotated[ClockEvent, Tag("clock")]
    | Annotated[CheckEvent, Tag("check")]
    | Annotated[ConsentEvent, Tag("consent")]
    | Annotated[InjectEvent, Tag("inject")]
)
EVENT_TAGS: Final = tuple(meta.tag for member in get_args(_Tagged)
                          for meta in get_args(member)[1:] if isinstance(meta, Tag))
ACTIONS: Final = tuple(tag for tag in EVENT_TAGS if tag != "clock")  # keys an event has one of


def _actions_in(keys: Iterable[object]) -> list[str]:
    return [k for k in ACTIONS if k in keys]


def _event_input(data: Any) -> Any:
    """An ISO ``at`` becomes ``instant``; then exactly one action (a key left empty is
    none), or none at all for a pure move of the clock. Checked before the type is
    chosen, so the error states the rule rather than a failed guess of the type."""
    if not isinstance(data, dict):
        return data
    data = {k: v for k, v in data.items() if not (k in ACTIONS and v is None)}
    at = data.get("at")
    if isinstance(at, str | datetime):
        text = at.isoformat() if isinstance(at, datetime) else at
        if "T" in text or "-" in text:
            data = {**data, "at": None, "instant": parse_instant(text)}
    actions = _actions_in(data)
    if len(actions) != 1 and not (not actions and data.get("instant") is not None):
        raise ValueError(f"an event has exactly one of {', '.join(ACTIONS)}")
    if data.get("step") is not None and actions != ["advance"]:
        raise ValueError("step goes with advance")
    return data


def _event_tag(data: Any) -> str:
    """The tag of an event: its action key, or ``clock`` when it only moves the clock."""
    keys = data if isinstance(data, dict) else type(data).model_fields
    actions = _actions_in(keys)
    return actions[0] if actions else "clock"


Event = Annotated[_Tagged, Discriminator(_event_tag), BeforeValidator(_event_input)]


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


class OtaExpectDef(_Model):
    """Where a car's update must end, as the backend saw it, and how it got there."""

    vehicle: str
    state: OtaPhase
    reason: str | None = None
    running_version: str | None = None
    history: list[OtaPhase] = Field(default_factory=list, description="phases seen in this "
                                    "order (other phases may come between)")
    reasons_seen: list[str] = Field(default_factory=list, description="reason codes the "
                                    "car reported on the way")
    charging_stopped: bool | None = None
    assistance_call: bool | None = None


class CampaignExpectDef(_Model):
    """Where a campaign must stand: status, pause reason, vehicles per status."""

    id: str
    status: Literal["planned", "running", "paused", "cancelled", "finished"]
    paused_reason: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)

    @property
    def vehicle(self) -> str:
        return f"campaign {self.id}"


class RetentionExpectDef(_Model):
    """What the retention report must show at the end (``GET /retention/report``)."""

    overdue: int = Field(default=0, ge=0)
    max_lateness: Duration | None = Field(default=None, description="every deletion in the "
                                          "audit came at most this long after its deadline")
    deleted: dict[str, int] = Field(default_factory=dict, description="at least this many "
                                    "deletions per service")
    held: dict[str, int] = Field(default_factory=dict, description="exactly this many held")
    never_stored: bool = True

    @property
    def vehicle(self) -> str:
        return "retention"


class BudgetExpectDef(_Model):
    """What the budget meter must show at the end (``GET /budgets``), fleet-wide."""

    rejected: dict[str, int] = Field(default_factory=dict, description="exactly this many "
                                     "rejections per service (0: every budget respected)")
    flagged: dict[str, int] = Field(default_factory=dict)
    messages: dict[str, int] = Field(default_factory=dict, description="at least this many "
                                     "metered messages per service")

    @property
    def vehicle(self) -> str:
        return "budgets"


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


class CheckItem(NewCheckKinds):
    """One expectation of a ``check`` step or of ``expect_checks``, named by its key."""

    expect: ExpectDef | None = None
    services: ServiceExpectDef | None = None
    ota: OtaExpectDef | None = None
    campaign: CampaignExpectDef | None = None
    retention: RetentionExpectDef | None = None
    budgets: BudgetExpectDef | None = None


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
    events: list[Event] = Field(default_factory=list)
    expect: list[ExpectDef] = Field(default_factory=list)
    expect_ota: list[OtaExpectDef] = Field(default_factory=list)
    expect_campaigns: list[CampaignExpectDef] = Field(default_factory=list)
    expect_retention: RetentionExpectDef | None = None
    expect_budgets: BudgetExpectDef | None = None
    expect_checks: list[CheckItem] = Field(default_factory=list, description="checked at "
                                           "the end, as a check step's items are")
    expect_rejections: RejectionsExpectDef | None = None

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
            if (isinstance(event, ThermalRunawayEvent)
                    and self.vehicle(event.vehicle).powertrain == "ICE"):
                raise ValueError(f"events[{i}]: thermal_runaway needs a BEV or PHEV "
                                 "(an 'electric' propulsion), MINI Connected §2b, HV-R1")
        for i, expect in enumerate(self.expect):
            if expect.vehicle not in known:
                raise ValueError(f"expect[{i}].vehicle {expect.vehicle!r} is not a vehicle id")
        named: list[tuple[str, list[str]]] = [
            ("expect_services", [e.vehicle for e in self.expect_services]),
            ("expect_ota", [e.vehicle for e in self.expect_ota])]
        named += [(f"events[{i}].check", [v for item in e.check for v in item.vehicles()])
                  for i, e in enumerate(self.events) if isinstance(e, CheckEvent)]
        named.append(("expect_checks", [v for c in self.expect_checks for v in c.vehicles()]))
        for name, vehicles in named:
            for i, vehicle in enumerate(vehicles):
                if vehicle not in known:
                    raise ValueError(f"{name}[{i}].vehicle {vehicle!r} is not a vehicle id")
        return self

    def vehicle(self, vehicle_id: str) -> VehicleDef:
        return next(v for v in self.vehicles if v.id == vehicle_id)


def resolve(name_or_path: str, *, scenario_dir: Path = SCENARIO_DIR) -> Path:
    """A scenario name (``default``) or a path to a YAML file."""
    found = find_yaml(name_or_path, scenario_dir)
    if found is None:
        raise ScenarioError(f"no scenario {name_or_path!r}; shipped: "
                            f"{shipped_names(scenario_dir)}")
    return found


def _yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not YAML: {exc}") from None


def _validate(data: Any, source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(describe(exc, source, _where)) from None


def parse(text: str, *, source: str = "<string>") -> Scenario:
    data = _yaml(text, source)
    if isinstance(data, dict) and REFUSED_KEY in data:
        raise NegativeScenarioError(f"{source}: a negative scenario ({REFUSED_KEY}: "
                                    f"{data[REFUSED_KEY]!r}): it is there to be refused, "
                                    "not run")
    return _validate(data, source)


def refusal_of(text: str, *, source: str = "<string>") -> str:
    """The error a negative scenario is refused with, once it proved to be the one its
    ``refused:`` marker names (a part of the message).

    A file that shows how a mistake is caught carries the marker at its top; the marker
    is taken out before validation, so the file is refused for its own mistake alone.
    Raises ScenarioError when the file has no marker, loads, or is refused otherwise."""
    data = _yaml(text, source)
    wanted = data.pop(REFUSED_KEY, None) if isinstance(data, dict) else None
    if not isinstance(wanted, str) or not wanted:
        raise ScenarioError(f"{source}: no '{REFUSED_KEY}: <part of the error>' marker")
    try:
        _validate(data, source)
    except ScenarioError as exc:
        if wanted in str(exc):
            return str(exc)
        raise ScenarioError(f"{source}: refused with \"{exc}\", which does not say "
                            f"{wanted!r}") from None
    raise ScenarioError(f"{source}: loads, but its marker says it is refused with {wanted!r}")


def _where(loc: tuple[int | str, ...]) -> str:
    """The key path of an error. Inside an event pydantic names the event's type between
    its index and the key; that type is the action key, so it is said once, not twice."""
    if len(loc) > 2 and loc[0] == "events" and loc[2] in EVENT_TAGS:
        loc = (*loc[:2], *loc[3:])
    return ".".join(str(p) for p in loc) or "(top)"


def load(name_or_path: str, *, scenario_dir: Path = SCENARIO_DIR) -> Scenario:
    path = resolve(name_or_path, scenario_dir=scenario_dir)
    return parse(path.read_text(encoding="utf-8"), source=str(path))
