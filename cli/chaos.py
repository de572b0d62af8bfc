"""``telematics chaos``: eCalls under injected faults, judged from outside.

Without URLs it starts its own Mosquitto and Redis in a temporary directory and the whole
backend, as ``telematics up`` does, so it knows every pid and may restart the services;
with ``--mqtt-url``, ``--redis-url`` and ``--api-url`` it tests a stack started
elsewhere, signalling only the pids named with ``--pid ROLE=PID``; the PSAP records are
read from ``--psap-redis-url`` (default ``$TELEMATICS_PSAP_REDIS_URL``, else the weak mode:
database ``psap_db`` of ``--redis-url``). A local run's ``redis_restart`` restarts both
Redis instances. The table goes to
stdout; with ``--json`` stdout carries one compact JSON object only, on its last line.
Exit 0 when nothing was lost or duplicated, 1 when something was (or the run failed),
2 on bad input.
"""

from __future__ import annotations

import asyncio
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from redis.exceptions import RedisError
from rich.console import Console

from backend.settings import BackendSettings
from bench.loadgen import LoadError
from chaos.errors import ChaosError, PlanError
from chaos.faults import FaultTarget
from chaos.plan import ChaosPlan, parse_faults, parse_pids, parse_seconds
from chaos.runner import ChaosTarget, run_chaos
from chaos.table import results_table
from chaos.tally import FaultResult, exit_code, report
from cli.local_services import (
    LocalServices,
    ServiceError,
    ensure_installed,
    parse_mqtt_url,
    parse_redis_url,
    redacted,
)
from cli.logs import configure
from cli.output import EXIT_BAD_INPUT, emit_json, fail, make_console
from cli.stack import StackError, backend_tls, running_backend
from pki.identities import BENCH


