"""Each car's timetable follows from the profile and its number alone."""

from __future__ import annotations

from loadtest.profile import parse
from loadtest.schedule import car_profile, fleet_index, per_car_rate, plan, vin_of

PROFILE = parse("""
name: t
vehicles: 100
duration: 60s
traffic: {clock_speed: 3600, ecalls_per_hour: 50}
storm: {at: 20s, down: 2s, back_within: 5s, ecalls: 10}
burst: {at: 30s, ecalls: 5, within: 2s, area: {lat: 48.0, lon: 11.0, radius_km: 0.5}}
""")


def test_schedule_fleet_numbers_of_processes_are_distinct_and_dense() -> None:
    numbers = {fleet_index(local, worker=w, workers=3) for local in range(10) for w in range(3)}
    assert numbers == set(range(30))
    assert {len(vin_of(n)) for n in numbers} == {17}


def test_schedule_is_the_same_for_the_same_car() -> None:
    car = car_profile(PROFILE, 7)
    assert car == car_profile(PROFILE, 7)
    assert plan(PROFILE, car, start_s=1.0) == plan(PROFILE, car, start_s=1.0)


def test_schedule_fleet_rate_per_virtual_hour_is_shared_over_the_cars() -> None:
    # 50 eCalls per virtual hour, an hour per real second: 50 per real second, 0.5 per car.
    assert per_car_rate(PROFILE, 50.0) == 0.5
    ecalls = sum(1 for i in range(100)
                 for p in plan(PROFILE, car_profile(PROFILE, i), start_s=0.0)
                 if p.action == "ecall" and not 20.0 <= p.at_s <= 27.0)
    assert 2400 < ecalls < 3000  # ~ 0.5/s x 53 s x 100 cars, outside the storm's calls


def test_schedule_storm_cuts_every_car_and_the_first_cars_call_during_it() -> None:
    for i in (0, 9, 10, 99):
        actions = plan(PROFILE, car_profile(PROFILE, i), start_s=0.0)
        cut = [p.at_s for p in actions if p.action == "disconnect"]
        back = [p.at_s for p in actions if p.action == "reconnect"]
        assert cut == [20.0]
        assert len(back) == 1 and 22.0 <= back[0] <= 27.0
    storm_calls = [i for i in range(100) if any(
        p.action == "ecall" and 20.0 <= p.at_s <= 27.0
        for p in plan(PROFILE.model_copy(update={"traffic": PROFILE.traffic.model_copy(
            update={"ecalls_per_hour": 0.0})}), car_profile(PROFILE, i), start_s=0.0))]
    assert storm_calls == list(range(10))


def test_schedule_burst_calls_come_from_the_first_cars_within_its_window() -> None:
    burst_calls = [(i, p.at_s) for i in range(100)
                   for p in plan(PROFILE, car_profile(PROFILE, i), start_s=0.0)
                   if p.action == "burst_ecall"]
    assert [i for i, _ in burst_calls] == list(range(5))
    assert all(30.0 <= at <= 32.0 for _, at in burst_calls)


def test_schedule_a_car_spawned_after_the_storm_is_not_cut() -> None:
    actions = plan(PROFILE, car_profile(PROFILE, 3), start_s=25.0)
    assert not [p for p in actions if p.action in ("disconnect", "reconnect")]
    assert all(p.at_s >= 25.0 for p in actions)
