"""Safety messages survive a broker restart, a Redis restart and a worker crash.

Each test runs on its own private Mosquitto and Redis (``fresh_services``) so it may
restart them; the emergency lane keeps a persistent MQTT session and acknowledges a
message only after Redis has taken it, which is what these tests lean on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.infra import keys
from backend.privacy.errors import UnknownVehicleError
from backend.runtime.roles import run_desks, run_emergency, run_services
from backend.runtime.supervisor import role_environment
from backend.settings import BackendSettings
from cli.local_services import LocalServices
from tests.backend.support import Car, Lanes, new_vin, signer


async def _records(settings: BackendSettings, incidents: list[str], *,
                   timeout_s: float = 20.0) -> dict[str, dict[str, Any]]:
    """Wait until every incident is at a PSAP desk; return what the desks recorded."""
    psap = Redis.from_url(settings.psap_url, db=settings.psap_db)
    deadline = time.monotonic() + timeout_s
    found: dict[str, dict[str, Any]] = {}
    try:
        while len(found) < len(incidents):
            for incident in incidents:
                if incident in found:
                    continue
                raw = cast(dict[bytes, bytes],
                           await psap.hgetall(keys.psap_incident_key(incident)))
                if raw:
                    found[incident] = {k.decode(): v.decode() for k, v in raw.items()}
            if len(found) < len(incidents):
                missing = sorted(set(incidents) - set(found))
                assert time.monotonic() < deadline, f"lost {len(missing)}: {missing}"
                await asyncio.sleep(0.05)
    finally:
        await psap.aclose()
    return found


def _settings(services: LocalServices) -> BackendSettings:
    return signer().settings(mqtt_url=services.urls.mqtt_url, **services.urls.redis_fields(),
                           worker_id=uuid.uuid4().hex[:8])


async def test_restart_broker_keeps_ecalls_queued_for_a_stopped_worker(
        fresh_services: LocalServices) -> None:
    """eCalls queued for a stopped emergency worker survive a broker restart."""
    lanes = Lanes(_settings(fresh_services))
    lanes.start_role("emergency", run_emergency)
    lanes.start_role("desks", run_desks)
    await lanes.wait_ready("emergency", "desks")
    await lanes.stop_role("emergency")
    incidents = [f"b-{uuid.uuid4().hex[:10]}" for _ in range(5)]
    async with Car(fresh_services.urls.mqtt_url, new_vin()) as car:
        for incident in incidents:
            car.send("legal", incident)
    # Leaving the context waited for the broker's PUBACKs: the eCalls are the broker's now.
    await asyncio.to_thread(fresh_services.restart_mqtt)
    lanes.start_role("emergency", run_emergency)
    found = await _records(lanes.settings, incidents)
    assert {r["desk"] for r in found.values()} == {"psap-BE"}
    for name in list(lanes.tasks):
        await lanes.stop_role(name)


async def test_restart_redis_loses_no_ecall_sent_during_it(
        fresh_services: LocalServices) -> None:
    """eCalls published while Redis restarts are handed off once it is back, none lost."""
    lanes = Lanes(_settings(fresh_services))
    lanes.start_role("emergency", run_emergency)
    lanes.start_role("desks", run_desks)
    await lanes.wait_ready("emergency", "desks")
    incidents: list[str] = []
    async with Car(fresh_services.urls.mqtt_url, new_vin()) as car:
        restart = asyncio.create_task(asyncio.to_thread(fresh_services.restart_redis))
        while not restart.done() and len(incidents) < 200:
            incident = f"r-{uuid.uuid4().hex[:10]}"
            car.send("legal", incident)
            incidents.append(incident)
            await asyncio.sleep(0.01)  # publishing cadence during the restart
        await restart
        acked = {(await car.ack(timeout_s=20)).incident for _ in incidents}
    assert acked == set(incidents)
    found = await _records(lanes.settings, incidents)
    assert all(len(json.loads(r["transmissions"])) == 1 for r in found.values())
    for name in list(lanes.tasks):
        await lanes.stop_role(name)


async def test_restart_killed_worker_loses_no_ecall(fresh_services: LocalServices) -> None:
    """SIGKILL of the emergency worker mid-stream: its successor delivers every eCall once."""
    settings = _settings(fresh_services)
    env = role_environment(settings, os.environ)  # the broker URL, certificates, worker id
    lanes = Lanes(settings)
    lanes.start_role("desks", run_desks)

    workers: list[asyncio.subprocess.Process] = []

    async def spawn() -> asyncio.subprocess.Process:
        since = time.time()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "backend",
                                                    "emergency", env=env)
        workers.append(proc)
        await lanes.wait_ready("emergency", since=since)
        return proc

    try:
        worker = await spawn()
        incidents = [f"k-{uuid.uuid4().hex[:10]}" for _ in range(40)]
        async with Car(settings.mqtt_url, new_vin()) as car:
            for i, incident in enumerate(incidents):
                car.send("legal", incident)
                if i == 10:
                    await car.ack()
                    worker.send_signal(signal.SIGKILL)
                    await worker.wait()
            worker = await spawn()
            found = await _records(settings, incidents)
    finally:  # a failed assertion must not leave a worker running after the test
        for proc in workers:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await proc.wait()
    assert len(found) == len(incidents)
    assert all(len(json.loads(r["transmissions"])) == 1 for r in found.values())
    for name in list(lanes.tasks):
        await lanes.stop_role(name)


async def _stream_during(car: Car, restart: asyncio.Task[None], *, after: int,
                         prefix: str) -> list[str]:
    """Send eCalls (Legal and Intelligent in turn) before, during and ``after`` a restart."""
    incidents: list[str] = []
    sent_after = 0
    while sent_after < after and len(incidents) < 1_000:
        incident = f"{prefix}-{uuid.uuid4().hex[:10]}"
        car.send("legal" if len(incidents) % 2 else "intelligent", incident)
        incidents.append(incident)
        if restart.done():
            sent_after += 1
        await asyncio.sleep(0.01)  # publishing cadence: about 100 eCalls a second
    await restart
    return incidents


async def _acks_for(car: Car, incidents: list[str], *, timeout_s: float = 30) -> set[str]:
    """The incidents acknowledged to the car; an acknowledgement may come twice (the
    backend acknowledges a redelivered duplicate too), so count distinct incidents."""
    acked: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while acked < set(incidents) and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            acked.add((await car.ack(timeout_s=max(0.01, deadline - time.monotonic()))).incident)
    return acked


def _once_each(found: dict[str, dict[str, Any]]) -> list[str]:
    """Incidents whose PSAP record holds more than the one transmission sent."""
    return [incident for incident, record in found.items()
            if len(json.loads(record["transmissions"])) != 1]


async def _live_emergency_lanes(services: LocalServices) -> Lanes:
    """The emergency and desk lanes running, proved ready."""
    lanes = Lanes(_settings(services))
    lanes.start_role("emergency", run_emergency)
    lanes.start_role("desks", run_desks)
    await lanes.wait_ready("emergency", "desks")
    return lanes


async def test_restart_broker_under_live_lanes_loses_no_ecall_in_flight(
        fresh_services: LocalServices) -> None:
    """The broker restarts while the lanes run and eCalls flow: every one arrives once,
    those sent after the restart too, and the lanes prove themselves again."""
    lanes = await _live_emergency_lanes(fresh_services)
    async with Car(fresh_services.urls.mqtt_url, new_vin(), persistent=True) as car:
        restart = asyncio.create_task(asyncio.to_thread(fresh_services.restart_mqtt))
        incidents = await _stream_during(car, restart, after=60, prefix="mb")
        restarted_at = time.time()
        found = await _records(lanes.settings, incidents, timeout_s=30)
        acked = await _acks_for(car, incidents)
    assert acked == set(incidents)
    assert _once_each(found) == []
    assert {r["via"] for r in found.values()} == {"direct", "callcentre"}
    await lanes.wait_ready("emergency", since=restarted_at)
    for name in list(lanes.tasks):
        await lanes.stop_role(name)


async def test_restart_redis_under_live_desks_makes_no_phantom_update(
        fresh_services: LocalServices) -> None:
    """Redis restarts while Intelligent and Legal eCalls flow: no case or PSAP record
    holds a transmission twice (the call centre used to append one again)."""
    lanes = await _live_emergency_lanes(fresh_services)
    async with Car(fresh_services.urls.mqtt_url, new_vin(), persistent=True) as car:
        restart = asyncio.create_task(asyncio.to_thread(fresh_services.restart_redis))
        incidents = await _stream_during(car, restart, after=40, prefix="rd")
        acked = await _acks_for(car, incidents)
    assert acked == set(incidents)
    found = await _records(lanes.settings, incidents, timeout_s=30)
    assert _once_each(found) == []
    oem = Redis.from_url(lanes.settings.redis_url, db=lanes.settings.oem_db)
    try:
        cases = [json.loads(await oem.hget(keys.case_key(i), "transmissions") or b"[]")
                 for i in incidents[::2]]  # the Intelligent ones
    finally:
        await oem.aclose()
    assert [len(c) for c in cases] == [1] * len(cases)
    for name in list(lanes.tasks):
        await lanes.stop_role(name)


async def test_restart_broker_under_live_services_and_bulk_lanes_resubscribes(
        fresh_services: LocalServices) -> None:
    """After a broker restart the services lane takes Teleservice calls again and the
    bulk lane counts telemetry again, without being restarted themselves."""
    from backend.privacy.budget_store import usage
    from backend.runtime.roles import run_bulk
    from protocols.envelope import Telemetry, pack
    from protocols.teleservice import TeleserviceCall, packed
    from protocols.topics import telemetry_topic, teleservice_call_topic

    lanes = Lanes(_settings(fresh_services))
    lanes.start_role("services", run_services)
    lanes.start_role("bulk", run_bulk)
    await lanes.wait_ready("services", "bulk")
    await asyncio.to_thread(fresh_services.restart_mqtt)
    restarted_at = time.time()
    await lanes.wait_ready("services", "bulk", since=restarted_at, timeout_s=20)
    vin, now = new_vin(), time.time()
    oem = Redis.from_url(lanes.settings.redis_url, db=lanes.settings.oem_db)
    try:
        async with Car(fresh_services.urls.mqtt_url, vin) as car:
            for i in range(3):
                car.publish_raw(teleservice_call_topic(vin), packed(TeleserviceCall(
                    vin, f"c-{i}", "interval_28d", 1_000.0 * i, 1, now + i, "bev")))
                car.publish_raw(telemetry_topic(vin), pack(
                    Telemetry(vin, i, time.time_ns(), 50.8, 4.35, 0.0, 0.0)))
            deadline = time.monotonic() + 15
            while True:
                try:
                    calls = (await usage(oem, vin, at=now))["teleservice_call"].total_msgs
                except UnknownVehicleError:
                    calls = 0  # none of the car's calls metered yet
                telemetry = int(await oem.hget(keys.BULK_COUNTERS, "telemetry") or 0)
                if calls == 3 and telemetry >= 3:
                    break
                assert time.monotonic() < deadline, f"calls {calls}/3, telemetry {telemetry}/3"
                await asyncio.sleep(0.05)
    finally:
        await oem.aclose()
    for name in list(lanes.tasks):
        await lanes.stop_role(name)


def _red_then_green(events: list[bytes]) -> bool:
    """A proof deleted (``hdel``) and written again (``hset``) after it."""
    return b"hdel" in events and b"hset" in events[events.index(b"hdel"):]


async def test_restart_broker_withdraws_readiness_at_once_then_proves_again(
        fresh_services: LocalServices) -> None:
    """A lane that loses its broker connection withdraws its proof at once, so even a
    sub-second broker restart shows red; it is green again once the probe comes back.

    The withdrawal is read from Redis keyspace notifications, not by sampling the field:
    a sampler starved on a busy machine can miss a red that lasted milliseconds."""
    lanes = Lanes(_settings(fresh_services))
    lanes.start_role("emergency", run_emergency)
    await lanes.wait_ready("emergency")
    field = f"emergency-{lanes.settings.worker_id}"
    oem = Redis.from_url(lanes.settings.redis_url, db=lanes.settings.oem_db)
    await oem.config_set("notify-keyspace-events", "Kh")
    events = oem.pubsub()
    await events.subscribe(f"__keyspace@{lanes.settings.oem_db}__:{keys.READY}")
    try:
        assert await oem.hexists(keys.READY, field)
        restarted_at = time.time()
        await asyncio.to_thread(fresh_services.restart_mqtt)
        await lanes.wait_ready("emergency", since=restarted_at, timeout_s=15)
        seen: list[bytes] = []
        until = time.monotonic() + 5  # the notifications are sent already; read them
        while not _red_then_green(seen) and time.monotonic() < until:
            message = await events.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is not None:
                seen.append(message["data"])
        assert await oem.hexists(keys.READY, field)
    finally:
        await events.aclose()  # type: ignore[no-untyped-call]
        await oem.config_set("notify-keyspace-events", "")
        await oem.aclose()
    assert _red_then_green(seen), seen
    await lanes.stop_role("emergency")


async def test_restart_frozen_broker_turns_readiness_red_then_green(
        fresh_services: LocalServices) -> None:
    """A broker that stops answering makes the lanes' proofs go stale (red within
    LANE_STALE_S and a probe); once it answers again they are green within seconds."""
    from backend.infra.readiness import lanes_ready

    lanes = Lanes(_settings(fresh_services))
    for name, runner in (("emergency", run_emergency), ("desks", run_desks),
                         ("services", run_services)):
        lanes.start_role(name, runner)
    await lanes.wait_ready("emergency", "desks", "services")
    oem = Redis.from_url(lanes.settings.redis_url, db=lanes.settings.oem_db)

    async def ready() -> bool:
        raw = cast(dict[bytes, bytes], await oem.hgetall(keys.READY))
        mine = {k.decode(): float(v) for k, v in raw.items()
                if k.decode().endswith(lanes.settings.worker_id)}
        return lanes_ready(mine, now=time.time())

    async def until(wanted: bool, timeout_s: float) -> float:
        start = time.monotonic()
        while await ready() != wanted:
            assert time.monotonic() - start < timeout_s, f"readiness never became {wanted}"
            await asyncio.sleep(0.1)
        return time.monotonic() - start

    pid = int((fresh_services.run_dir / "mosquitto.pid").read_text())
    try:
        assert await ready()
        os.kill(pid, signal.SIGSTOP)
        try:
            red_after = await until(False, timeout_s=10)
        finally:
            os.kill(pid, signal.SIGCONT)
        green_after = await until(True, timeout_s=10)
    finally:
        await oem.aclose()
    assert red_after <= 7 and green_after <= 5
    for name in list(lanes.tasks):
        await lanes.stop_role(name)


async def test_restart_redis_under_live_services_lane_keeps_every_call_once(
        fresh_services: LocalServices) -> None:
    """Teleservice calls sent while Redis restarts are each metered once when it is back:
    the lane waits for Redis instead of acknowledging unstored work."""
    from backend.privacy.budget_store import usage
    from protocols.teleservice import TeleserviceCall, packed
    from protocols.topics import teleservice_call_topic

    lanes = Lanes(_settings(fresh_services))
    lanes.start_role("services", run_services)
    await lanes.wait_ready("services")
    vin, now = new_vin(), time.time()
    oem = Redis.from_url(lanes.settings.redis_url, db=lanes.settings.oem_db)
    sent = 0
    try:
        async with Car(fresh_services.urls.mqtt_url, vin, persistent=True) as car:
            restart = asyncio.create_task(asyncio.to_thread(fresh_services.restart_redis))
            while (not restart.done() or sent < 40) and sent < 400:
                car.publish_raw(teleservice_call_topic(vin), packed(TeleserviceCall(
                    vin, f"c-{sent}", "interval_28d", 10.0 * sent, time.time_ns(),
                    now + sent, "bev")))
                sent += 1
                await asyncio.sleep(0.01)  # publishing cadence during the restart
            await restart
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(RedisError, OSError, UnknownVehicleError):
                row = (await usage(oem, vin, at=now))["teleservice_call"]
                if row.total_msgs >= sent:
                    break
            assert time.monotonic() < deadline, "calls lost in the Redis restart"
            await asyncio.sleep(0.1)
    finally:
        await oem.aclose()
    assert row.total_msgs == sent
    await lanes.stop_role("services")
