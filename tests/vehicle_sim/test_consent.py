"""The customer's switches hold from the moment they are made (TS-R3, TS-R6, ECALL-R1)."""

from __future__ import annotations

from protocols.teleservice import unpack_call
from protocols.topics import parse_topic
from tests.vehicle_sim.test_car_refusals import RecordingLink
from vehicle_sim.car import Car
from vehicle_sim.car_services import CarServices
from vehicle_sim.car_steps import perform
from vehicle_sim.scenario import ConsentEvent, ScenarioError, parse
from vehicle_sim.scenario_cars import car_config

VIN = "WMW71DH0X0T700031"
NOW = 1_772_352_000.0
PLAN = f"""
name: consent
vehicles:
  - {{id: a, vin: {VIN}, position: {{lat: 50.85, lon: 4.35}}, activation_country: BE,
     intelligent_ecall: {{bought: true}}}}
events:
  - {{at: 0.1s, vehicle: a, consent: {{service: intelligent_ecall, on: false}}}}
"""


def _services() -> tuple[CarServices, RecordingLink]:
    link = RecordingLink()
    car = CarServices(vin=VIN, propulsion=["gasoline"], odometer_km=10_000, os_version=8,
                      smart_opt_in=True, clock=lambda: NOW, position=lambda: (50.85, 4.35),
                      publish=link.publish, notify=lambda _m: None, warn=lambda _m: None,
                      label="a")
    return car, link


def _kinds(link: RecordingLink) -> list[str]:
    return [parse_topic(topic).kind for topic, _payload in link.sent]


def test_consent_smart_maintenance_off_sends_no_transfer_from_then_on() -> None:
    """A trip before the opt-out sends its transfer; the trips after it send none."""
    car, link = _services()
    car.drive(10)
    car.switch("smart_maintenance", on=False)
    car.drive(10)
    car.drive(10)
    assert _kinds(link) == ["smart_maintenance"]


def test_consent_teleservice_off_holds_calls_and_transfers_until_switched_on() -> None:
    """Off, a 1,500 km drive and a fault send nothing; on again, the next check sends
    what is due by then, stamped with the odometer of that moment."""
    car, link = _services()
    car.switch("teleservice", on=False)
    car.drive(1_500)
    car.check(fault_codes=["P0300"])
    assert link.sent == []
    car.switch("teleservice", on=True)
    car.check(fault_codes=["P0300"])
    calls = [unpack_call(p) for t, p in link.sent if parse_topic(t).kind == "teleservice_call"]
    assert [(c.reason, c.odometer_km) for c in calls] == [("service_need", 11_500.0)]
    assert car.calls == ["service_need"]


async def test_consent_intelligent_ecall_off_places_the_legal_ecall() -> None:
    """An SOS after Intelligent eCall was switched off goes out as Legal eCall; switched on
    again, the next incident is Intelligent (the car bought it)."""
    plan = parse(PLAN)
    link = RecordingLink()
    car = Car(car_config(plan.vehicles[0], plan), link=link, notify=lambda _m: None,
              warn=lambda _m: None, clock=lambda: NOW)
    (event,) = plan.events
    assert isinstance(event, ConsentEvent)
    perform(event, car)
    car.sos()
    car.switch("intelligent_ecall", on=True)
    assert car.context.intelligent_bought
    await car.stop()
    variants = [parse_topic(t).variant for t, _p in link.sent]
    assert variants == ["legal"]


def test_consent_switching_on_does_not_buy_intelligent_ecall() -> None:
    """Switched on, a car that never bought Intelligent eCall still has none."""
    plan = parse(PLAN.replace("bought: true", "bought: false"))
    car = Car(car_config(plan.vehicles[0], plan), link=RecordingLink(),
              notify=lambda _m: None, warn=lambda _m: None, clock=lambda: NOW)
    car.switch("intelligent_ecall", on=True)
    assert not car.context.intelligent_bought


def test_consent_unknown_service_is_named() -> None:
    """A service the car has no switch for is an error naming the key."""
    try:
        parse(PLAN.replace("service: intelligent_ecall", "service: parking"))
    except ScenarioError as exc:
        assert "events.0.consent.service" in str(exc)
    else:
        raise AssertionError("an unknown service was accepted")