def chaos(
    faults: Annotated[str, typer.Option(help="comma-separated faults in the order to run, "
                                        "or 'all'")] = "all",
    duration: Annotated[str, typer.Option(help="traffic per fault phase (20s, 1min)")] = "20s",
    rate: Annotated[float, typer.Option(help="eCalls per second")] = 25.0,
    ack_timeout: Annotated[str, typer.Option(help="the car's acknowledgement timer before it "
                                             "sends the same eCall again")] = "10s",
    cars: Annotated[int, typer.Option(help="simulated cars (one MQTT session each)")] = 50,
    telemetry_rate: Annotated[float, typer.Option(help="background telemetry msg/s")] = 300.0,
    json_out: Annotated[bool, typer.Option("--json", help="print only one JSON object on "
                                           "stdout")] = False,
    mqtt_url: Annotated[str | None, typer.Option(help="broker of a running stack")] = None,
    redis_url: Annotated[str | None, typer.Option(help="Redis of a running stack")] = None,
    api_url: Annotated[str | None, typer.Option(help="HTTP API of a running stack")] = None,
    psap_redis_url: Annotated[str | None, typer.Option(
        help="the PSAP domain's Redis of a running stack, as a user that may read it")] = None,
    pid: Annotated[list[str] | None, typer.Option(help="ROLE=PID of a running stack's "
                                                  "process it may signal (repeatable)")] = None,
    debug: bool = False,
) -> None:
    """Run eCalls through every fault and report what was lost, duplicated or late."""
    configure(debug=debug)
    err = make_console(stderr=True)
    try:
        plan = ChaosPlan(faults=parse_faults(faults),
                         duration_s=parse_seconds(duration, option="--duration"), rate=rate,
                         ack_timeout_s=parse_seconds(ack_timeout, option="--ack-timeout"),
                         cars=cars, telemetry_rate=telemetry_rate)
        pids = parse_pids(pid or [])
        external = _external_urls(mqtt_url, redis_url, api_url)
        if psap_redis_url:
            parse_redis_url(psap_redis_url, variable="--psap-redis-url")
        if external is None:
            ensure_installed(allow_apt=False, environ={})
    except (PlanError, ServiceError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    try:
        if external is None:
            results = _run_local(plan, err)
        else:
            mqtt, redis, api = external
            settings = BackendSettings(mqtt_url=mqtt, redis_url=redis)
            target = ChaosTarget(mqtt_url=mqtt, redis_url=redis, api_url=api,
                                 psap_redis_url=psap_redis_url or settings.psap_url,
                                 oem_db=settings.oem_db, psap_db=settings.psap_db,
                                 faults=FaultTarget(redis_url=redis, pid_of=pids.get))
            results = asyncio.run(run_chaos(target, plan, progress=err.print))
    except (ChaosError, ServiceError, StackError, LoadError, RedisError, OSError,
            TimeoutError) as exc:
        if debug:
            raise
        fail(f"{type(exc).__name__}: {exc}")
    _print(results, plan, json_out=json_out)
    raise typer.Exit(exit_code(results))


def _external_urls(mqtt_url: str | None, redis_url: str | None,
                   api_url: str | None) -> tuple[str, str, str] | None:
    """All three URLs of a running stack, or None for a local one; a partial set is an error."""
    given = (mqtt_url, redis_url, api_url)
    if not any(given):
        return None
    if mqtt_url is None or redis_url is None or api_url is None:
        raise PlanError("--mqtt-url/--redis-url/--api-url", "a running stack needs all three")
    parse_mqtt_url(mqtt_url, variable="--mqtt-url")
    parse_redis_url(redis_url, variable="--redis-url")
    if not api_url.startswith(("http://", "https://")):
        raise PlanError("--api-url", f"{api_url!r} is not an http:// or https:// URL")
    return mqtt_url, redis_url, api_url.rstrip("/")


def _run_local(plan: ChaosPlan, err: Console) -> list[FaultResult]:
    """Private services (never the environment's: they must be ours to restart), secure
    as ``telematics up`` runs them: every car, role and the telemetry generator present
    their own certificates under the broker's ACL."""
    with tempfile.TemporaryDirectory(prefix="telematics-chaos-") as tmp, \
            LocalServices(run_dir=Path(tmp), environ={}, secure=True) as services:
        urls = services.urls
        err.print(f"broker {urls.mqtt_url}  redis {redacted(urls.redis_url)}  "
                  f"PSAP redis {redacted(urls.psap_redis_url)}")
        return asyncio.run(_local(services, plan, err, run_dir=Path(tmp)))


async def _local(services: LocalServices, plan: ChaosPlan, err: Console, *,
                 run_dir: Path) -> list[FaultResult]:
    urls = services.urls
    tls = await asyncio.to_thread(backend_tls, services)
    async with running_backend(urls.mqtt_url, urls.redis_url, run_dir=run_dir, tls=tls,
                               psap_redis_url=urls.psap_redis_url,
                               psap_relay_redis_url=urls.psap_relay_redis_url) as stack:
        err.print(f"backend up: API {stack.api_url}")
        target = ChaosTarget(
            mqtt_url=urls.mqtt_url, redis_url=urls.redis_url, api_url=stack.api_url,
            psap_redis_url=urls.psap_redis_url,
            oem_db=stack.settings.oem_db, psap_db=stack.settings.psap_db,
            faults=FaultTarget(redis_url=urls.redis_url, pid_of=stack.supervisor.pid_of,
                               restart_broker=services.restart_mqtt,
                               restart_redis=services.restart_redis,
                               kill_broker=partial(services.restart_mqtt, kill=True),
                               kill_redis=partial(services.restart_redis, kill=True)),
            cars_mqtt_url=urls.cars_mqtt_url, identities=services.identity,
            telemetry_tls=await asyncio.to_thread(services.identity, BENCH))
        return await run_chaos(target, plan, progress=err.print)


def _print(results: list[FaultResult], plan: ChaosPlan, *, json_out: bool) -> None:
    figures: dict[str, Any] = report(results, plan.settings())
    if json_out:
        emit_json(figures)
        return
    console = make_console()
    console.print(results_table(results))
    verdict = ("[green]no eCall lost or duplicated[/green]" if figures["passed"] else
               f"[red]FAILED[/red]: {figures['lost']} lost, {figures['duplicated']} duplicated "
               f"({', '.join(figures['failed'])})")
    skipped = f"; skipped: {', '.join(figures['skipped'])}" if figures["skipped"] else ""
    console.print(f"{figures['sent']} eCalls sent; {verdict}{skipped}")
