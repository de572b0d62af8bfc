"""A scenario's vehicle entry becomes the car's own config, in the car's own terms."""

from __future__ import annotations

from datetime import date

from vehicle_sim.scenario import CrashEvent, parse
from vehicle_sim.scenario_cars import car_config, pulse_of

SCENARIO = """
name: t
ack_timeout_s: 2s
vehicles:
  - {id: be-in-france, vin: WMW21DH0X0T123451, position: {lat: 48.85, lon: 2.35},
     heading_deg: 90, speed_kmh: 50, occupants: 2, activation_country: BE, country: FR,
     propulsion: [gasoline, electric], plugged: true, faults: [intelligent_unreachable],
     intelligent_ecall: {bought: true, expires: 2031-12-31}, ota: {battery_soc: 0.3}}
  - {id: si-in-serbia, vin: WMW21DH0X0T123452, position: {lat: 44.8, lon: 20.5},
     activation_country: SI, country: RS}
events:
  - {at: 1s, vehicle: be-in-france, crash: {delta_v_kmh: 40, direction: rear, rollover: true}}
"""


def test_scenario_cars_config_carries_every_setting_the_car_uses() -> None:
    """Country, faults, timer, body and update settings arrive in the car's own terms."""
    plan = parse(SCENARIO)
    config = car_config(plan.vehicles[0], plan)
    assert config.label == "be-in-france"
    assert config.spec.vin == "WMW21DH0X0T123451"
    assert config.spec.propulsion.electric_energy_storage
    assert config.spec.intelligent_expires == date(2031, 12, 31)
    assert (config.ecall.current_country, config.ecall.activation_country) == ("FR", "BE")
    assert config.ecall.in_ecall_country and config.ecall.ack_timeout_s == 2.0
    assert config.ecall.unreachable("intelligent") and not config.ecall.unreachable("legal")
    assert (config.start.lat, config.start.heading_deg, config.start.occupants) == (48.85, 90, 2)
    assert config.powertrain == "PHEV" and config.plugged and not config.locked
    assert config.ota.charging and config.ota.battery_soc == 0.3


def test_scenario_cars_outside_the_ecall_area_is_known() -> None:
    """A car in a country without eCall PSAPs is told so (its chain ends in a voice call)."""
    plan = parse(SCENARIO)
    config = car_config(plan.vehicles[1], plan)
    assert not config.ecall.in_ecall_country
    assert config.powertrain == "ICE"


def test_scenario_cars_crash_pulse_keeps_the_crash() -> None:
    """The scenario's crash reaches the injury model unchanged."""
    event = parse(SCENARIO).events[0]
    assert isinstance(event, CrashEvent)
    pulse = pulse_of(event.crash)
    assert (pulse.delta_v_kmh, pulse.principal_direction, pulse.rollover) == (40, "rear", True)

