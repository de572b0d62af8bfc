"""What a scenario run tells whoever watches it, as plain data: vehicle_sim draws nothing.

The runner reports through one callback: the run started with so many steps, a step is
done, the events are all fired and the cars are settling, the run is over, and notes on
the way (what a car did, a warning). A terminal renders them (``cli``), a test collects
them, and nobody has to watch at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunStarted:
    """``steps``: the scenario's events and, last, the wait for the cars to settle."""

    scenario: str
    steps: int


@dataclass(frozen=True, slots=True)
class StepDone:
    """One more step is done."""


@dataclass(frozen=True, slots=True)
class Settling:
    """Every event has been fired; the run waits for the cars and campaigns to settle."""


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run is over (whether or not it got through all its steps)."""


@dataclass(frozen=True, slots=True)
class Note:
    """Something to tell the person watching; ``warning`` when a step fell short."""

    text: str
    warning: bool = False


ScenarioProgress = RunStarted | StepDone | Settling | RunFinished | Note
Watch = Callable[[ScenarioProgress], None]


def unwatched(_event: ScenarioProgress) -> None:
    """Nobody watching: the run goes on the same."""
