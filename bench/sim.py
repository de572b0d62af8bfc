"""How many emulated cars one process holds, and what each costs in memory.

Two kinds of car, as ``telematics sim run`` and ``sim up`` build them:

* ``car``: the eCall actor (``vehicle_sim.car.Car``), each with its own ``TcuLink``, that
  is its own gmqtt client, as a scenario's cars have; the link is built, not connected,
  so the figure is the emulator's own cost per car. What a connection adds (socket, TLS
  session, the broker's side) is the load tool's measurement, not this one's.
* ``fleet``: the numpy fleet (``vehicle_sim.fleet_model.Fleet``) that drives a
  scenario's fleet of thousands, one row per car.

Each count is built in a fresh process, so the resident memory before the first car
(the baseline: the interpreter, the emulator's modules, the codec compiled and one car
built) is the same for every count and the growth over it is the cars' alone. Building
stops at a deadline; the count reached says how far one process got in that time. A
second, smaller batch is built under ``tracemalloc``: the Python objects' bytes per car,
beside the resident set's growth, which also holds the allocator's slack.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Final, Literal

from bench.fleet import COUNTRY_SPOTS, spot_near, vin_of
from bench.machine import machine_info
from vehicle_sim.car import Car
from vehicle_sim.car_config import CarConfig, StartPose
from vehicle_sim.ecall_machine import EcallContext
from vehicle_sim.fleet_model import Fleet, sample_specs
from vehicle_sim.mqtt_transport import TcuLink
from vehicle_sim.vehicle import VehicleSpec

CarKind = Literal["car", "fleet"]
KINDS: Final[tuple[CarKind, ...]] = ("car", "fleet")
_TOKEN: Final = "BNCH7"
_UNUSED_BROKER: Final = "mqtt://127.0.0.1:1"  # never dialled: the links are not opened
_PAGE: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class SimBenchOptions:
    """Counts of cars per process to try, and the time each may take to build."""

    counts: tuple[int, ...] = (1_000, 5_000, 10_000)
    max_s: float = 60.0
    traced: int = 200  # cars built under tracemalloc for the bytes per Python object

    def __post_init__(self) -> None:
        if not self.counts or any(not 1 <= n <= 1_000_000 for n in self.counts):
            raise ValueError("counts must be 1..1000000 cars each")
        if not 0 < self.max_s <= 600:
            raise ValueError("max_s must be 0..600 seconds")
        if not 1 <= self.traced <= 10_000:
            raise ValueError("traced must be 1..10000 cars")


def rss_bytes() -> int:
    """This process's resident set now (Linux /proc; 0 where unavailable)."""
    try:
        fields = Path("/proc/self/statm").read_text(encoding="ascii").split()
    except OSError:
        return 0
    return int(fields[1]) * _PAGE


def car_config(index: int) -> CarConfig:
    """One plain car of the benchmark: a Legal eCall only, parked near a capital."""
    country = list(COUNTRY_SPOTS)[index % len(COUNTRY_SPOTS)]
    lat, lon = spot_near(country, index)
    vin = vin_of("SMV", _TOKEN, index)
    return CarConfig(
        label=f"car-{index}", spec=VehicleSpec(vin=vin, activation_country=country),
        ecall=EcallContext(intelligent_bought=False, intelligent_expires=None,
                           activation_country=country, current_country=country,
                           in_ecall_country=True),
        start=StartPose(lat=lat, lon=lon))


def _quiet(_line: str) -> None:
    return None


def build_car(index: int) -> Car:
    """A car as a scenario builds it: its own (unopened) broker session keyed by its VIN."""
    config = car_config(index)
    link = TcuLink(config.spec.vin, _UNUSED_BROKER)
    return Car(config, link=link, notify=_quiet, warn=_quiet)


def _build_cars(count: int, deadline: float) -> list[Car]:
    cars: list[Car] = []
    for index in range(count):
        if index % 256 == 0 and time.monotonic() >= deadline:
            break
        cars.append(build_car(index))
    return cars


def _build_fleet(count: int, _deadline: float) -> Fleet:
    """One vectorised fleet: its size is set at once, so the deadline does not cut it."""
    return Fleet.create(sample_specs(count, seed=7), seed=7, start=0.0)


def _reached(built: list[Car] | Fleet) -> int:
    return len(built) if isinstance(built, list) else len(built.specs)


_BUILDERS: Final[dict[CarKind, Callable[[int, float], list[Car] | Fleet]]] = {
    "car": _build_cars,
    "fleet": _build_fleet,
}


def measure_in_process(kind: CarKind, count: int, max_s: float, traced: int) -> dict[str, Any]:
    """Build ``count`` cars of ``kind`` here (meant for a fresh process) and measure."""
    build = _BUILDERS[kind]
    build(1, time.monotonic() + max_s)  # modules, codec and first-use caches warmed
    gc.collect()
    baseline = rss_bytes()
    started = time.perf_counter()
    built = build(count, time.monotonic() + max_s)
    seconds = time.perf_counter() - started
    gc.collect()
    grown = rss_bytes() - baseline
    reached = _reached(built)
    traced_count = min(traced, count)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sample = build(traced_count, time.monotonic() + max_s)
    traced_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del sample, built
    return {
        "kind": kind,
        "asked": count,
        "reached": reached,
        "seconds": round(seconds, 3),
        "cars_per_s": round(reached / seconds, 1) if seconds > 0 else None,
        "baseline_rss_mb": round(baseline / 2**20, 2),
        "rss_growth_mb": round(grown / 2**20, 2),
        "rss_per_car_kb": round(grown / reached / 1024, 2) if reached else None,
        "traced_cars": traced_count,
        "traced_per_car_kb": round(traced_bytes / traced_count / 1024, 2),
    }


def run_sim_bench(options: SimBenchOptions) -> dict[str, Any]:
    """Every kind at every count, each in a process of its own; the figures as a dict."""
    runs: list[dict[str, Any]] = []
    spawn = get_context("spawn")
    for kind in KINDS:
        for count in options.counts:
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                runs.append(pool.submit(measure_in_process, kind, count, options.max_s,
                                        options.traced).result())
    return {
        "benchmark": "sim",
        "settings": {**asdict(options), "counts": list(options.counts)},
        "runs": runs,
        "most": {kind: max((r["reached"] for r in runs if r["kind"] == kind), default=0)
                 for kind in KINDS},
        "machine": machine_info(mosquitto_binary=None, redis_version=None),
    }
