"""Retention inside the running backend: the services lane's sweeper deletes on time,
after a restart too, and the lane meters what it receives."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend.privacy import retention_store
from backend.privacy.budget_store import usage
from backend.privacy.retention_tags import tag_record
from backend.runtime.roles import run_services
from protocols.teleservice import TeleserviceCall, packed
from protocols.topics import teleservice_call_topic
from tests.backend.support import Car, Lanes, new_vin, signer

DB = 11  # a database of this module's own: a sweep deletes whatever is due in it
DAY = 86_400.0


@pytest.fixture
async def services_lane(mqtt_url: str, redis_url: str) -> AsyncIterator[tuple[Lanes, Redis]]:
    settings = signer().settings(mqtt_url=mqtt_url, redis_url=redis_url, oem_db=DB,
                               worker_id=uuid.uuid4().hex[:8])
    oem = Redis.from_url(redis_url, db=DB)
    await oem.flushdb()
    running = Lanes(settings)
    yield running, oem
    for name in list(running.tasks):
        await running.stop_role(name)
    await running.forget_sessions()
    await oem.aclose()


async def _tag_due(oem: Redis, key: str, *, days_ago: float) -> None:
    """An extended eCall record written ``days_ago`` (its rule: 30 days)."""
    async with oem.pipeline(transaction=True) as pipe:
        pipe.set(key, b'{"triage": true}')
        tag_record(pipe, record_key=key, service="ecall_intelligent_extended", vin=new_vin(),
                   written_at=time.time() - days_ago * DAY)
        await pipe.execute()


async def _gone(oem: Redis, key: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while await oem.exists(key):
        assert time.monotonic() < deadline, f"{key} was not deleted"
        await asyncio.sleep(0.05)  # the sweeper's own round is 1 s


async def test_retention_lane_sweeper_deletes_what_fell_due_while_it_was_down(
        services_lane: tuple[Lanes, Redis]) -> None:
    """Records that fall due while no backend runs go at its first round after a restart."""
    lanes, oem = services_lane
    await _tag_due(oem, "cc:case:t1:extended", days_ago=31)
    await _tag_due(oem, "cc:case:t2:extended", days_ago=29)
    lanes.start_role("services", run_services)
    await lanes.wait_ready("services")
    await _gone(oem, "cc:case:t1:extended")
    assert await oem.exists("cc:case:t2:extended") == 1  # a day left
    [row] = await retention_store.report(oem, now=time.time())
    assert (row["deleted"], row["held"], row["overdue"]) == (1, 1, 0)
    [entry] = await retention_store.audit(oem)
    assert (entry["service"], entry["rule"], entry["reason"]) == (
        "ecall_intelligent_extended", "fixed_window", "deadline")
    assert "triage" not in str(entry) and "t1" not in str(entry)


async def test_retention_lane_meters_each_teleservice_call(
        services_lane: tuple[Lanes, Redis], mqtt_url: str) -> None:
    """Every received call counts against the vehicle's Teleservice budget (50 KB)."""
    lanes, oem = services_lane
    lanes.start_role("services", run_services)
    await lanes.wait_ready("services")
    vin = new_vin()
    now = time.time()
    calls = [TeleserviceCall(vin, f"c-{i}", "interval_28d", 1_000.0 * i, 1, now + i, "bev")
             for i in range(3)]
    async with Car(mqtt_url, vin) as car:
        for call in calls:
            car.publish_raw(teleservice_call_topic(vin), packed(call))
        deadline = time.monotonic() + 10
        while True:
            if (await oem.exists(f"bud:{vin}")) and (
                    await usage(oem, vin, at=now))["teleservice_call"].total_msgs == 3:
                break
            assert time.monotonic() < deadline, "the calls were not metered"
            await asyncio.sleep(0.05)
    row = (await usage(oem, vin, at=now))["teleservice_call"]
    assert row.total_bytes == sum(len(packed(c)) for c in calls)
    assert row.rejected == {} and row.per_message_bytes == 50_000
