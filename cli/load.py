"""``telematics load PROFILE``: a fleet of cars on Locust against this platform or any other.

Without ``--broker`` the platform starts locally as ``telematics up`` starts it (services,
the backend's roles with their certificates, readiness) and the cars get certificates
from the run's device CA. With ``--broker`` (and ``--ca-dir`` or ``--identities`` for an
mqtts one) the cars go to that broker, and ``--api`` with ``--token`` lets the run read
the backend's rejected-message counter and (``cli.load_ota``) offer a profile's OTA wave.
Locust runs in child processes (``loadtest.engine``); this process follows their progress
file, judges the profile's thresholds and writes the reports. With the API at hand, the
acknowledged eCalls' receipts at their desks are read afterwards (``cli.load_desks``).
Exit code 0 when every threshold holds; 1 when one is breached (named) or the platform
could not be started or reached; 2 for a profile or option that cannot be used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from cli.api_client import ApiError, request
from cli.load_desks import desk_latency
from cli.load_limits import raise_open_files
from cli.load_ota import WaveError, offer_at, register_fleet
from cli.local_services import LocalServices, ServiceError, ensure_installed
from cli.output import EXIT_FAILED, bad_input, fail, make_console, warn
from cli.stack import StackError, backend_tls, running_backend
from cli.up import forget_local_data
from loadtest import desk_receipts, report
from loadtest.engine import EngineOptions, run_engine, workers_of
from loadtest.profile import Profile, ProfileError, load
from loadtest.run_plan import RESULT_FILE, RunPlan
from loadtest.verdict import Check, judge
from protocols.addresses import mqtt_address
from protocols.units import parse_duration


@dataclass(frozen=True, slots=True)
class Target:
    """Where the cars go and how the run may ask the backend."""

    broker_url: str
    ca_dir: str = ""
    identities_dir: str = ""
    api_url: str | None = None
    token: str | None = None


def load_cmd(
    profile_name: Annotated[str, typer.Argument(metavar="PROFILE",
                                                help="profile name in profiles/ or a YAML path")],
    vehicles: Annotated[int | None, typer.Option(help="cars (default: the profile's)")] = None,
    duration: Annotated[str | None, typer.Option(help="how long, e.g. 60s, 5min")] = None,
    ramp: Annotated[str | None, typer.Option(help="spawn the cars over this, e.g. 10s")] = None,
    broker: Annotated[str | None, typer.Option(help="mqtt[s]://HOST:PORT of the cars' broker "
                                               "(default: start the platform locally)")] = None,
    api: Annotated[str | None, typer.Option(help="the backend API's URL, to read its "
                                            "rejected-message counter, its desks' receipts "
                                            "and to offer an OTA wave")] = None,
    token: Annotated[str | None, typer.Option(help="bearer token of an operator for --api")]
    = None,
    ca_dir: Annotated[Path | None, typer.Option(help="CA directory (telematics pki) to issue "
                                                "each car's certificate from, mqtts only")]
    = None,
    identities: Annotated[Path | None, typer.Option(help="directory of ready {VIN}.crt/.key "
                                                    "beside ca.crt, mqtts only")] = None,
    report_dir: Annotated[Path, typer.Option("--report", help="where the reports go")] =
    Path("load-report"),
    web: Annotated[bool, typer.Option(help="Locust's web UI with its live charts")] = False,
    processes: Annotated[int, typer.Option(help="Locust worker processes on this machine")]
    = 1,
    source_addresses: Annotated[int, typer.Option(help="bind cars to this many loopback "
                                                  "addresses 127.0.0.1.. (loopback broker)")]
    = 1,
    master: Annotated[bool, typer.Option(help="run as the master of workers on other "
                                         "machines")] = False,
    worker: Annotated[bool, typer.Option(help="run cars for a master elsewhere")] = False,
    master_host: Annotated[str, typer.Option(help="the master's address, with --worker")] =
    "127.0.0.1",
    workers: Annotated[int, typer.Option(help="with --master/--worker: worker processes in "
                                         "all")] = 1,
    run_dir: Annotated[Path, typer.Option(help="local services' directory")] = Path(".run"),
) -> None:
    """Run a load profile: cars as Locust users, figures, verdicts and reports."""
    console = make_console(log_path=False)
    try:
        profile = load(profile_name).with_overrides(
            vehicles=vehicles, duration=parse_duration(duration) if duration else None,
            ramp=parse_duration(ramp) if ramp else None)
    except (ProfileError, ValueError) as exc:
        bad_input(str(exc))
    limited = raise_open_files(profile.vehicles)  # inherited by Locust and a local broker
    if limited is not None:
        warn(limited)
    options = EngineOptions(processes=processes, web=web, master=master, worker=worker,
                            master_host=master_host, expect_workers=workers)
    try:
        passed = asyncio.run(_load(console, profile, options, broker=broker, api=api,
                                   token=token, ca_dir=ca_dir, identities=identities,
                                   report_dir=report_dir, run_dir=run_dir,
                                   source_addresses=source_addresses))
    except (ProfileError, ValueError) as exc:
        bad_input(str(exc))
    except (ServiceError, StackError) as exc:  # the platform could not be started or reached
        fail(str(exc))
    if not passed:
        raise typer.Exit(EXIT_FAILED)


async def _load(console: Console, profile: Profile, options: EngineOptions, *,
                broker: str | None, api: str | None, token: str | None, ca_dir: Path | None,
                identities: Path | None, report_dir: Path, run_dir: Path,
                source_addresses: int) -> bool:
    if broker is not None:
        target = Target(broker, ca_dir=str(ca_dir or ""), identities_dir=str(identities or ""),
                        api_url=api, token=token)
        return await _run(console, profile, options, target, report_dir, source_addresses)
    async with _local_platform(console, run_dir) as target:
        return await _run(console, profile, options, target, report_dir, source_addresses)


@contextlib.asynccontextmanager
async def _local_platform(console: Console, run_dir: Path) -> AsyncIterator[Target]:
    """The platform as ``telematics up`` starts it, its stored data forgotten first."""
    ensure_installed(allow_apt=False, environ=os.environ)
    run_dir = await asyncio.to_thread(_emptied, run_dir)
    with LocalServices(run_dir=run_dir, environ=os.environ, secure=True) as services:
        urls = services.urls
        tls = await asyncio.to_thread(backend_tls, services)
        async with running_backend(urls.mqtt_url, urls.redis_url, run_dir=run_dir,
                                   tls=tls, psap_redis_url=urls.psap_redis_url,
                                   psap_relay_redis_url=urls.psap_relay_redis_url) as stack:
            console.print(f"platform up: cars' broker {urls.cars_mqtt_url}, API {stack.api_url}")
            devices = services.authority(backend=False) if tls is not None else None
            yield Target(urls.cars_mqtt_url,
                         ca_dir=str(devices.directory) if devices is not None else "",
                         api_url=stack.api_url, token=stack.operator_token())


def _emptied(run_dir: Path) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    forget_local_data(run_dir)
    return run_dir.resolve()


def _sources(broker_url: str, count: int) -> tuple[str, ...]:
    """``count`` loopback source addresses for a loopback broker; none otherwise."""
    host, _port = mqtt_address(broker_url)
    if count <= 1 or not host.startswith("127."):
        return ()
    return tuple(f"127.0.0.{i}" for i in range(1, count + 1))


async def _rejected(target: Target) -> int | None:
    """The backend's count of rejected messages, when its API is known; None if not."""
    if target.api_url is None:
        return None
    try:
        health = await asyncio.to_thread(request, target.api_url, "GET", "/health/detail",
                                         token=target.token)
    except ApiError:
        return None
    families: Mapping[str, Mapping[str, int]] = health.get("counters", {})
    return sum(int(c.get("rejected", 0)) for c in families.values())


