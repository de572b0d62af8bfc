"""Safety messages survive a broker restart, a Redis restart and a worker crash.

Each test runs on its own private Mosquitto and Redis (``fresh_services``) so it may
restart them; the emergency lane keeps a persistent MQTT session and acknowledges a
message only after Redis has taken it, which is what these tests lean on.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from typing import Any

from redis.asyncio import Redis

from backend import keys
from backend.roles import run_desks, run_emergency
from backend.settings import BackendSettings
from cli.local_services import LocalServices
from tests.backend.support import Car, Lanes, new_vin


async def _records(settings: BackendSettings, incidents: list[str], *,
                   timeout_s: float = 20.0) -> dict[str, dict[str, Any]]:
    """Wait until every incident is at a PSAP desk; return what the desks recorded."""
    psap = Redis.from_url(settings.redis_url, db=settings.psap_db)
    deadline = time.monotonic() + timeout_s
    found: dict[str, dict[str, Any]] = {}
    try:
        while len(found) < len(incidents):
            for incident in incidents:
                if incident in found:
                    continue
                raw = await psap.hgetall(keys.psap_incident_key(incident))
                if raw:
                    found[incident] = {k.decode(): v.decode() for k, v in raw.items()}
            if len(found) < len(incidents):
                missing = sorted(set(incidents) - set(found))
                assert time.monotonic() < deadline, f"lost: {missing}"
                await asyncio.sleep(0.05)
    finally:
        await psap.aclose()
    return found


def _settings(services: LocalServices) -> BackendSettings:
    return BackendSettings(mqtt_url=services.urls.mqtt_url, redis_url=services.urls.redis_url,
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
    env = {**os.environ, "TELEMATICS_MQTT_URL": settings.mqtt_url,
           "TELEMATICS_REDIS_URL": settings.redis_url, "TELEMATICS_WORKER_ID": settings.worker_id}
    lanes = Lanes(settings)
    lanes.start_role("desks", run_desks)

    async def spawn() -> asyncio.subprocess.Process:
        since = time.time()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "backend",
                                                    "emergency", env=env)
        await lanes.wait_ready("emergency", since=since)
        return proc

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
    worker.send_signal(signal.SIGTERM)
    await worker.wait()
    assert len(found) == len(incidents)
    assert all(len(json.loads(r["transmissions"])) == 1 for r in found.values())
    for name in list(lanes.tasks):
        await lanes.stop_role(name)
