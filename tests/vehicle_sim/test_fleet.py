"""The fleet core: determinism, plausible trips and charging, scenario drives, helpers."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import fields

import numpy as np
import pytest
import reverse_geocode
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.emergency.psap_directory import DIRECTORY
from vehicle_sim.fleet import (
    ChargingEnded,
    ChargingStarted,
    Fleet,
    FleetEvent,
    FleetSpec,
    Mode,
    TripEnded,
    TripStarted,
    drive,
    drive_route,
    index_of,
    local_clock,
    odometer,
    sample_specs,
    snapshot,
    step,
)
from vehicle_sim.places import PLACES, great_circle_km, places_in
from vehicle_sim.rhythm import next_departures

MARCH_1 = 1_772_352_000.0  # 2026-03-01T08:00:00Z, a Sunday
DAY = 86_400.0


def _fleet(count: int = 60, *, seed: int = 7) -> Fleet:
    return Fleet.create(sample_specs(count, seed=seed), seed=seed, start=MARCH_1)


def _run(fleet: Fleet, days: float, *, seed: int = 1,
         step_s: float | None = None) -> tuple[Fleet, list[FleetEvent]]:
    rng = np.random.default_rng(seed)
    total = days * DAY
    dt = step_s or total
    events: list[FleetEvent] = []
    for k in range(math.ceil(total / dt)):
        fleet, more = step(fleet, dt, fleet.t + dt, rng)
        events += more
        assert fleet.t == pytest.approx(MARCH_1 + (k + 1) * dt)
    return fleet, events


def _bev(vin: str = "WMW5F000000000001", *, home: str = "Leuven") -> FleetSpec:
    return FleetSpec(vin=vin, propulsion="BEV", os_version=8, home=home, battery_kwh=60.0)


def _arrays(fleet: Fleet) -> dict[str, np.ndarray]:
    return {f.name: getattr(fleet, f.name) for f in fields(fleet)
            if isinstance(getattr(fleet, f.name), np.ndarray)}


def test_places_cover_every_psap_country() -> None:
    """Four or more towns in BE LU NL DE FR SI, two or more in every other PSAP country."""
    for country in DIRECTORY:
        wanted = 4 if country in {"BE", "LU", "NL", "DE", "FR", "SI"} else 2
        assert len(places_in(country)) >= wanted, country
    assert {p.country for p in PLACES} <= set(DIRECTORY)


def test_places_lie_in_their_country() -> None:
    """Each town's position is within a few km of a real place of its country."""
    for place in PLACES:
        found = reverse_geocode.get((place.lat, place.lon))
        assert found["country_code"] == place.country, place
        assert great_circle_km(place.lat, place.lon, found["latitude"],
                               found["longitude"]) < 10.0, place


def test_fleet_create_parks_every_car_at_home() -> None:
    """A new fleet is parked, locked and unplugged at home; an ICE has no SoC."""
    fleet = _fleet()
    for i, spec in enumerate(fleet.specs):
        car = snapshot(fleet, i)
        home = PLACES[int(fleet.home[i])]
        assert (car.mode, car.locked, car.plugged, car.ignition) == ("parked", True, False, False)
        assert (car.lat, car.lon, car.place) == (home.lat, home.lon, spec.home)
        assert (car.soc is None) == (spec.propulsion == "ICE")


def test_fleet_spec_refuses_inconsistent_battery() -> None:
    """An ICE has no traction battery and an electric car needs one."""
    with pytest.raises(ValueError, match="no traction battery"):
        FleetSpec(vin="WMW5F000000000001", propulsion="ICE", os_version=7, home="Ghent",
                  battery_kwh=10.0)
    with pytest.raises(ValueError, match="battery_kwh"):
        FleetSpec(vin="WMW5F000000000001", propulsion="BEV", os_version=7, home="Ghent")
    with pytest.raises(ValueError, match="unknown place"):
        _bev(home="Atlantis")