async def _run(console: Console, profile: Profile, options: EngineOptions, target: Target,
               report_dir: Path, source_addresses: int) -> bool:
    plan = RunPlan(profile=profile, broker_url=target.broker_url, out_dir=str(report_dir),
                   workers=workers_of(options), ca_dir=target.ca_dir,
                   identities_dir=target.identities_dir,
                   source_addresses=_sources(target.broker_url, source_addresses))
    rejected_before = await _rejected(target)
    wave = await _wave_ready(console, profile, options, target)
    started = time.monotonic()
    console.print(f"load {profile.name}: {profile.vehicles} cars over {profile.ramp:g} s, "
                  f"{profile.duration:g} s + {profile.drain:g} s drain, broker "
                  f"{target.broker_url}; reports in {report_dir}")
    run_started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    offered = (asyncio.create_task(offer_at(target.api_url, target.token, profile, run_started))
               if wave and target.api_url is not None else None)

    def progressed(progress: dict[str, Any]) -> None:
        if not run_started.done() and "started_ns" in progress:
            run_started.set_result(int(progress["started_ns"]))
        live.update(_progress_table(profile, progress))

    with Live(_progress_table(profile, {}), console=console, refresh_per_second=2,
              transient=not console.is_terminal) as live:
        code = await run_engine(plan, options, progressed)
    campaign = await _offered(console, offered)
    if options.worker:
        console.print(f"worker finished (Locust exit code {code})")
        return code == 0
    figures_file = report_dir / RESULT_FILE
    if not figures_file.exists():
        raise StackError(f"Locust ended (exit code {code}) without figures; see "
                         f"{report_dir / 'locust.out'} and {report_dir / 'locust.log'}")
    figures: dict[str, Any] = json.loads(figures_file.read_text("utf-8"))
    await _desk_receipts(console, target, figures)
    rejected_after = await _rejected(target)
    backend_rejected = (rejected_after - rejected_before
                        if rejected_after is not None and rejected_before is not None else None)
    figures["backend_rejected"] = backend_rejected
    checks = judge(profile.thresholds, figures, backend_rejected=backend_rejected)
    run = {"profile": profile.name, "vehicles": profile.vehicles, "duration_s": profile.duration,
           "ramp_s": profile.ramp, "broker": target.broker_url, "api": target.api_url,
           "workers": plan.workers, "seconds": round(time.monotonic() - started, 1),
           "ota_campaign": campaign}
    _write_reports(report_dir, profile, run, figures, checks)
    _print_verdicts(console, figures, checks)
    return all(c.passed for c in checks)


