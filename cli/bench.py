"""``telematics bench``: benchmarks that print figures (never pass/fail tests).

``bench codec`` times the MSD codec beside asn1tools and pycrate on one core
(``bench.codec``); ``bench sim`` counts emulated cars per process and their memory
(``bench.sim``). ``bench ecall`` starts its own Mosquitto and Redis in a temporary
directory (or uses ``TELEMATICS_MQTT_URL`` / ``TELEMATICS_REDIS_URL``), the whole
backend, then measures
the broker floor and eCall latency idle and under telemetry load. The table goes to
stdout; with ``--json`` it goes to stderr and stdout holds the figures alone, one compact
JSON object, printed after every backend process has stopped so nothing can write after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from redis.asyncio import Redis
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from backend.runtime.roles import ROLES
from bench.codec import CodecBenchOptions, run_codec_bench
from bench.ecall import DEFAULT_CONNECTIONS, BenchTarget, EcallBenchOptions, run_ecall_bench
from bench.loadgen import LoadError
from bench.machine import machine_info
from bench.sim import SimBenchOptions, run_sim_bench
from cli.local_services import (
    LocalServices,
    ServiceError,
    ensure_installed,
    find_binary,
    redacted,
)
from cli.logs import configure
from cli.output import bad_input, emit_json, fail, make_console
from cli.stack import StackError, backend_tls, running_backend
from pki.identities import BENCH

app = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures.")


@app.callback()
def bench() -> None:
    """Benchmarks that print figures; ``ecall`` starts its own services and backend."""



def _show(figures: dict[str, Any], printer: Callable[[Console, dict[str, Any]], None], *,
          json_out: bool) -> None:
    """The table for the person; with ``--json`` it goes to stderr and stdout holds the
    figures alone, one compact object, as every command's ``--json`` does."""
    printer(make_console(stderr=json_out), figures)
    if json_out:
        emit_json(figures)

@app.command()
def ecall(
    json_out: Annotated[bool, typer.Option("--json", help="the figures as one compact JSON "
                                           "object on stdout; the table goes to stderr")] = False,
    count: Annotated[int, typer.Option(help="eCalls per phase")] = 400,
    rate: Annotated[float, typer.Option(help="eCalls per second")] = 50.0,
    load_rate: Annotated[float, typer.Option(help="background telemetry msg/s in the "
                                             "loaded phase (30000: the documented point "
                                             "of the aim)")] = 10_000.0,
    vehicles: Annotated[int, typer.Option(help="simulated vehicles sending telemetry")] = 1_000,
    connections: Annotated[int, typer.Option(help="broker connections the telemetry is "
                                             "spread over")] = DEFAULT_CONNECTIONS,
    intelligent_share: Annotated[float, typer.Option(help="share of Intelligent eCalls "
                                                     "(the rest are Legal)")] = 0.25,
    debug: bool = False,
) -> None:
    """eCall latency idle and under load, against the broker floor of the same run."""
    configure(debug=debug)
    err = Console(stderr=True)
    try:
        options = EcallBenchOptions(count=count, rate=rate, load_rate=load_rate,
                                    vehicles=vehicles, connections=connections,
                                    intelligent_share=intelligent_share)
        ensure_installed(allow_apt=False, environ=os.environ)
    except (ValueError, ServiceError) as exc:
        bad_input(str(exc))
    try:
        with tempfile.TemporaryDirectory(prefix="telematics-bench-") as tmp:
            run_dir = Path(tmp)
            with LocalServices(run_dir=run_dir, environ=os.environ, secure=True) as services:
                urls = services.urls
                err.print(f"broker {urls.mqtt_url}  redis {redacted(urls.redis_url)}  "
                          f"PSAP redis {redacted(urls.psap_redis_url)}")
                figures = asyncio.run(_run(services, run_dir, options, err))
    except (ServiceError, StackError, LoadError, RedisError, OSError, TimeoutError) as exc:
        if debug:
            raise
        fail(f"{type(exc).__name__}: {exc}")
    _show(figures, print_figures, json_out=json_out)


