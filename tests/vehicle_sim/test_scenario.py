"""Scenario files: the shipped ones load, and mistakes are named."""

from __future__ import annotations

import pytest

from vehicle_sim.scenario import SCENARIO_DIR, ScenarioError, load, parse

BASE = """
name: t
vehicles:
  - {id: a, vin: WMW21DH0X0T123451, position: {lat: 50.8, lon: 4.3}, activation_country: BE}
"""


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario_shipped_files_load(path: object) -> None:
    """Every shipped scenario validates and references only its own vehicles."""
    scenario = load(str(path))
    assert scenario.vehicles


def test_scenario_default_covers_every_ecall_branch() -> None:
    """The default scenario expects every variant and an operator update."""
    scenario = load("default")
    variants = {e.variant for e in scenario.expect}
    assert variants == {"intelligent", "legal", "psap_voice"}
    assert any(e.msd_update for e in scenario.events)
    assert any(e.sos is not None for e in scenario.events)
    assert any(v.current_country != v.activation_country for v in scenario.vehicles)
    assert any("intelligent_unreachable" in v.faults for v in scenario.vehicles)


def test_scenario_durations_accept_units() -> None:
    """500ms, 2s and 1min are read as seconds."""
    text = BASE + "ack_timeout_s: 500ms\nevents:\n  - {at: 1min, vehicle: a, sos: {}}\n"
    scenario = parse(text)
    assert scenario.ack_timeout_s == 0.5
    assert scenario.events[0].at == 60.0


@pytest.mark.parametrize(("extra", "where"), [
    ("colour: red\n", "colour"),
    ("events:\n  - {at: 1, vehicle: b, sos: {}}\n", "events[0].vehicle"),
    ("events:\n  - {at: 1, vehicle: a}\n", "exactly one"),
    ("events:\n  - {at: soon, vehicle: a, sos: {}}\n", "duration"),
])
def test_scenario_mistakes_are_named(extra: str, where: str) -> None:
    """Unknown keys, unknown vehicles, empty events and bad durations name the culprit."""
    with pytest.raises(ScenarioError) as err:
        parse(BASE + extra)
    assert where in str(err.value)


def test_scenario_unknown_name_lists_the_shipped_ones() -> None:
    """Asking for a scenario that does not exist lists what exists."""
    with pytest.raises(ScenarioError) as err:
        load("no-such-scenario")
    assert "default" in str(err.value)


def test_scenario_invalid_vin_is_refused() -> None:
    """A VIN with an O is not ISO 3779."""
    with pytest.raises(ScenarioError) as err:
        parse(BASE.replace("WMW21DH0X0T123451", "WMW21DH0X0T12345O"))
    assert "vin" in str(err.value)


def test_scenario_at_takes_an_instant_or_an_offset() -> None:
    """``at`` is a real-time offset, or an ISO instant that moves the scenario clock."""
    scenario = parse(BASE + "events:\n  - {at: 2s, advance: 28d}\n"
                     "  - {at: 2026-03-01T08:00}\n")
    assert scenario.events[0].at == 2.0
    assert scenario.events[0].advance == 28 * 86_400
    assert scenario.events[1].at is None
    assert scenario.events[1].instant == 1_772_352_000.0


def test_scenario_offsets_must_not_go_down_in_file_order() -> None:
    """Events run in file order, so a later line cannot have an earlier offset."""
    with pytest.raises(ScenarioError) as err:
        parse(BASE + "events:\n  - {at: 2s, vehicle: a, sos: {}}\n"
              "  - {at: 1s, vehicle: a, sos: {}}\n")
    assert "file order" in str(err.value)