async def _desk_receipts(console: Console, target: Target, figures: dict[str, Any]) -> None:
    """eCall publish to desk receipt into its own latency kind, when the API is at hand."""
    notes = figures.pop("desk_notes", [])
    if target.api_url is None or not notes:
        return
    try:
        desk = await desk_latency(target.api_url, target.token, notes)
    except httpx.HTTPError as exc:
        console.print(f"[red]desk receipts not read: {exc}[/red]")
        return
    figures["latency"][desk_receipts.KIND] = desk
    figures["ecalls"]["not_at_desk"] = desk["without_receipt"]


async def _wave_ready(console: Console, profile: Profile, options: EngineOptions,
                      target: Target) -> bool:
    """With an OTA wave, the fleet's facts are in the backend before any car starts; the
    wave needs the API (the campaign is the operator's), a worker leaves it to its master."""
    if profile.ota is None or options.worker:
        return False
    if target.api_url is None:
        raise StackError(f"profile {profile.name} offers an OTA campaign: give the "
                         "backend's --api (and --token)")
    console.print(f"registering the facts of {profile.vehicles} cars for the OTA wave")
    try:
        await register_fleet(target.api_url, target.token, profile)
    except (WaveError, httpx.HTTPError) as exc:
        raise StackError(f"OTA wave: {exc}") from None
    return True


async def _offered(console: Console, offered: asyncio.Task[dict[str, Any]] | None
                   ) -> dict[str, Any] | None:
    """What became of the campaign; a refusal is reported, and the cars' missed offers
    judge it."""
    if offered is None:
        return None
    if not offered.done():
        offered.cancel()
        console.print("[red]OTA wave: the run ended before the campaign was posted[/red]")
        return None
    try:
        return offered.result()
    except (WaveError, httpx.HTTPError) as exc:
        console.print(f"[red]OTA wave: {exc}[/red]")
        return {"error": str(exc)}


def _write_reports(report_dir: Path, profile: Profile, run: Mapping[str, Any],
                   figures: Mapping[str, Any], checks: list[Check]) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / report.JSON_NAME).write_text(report.report_json(run, figures, checks),
                                               encoding="utf-8")
    (report_dir / report.JUNIT_NAME).write_text(
        report.junit_xml(profile.name, checks, seconds=float(run["seconds"])), encoding="utf-8")
    (report_dir / report.HTML_NAME).write_text(report.html(run, figures, checks),
                                               encoding="utf-8")


def _ms(progress: Mapping[str, Any], kind: str, key: str) -> str:
    value = progress.get("latency", {}).get(kind, {}).get(key)
    return "-" if value is None else f"{value:.1f}"


def _progress_table(profile: Profile, progress: Mapping[str, Any]) -> Table:
    table = Table(title=f"telematics load {profile.name}", show_header=True)
    for column in ("elapsed", "cars", "published", "errors", "eCalls acked/started",
                   "eCall ack p50/p99 ms", "PUBACK p50/p99 ms"):
        table.add_column(column, justify="right")
    ecalls = progress.get("ecalls", {})
    table.add_row(
        f"{progress.get('elapsed_s', 0.0):.0f}/{profile.duration + profile.drain:.0f} s",
        f"{progress.get('connected', 0)}/{profile.vehicles}", str(progress.get("published", 0)),
        str(progress.get("errors", 0)),
        f"{ecalls.get('acknowledged', 0)}/{ecalls.get('started', 0)}",
        f"{_ms(progress, 'ecall_ack', 'p50_ms')}/{_ms(progress, 'ecall_ack', 'p99_ms')}",
        f"{_ms(progress, 'puback', 'p50_ms')}/{_ms(progress, 'puback', 'p99_ms')}")
    return table


def _print_verdicts(console: Console, figures: Mapping[str, Any], checks: list[Check]) -> None:
    for kind, data in figures["latency"].items():
        if data.get("count"):
            console.print(f"{kind:16} n={data['count']:<7} p50 {data['p50_ms']:.2f} ms  "
                          f"p99 {data['p99_ms']:.2f} ms  max {data['max_ms']:.2f} ms")
    console.print(f"eCalls: {figures['ecalls']}; peak cars connected "
                  f"{figures['peak_connected']}")
    for check in checks:
        colour = "green" if check.passed else "red"
        console.print(f"[{colour}]{check.text}[/{colour}]")