def test_sample_specs_leave_smart_maintenance_off() -> None:
    """Smart Maintenance is off until the customer opts in."""
    specs = sample_specs(200, seed=5)
    assert not any(s.smart_maintenance_opt_in for s in specs)
    assert {s.propulsion for s in specs} == {"ICE", "BEV", "PHEV"}
    assert all(6 <= s.os_version <= 10 for s in specs)
    assert len({s.vin for s in specs}) == 200


def test_step_same_seed_gives_identical_fleet_and_events() -> None:
    """Same specs, seed and steps: identical arrays and events."""
    one, events_one = _run(_fleet(), 3, step_s=5_000.0)
    two, events_two = _run(_fleet(), 3, step_s=5_000.0)
    assert events_one == events_two
    for name, array in _arrays(one).items():
        np.testing.assert_array_equal(array, _arrays(two)[name], err_msg=name)


def test_step_different_seed_gives_different_events() -> None:
    """Another step seed makes another history."""
    _, events_one = _run(_fleet(), 2, seed=1)
    _, events_two = _run(_fleet(), 2, seed=2)
    assert events_one != events_two


def test_step_leaves_the_input_fleet_untouched() -> None:
    """Stepping returns a new fleet; the old one is read-only and unchanged."""
    fleet = _fleet()
    before = {name: array.copy() for name, array in _arrays(fleet).items()}
    _run(fleet, 2)
    for name, array in _arrays(fleet).items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)
    with pytest.raises(ValueError, match="read-only"):
        fleet.odometer_km[0] = 0.0


def test_step_refuses_a_step_that_does_not_end_at_now() -> None:
    """dt_s and now must agree with the fleet's own time."""
    fleet = _fleet()
    with pytest.raises(ValueError, match="not at now"):
        step(fleet, 60.0, MARCH_1 + 120.0, np.random.default_rng(0))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), step_s=st.sampled_from([1.0, 97.0, 3_600.0, 86_400.0]))
def test_step_odometer_never_decreases_and_soc_stays_in_range(seed: int, step_s: float) -> None:
    """Across steps of any size the odometer only grows and SoC stays within 0..1."""
    fleet = _fleet(20, seed=seed % 1000)
    rng = np.random.default_rng(seed)
    steps = 40 if step_s < 3_600.0 else 10
    for _ in range(steps):
        previous = fleet.odometer_km
        fleet, events = step(fleet, step_s, fleet.t + step_s, rng)
        assert np.all(fleet.odometer_km >= previous)
        electric = fleet.bev | fleet.phev
        assert np.all((fleet.soc[electric] >= 0.0) & (fleet.soc[electric] <= 1.0))
        assert np.all(np.isnan(fleet.soc[~electric]))
        assert [e.at for e in events] == sorted(e.at for e in events)


def test_step_cars_drive_and_trips_add_up_on_the_odometer() -> None:
    """Every kilometre on the odometer over a week belongs to a trip."""
    start = _fleet(100)
    end, events = _run(start, 7, step_s=DAY)
    trips: dict[int, float] = {}
    for event in events:
        if isinstance(event, TripEnded):
            trips[event.index] = trips.get(event.index, 0.0) + event.km
    for i in range(start.size):
        if end.mode[i] != Mode.DRIVING:
            assert end.odometer_km[i] - start.odometer_km[i] == pytest.approx(
                trips.get(i, 0.0), abs=1e-6)
    per_day = (end.odometer_km - start.odometer_km).mean() / 7
    assert 10.0 < per_day < 120.0


def test_step_trips_run_at_plausible_speeds() -> None:
    """Trip durations give average speeds between town and motorway speeds."""
    _, events = _run(_fleet(100), 7)
    started = {}
    for event in events:
        if isinstance(event, TripStarted):
            started[event.index] = event
        elif isinstance(event, TripEnded):
            trip = started.pop(event.index)
            kmh = event.km / ((event.at - trip.at) / 3600.0)
            assert 30.0 - 1e-6 <= kmh <= 130.0 + 1e-6
            assert event.km == pytest.approx(trip.planned_km)