async def _run(services: LocalServices, run_dir: Path, options: EcallBenchOptions,
               err: Console) -> dict[str, Any]:
    """Backend roles, probe, floor and load generator, each with its certificate on the
    secure broker: the figures include TLS, as a deployment's would."""
    urls = services.urls
    mqtt_url, redis_url = urls.mqtt_url, urls.redis_url
    tls = await asyncio.to_thread(backend_tls, services)
    async with running_backend(mqtt_url, redis_url, run_dir=run_dir, roles=ROLES, tls=tls,
                               psap_redis_url=urls.psap_redis_url,
                               psap_relay_redis_url=urls.psap_relay_redis_url) as stack:
        err.print(f"backend up ({', '.join(ROLES)})")
        pids: dict[str, int] = {role: pid for role in ROLES
                                if (pid := stack.supervisor.pid_of(role))}
        pids |= _service_pids(run_dir)
        pids["bench"] = os.getpid()
        target = BenchTarget(mqtt_url=mqtt_url, redis_url=redis_url,
                             psap_redis_url=stack.settings.psap_url,
                             oem_db=stack.settings.oem_db, psap_db=stack.settings.psap_db,
                             pids=pids, tls=services.identity(BENCH))
        figures = await run_ecall_bench(target, options, progress=err.print)
        redis_version = await _redis_version(redis_url)
    figures["machine"] = machine_info(mosquitto_binary=find_binary("mosquitto"),
                                      redis_version=redis_version)
    return figures


def _service_pids(run_dir: Path) -> dict[str, int]:
    """Pids of the broker and Redis from the pid files LocalServices keeps, where present."""
    pids: dict[str, int] = {}
    for name in ("mosquitto", "redis", "redis-psap"):
        with contextlib.suppress(OSError, ValueError):
            pids[name] = int((run_dir / f"{name}.pid").read_text(encoding="ascii").strip())
    return pids


