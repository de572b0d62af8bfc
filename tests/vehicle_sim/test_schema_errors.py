"""A file with several schema mistakes shows every one, each with its key and its rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.output import EXIT_BAD_INPUT
from loadtest.profile import ProfileError
from loadtest.profile import parse as parse_profile
from vehicle_sim.scenario import ScenarioError
from vehicle_sim.scenario import parse as parse_scenario

# Three independent mistakes: a typo'd key, a value out of range, a required key missing.
THREE_WRONG_SCENARIO = """
name: three
vehicles:
  - {id: a, vin: WMW21DH0X0T123451, position: {lat: 50.8, lon: 4.3}, activation_country: BE,
     colour: red}
  - {id: b, vin: WMW21DH0X0T123452, position: {lat: 95, lon: 4.3}, activation_country: BE}
  - {id: c, position: {lat: 50.8, lon: 4.3}, activation_country: BE}
"""
SCENARIO_ERRORS = [
    ("vehicles.0.colour:", "(rule: extra_forbidden)"),
    ("vehicles.1.position.lat:", "(rule: less_than_equal)"),
    ("vehicles.2.vin:", "(rule: missing)"),
]
THREE_WRONG_PROFILE = """
name: three
vehicles: -3
duration: 20s
traffic: {ecalls_per_hour: -1}
thresholds: {lost_ecall: 0}
"""
PROFILE_ERRORS = [
    ("vehicles:", "(rule: greater_than"),
    ("traffic.ecalls_per_hour:", "(rule: greater_than"),
    ("thresholds.lost_ecall:", "(rule: extra_forbidden)"),
]


def _says_each(message: str, expected: list[tuple[str, str]]) -> None:
    """A count, then one line per mistake naming its key and its rule."""
    first, *lines = message.splitlines()
    assert first.endswith(f"{len(expected)} errors:")
    assert len(lines) == len(expected)
    for line, (key, rule) in zip(lines, expected, strict=True):
        assert line.strip().startswith(key), line
        assert rule in line, line


def test_schema_errors_a_scenario_with_three_mistakes_lists_all_three() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(THREE_WRONG_SCENARIO, source="three.yaml")
    assert str(caught.value).startswith("three.yaml: ")
    _says_each(str(caught.value), SCENARIO_ERRORS)


def test_schema_errors_a_profile_with_three_mistakes_lists_all_three() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(THREE_WRONG_PROFILE, source="three.yaml")
    _says_each(str(caught.value), PROFILE_ERRORS)


def test_schema_errors_one_mistake_stays_on_one_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(THREE_WRONG_SCENARIO.split("  - {id: b")[0], source="one.yaml")
    assert str(caught.value) == ("one.yaml: vehicles.0.colour: Extra inputs are not "
                                 "permitted (rule: extra_forbidden)")


def test_schema_errors_sim_check_prints_every_mistake(tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    path.write_text(THREE_WRONG_SCENARIO, encoding="utf-8")
    result = CliRunner().invoke(app, ["sim", "check", str(path)])
    assert result.exit_code == 1  # a file that does not load is a failed check
    for key, rule in SCENARIO_ERRORS:
        assert key in result.stdout and rule in result.stdout


def test_schema_errors_up_refuses_the_scenario_with_every_mistake_on_stderr(
        tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    path.write_text(THREE_WRONG_SCENARIO, encoding="utf-8")
    result = CliRunner().invoke(app, ["up", "--scenario", str(path), "--run-dir",
                                      str(tmp_path / "run")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    _says_each(result.stderr.removeprefix("error: "), SCENARIO_ERRORS)
