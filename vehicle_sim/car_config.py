"""What one emulated car is built from: its own settings, not a file format.

The car is configured by whoever runs it (the scenario runner today, a test or a bench
tomorrow); it never sees the scenario's YAML schema, so the file format can change
without touching the car, and a car can be set up without a file at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vehicle_sim.car_ota import OtaCarSettings
from vehicle_sim.ecall_machine import EcallContext
from vehicle_sim.vehicle import VehicleSpec

Powertrain = Literal["ICE", "BEV", "PHEV"]
# What the customer may switch on or off in the car at any moment (MINI Connected §16,
# TS-R6 and TS-R3; the Intelligent eCall, ECALL-R1): ``Car.switch`` takes it.
ConsentService = Literal["smart_maintenance", "teleservice", "intelligent_ecall"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StartPose:
    """Where the car is and what it does when the emulation starts."""

    lat: float
    lon: float
    heading_deg: float | None = None
    speed_kmh: float = 0.0
    occupants: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CarConfig:
    """One car: identity and bought services, eCall surroundings, body and update settings.

    ``label`` is the name the person watching knows the car by (in notes and traces);
    ``propulsion`` lists the energy storages as the MSD names them (``gasoline``,
    ``electric``, ...); ``plugged`` and ``locked`` are the body's state that the HV warn
    call reports (MINI Connected §2, HV-R2).
    """

    label: str
    spec: VehicleSpec
    ecall: EcallContext
    start: StartPose
    powertrain: Powertrain = "ICE"
    propulsion: tuple[str, ...] = ("gasoline",)
    odometer_km: float = 0.0
    os_version: int = 8
    smart_maintenance: bool = False
    plugged: bool = False
    locked: bool = False
    ota: OtaCarSettings = field(default_factory=OtaCarSettings)
