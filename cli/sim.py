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
from cli.summary import print_summary, report, write_report
from vehicle_sim.expectations import check_all
from vehicle_sim.runner import run_scenario
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
        traces = await run_scenario(plan, mqtt_url=mqtt, api_url=api, console=console)
        outcomes = await check_all(api, plan.expect, traces, timeout_s=plan.settle_timeout_s)
        data = report(plan.name, traces, outcomes)
        print_summary(console, data)
        if report_file is not None:
            write_report(report_file, data)
        return bool(data["passed"])

    if not asyncio.run(main()):
        raise typer.Exit(1)