def test_step_departures_follow_the_day_night_rhythm() -> None:
    """Over a week far more cars leave 07-09 than 00-05 local time."""
    _, events = _run(_fleet(200), 7)
    hours = Counter(local_clock(e.at)[0] for e in events if isinstance(e, TripStarted))
    morning = hours[7] + hours[8]
    night = sum(hours[h] for h in range(5))
    assert morning > 5 * night
    assert hours[17] > 3 * hours[2]


def test_step_ice_cars_never_charge() -> None:
    """Only cars with a traction battery plug in."""
    fleet = _fleet(150)
    end, events = _run(fleet, 14)
    charged = {e.index for e in events if isinstance(e, ChargingStarted | ChargingEnded)}
    assert charged
    assert all(fleet.specs[i].propulsion != "ICE" for i in charged)
    ice = np.array([s.propulsion == "ICE" for s in fleet.specs])
    assert not end.plugged[ice].any()


def test_step_electric_cars_plug_in_when_low_at_home() -> None:
    """Every arrival at home below the owner's threshold starts a charge right then."""
    fleet = _fleet(150)
    _, events = _run(fleet, 14)
    starts = {(e.index, e.at) for e in events if isinstance(e, ChargingStarted)}
    low_home_arrivals = {
        (e.index, e.at) for e in events
        if isinstance(e, TripEnded) and e.soc is not None
        and e.place == fleet.specs[e.index].home and e.soc < fleet.plug_below[e.index]}
    assert low_home_arrivals
    assert low_home_arrivals == starts
    assert any(isinstance(e, ChargingEnded) and e.reason == "full" for e in events)


def test_step_bev_low_at_home_charges_to_its_target() -> None:
    """A BEV run down at home in the evening charges overnight to 90 % and stays plugged."""
    evening = MARCH_1 + 37 * 3600.0  # Monday 22:00 local
    fleet = Fleet.create([_bev()], seed=1, start=evening)
    km = (float(fleet.soc[0]) - 0.15) * 60.0 / float(fleet.kwh_per_km[0])
    fleet, events = drive(fleet, 0, km, evening)
    started = events[-1]
    assert isinstance(started, ChargingStarted) and started.soc == pytest.approx(0.15)
    assert snapshot(fleet, 0).mode == "charging" and fleet.plugged[0]
    fleet, events = step(fleet, 12 * 3600.0, evening + 12 * 3600.0, np.random.default_rng(4))
    ended = next(e for e in events if isinstance(e, ChargingEnded))
    assert ended.reason == "full"
    assert ended.soc == pytest.approx(0.9)
    assert ended.kwh == pytest.approx((0.9 - 0.15) * 60.0)
    assert 4 * 3600.0 < ended.at - evening < 11 * 3600.0


def test_step_28_day_jump_for_200_cars_completes_with_events_in_range() -> None:
    """One 28-day step for 200 cars yields ordered events inside the step."""
    fleet = _fleet(200)
    end, events = step(fleet, 28 * DAY, MARCH_1 + 28 * DAY, np.random.default_rng(9))
    assert end.t == MARCH_1 + 28 * DAY
    assert events and events[0].at > MARCH_1 and events[-1].at <= end.t
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert np.all(end.odometer_km > fleet.odometer_km)


def test_drive_adds_exactly_the_km_and_parks() -> None:
    """A scenario drive adds exactly its distance and ends parked and locked."""
    fleet = _fleet()
    vin = fleet.specs[3].vin
    before = odometer(fleet, vin)
    fleet, events = drive(fleet, 3, 123.4, MARCH_1 + 60.0)
    assert odometer(fleet, vin) == before + 123.4
    car = snapshot(fleet, 3)
    assert (car.mode in {"parked", "charging"}, car.ignition, car.locked) == (True, False, True)
    assert isinstance(events[0], TripStarted) and isinstance(events[1], TripEnded)
    assert events[1].km == 123.4


