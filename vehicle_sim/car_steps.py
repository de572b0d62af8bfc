"""The scenario events that happen inside one car, with nobody else to ask.

A crash, the SOS button, a cell fault, a drive, a fault code, an assistance request, a
battery change, the end of an eCall or the customer's switch of a service: each becomes
a call on the car, which then does what a real TCU would. An injection is a message the
car publishes as it is told (``injection_of``). Events that go through the backend are
the runner's.
"""

from __future__ import annotations

from typing import assert_never

from protocols.msd.codec import encode_msd
from vehicle_sim.car import Car
from vehicle_sim.injection import Injection, build, topic_for
from vehicle_sim.scenario import (
    AssistanceEvent,
    BatteryEvent,
    ConsentEvent,
    CrashEvent,
    DriveEvent,
    EcallEndEvent,
    FaultEvent,
    SosEvent,
    ThermalRunawayEvent,
)
from vehicle_sim.scenario_cars import pulse_of
from vehicle_sim.scenario_steps import InjectDef
from vehicle_sim.vehicle import build_msd

CarEvent = (CrashEvent | SosEvent | ThermalRunawayEvent | DriveEvent | FaultEvent
            | AssistanceEvent | BatteryEvent | EcallEndEvent | ConsentEvent)


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
        case ConsentEvent(consent=consent):
            car.switch(consent.service, on=consent.on)
        case _:
            assert_never(event)


def injection_of(inject: InjectDef, car: Car, *, now: float) -> Injection:
    """The message ``inject`` asks ``car`` to publish at ``now`` (the scenario's time): the
    raw bytes given, or one built from a valid message of its kind (an eCall from the
    car's own MSD) and broken as asked (``vehicle_sim.injection``)."""
    topic = topic_for(inject.topic_kind, car.spec.vin, inject.variant)
    if inject.payload_hex is not None:
        return Injection(topic=topic, payload=bytes.fromhex(inject.payload_hex), qos=inject.qos)
    if inject.payload_text is not None:
        return Injection(topic=topic, payload=inject.payload_text.encode(), qos=inject.qos)
    assert inject.build is not None  # InjectDef holds exactly one payload
    how = inject.build
    msd = encode_msd(build_msd(car.spec, car.vehicle, message_identifier=1, automatic=False,
                               timestamp=int(now)))
    payload = build(how.kind or inject.topic_kind, vin=car.spec.vin, now=now, msd=msd,
                    variant=inject.variant, vin_override=how.vin_override,
                    pad_to_bytes=how.pad_to_bytes, corruption=how.corrupt)
    return Injection(topic=topic, payload=payload, qos=inject.qos)
