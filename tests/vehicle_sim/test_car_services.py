"""A car's Teleservice rhythm and assistance calls, with a fake clock and a recording link."""

from __future__ import annotations

from protocols.assistance import unpack_assistance_call
from protocols.teleservice import unpack_call, unpack_smart_transfer
from protocols.topics import parse_topic
from vehicle_sim.car_services import CarServices

DAY = 86_400.0
VIN = "WMW71DH0X0T700009"


def _car(*, opted_in: bool, os_version: int = 8) -> tuple[CarServices, list[tuple[str, bytes]],
                                                          list[float]]:
    sent: list[tuple[str, bytes]] = []
    now = [1_772_352_000.0]
    car = CarServices(vin=VIN, propulsion=["gasoline"], odometer_km=10_000, os_version=os_version,
                      smart_opt_in=opted_in, clock=lambda: now[0],
                      position=lambda: (50.85, 4.35), publish=lambda t, p: sent.append((t, p)),
                      notify=lambda _m: None, warn=lambda _m: None, label="t")
    return car, sent, now


def _kinds(sent: list[tuple[str, bytes]]) -> list[str]:
    return [parse_topic(topic).kind for topic, _ in sent]


def test_car_services_calls_at_1000_km_before_28_days() -> None:
    """1,000 km within the 28 days bring the distance call; nothing before."""
    car, sent, _now = _car(opted_in=False)
    car.drive(999)
    assert _kinds(sent) == []
    car.drive(1)
    assert unpack_call(sent[-1][1]).reason == "distance_1000km"


def test_car_services_calls_at_28_days_before_1000_km() -> None:
    """28 days with little driving bring the interval call, once."""
    car, sent, now = _car(opted_in=False)
    car.drive(100)
    now[0] += 28 * DAY
    car.check()
    car.check()
    assert [unpack_call(p).reason for t, p in sent] == ["interval_28d"]


def test_car_services_fault_code_is_a_service_need_call() -> None:
    """A new fault code calls at once; the same code again does not."""
    car, sent, _now = _car(opted_in=False)
    car.check(fault_codes=["P0300"])
    car.check(fault_codes=["P0300"])
    assert [unpack_call(p).reason for t, p in sent] == ["service_need"]


def test_car_services_smart_maintenance_only_when_opted_in_and_os_7() -> None:
    """Smart Maintenance follows trips only with consent and OS 7 or newer."""
    for opted_in, os_version, expected in ((False, 9, 0), (True, 6, 0), (True, 7, 1)):
        car, sent, _now = _car(opted_in=opted_in, os_version=os_version)
        car.drive(20)
        transfers = [unpack_smart_transfer(p) for t, p in sent
                     if parse_topic(t).kind == "smart_maintenance"]
        assert len(transfers) == expected


def test_car_services_app_request_waits_for_confirmation() -> None:
    """A request from the app sends no data until the customer confirms in the car."""
    car, sent, _now = _car(opted_in=False)
    assert car.assistance("breakdown", channel="app", confirmed=False, drivable=False,
                          fault_codes=[]) is None
    assert sent == []
    request = car.assistance("breakdown", channel="app", confirmed=True, drivable=False,
                             fault_codes=["P0087"])
    call = unpack_assistance_call(sent[-1][1])
    assert (call.request_id, call.customer_confirmed) == (request, True)


def test_car_services_long_drive_calls_at_each_1000_km() -> None:
    """One step of 2,500 km passes two thresholds: a distance call at each, stamped with
    the odometer there, and none at the end of the drive."""
    car, sent, _now = _car(opted_in=False)
    car.drive(2_500)
    calls = [unpack_call(p) for _t, p in sent]
    assert [(c.reason, c.odometer_km) for c in calls] == [("distance_1000km", 11_000.0),
                                                          ("distance_1000km", 12_000.0)]
    assert car.odometer_km == 12_500.0
    car.drive(499)
    assert len(sent) == 2
    car.drive(1)
    assert unpack_call(sent[-1][1]).odometer_km == 13_000.0
