"""A scenario run on the terminal: a progress bar over its steps, its notes above the bar.

The runner (``vehicle_sim.runner``) only reports what happens, as
``vehicle_sim.progress`` events; this is the one place that draws them.
"""

from __future__ import annotations

from typing import assert_never

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from vehicle_sim.progress import (
    Note,
    RunFinished,
    RunStarted,
    ScenarioProgress,
    Settling,
    StepDone,
)


class ScenarioView:
    """Call it with each progress event; ``close`` it when the run ends in any way."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bar: Progress | None = None
        self._task = TaskID(0)

    def __call__(self, event: ScenarioProgress) -> None:
        match event:
            case RunStarted(scenario=name, steps=steps):
                self.close()
                self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.completed}/{task.total}"),
                                     TimeElapsedColumn(), console=self._console,
                                     transient=False)
                self._bar.start()
                self._task = self._bar.add_task(f"scenario {name}", total=steps)
            case StepDone():
                if self._bar is not None:
                    self._bar.advance(self._task)
            case Settling():
                if self._bar is not None:
                    self._bar.update(self._task, description="waiting for the cars to settle")
            case RunFinished():
                self.close()
            case Note(text=text, warning=warning):
                line = escape(text)
                self._console.log(f"[yellow]{line}[/yellow]" if warning else line)
            case _:
                assert_never(event)

    def close(self) -> None:
        """Stop the bar, leaving its last state on the screen."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
