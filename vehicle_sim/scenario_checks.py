"""The expectations a ``check`` step (or ``expect_checks``) adds to the scenario language:
counts and absence, time-stamped Teleservice calls, deletions with their dates, what the
OEM's storage still holds, and the content a desk received.

A check item names its kind by its one key (``count: {...}``), as an event names its
action; ``scenario.CheckItem`` adds the older kinds (``expect``, ``services``, ...) to the
ones here. These models import nothing of ``vehicle_sim.scenario``, so that module can
register them without a cycle.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DAY_S: Final = 86_400.0
CountOf = Literal["incidents", "teleservice_calls", "smart_maintenance", "assistance_cases",
                  "partner_cases"]
RecordKind = Literal["hv_case", "ecall_case", "assistance_case", "teleservice_calls"]
CallReason = Literal["interval_28d", "distance_1000km", "service_need"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def day_start(day: date) -> float:
    """Epoch seconds at 00:00 UTC of ``day``."""
    return datetime.combine(day, time(), tzinfo=UTC).timestamp()


class CountDef(_Model):
    """How many records of a kind the backend holds from this run, per car or fleet-wide.

    ``vehicle`` names one car of the scenario; without it every car of the run counts
    (the named cars, and the fleet's for Teleservice calls). ``exactly: 0`` (or
    ``at_most: 0``) states absence: "this desk received nothing".
    """

    of: CountOf
    vehicle: str | None = None
    desk: str | None = Field(default=None, description="incidents: the desk that holds them")
    partner: str | None = Field(default=None, description="partner_cases: the partner")
    exactly: int | None = Field(default=None, ge=0)
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> CountDef:
        if self.exactly is None and self.at_least is None and self.at_most is None:
            raise ValueError("a count needs exactly, at_least or at_most")
        if self.exactly is not None and (self.at_least, self.at_most) != (None, None):
            raise ValueError("exactly goes alone, without at_least or at_most")
        if (self.desk is None) == (self.of == "incidents"):
            raise ValueError("desk goes with of: incidents, and only with it")
        if (self.partner is None) == (self.of == "partner_cases"):
            raise ValueError("partner goes with of: partner_cases, and only with it")
        return self

    def holds(self, count: int) -> bool:
        if self.exactly is not None:
            return count == self.exactly
        return ((self.at_least is None or count >= self.at_least)
                and (self.at_most is None or count <= self.at_most))

    def wanted(self) -> str:
        if self.exactly is not None:
            return f"exactly {self.exactly}"
        parts = [f"at least {self.at_least}" if self.at_least is not None else "",
                 f"at most {self.at_most}" if self.at_most is not None else ""]
        return " and ".join(p for p in parts if p)

    @property
    def label(self) -> str:
        where = self.desk or self.partner
        return (f"count {self.of}" + (f" at {where}" if where else "")
                + f" of {self.vehicle or 'all cars'}")


class TimedCallDef(_Model):
    """One Teleservice call: its reason, and when (scenario day, 0 = the start) or at
    which odometer reading it came."""

    reason: CallReason
    day: float | None = Field(default=None, ge=0)
    odometer_km: float | None = Field(default=None, ge=0)


class CallsDef(_Model):
    """A car's Teleservice calls of this run, in order, each within the tolerances."""

    vehicle: str
    teleservice_calls: list[TimedCallDef]
    tolerance_days: float = Field(default=1.0, ge=0)
    tolerance_km: float = Field(default=50.0, ge=0)

    def mismatch(self, seen: list[tuple[str, float, float]]) -> str | None:
        """Why ``seen`` (reason, scenario day, odometer km per call, in order) is not the
        expected list; None when it is."""
        want = self.teleservice_calls
        if [r for r, _d, _k in seen] != [w.reason for w in want]:
            return f"calls {[r for r, _d, _k in seen]}, expected {[w.reason for w in want]}"
        for i, (wanted, (reason, day, km)) in enumerate(zip(want, seen, strict=True)):
            if wanted.day is not None and abs(day - wanted.day) > self.tolerance_days:
                return f"call {i + 1} ({reason}) on day {day:.2f}, expected day {wanted.day}"
            if wanted.odometer_km is not None and \
                    abs(km - wanted.odometer_km) > self.tolerance_km:
                return f"call {i + 1} ({reason}) at {km:.0f} km, expected {wanted.odometer_km}"
        return None

    @property
    def label(self) -> str:
        return f"{self.vehicle} Teleservice calls"


