"""A scenario's vehicle entry becomes the car's own config, in the car's own terms."""

from __future__ import annotations

from datetime import date

import pytest

from vehicle_sim.ecall_machine import choose_variant
from vehicle_sim.scenario import CrashEvent, parse
from vehicle_sim.scenario_cars import car_config, context_of, pulse_of

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



_COLOGNE = """
name: cologne
start: 2026-03-10T08:00
vehicles:
  - {id: be-car, vin: WMW21DH0X0T123451, position: {lat: 50.9375, lon: 6.9603},
     activation_country: BE, intelligent_ecall: {bought: true}%s}
events:
  - {at: 0.1s, vehicle: be-car, sos: {}}
"""


@pytest.mark.parametrize(("extra", "country"), [("", "DE"), (", country: DE", "DE"),
                                                (", country: NL", "NL")])
def test_scenario_cars_country_follows_position_unless_overridden(extra: str,
                                                                  country: str) -> None:
    """A BE car placed in Cologne is in DE without saying so; ``country:`` overrides."""
    plan = parse(_COLOGNE % extra)
    context = context_of(plan.vehicles[0], plan)
    assert (context.current_country, context.in_ecall_country) == (country, True)


def test_scenario_cars_be_car_in_cologne_does_not_place_an_intelligent_ecall() -> None:
    """Abroad by its position, the car falls to the Legal eCall, as the documents say."""
    plan = parse(_COLOGNE % "")
    variant, reason = choose_variant(context_of(plan.vehicles[0], plan), 1_773_129_600.0)
    assert variant == "legal"
    assert reason == "abroad (DE, activated in BE)"


def test_scenario_cars_at_sea_the_activation_country_stands() -> None:
    """A position with no country (the North Sea) leaves the car in its activation country."""
    plan = parse((_COLOGNE % "").replace("lat: 50.9375, lon: 6.9603", "lat: 54.5, lon: 3.0"))
    assert context_of(plan.vehicles[0], plan).current_country == "BE"