def test_drive_to_a_destination_parks_there_and_uses_energy() -> None:
    """With a destination the car parks in that town with less charge."""
    fleet = Fleet.create([_bev()], seed=1, start=MARCH_1)
    soc = fleet.soc[0]
    fleet, _ = drive(fleet, 0, 30.0, MARCH_1, destination="Brussels")
    car = snapshot(fleet, 0)
    assert (car.place, car.lat, car.lon) == ("Brussels", 50.8467, 4.3525)
    assert car.soc is not None and car.soc == pytest.approx(soc - 30.0 * fleet.kwh_per_km[0] / 60.0)


def test_drive_phev_uses_battery_then_fuel() -> None:
    """A PHEV empties its battery first and then burns fuel."""
    spec = FleetSpec(vin="WMW5F000000000002", propulsion="PHEV", os_version=7,
                     home="Utrecht", battery_kwh=15.0)
    fleet = Fleet.create([spec], seed=1, start=MARCH_1)
    fleet, _ = drive(fleet, 0, 10.0, MARCH_1)
    assert fleet.fuel_used_l[0] == 0.0
    fleet, _ = drive(fleet, 0, 200.0, MARCH_1 + 1.0)
    assert fleet.soc[0] == 0.0 and fleet.fuel_used_l[0] > 0.0


def test_drive_route_parks_at_the_last_town() -> None:
    """A route drive adds the road distance through the towns."""
    fleet = Fleet.create([_bev(home="Brussels")], seed=1, start=MARCH_1)
    fleet, events = drive_route(fleet, 0, ["Leuven", "Liège"], MARCH_1)
    assert snapshot(fleet, 0).place == "Liège"
    assert 100.0 < fleet.odometer_km[0] < 160.0
    assert isinstance(events[-1], TripEnded) and events[-1].place == "Liège"


def test_drive_ends_a_trip_under_way_first() -> None:
    """A car caught driving ends that trip where it is before the scenario drive."""
    fleet = _fleet(100)
    rng = np.random.default_rng(3)
    while not (fleet.mode == Mode.DRIVING).any():
        fleet, _ = step(fleet, 300.0, fleet.t + 300.0, rng)
    i = int(np.flatnonzero(fleet.mode == Mode.DRIVING)[0])
    before = fleet.odometer_km[i]
    fleet, events = drive(fleet, i, 10.0, fleet.t)
    assert [type(e) for e in events[:3]] == [TripEnded, TripStarted, TripEnded]
    assert fleet.odometer_km[i] == pytest.approx(before + 10.0)


def test_drive_refuses_negative_distance() -> None:
    """A distance is never negative."""
    with pytest.raises(ValueError, match="km -1"):
        drive(_fleet(), 0, -1.0, MARCH_1)


def test_index_of_finds_a_vin_and_refuses_a_stranger() -> None:
    """index_of maps a VIN to its array position."""
    fleet = _fleet()
    assert index_of(fleet, fleet.specs[5].vin) == 5
    with pytest.raises(KeyError, match="not in the fleet"):
        index_of(fleet, "WMW5F999999999999")


def test_snapshot_carries_spec_facts() -> None:
    """A snapshot names propulsion and OS version next to the live state."""
    fleet = _fleet()
    car = snapshot(fleet, 0)
    assert (car.vin, car.propulsion, car.os_version) == (
        fleet.specs[0].vin, fleet.specs[0].propulsion, fleet.specs[0].os_version)
    assert car.speed_kmh == 0.0


def test_local_clock_follows_central_european_summer_time() -> None:
    """08:00 UTC is 09:00 in winter and 10:00 in summer; Sunday is a weekend."""
    assert local_clock(MARCH_1) == (9, True)
    assert local_clock(MARCH_1 + 122 * DAY) == (10, False)  # 2026-07-01, a Wednesday


def test_next_departures_come_after_now() -> None:
    """A parked car's next departure is always later than now."""
    t = np.full(1000, MARCH_1)
    leave = next_departures(t, np.random.default_rng(0))
    assert np.all(leave > t)
    assert np.median(leave - t) < DAY