class DeletionDef(_Model):
    """A record is held through the whole of ``held_until`` and gone when ``gone_by``
    begins (days in UTC): checked at the moment of the check, and against the audit
    trail's deadline and deletion time once the record is gone. "Held on 14 January,
    gone by 16 January" leaves 15 January for the deletion."""

    record: RecordKind
    vehicle: str
    held_until: date
    gone_by: date

    @model_validator(mode="after")
    def _order(self) -> DeletionDef:
        if (self.gone_by - self.held_until).days < 2:
            raise ValueError("gone_by comes at least two days after held_until, leaving a "
                             "day for the deletion")
        return self

    @property
    def window(self) -> tuple[float, float]:
        """The deadline and the deletion fall in [end of held_until, start of gone_by)."""
        return day_start(self.held_until) + DAY_S, day_start(self.gone_by)

    def phase(self, now: float) -> Literal["held", "between", "gone"]:
        """What the record must be at ``now``: held, either, or gone."""
        low, high = self.window
        return "held" if now < low else "gone" if now >= high else "between"

    @property
    def label(self) -> str:
        return f"{self.vehicle} {self.record} deletion"


class StoredDef(_Model):
    """Whether the OEM's storage holds anything of a car's incidents (their ids), of the
    MSDs it sent (their bytes as sent) or of its VIN, by the operator's scan of the
    keyspace. The backend keeps an MSD decoded under its incident, so ``msd_of`` proves
    that the bytes as sent are kept nowhere: a Legal eCall's, for one, must never reach the
    OEM's database at all."""

    incident_of: str | None = None
    msd_of: str | None = None
    vin_of: str | None = None
    present: bool

    @model_validator(mode="after")
    def _one(self) -> StoredDef:
        if sum(v is not None for v in (self.incident_of, self.msd_of, self.vin_of)) != 1:
            raise ValueError("stored takes one of incident_of, msd_of or vin_of")
        return self

    @property
    def vehicle(self) -> str:
        return self.incident_of or self.msd_of or self.vin_of or ""

    @property
    def label(self) -> str:
        what = "incident" if self.incident_of else "MSDs" if self.msd_of else "VIN"
        return f"storage of {self.vehicle}'s {what}"


class ContentDef(_Model):
    """What a desk received of a car's incident: the messageIdentifier sequence, the MSD's
    timestamp, position and VIN, and any field of the record as the desk shows it (dotted
    paths: ``extras.plug_state``, ``msd.msdStructure.control.vehicleType``)."""

    vehicle: str
    desk: str
    msg_ids: list[int] | None = None
    timestamp: datetime | None = None
    tolerance_s: float = Field(default=5.0, ge=0)
    position_within_m: float | None = Field(default=None, gt=0)
    vin: bool = Field(default=False, description="the MSD names the car's own VIN")
    fields: dict[str, Any] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.vehicle} content at {self.desk}"


NewCheckDef = CountDef | CallsDef | DeletionDef | StoredDef | ContentDef


class NewCheckKinds(_Model):
    """The kinds this module adds to a check item; exactly one key is given per item."""

    count: CountDef | None = None
    calls: CallsDef | None = None
    deletion: DeletionDef | None = None
    stored: StoredDef | None = None
    content: ContentDef | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> NewCheckKinds:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a check item has exactly one of "
                             + ", ".join(type(self).model_fields))
        return self

    @property
    def kind(self) -> str:
        return next(n for n in type(self).model_fields if getattr(self, n) is not None)

    @property
    def definition(self) -> BaseModel:
        value = getattr(self, self.kind)
        assert isinstance(value, BaseModel)
        return value

    def vehicles(self) -> list[str]:
        """The car ids the item names, for the scenario to check they exist (a field
        ``vehicle``, ``incident_of`` or ``vin_of``; a label property is not one)."""
        definition = self.definition
        names = [getattr(definition, name) for name in ("vehicle", "incident_of", "vin_of")
                 if name in type(definition).model_fields]
        return [name for name in names if isinstance(name, str)]