async def _redis_version(redis_url: str) -> str | None:
    redis = Redis.from_url(redis_url)
    try:
        info = await redis.info("server")
        version = info.get("redis_version")
        return str(version) if version is not None else None
    except RedisError:
        return None
    finally:
        await redis.aclose()


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_figures(console: Console, figures: dict[str, Any]) -> None:
    """The figures as tables: latency per phase and hop, the load, CPU and targets."""
    floor_p99 = figures["broker_floor"]["p99_ms"]
    table = Table(title="eCall end to end (publish → desk record), ms")
    for column in ("measurement", "count", "lost", "p50", "p90", "p99", "max", "p99/floor"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    idle, loaded = figures["idle"], figures["loaded"]
    rows: list[tuple[str, dict[str, Any]]] = [
        ("broker floor (gmqtt, QoS 1)", figures["broker_floor"]),
        ("eCall idle", idle),
        ("  legal → PSAP desk", idle["legal"]),
        ("  intelligent → call centre", idle["intelligent"]),
        ("  car → relay", idle["car_to_relay"]),
        ("  relay → desk", idle["relay_to_desk"]),
        ("eCall loaded", loaded),
        ("  legal → PSAP desk", loaded["legal"]),
        ("  intelligent → call centre", loaded["intelligent"]),
        ("  car → relay", loaded["car_to_relay"]),
        ("  relay → desk", loaded["relay_to_desk"]),
        ("broker floor under load", loaded["broker_floor"]),
    ]
    for name, row in rows:
        p99 = row["p99_ms"]
        over = None if p99 is None or not floor_p99 else round(p99 / floor_p99, 2)
        table.add_row(name, _fmt(row["count"]), _fmt(row["lost"]), _fmt(row["p50_ms"]),
                      _fmt(row["p90_ms"]), _fmt(row["p99_ms"]), _fmt(row["max_ms"]),
                      _fmt(over, 2))
    console.print(table)
    load = figures["load"]
    console.print(
        f"load: target {load['rate_target']:g}/s, achieved {load['rate_achieved']:g}/s "
        f"(sent {load['sent']} in {load['seconds']:.2f} s), bulk lane counted "
        f"{load['received']} ({load['rate_received']:g}/s, lost {load['lost']}); "
        f"{load['vehicles']} vehicles on {load['connections']} connections; "
        f"covered the eCall stream: {'yes' if load['covered_stream'] else 'NO'}"
        + (f"; generator error: {load['error']}" if load["error"] else ""))
    for phase in ("idle", "loaded"):
        cpu = figures[phase].get("cpu_pct", {})
        if cpu:
            console.print(f"CPU during the {phase} stream (% of one core): "
                          + ", ".join(f"{name} {pct:.0f}" for name, pct in cpu.items()))
    targets, met = figures["targets"], figures["meets_targets"]
    console.print(
        f"targets (p99 at most {targets['p99_floor_ratio']:g}x the floor, and): idle p99 <= "
        f"{targets['idle_p99_ms']:g} ms: {'met' if met['idle'] else 'MISSED'}; loaded p99 <= "
        f"{targets['loaded_p99_ms']:g} ms: {'met' if met['loaded'] else 'MISSED'}; ratios "
        f"p99/floor idle {_fmt(figures['ratio_p99_idle'], 2)}, loaded "
        f"{_fmt(figures['ratio_p99_loaded'], 2)}")
    machine = figures.get("machine", {})
    if machine:
        console.print(f"machine: {machine['cpu_count']} CPUs, Python {machine['python']}, "
                      f"gmqtt {machine['gmqtt']}, mosquitto {machine['mosquitto']}, "
                      f"redis {machine['redis_server']}")


@app.command()
def codec(
    json_out: Annotated[bool, typer.Option("--json", help="the figures as one compact JSON "
                                           "object on stdout; the table goes to stderr")] = False,
    inputs: Annotated[int, typer.Option(help="different MSDs coded round after round")] = 200,
    seconds: Annotated[float, typer.Option(help="CPU seconds per measurement")] = 1.0,
) -> None:
    """MSD decodes and encodes per second on one core: ours beside asn1tools (and pycrate)."""
    try:
        options = CodecBenchOptions(inputs=inputs, seconds=seconds)
    except ValueError as exc:
        bad_input(str(exc))
    figures = run_codec_bench(options)
    _show(figures, print_codec, json_out=json_out)


def print_codec(console: Console, figures: dict[str, Any]) -> None:
    """Each codec's rate beside the baseline: asn1tools on the same inputs, and the aim."""
    table = Table(title=f"MSD v3 codec, {figures['inputs']['count']} inputs "
                        f"({figures['inputs']['mean_bytes']:g} bytes mean), one core")
    for column in ("codec", "decode/s", "µs/decode", "encode/s", "µs/encode"):
        table.add_column(column, justify="left" if column == "codec" else "right")
    pycrate, base = figures["pycrate"], figures["baseline"]
    for name, label in (("ours", "protocols.msd (validated)"), ("asn1tools", "asn1tools plain"),
                        ("pycrate", "pycrate")):
        row = figures[name]
        if "decode" in row:
            table.add_row(label, f"{row['decode']['per_s']:,.0f}",
                          _fmt(row["decode"]["us_per_op"], 1),
                          f"{row['encode']['per_s']:,.0f}", _fmt(row["encode"]["us_per_op"], 1))
    console.print(table)
    if not pycrate["available"]:
        console.print(f"pycrate: not measured ({pycrate['why']})")
    console.print(f"baseline: {base['decode_us']:g} µs a decode when the aim was set; aim "
                  f"{base['aim_decodes_per_s']:,} decodes/s per core; ours decodes "
                  f"{figures['decode_speedup_over_asn1tools']:g}x asn1tools' rate")


@app.command()
def sim(
    json_out: Annotated[bool, typer.Option("--json", help="the figures as one compact JSON "
                                           "object on stdout; the table goes to stderr")] = False,
    count: Annotated[list[int] | None, typer.Option(
        "--count", help="cars per process to try (repeat the option; default 1000, 5000, "
                        "10000)")] = None,
    max_s: Annotated[float, typer.Option("--max-s", help="seconds each count may take "
                                         "to build")] = 60.0,
    traced: Annotated[int, typer.Option(help="cars built under tracemalloc per count")] = 200,
) -> None:
    """Cars per process and memory per car for the emulator, each count in a fresh process."""
    try:
        options = SimBenchOptions(counts=tuple(count or SimBenchOptions().counts),
                                  max_s=max_s, traced=traced)
    except ValueError as exc:
        bad_input(str(exc))
    figures = run_sim_bench(options)
    _show(figures, print_sim, json_out=json_out)


def print_sim(console: Console, figures: dict[str, Any]) -> None:
    """Per kind and count: cars reached, build rate, memory per car beside the baseline."""
    table = Table(title="Emulated cars in one process (each count in a fresh process)")
    for column in ("kind", "asked", "reached", "cars/s", "baseline RSS MB", "RSS growth MB",
                   "RSS KB/car", "traced KB/car"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for run in figures["runs"]:
        table.add_row(run["kind"], f"{run['asked']:,}", f"{run['reached']:,}",
                      _fmt(run["cars_per_s"], 0), _fmt(run["baseline_rss_mb"], 1),
                      _fmt(run["rss_growth_mb"], 1), _fmt(run["rss_per_car_kb"], 2),
                      _fmt(run["traced_per_car_kb"], 2))
    console.print(table)
    console.print("baseline: the process's resident set after imports and one car, before "
                  "the count is built; car = eCall actor with its own unopened gmqtt "
                  "session, fleet = a row of the numpy fleet")
