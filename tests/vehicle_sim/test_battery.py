"""The HV battery's thermal model and its thermal events (MINI Connected §2b, HV-R1)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vehicle_sim.battery import (
    ATMOSPHERE_KPA,
    MAX_SUBSTEP_S,
    TEMP_ALARM_C,
    BatteryMode,
    BatteryParams,
    BatteryState,
    ThermalEvent,
    step,
    thermal_runaway,
)

HOUR = 3600.0


def _run(state: BatteryState, seconds: float, *, mode: BatteryMode, ambient_c: float = 20.0,
         tick: float = 60.0) -> tuple[BatteryState, list[ThermalEvent]]:
    events: list[ThermalEvent] = []
    now = state.t
    end = state.t + seconds
    while now < end:
        dt = min(tick, end - now)
        now += dt
        state, new = step(state, dt, mode=mode, ambient_c=ambient_c, now=now)
        events.extend(new)
    return state, events


@pytest.mark.parametrize("powertrain", ["BEV", "PHEV"])
def test_battery_accepts_bev_and_phev(powertrain: str) -> None:
    """Both electrified powertrains get a pack at ambient temperature and pressure."""
    state = BatteryState.at_rest(powertrain, ambient_c=15.0, now=0.0)
    assert state.powertrain == powertrain
    assert state.cell_temp_c == 15.0
    assert state.pressure_kpa == ATMOSPHERE_KPA


def test_battery_refuses_ice() -> None:
    """A combustion car has no HV battery to watch."""
    with pytest.raises(ValueError, match="no HV battery"):
        BatteryState.at_rest("ICE", ambient_c=15.0, now=0.0)
    with pytest.raises(ValueError, match="no HV battery"):
        BatteryParams.for_powertrain("ICE")


@pytest.mark.parametrize("mode", ["driving", "charging"])
def test_battery_current_warms_the_pack_within_limits(mode: BatteryMode) -> None:
    """Joule heat warms the cells; the active thermal system keeps them far from alarm."""
    state = BatteryState.at_rest("BEV", ambient_c=20.0, now=0.0)
    after, events = _run(state, 3 * HOUR, mode=mode)
    assert 20.0 < after.cell_temp_c < 40.0
    assert events == []


@pytest.mark.parametrize("mode", ["parked", "off", "locked"])
def test_battery_cools_passively_when_parked(mode: BatteryMode) -> None:
    """Without the coolant loop a warm pack drifts towards the air temperature."""
    warm = replace(BatteryState.at_rest("BEV", ambient_c=10.0, now=0.0), cell_temp_c=35.0)
    after, _ = _run(warm, 6 * HOUR, mode=mode, ambient_c=10.0)
    assert 10.0 < after.cell_temp_c < 35.0


def test_battery_active_cooling_is_faster_than_passive() -> None:
    """Driving runs the thermal system, so a hot pack cools faster than when parked."""
    hot = replace(BatteryState.at_rest("PHEV", ambient_c=20.0, now=0.0), cell_temp_c=50.0)
    driving, _ = _run(hot, HOUR, mode="driving")
    parked, _ = _run(hot, HOUR, mode="parked")
    assert driving.cell_temp_c < parked.cell_temp_c


@pytest.mark.parametrize("powertrain", ["BEV", "PHEV"])
@pytest.mark.parametrize("mode", ["driving", "charging", "parked", "off", "locked"])
def test_battery_runaway_raises_one_event(powertrain: str, mode: BatteryMode) -> None:
    """An injected runaway crosses the temperature threshold once, in every mode."""
    state = thermal_runaway(BatteryState.at_rest(powertrain, ambient_c=20.0, now=0.0),
                            start_at=60.0)
    after, events = _run(state, 2 * HOUR, mode=mode)
    assert len(events) == 1
    event = events[0]
    assert event.kind == "temperature"
    assert event.cell_temp_c >= TEMP_ALARM_C
    assert 60.0 < event.at < 30 * 60.0
    assert after.incidents == 1
    assert after.incident_open


def test_battery_event_time_does_not_depend_on_the_tick() -> None:
    """Substeps put the crossing within a second whatever step the runner uses."""
    state = thermal_runaway(BatteryState.at_rest("BEV", ambient_c=20.0, now=0.0), 0.0)
    _, fine = _run(state, HOUR, mode="parked", tick=1.0)
    _, coarse = _run(state, HOUR, mode="parked", tick=HOUR)
    assert abs(fine[0].at - coarse[0].at) <= MAX_SUBSTEP_S


def test_battery_pressure_alone_raises_a_pressure_event() -> None:
    """With a high temperature threshold, the off-gassing pressure rise is seen first."""
    params = replace(BatteryParams.for_powertrain("BEV"), temp_alarm_c=400.0)
    state = thermal_runaway(replace(BatteryState.at_rest("BEV", ambient_c=20.0, now=0.0),
                                    params=params), 0.0)
    _, events = _run(state, HOUR, mode="parked")
    assert [e.kind for e in events] == ["pressure"]
    assert events[0].pressure_kpa > ATMOSPHERE_KPA + 10.0


def test_battery_both_thresholds_in_one_step_give_both() -> None:
    """Temperature and pressure over their thresholds together make one "both" event."""
    state = replace(BatteryState.at_rest("PHEV", ambient_c=20.0, now=0.0),
                    cell_temp_c=120.0, pressure_kpa=ATMOSPHERE_KPA + 30.0)
    _, events = step(state, 1.0, mode="locked", ambient_c=20.0, now=1.0)
    assert [e.kind for e in events] == ["both"]
    assert events[0].at == 0.0


def test_battery_incident_closes_and_a_new_one_counts() -> None:
    """Once back in the operating range the incident closes; a new crossing is a new one."""
    hot = replace(BatteryState.at_rest("BEV", ambient_c=20.0, now=0.0), cell_temp_c=95.0)
    first, events = step(hot, 1.0, mode="driving", ambient_c=20.0, now=1.0)
    assert len(events) == 1
    cooled, later = _run(first, 12 * HOUR, mode="driving")
    assert later == []
    assert not cooled.incident_open
    again, events = step(replace(cooled, cell_temp_c=95.0), 1.0, mode="parked",
                         ambient_c=20.0, now=cooled.t + 1.0)
    assert len(events) == 1
    assert again.incidents == 2


def test_battery_step_is_pure() -> None:
    """The same inputs give the same outputs and leave the input state untouched."""
    state = thermal_runaway(BatteryState.at_rest("BEV", ambient_c=20.0, now=0.0), 0.0)
    a = step(state, 900.0, mode="charging", ambient_c=20.0, now=900.0)
    b = step(state, 900.0, mode="charging", ambient_c=20.0, now=900.0)
    assert a == b
    assert state.cell_temp_c == 20.0


def test_battery_step_refuses_unknown_mode_and_negative_dt() -> None:
    """Bad runner inputs are errors, not silent physics."""
    state = BatteryState.at_rest("BEV", ambient_c=20.0, now=0.0)
    with pytest.raises(ValueError, match="mode"):
        # An unknown mode on purpose: the runtime check is under test.
        step(state, 1.0, mode="towing", ambient_c=20.0, now=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dt_s"):
        step(state, -1.0, mode="parked", ambient_c=20.0, now=1.0)


def test_battery_runaway_until_alarm_reports_the_model_time_to_alarm() -> None:
    """Playing a fault forward gives one alarm after a positive, bounded model time."""
    from vehicle_sim.hv_warn import runaway_until_alarm

    event, battery = runaway_until_alarm("BEV", mode="charging", ambient_c=18.0)
    assert 0 < event.at < 4 * 3600
    assert battery.incidents == 1
    with pytest.raises(ValueError, match="BEV and PHEV only"):
        runaway_until_alarm("ICE", mode="parked", ambient_c=18.0)
