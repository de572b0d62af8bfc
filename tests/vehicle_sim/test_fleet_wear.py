"""The fleet's wear: service items due by time and distance, faults, workshop visits."""

from __future__ import annotations

import numpy as np

from protocols.teleservice import DUE_SOON_KM, Propulsion
from vehicle_sim.fleet_wear import DAY_S, FAULTS_PER_YEAR, INTERVALS, ITEMS, YEAR_S, Wear
from vehicle_sim.teleservice import SERVICE_ITEMS_BY_PROPULSION

START = 1_767_600_000.0  # 2026-01-05T08:00Z


def _wear(propulsions: list[Propulsion], *, seed: int = 3, odometer: float = 10_000.0) -> Wear:
    return Wear(propulsions, [odometer] * len(propulsions), start=START,
                rng=np.random.default_rng(seed))


def test_wear_same_seed_gives_the_same_schedule() -> None:
    first, second = _wear(["petrol", "bev"] * 50), _wear(["petrol", "bev"] * 50)
    assert np.array_equal(first.due_km, second.due_km)
    assert np.array_equal(first.due_at, second.due_at)
    assert np.array_equal(first.fault_at, second.fault_at)
    assert not np.array_equal(first.due_at, _wear(["petrol", "bev"] * 50, seed=4).due_at)


def test_wear_items_are_the_scope_list_of_the_propulsion() -> None:
    """TS-R7: a BEV never reports engine oil, whatever its age or mileage."""
    propulsions: list[Propulsion] = ["bev", "petrol", "phev_petrol"]
    wear = _wear(propulsions)
    for index, propulsion in enumerate(propulsions):
        reported = {i.item for i in wear.items(index, 1e7, START + 20 * YEAR_S)}
        assert reported == set(SERVICE_ITEMS_BY_PROPULSION[propulsion])


def test_wear_an_item_falls_due_by_distance_and_a_visit_resets_it() -> None:
    wear = _wear(["petrol"])
    oil = ITEMS.index("engine_oil")
    due_km = float(wear.due_km[0, oil])
    early = START + 1.0  # long before any date: only distance can make it due
    wear.due_at[0, :] = START + 5 * YEAR_S
    others = np.isfinite(wear.due_km[0]) & (np.arange(len(ITEMS)) != oil)
    wear.due_km[0, others] = due_km + 50_000.0
    wear.fault_at[0] = np.inf
    assert wear.items(0, due_km - DUE_SOON_KM - 1, early) == ()
    showing = wear.items(0, due_km - DUE_SOON_KM, early)
    assert [(i.item, i.status) for i in showing] == [("engine_oil", "due")]
    assert [i.status for i in wear.items(0, due_km + 1, early)] == ["overdue"]
    wear.serviced(0, due_km + 1, early)
    assert wear.items(0, due_km + 1, early) == ()
    assert 0.8 * INTERVALS["engine_oil"][0] <= wear.due_km[0, oil] - (due_km + 1) \
        <= 1.2 * INTERVALS["engine_oil"][0]
    assert wear.due_at[0, oil] == early + INTERVALS["engine_oil"][1] * DAY_S


def test_wear_brake_fluid_falls_due_by_date_only() -> None:
    wear = _wear(["bev"])
    fluid = ITEMS.index("brake_fluid")
    due_at = float(wear.due_at[0, fluid])
    assert "brake_fluid" not in {i.item for i in wear.items(0, 500_000.0, due_at - 31 * DAY_S)}
    assert "brake_fluid" in {i.item for i in wear.items(0, 10_000.0, due_at - 30 * DAY_S)}


def test_wear_items_fall_due_on_the_anniversaries_of_the_last_service() -> None:
    """At the start a car's yearly and two-yearly items share their due dates modulo a
    year, so one workshop visit a year covers them."""
    wear = _wear(["petrol"] * 200)
    oil, check = ITEMS.index("engine_oil"), ITEMS.index("vehicle_check")
    gap = (wear.due_at[:, check] - wear.due_at[:, oil]) / DAY_S
    assert np.allclose(np.minimum(gap % 365.25, 365.25 - gap % 365.25), 0.0, atol=1e-6)


def test_wear_faults_arrive_at_the_stated_rate() -> None:
    wear = _wear(["petrol"] * 5_000)
    within_a_year = float(np.mean(wear.fault_at <= START + YEAR_S))
    assert abs(within_a_year - (1 - np.exp(-FAULTS_PER_YEAR))) < 0.03
    first = int(np.argmin(wear.fault_at))
    at = float(wear.fault_at[first])
    assert wear.faults(first, at - 1) == ()
    (code,) = wear.faults(first, at)
    wear.serviced(first, 10_000.0, at + DAY_S)
    assert wear.faults(first, at + DAY_S) == ()
    assert wear.fault_at[first] > at + DAY_S and code


def test_wear_attention_says_from_when_a_car_has_something_to_report() -> None:
    """Before both thresholds a car shows nothing; at either it shows something."""
    wear = _wear(["petrol"] * 30)
    from_km, from_at = wear.attention()
    for index in range(30):
        km, at = float(from_km[index]), float(from_at[index])
        assert wear.items(index, km - 1, at - 1) + wear.faults(index, at - 1) == ()
        assert wear.items(index, 0.0, at) + wear.faults(index, at) != ()
        assert wear.items(index, km, START) != ()
