"""The terminal draws what the runner reports: the bar over the steps, notes above it."""

from __future__ import annotations

import io

from rich.console import Console

from cli.scenario_view import ScenarioView
from vehicle_sim.progress import Note, RunFinished, RunStarted, Settling, StepDone


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=100, force_terminal=False, log_path=False), out


def test_scenario_view_draws_the_steps_and_the_notes() -> None:
    """Every step done moves the bar; notes are printed, warnings too, text as written."""
    console, out = _console()
    view = ScenarioView(console)
    for event in (RunStarted("default", steps=3), StepDone(),
                  Note("be-crash: intelligent eCall MSD #1 sent"), StepDone(), Settling(),
                  Note("some cars did not settle in time", warning=True),
                  Note("[red]not markup[/red]"), StepDone(), RunFinished()):
        view(event)
    text = out.getvalue()
    assert "be-crash: intelligent eCall MSD #1 sent" in text
    assert "some cars did not settle in time" in text
    assert "[red]not markup[/red]" in text
    assert "waiting for the cars to settle" in text
    assert "3/3" in text


def test_scenario_view_a_run_cut_short_leaves_its_bar_where_it_stopped() -> None:
    """A run that fails midway shows how far it got, and closing twice is harmless."""
    console, out = _console()
    view = ScenarioView(console)
    view(RunStarted("ota_rollout", steps=4))
    view(StepDone())
    view(RunFinished())
    view.close()
    text = out.getvalue()
    assert "scenario ota_rollout" in text
    assert "1/4" in text


def test_scenario_view_notes_before_the_run_starts_are_printed() -> None:
    """A car's note while connecting comes before any bar exists."""
    console, out = _console()
    ScenarioView(console)(Note("fleet: 150 cars connected"))
    assert "fleet: 150 cars connected" in out.getvalue()
