"""Through the broker: a Teleservice call the services lane refuses unread for its size
is in the budget view (docs/requirements.md#plat-r2), as the meter's own refusals are."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from backend.privacy.budget_store import usage
from backend.privacy.errors import UnknownVehicleError
from backend.runtime.roles import run_services
from protocols.size_bounds import within
from protocols.teleservice import TELESERVICE_BOUND, TeleserviceCall, packed
from protocols.topics import teleservice_call_topic
from tests.backend.support import Car, Lanes, new_vin


async def _rejected(oem: Redis, vin: str) -> dict[str, int]:
    try:
        return (await usage(oem, vin, at=time.time()))["teleservice_call"].rejected
    except UnknownVehicleError:
        return {}


async def test_budget_refusals_an_oversized_call_reaches_the_budget_view(
        lanes: Lanes, mqtt_url: str, redis_url: str) -> None:
    lanes.start_role("services", run_services)
    await lanes.wait_ready("services")
    vin = new_vin()
    call = TeleserviceCall(vin, "big", "service_need", 10.0, time.time_ns(), time.time(), "bev",
                           fault_codes=[f"P{i:05d}" for i in range(10_000)])
    raw = packed(call)
    assert not within(TELESERVICE_BOUND, len(raw))
    oem = Redis.from_url(redis_url, db=lanes.settings.oem_db)
    try:
        async with Car(mqtt_url, vin) as car:
            car.publish_raw(teleservice_call_topic(vin), raw)
            deadline = time.monotonic() + 10
            while await _rejected(oem, vin) != {"message_over_budget": 1}:
                assert time.monotonic() < deadline, "the refusal never reached the view"
                await asyncio.sleep(0.05)
        row = (await usage(oem, vin, at=time.time()))["teleservice_call"]
        assert (row.total_msgs, row.total_bytes) == (0, 0)
    finally:
        await oem.aclose()
