"""The scenario events that happen inside one car, with nobody else to ask.

A crash, the SOS button, a cell fault, a drive, a fault code, an assistance request, a
battery change or the end of an eCall: each becomes a call on the car, which then does
what a real TCU would. Events that go through the backend are the runner's.
"""

from __future__ import annotations

from typing import assert_never

from vehicle_sim.car import Car
from vehicle_sim.scenario import (
    AssistanceEvent,
    BatteryEvent,
    CrashEvent,
    DriveEvent,
    EcallEndEvent,
    FaultEvent,
    SosEvent,
    ThermalRunawayEvent,
)
from vehicle_sim.scenario_cars import pulse_of

CarEvent = (CrashEvent | SosEvent | ThermalRunawayEvent | DriveEvent | FaultEvent
            | AssistanceEvent | BatteryEvent | EcallEndEvent)


def perform(event: CarEvent, car: Car) -> None:
    """Let ``car`` live through ``event``."""
    match event:
        case CrashEvent(crash=crash):
            car.crash(pulse_of(crash), crash.belted)
        case SosEvent():
            car.sos()
        case ThermalRunawayEvent(thermal_runaway=fault):
            car.thermal_runaway(fault.ambient_c)
        case DriveEvent(drive=drive):
            car.services.drive(drive.distance_km())
        case FaultEvent(fault=fault):
            car.services.check(fault_codes=fault.codes)
        case AssistanceEvent(assistance=a):
            car.services.assistance(a.kind, channel=a.channel, confirmed=a.confirmed,
                                    drivable=a.drivable, fault_codes=a.fault_codes)
        case BatteryEvent(battery=battery):
            car.ota.set_battery(battery.soc, charging=battery.charging)
        case EcallEndEvent():
            car.end_ecall()
        case _:
            assert_never(event)
