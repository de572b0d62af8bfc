"""Load profiles: a fleet, its traffic, the run's shape and its thresholds, from YAML.

A profile is what a QA engineer copies and edits, so it reads like the scenarios do
(``vehicle_sim.scenario``): YAML through ``yaml.safe_load`` into pydantic models that
forbid unknown keys, and every error names the file and the key. Durations take the
scenarios' units ("90s", "2min"). Rates of the traffic are per virtual hour for the
whole fleet: the fleet drives through a day compressed by ``clock_speed``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from protocols.units import parse_duration
from vehicle_sim.schema_errors import describe
from vehicle_sim.shipped_files import find_yaml, shipped_dir, shipped_names

PROFILE_DIR: Final = shipped_dir(__file__, "profiles")  # in the wheel, or the checkout's


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the key."""


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


Seconds = Annotated[float, BeforeValidator(_duration), Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Area(_Model):
    """A circle on the map: where a burst of eCalls happens."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(default=1.0, gt=0, le=100)


class Mix(_Model):
    """What the fleet bought and where it lives."""

    intelligent_share: Share = 0.6  # cars with Intelligent eCall bought (else Legal)
    smart_maintenance_share: Share = 0.3  # cars opted in to Smart Maintenance
    electric_share: Share = 0.3  # BEV/PHEV cars: the ones that can make an HV warn call
    home: Area = Area(lat=48.137, lon=11.575, radius_km=30.0)
    country: str = Field(default="DE", pattern=r"^[A-Z]{2}$")


class Traffic(_Model):
    """Steady traffic of the whole fleet, per virtual hour (see ``clock_speed``)."""

    clock_speed: float = Field(default=1.0, ge=1, le=100_000)  # virtual s per real s
    km_per_hour: float = Field(default=0.0, ge=0, le=200)  # each car's mean driving speed
    ecalls_per_hour: float = Field(default=0.0, ge=0)
    hv_warns_per_hour: float = Field(default=0.0, ge=0)
    assistance_per_hour: float = Field(default=0.0, ge=0)


class Storm(_Model):
    """Every car loses its connection at ``at`` (a broker restart, a network cut); the
    network is back after ``down``, and each car's first try is jittered over
    ``back_within`` after that, as TCUs spread theirs so that a fleet does not hit the
    broker in one second; ``ecalls`` cars call during the storm."""

    at: Seconds
    down: Seconds = 2.0  # no car tries before this
    back_within: Seconds = 10.0  # after ``down``, spread over this
    ecalls: int = Field(default=0, ge=0)


class Burst(_Model):
    """``ecalls`` cars in ``area`` crash within ``within`` seconds from ``at``."""

    at: Seconds
    ecalls: int = Field(ge=1)
    within: Seconds = 5.0
    area: Area


class OtaWave(_Model):
    """A campaign offered to the whole fleet ``at`` this offset, through the backend's API
    (so a run with a wave needs ``--api``). Each car downloads ``size_bytes`` in tenths
    over ``download_s``, confirms and installs for ``install_s`` (real seconds: modelled,
    as the emulator models them)."""

    at: Seconds
    version: str = Field(default="23.03", min_length=1, max_length=32)
    size_bytes: int = Field(default=2_000_000_000, ge=1_000_000_000, le=10_000_000_000)
    download_s: Seconds = 3.0
    install_s: Seconds = 1.0


class Thresholds(_Model):
    """The verdicts; any one absent is not judged."""

    ecall_ack_p99_ms: float | None = Field(default=None, gt=0)
    connect_p99_ms: float | None = Field(default=None, gt=0)
    lost_ecalls: int | None = Field(default=None, ge=0)
    rejected: int | None = Field(default=None, ge=0)
    connect_failure_share: Share | None = None
    ota_offer_p99_ms: float | None = Field(default=None, gt=0)
    missed_ota_offers: int | None = Field(default=None, ge=0)


class Profile(_Model):
    """One load run. ``vehicles``, ``duration`` and ``ramp`` are what the command line
    may override; the ramp (cars spawned evenly over it) is part of the duration, and
    offsets (``storm.at``, ...) count from the start. ``drain`` bounds the quiet time after
    the traffic stops in which the last acknowledgements may still arrive before an
    eCall counts as lost; the run ends sooner once every eCall is acknowledged."""

    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    vehicles: int = Field(ge=1, le=1_000_000)
    duration: Seconds = Field(gt=0)
    ramp: Seconds = 10.0
    drain: Seconds = 8.0
    seed: int = Field(default=1, ge=0)  # also in every VIN: runs of other seeds never meet
    mix: Mix = Mix()
    traffic: Traffic = Traffic()
    storm: Storm | None = None
    burst: Burst | None = None
    ota: OtaWave | None = None
    thresholds: Thresholds = Thresholds()

    @model_validator(mode="after")
    def _within_the_run(self) -> Profile:
        if self.ramp > self.duration:
            raise ValueError(f"ramp {self.ramp:g} s is longer than the duration "
                             f"{self.duration:g} s (the ramp is part of it)")
        stages: tuple[tuple[str, Storm | Burst | OtaWave | None], ...] = (
            ("storm", self.storm), ("burst", self.burst), ("ota", self.ota))
        for key, stage in stages:
            if stage is not None and stage.at >= self.duration:
                raise ValueError(f"{key}.at {stage.at:g} s is not within the duration "
                                 f"{self.duration:g} s")
        if self.ota is not None and self.ota.at < self.ramp:
            raise ValueError(f"ota.at {self.ota.at:g} s is within the ramp {self.ramp:g} s: "
                             "every car must be there when the campaign is offered")
        if self.burst is not None and self.burst.ecalls > self.vehicles:
            raise ValueError(f"burst.ecalls {self.burst.ecalls} is more than the "
                             f"{self.vehicles} vehicles")
        storm = self.storm
        if storm is not None and storm.at + storm.down + storm.back_within > self.duration:
            # Its eCalls fall within this; the drain that follows must see them all.
            raise ValueError(f"the storm ends at {storm.at + storm.down + storm.back_within:g} s "
                             f"(at + down + back_within), after the duration "
                             f"{self.duration:g} s")
        if self.storm is not None and self.storm.ecalls > self.vehicles:
            raise ValueError(f"storm.ecalls {self.storm.ecalls} is more than the "
                             f"{self.vehicles} vehicles")
        return self

    def with_overrides(self, *, vehicles: int | None = None, duration: float | None = None,
                       ramp: float | None = None) -> Profile:
        """The profile with the command line's values, validated again as a whole."""
        data = self.model_dump()
        for key, value in (("vehicles", vehicles), ("duration", duration), ("ramp", ramp)):
            if value is not None:
                data[key] = value
        return _validated(data, source="command line")


def resolve(name_or_path: str, *, profile_dir: Path = PROFILE_DIR) -> Path:
    """A profile name (``fleet_day``) or a path to a YAML file."""
    found = find_yaml(name_or_path, profile_dir)
    if found is None:
        raise ProfileError(f"no profile {name_or_path!r}; shipped: {shipped_names(profile_dir)}")
    return found


def parse(text: str, *, source: str = "<string>") -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not YAML: {exc}") from None
    return _validated(data, source=source)


def _validated(data: object, *, source: str) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(describe(exc, source)) from None


def load(name_or_path: str, *, profile_dir: Path = PROFILE_DIR) -> Profile:
    path = resolve(name_or_path, profile_dir=profile_dir)
    return parse(path.read_text(encoding="utf-8"), source=str(path))
