"""A scenario's vehicle definitions turned into the cars' own configs and crash pulses.

This is the one place that knows both the YAML schema (``vehicle_sim.scenario``) and the
car's settings (``vehicle_sim.car_config``); the car itself only ever sees the latter.
"""

from __future__ import annotations

from protocols.msd.model import Propulsion
from vehicle_sim.car_config import CarConfig, StartPose
from vehicle_sim.car_ota import OtaCarSettings
from vehicle_sim.crash import CrashPulse
from vehicle_sim.ecall_machine import CallVariant, EcallContext
from vehicle_sim.scenario import CrashDef, Scenario, VehicleDef
from vehicle_sim.vehicle import VehicleSpec

EU_ECALL_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "NO", "LI",
    "CH",
})
_PROPULSION_FLAGS = {
    "gasoline": "gasoline_tank_present", "diesel": "diesel_tank_present",
    "cng": "compressed_natural_gas", "lpg": "liquid_propane_gas",
    "electric": "electric_energy_storage", "hydrogen": "hydrogen_storage",
    "other": "other_storage",
}
_DATA_VARIANTS: tuple[CallVariant, ...] = ("intelligent", "legal")  # those that are acked


def spec_of(vdef: VehicleDef) -> VehicleSpec:
    propulsion = Propulsion(**{_PROPULSION_FLAGS[p]: True for p in vdef.propulsion})
    return VehicleSpec(vin=vdef.vin, vehicle_type=vdef.vehicle_type, propulsion=propulsion,
                       activation_country=vdef.activation_country,
                       intelligent_bought=vdef.intelligent_ecall.bought,
                       intelligent_expires=vdef.intelligent_ecall.expires, seats=vdef.seats)


def context_of(vdef: VehicleDef, scenario: Scenario) -> EcallContext:
    """The eCall surroundings. The contract's expiry is judged on the date of the car's
    clock at the trigger (``today`` left unset), so a car that crashes after the scenario
    has jumped months ahead is judged on that day, not on the scenario's first."""
    return EcallContext(
        intelligent_bought=vdef.intelligent_ecall.bought,
        intelligent_expires=vdef.intelligent_ecall.expires,
        activation_country=vdef.activation_country,
        current_country=vdef.current_country,
        in_ecall_country=vdef.current_country in EU_ECALL_COUNTRIES,
        ack_timeout_s=scenario.ack_timeout_s,
        intelligent_unreachable="intelligent_unreachable" in vdef.faults,
        legal_unreachable="legal_unreachable" in vdef.faults,
        late_acks=frozenset(v for v in _DATA_VARIANTS if f"{v}_ack_late" in vdef.faults),
        lost_acks=frozenset(v for v in _DATA_VARIANTS if f"{v}_ack_lost" in vdef.faults),
    )


def ota_settings_of(vdef: VehicleDef) -> OtaCarSettings:
    o = vdef.ota
    return OtaCarSettings(
        running_version=o.running_version, battery_soc=o.battery_soc, parked=o.parked,
        charging=vdef.plugged, service_enabled=o.service_enabled, auto_confirm=o.auto_confirm,
        channel=o.channel, download_s=o.download_s, install_s=o.install_s,
        install_real_s=o.install_real_s, fail_install=o.fail_install,
        can_roll_back=o.can_roll_back, lose_connection_at=o.lose_connection_at)


def car_config(vdef: VehicleDef, scenario: Scenario) -> CarConfig:
    """Everything the car needs from its entry in the scenario, and nothing of the file."""
    return CarConfig(
        label=vdef.id, spec=spec_of(vdef), ecall=context_of(vdef, scenario),
        start=StartPose(lat=vdef.position.lat, lon=vdef.position.lon,
                        heading_deg=vdef.heading_deg, speed_kmh=vdef.speed_kmh,
                        occupants=vdef.occupants),
        powertrain=vdef.powertrain, propulsion=tuple(vdef.propulsion),
        odometer_km=vdef.odometer_km, os_version=vdef.os_version,
        smart_maintenance=vdef.smart_maintenance, plugged=vdef.plugged, locked=vdef.locked,
        ota=ota_settings_of(vdef))


def pulse_of(crash: CrashDef) -> CrashPulse:
    return CrashPulse(delta_v_kmh=crash.delta_v_kmh, principal_direction=crash.direction,
                      multiple_impacts=crash.multiple_impacts, rollover=crash.rollover)
