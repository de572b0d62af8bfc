"""``telematics sim``: run the TCU emulator alone against a given broker and backend."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.logs import configure
from cli.summary import run_and_judge
from vehicle_sim.scenario import ScenarioError, load

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run(
    scenario: Annotated[str, typer.Option(help="scenario name or YAML path")] = "default",
    mqtt_url: Annotated[str | None, typer.Option(help="default: $TELEMATICS_MQTT_URL")] = None,
    api_url: Annotated[str | None, typer.Option(help="backend HTTP API, for operator "
                                                "actions and expectations; default: "
                                                "$TELEMATICS_API_URL")] = None,
    report_file: Annotated[Path | None, typer.Option("--report")] = None,
    debug: bool = False,
) -> None:
    """Drive a scenario's cars against a running backend and check its expectations."""
    configure(debug=debug)
    console = Console(log_path=False, width=None if sys.stdout.isatty() else 110)
    mqtt = mqtt_url or os.environ.get("TELEMATICS_MQTT_URL", "mqtt://127.0.0.1:1883")
    api = api_url or os.environ.get("TELEMATICS_API_URL", "http://127.0.0.1:8080")
    try:
        plan = load(scenario)
    except ScenarioError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None

    async def main() -> bool:
        return await run_and_judge(plan, mqtt_url=mqtt, api_url=api, console=console,
                                   report_file=report_file)

    if not asyncio.run(main()):
        raise typer.Exit(1)
