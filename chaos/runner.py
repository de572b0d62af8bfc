"""Drives a chaos run: one phase per fault, traffic throughout, figures per phase.

A phase: background telemetry starts, eCalls flow at the plan's rate (with a Teleservice
call now and then), the fault is injected after the steady part, traffic goes on through
the recovery, then the drain waits, polling, until every eCall of the phase is delivered
and acknowledged or its deadline passes; the phase's calls are then judged and the cars
stop retransmitting them. Readiness is sampled from the first phase to the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from redis.exceptions import RedisError

from bench.fleet import run_token
from bench.loadgen import LoadError, LoadPlan, LoadProcess, LoadTls
from chaos.calls import CallRecord
from chaos.cars import CarFleet
from chaos.errors import FaultError
from chaos.faults import FaultInjector, FaultTarget
from chaos.observer import DeskReader, ReadinessProbe
from chaos.plan import ChaosPlan, FaultName
from chaos.tally import Delivery, FaultResult, readiness, settled, tally
from protocols.addresses import MqttTls, mqtt_address, mqtt_uses_tls
from vehicle_sim.mqtt_transport import Identities
from vehicle_sim.runner import no_identity

Progress = Callable[[str], None]

DRAIN_POLL_S: Final = 0.25
SETTLE_S: Final = 0.5  # after the drain, one more read catches a late duplicate
SLOWEST_INJECTION_S: Final = 60.0  # bounds the sender when a restart takes long
TELEMETRY_VEHICLES: Final = 200
TELEMETRY_CONNECTIONS: Final = 4
TELEMETRY_GRACE_S: Final = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChaosTarget:
    """The platform under test: its URLs, the desk databases, and what faults may touch.
    ``psap_redis_url`` is the PSAP domain's Redis (as a user that may read the PSAP
    records), ``redis_url`` the OEM one; the same URL in the weak mode."""

    mqtt_url: str
    redis_url: str
    psap_redis_url: str
    api_url: str
    oem_db: int
    psap_db: int
    faults: FaultTarget
    # On a secure broker: where cars connect (its device listener; ``mqtt_url`` is the
    # backend's), each car's certificate, and the benchmark certificate the background
    # telemetry presents (none: no telemetry on an mqtts broker).
    cars_mqtt_url: str = ""
    identities: Identities = no_identity
    telemetry_tls: MqttTls | None = None


@dataclass(slots=True)
class _Run:
    plan: ChaosPlan
    target: ChaosTarget
    token: str
    fleet: CarFleet
    reader: DeskReader
    probe: ReadinessProbe
    injector: FaultInjector
    progress: Progress


async def run_chaos(target: ChaosTarget, plan: ChaosPlan, *,
                    progress: Progress = lambda _m: None) -> list[FaultResult]:
    """Every fault of the plan in order; one result each (skipped ones say why)."""
    token = run_token()
    fleet = CarFleet(target.cars_mqtt_url or target.mqtt_url, token=token, cars=plan.cars,
                     intelligent_share=plan.intelligent_share, ack_timeout_s=plan.ack_timeout_s,
                     identities=target.identities)
    run = _Run(plan, target, token, fleet,
               DeskReader(oem_url=target.redis_url, oem_db=target.oem_db,
                          psap_url=target.psap_redis_url, psap_db=target.psap_db),
               ReadinessProbe(target.api_url), FaultInjector(target.faults), progress)
    stop = asyncio.Event()
    background: list[asyncio.Task[None]] = []
    try:
        progress(f"connecting {plan.cars} cars")
        await fleet.open()
        background = [asyncio.create_task(run.probe.run(stop), name="ready-probe"),
                      asyncio.create_task(_retransmit_until(fleet, stop, plan.ack_timeout_s),
                                          name="retransmit")]
        return [await _phase(run, index, fault) for index, fault in enumerate(plan.faults)]
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await fleet.aclose()
        await run.reader.aclose()


async def _retransmit_until(fleet: CarFleet, stop: asyncio.Event, ack_timeout_s: float) -> None:
    every = min(0.5, max(0.05, ack_timeout_s / 10))
    while not stop.is_set():
        fleet.retransmit_due()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def _phase(run: _Run, index: int, fault: FaultName) -> FaultResult:
    reason = run.injector.skip_reason(fault)
    if reason is not None:
        run.progress(f"{fault}: skipped ({reason})")
        return FaultResult(fault=fault, skipped=reason)
    timing = run.plan.timing(fault)
    traffic_s = timing.steady_s + timing.hold_s + timing.recover_s
    run.progress(f"{fault}: {traffic_s:.1f} s of traffic at {run.plan.rate:g} eCalls/s, "
                 f"fault after {timing.steady_s:.1f} s")
    load = await _start_telemetry(run, traffic_s)
    calls: list[CallRecord] = []
    stop_sending = asyncio.Event()
    sender = asyncio.create_task(run.fleet.send_stream(
        calls, prefix=f"chaos-{run.token}-{index:02d}", rate=run.plan.rate, stop=stop_sending,
        max_s=traffic_s + SLOWEST_INJECTION_S,
        teleservice_every_s=run.plan.teleservice_every_s))
    failure: str | None = None
    try:
        await asyncio.sleep(timing.steady_s)
        injected_s = time.monotonic()
        try:
            await run.injector.inject(fault, hold_s=timing.hold_s)
        except FaultError as exc:
            failure = f"could not inject: {exc}"
            run.progress(f"{fault}: {failure}")
        fault_end_s = time.monotonic()
        await asyncio.sleep(timing.recover_s)
    finally:
        stop_sending.set()
        teleservices = await sender
        telemetry = await _finish_telemetry(load)
    run.progress(f"{fault}: {len(calls)} eCalls sent; draining (at most "
                 f"{timing.drain_max_s:.0f} s)")
    deliveries = await _drain(run.reader, calls, timing.drain_max_s)
    until_s = time.monotonic()
    run.fleet.close(calls)
    return FaultResult(fault=fault, skipped=failure, tally=tally(calls, deliveries),
                       readiness=readiness(run.probe.samples, injected_s=injected_s,
                                           fault_end_s=fault_end_s, until_s=until_s),
                       background={"telemetry_sent": telemetry,
                                   "teleservice_sent": teleservices})


async def _drain(reader: DeskReader, calls: Sequence[CallRecord],
                 max_s: float) -> Mapping[str, Delivery]:
    """Poll the desks until every call is delivered and acknowledged, or ``max_s`` passed."""
    deadline = time.monotonic() + max_s
    deliveries: Mapping[str, Delivery] = {}
    while True:
        with contextlib.suppress(RedisError, OSError):
            deliveries = await reader.read(calls)
        if settled(calls, deliveries) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(DRAIN_POLL_S)
    await asyncio.sleep(SETTLE_S)
    with contextlib.suppress(RedisError, OSError):
        deliveries = await reader.read(calls)
    return deliveries


async def _start_telemetry(run: _Run, traffic_s: float) -> LoadProcess | None:
    """Background telemetry for one phase, in a process of its own (``bench.loadgen``)."""
    rate = run.plan.telemetry_rate
    if rate <= 0:
        return None
    if mqtt_uses_tls(run.target.mqtt_url) and run.target.telemetry_tls is None:
        run.progress("background telemetry skipped: no benchmark certificate for this broker")
        return None
    host, port = mqtt_address(run.target.mqtt_url)
    generator = LoadProcess(LoadPlan(
        host=host, port=port, rate=rate, count=int(rate * traffic_s),
        vehicles=TELEMETRY_VEHICLES, connections=TELEMETRY_CONNECTIONS,
        max_s=traffic_s + SLOWEST_INJECTION_S, token=run.token,
        tls=LoadTls.of(run.target.telemetry_tls)))
    try:
        await generator.start()
    except LoadError as exc:
        run.progress(f"background telemetry did not start: {exc}")
        await generator.stop()
        return None
    return generator


async def _finish_telemetry(generator: LoadProcess | None) -> int:
    """Telemetry messages the generator sent: it stops by itself (or at a broker restart);
    one that lags behind the eCall traffic is stopped and counted as 0."""
    if generator is None:
        return 0
    try:
        return (await asyncio.wait_for(generator.finish(grace_s=2.0), TELEMETRY_GRACE_S)).sent
    except (LoadError, TimeoutError):
        return 0
    finally:
        await generator.stop()
