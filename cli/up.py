"""``telematics up``: services, backend and a scenario, with progress and a summary."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console

from backend.runtime.metrics_endpoint import free_metrics_port, metrics_urls
from cli.local_services import (
    PSAP_DATA_DIR,
    LocalServices,
    ServiceError,
    ensure_installed,
    redacted,
)
from cli.logs import configure
from cli.output import EXIT_BAD_INPUT, EXIT_FAILED, fail, make_console, note
from cli.running_up import DEFAULT_API_PORT, announced, choose_api_port
from cli.stack import StackError, backend_tls, running_backend
from cli.summary import run_and_judge
from protocols.addresses import mqtt_uses_tls
from vehicle_sim.scenario import Scenario, ScenarioError, load

EXIT_SIGTERM: Final = 128 + signal.SIGTERM  # as a shell reports a process it killed


def up(
    scenario: Annotated[str, typer.Option(help="scenario name in scenarios/ or a YAML path")] =
    "default",
    once: Annotated[bool, typer.Option(help="stop after the scenario; exit 0 only if its "
                                       "expectations hold")] = False,
    report_file: Annotated[Path | None, typer.Option("--report", help="write the summary as "
                                                     "JSON to this file")] = None,
    run_dir: Annotated[Path, typer.Option(help="where local Mosquitto/Redis keep data and "
                                          "logs")] = Path(".run"),
    keep_data: Annotated[bool, typer.Option(help="keep what local Mosquitto and Redis stored "
                                            "in earlier runs")] = False,
    api_port: Annotated[int, typer.Option(help="the API's port on 127.0.0.1 (a free one if "
                                          "taken; 0: any free port)", min=0, max=65535)] =
    DEFAULT_API_PORT,
    debug: bool = False,
) -> None:
    """Start Mosquitto, Redis and the backend, run a scenario, print what happened.

    While it runs, the other commands (``budgets``, ``retention``, ``ota`` ...) started
    from the same directory find its API without ``--api-url``."""
    configure(debug=debug)
    console = make_console(log_path=False)
    try:
        plan = load(scenario)
        ensure_installed(allow_apt=False, environ=os.environ)
    except (ScenarioError, ServiceError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    port, moved = choose_api_port(api_port)
    if moved is not None:
        note(moved)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not keep_data:
        forget_local_data(run_dir)
    try:
        with LocalServices(run_dir=run_dir.resolve(), environ=os.environ,
                           secure=True) as services:
            urls = services.urls
            console.print(f"broker {urls.mqtt_url} (cars {urls.cars_mqtt_url})  "
                          f"redis {redacted(urls.redis_url)} (PSAP domain "
                          f"{redacted(urls.psap_redis_url)})  run dir {run_dir}")
            passed = asyncio.run(_up(console, plan, services, run_dir=run_dir.resolve(),
                                     once=once, report_file=report_file, api_port=port))
    except asyncio.CancelledError:
        fail("stopped by SIGTERM; Mosquitto, Redis and the backend stopped with it",
             EXIT_SIGTERM)
    except (ServiceError, StackError) as exc:
        fail(str(exc))
    if not passed:
        raise typer.Exit(EXIT_FAILED)


def forget_local_data(run_dir: Path) -> None:
    """Start a scenario from an empty broker and Redis: its VINs and times repeat run after
    run, so what an earlier run stored would be counted again. Services named by
    TELEMATICS_*_URL are never touched."""
    for name in ("mosquitto.db", "dump.rdb", f"{PSAP_DATA_DIR}/dump.rdb"):
        (run_dir / name).unlink(missing_ok=True)
    for data_dir in (run_dir, run_dir / PSAP_DATA_DIR):
        shutil.rmtree(data_dir / "appendonlydir", ignore_errors=True)


async def _up(console: Console, plan: Scenario, services: LocalServices, *, run_dir: Path,
              once: bool, report_file: Path | None, api_port: int) -> bool:
    """The backend with its roles' certificates, then the cars with theirs (each car's CN
    is its VIN); the local broker keeps nothing retained, so the clock is re-announced."""
    _stop_on_sigterm()
    urls = services.urls
    tls = await asyncio.to_thread(backend_tls, services)
    async with running_backend(urls.mqtt_url, urls.redis_url, run_dir=run_dir, tls=tls,
                               psap_redis_url=urls.psap_redis_url,
                               psap_relay_redis_url=urls.psap_relay_redis_url,
                               api_port=api_port,
                               metrics_port=free_metrics_port()) as stack:
        with announced(run_dir, stack.api_url):
            console.print(f"backend up: API {stack.api_url} (OpenAPI: {stack.api_url}/docs); "
                          f"tokens: telematics token --role operator --key "
                          f"{stack.keys.private}")
            if urls_of_metrics := metrics_urls(stack.settings):
                console.print("metrics: " + ", ".join(
                    f"{role} {url}" for role, url in urls_of_metrics.items()))
            passed = await run_and_judge(plan, mqtt_url=urls.cars_mqtt_url,
                                         api_url=stack.api_url,
                                         api_token=stack.operator_token(), console=console,
                                         report_file=report_file,
                                         identities=services.identity,
                                         retain_clock=not mqtt_uses_tls(urls.mqtt_url))
            if not once:
                console.print(f"backend still running at {stack.api_url}; press Ctrl-C to "
                              "stop")
                await _wait_for_signal()
            return passed


def _stop_on_sigterm() -> None:
    """SIGTERM at any moment cancels the run, so it unwinds through every ``finally``:
    the supervisor stops the roles and Mosquitto and Redis are stopped, instead of living
    on as orphans of a killed ``up``."""
    main = asyncio.current_task()
    if main is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not sys.stdin.isatty():
        note("stdin is not a terminal; send SIGTERM to stop")
    await stop.wait()
