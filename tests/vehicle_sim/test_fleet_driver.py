"""The fleet driver: every car keeps its Teleservice rhythm through a month of driving."""

from __future__ import annotations

from backend.services.maintenance import CallRecord, late_calls
from protocols.teleservice import TeleserviceCall, unpack_call
from protocols.topics import parse_topic
from vehicle_sim.fleet_desk import NO_NEED_KEPT_S, CallNote, kept_calls
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


def _calls(sent: list[tuple[str, bytes]]) -> list[TeleserviceCall]:
    return [unpack_call(p) for t, p in sent if parse_topic(t).kind == "teleservice_call"]


def test_fleet_driver_is_deterministic() -> None:
    """The same plan and seed give the same calls in the same order, with the same
    findings (the wear is drawn from the seed too)."""
    first: list[tuple[str, bytes]] = []
    second: list[tuple[str, bytes]] = []
    for sent in (first, second):
        driver = _driver(sent)
        for day in range(1, 61):
            driver.advance_to(START + day * DAY)
    assert [t for t, _ in first] == [t for t, _ in second]

    def seen(sent: list[tuple[str, bytes]]) -> list[tuple[object, ...]]:
        return [(c.vin, c.reason, c.at, c.odometer_km, c.fault_codes, c.service_items)
                for c in _calls(sent)]

    assert seen(first) == seen(second)
    assert any(reason == "service_need" for _, reason, *_ in seen(first))


def test_fleet_driver_cars_wear_call_their_needs_and_go_to_the_workshop() -> None:
    """Over half a year in day steps needs arise at a plausible rate (about one to
    three workshop visits per car and year), each need call reports what is due or the
    stored fault, and every serviced need's case is handed to the partner desk."""
    sent: list[tuple[str, bytes]] = []
    driver = _driver(sent)
    days = 183
    for day in range(1, days + 1):
        driver.advance_to(START + day * DAY)
    needs = [c for c in _calls(sent) if c.reason == "service_need"]
    assert all(c.fault_codes or c.service_items for c in needs)
    assert all(i.status != "ok" for c in needs for i in c.service_items)
    assert any(c.fault_codes for c in needs) and any(c.service_items for c in needs)
    per_car_year = driver.visits / len(driver.cars) / (days / 365.25)
    assert 0.7 <= per_car_year <= 3.0
    need_cases = {f"{c.vin}-{n.call_id}" for c, notes in zip(driver.cars, driver.notes,
                                                              strict=True)
                  for n in notes if n.need}
    assert {c.vin + "-" + c.call_id for c in needs} <= need_cases
    assert set(driver.desk.waiting) <= need_cases
    assert len(driver.desk.waiting) >= driver.visits


def test_kept_calls_follow_the_reading_of_ts_r5() -> None:
    """A closure ends the calls up to it; a call with no need goes once a call two
    intervals later comes, unless a need before it is still open."""
    def note(call_id: str, day: float, need: bool = False) -> CallNote:
        return CallNote(call_id, START + day * DAY, need)

    calls = [note("a", 0), note("b", 28), note("c", 56), note("n", 60, need=True),
             note("d", 88), note("e", 200)]
    assert kept_calls(calls[:5], []) == {"c", "n", "d"}
    assert kept_calls(calls, []) == {"n", "d", "e"}
    assert kept_calls(calls, [START + 70 * DAY]) == {"e"}
    assert kept_calls(calls[:3], []) == {"b", "c"}
    assert kept_calls(calls[:2], []) == {"a", "b"}
    assert kept_calls([note("x", 0), note("y", NO_NEED_KEPT_S / DAY - 0.01)], []) == {"x", "y"}
