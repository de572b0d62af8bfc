"""Negative scenarios: each shipped one is refused with the message its marker names."""

from __future__ import annotations

from pathlib import Path

import pytest

from vehicle_sim.scenario import REFUSED_DIR, SCENARIO_DIR, ScenarioError, load, refusal_of

NEGATIVE = sorted(REFUSED_DIR.glob("*.yaml"))
RUNNABLE = """
name: fine
vehicles:
  - {id: a, vin: WMW71DH0X0T700081, position: {lat: 50.85, lon: 4.35}, activation_country: BE}
"""


def test_refused_there_are_negative_scenarios_and_none_is_runnable() -> None:
    """The negative ones live apart; the shipped runnable ones never include them."""
    assert len(NEGATIVE) >= 5
    assert not set(NEGATIVE) & set(SCENARIO_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_refused_shipped_negative_scenario_is_refused_as_its_marker_says(path: Path) -> None:
    """The file's own mistake, not its marker, is what refuses it, in the marked words."""
    message = refusal_of(path.read_text(encoding="utf-8"), source=path.name)
    assert not message.startswith(f"{path.name}: refused")


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_refused_negative_scenario_is_never_run(path: Path) -> None:
    """Loading it to run says what it is, whatever its mistake."""
    with pytest.raises(ScenarioError, match="a negative scenario"):
        load(str(path))


@pytest.mark.parametrize(("text", "says"), [
    (RUNNABLE, "no 'refused: <part of the error>' marker"),
    ("refused: must fail\n" + RUNNABLE, "loads, but its marker says"),
    ("refused: some other words\n" + RUNNABLE + "colour: red\n", "which does not say"),
])
def test_refused_marker_that_does_not_hold_is_an_error(text: str, says: str) -> None:
    """No marker, a file that loads, or another error than marked: each is named."""
    with pytest.raises(ScenarioError, match=says):
        refusal_of(text, source="x.yaml")
