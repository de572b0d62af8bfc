"""The fleet driver: every car keeps its Teleservice rhythm through a month of driving."""

from __future__ import annotations

from backend.services.maintenance import CallRecord, late_calls
from protocols.teleservice import unpack_call
from protocols.topics import parse_topic
from vehicle_sim.fleet_driver import FleetDriver
from vehicle_sim.scenario import FleetDef

START = 1_772_352_000.0  # 2026-03-01T08:00Z
DAY = 86_400.0


def _driver(sent: list[tuple[str, bytes]]) -> FleetDriver:
    driver = FleetDriver(FleetDef(count=60, seed=5, smart_maintenance_share=0.5), start=START,
                         mqtt_url="mqtt://127.0.0.1:1", notify=lambda _m: None)
    for car in driver.cars:
        car._publish = lambda topic, payload: sent.append((topic, payload))
    return driver


def test_fleet_driver_month_gives_every_car_its_calls_on_rhythm() -> None:
    """After 28 days each car called at least once, none late by the 28 d / 1,000 km rule."""
    sent: list[tuple[str, bytes]] = []
    driver = _driver(sent)
    initial = {car.vin: car.odometer_km for car in driver.cars}
    driver.advance_to(START + 28 * DAY)
    calls = [unpack_call(p) for t, p in sent if parse_topic(t).kind == "teleservice_call"]
    assert {call.vin for call in calls} == set(initial)
    for vin, odometer_km in initial.items():
        start = CallRecord("start", "interval_28d", START, odometer_km)
        mine = sorted((CallRecord(c.call_id, c.reason, c.at, c.odometer_km) for c in calls
                       if c.vin == vin), key=lambda c: c.at)
        assert late_calls([start, *mine], slack_s=DAY, slack_km=1.0) == []
    assert driver.trips > 0


def test_fleet_driver_is_deterministic() -> None:
    """The same plan and seed give the same calls in the same order."""
    first: list[tuple[str, bytes]] = []
    second: list[tuple[str, bytes]] = []
    _driver(first).advance_to(START + 10 * DAY)
    _driver(second).advance_to(START + 10 * DAY)
    assert [t for t, _ in first] == [t for t, _ in second]
    assert len(first) > 0
